/**
 * The part of the Jira Service Management Operations REST API the plugin uses, written
 * as a Swagger 2.0 document so the same strict validator checks it. Transcribed from
 * Atlassian's reference (docs/jsm-operations.md lists the sources): alerts, request
 * status, alias lookup, notes, close and schedule on-calls under
 * `/jsm/ops/api/{cloudId}/v1`, plus Jira's user search under `/ex/jira/{cloudId}/rest/api/3`
 * (to map a Teleport user's e-mail to the account id on-call lists report).
 * Authentication is HTTP Basic (account e-mail and API token).
 */

const OPS = "/jsm/ops/api/{cloudId}/v1";

const cloudId = { name: "cloudId", in: "path", required: true, type: "string" };
const alertId = { name: "id", in: "path", required: true, type: "string" };

export const JSM_CONTRACT = {
  swagger: "2.0",
  info: { title: "JSM Operations (plugin subset)", version: "v1" },
  securityDefinitions: { basicAuth: { type: "basic" } },
  security: [{ basicAuth: [] }],
  paths: {
    [`${OPS}/alerts`]: {
      get: {
        operationId: "listAlerts",
        parameters: [
          cloudId,
          { name: "size", in: "query", type: "integer", minimum: 1, maximum: 100 },
          { name: "offset", in: "query", type: "integer", minimum: 0 },
          { name: "sort", in: "query", type: "string" },
          { name: "order", in: "query", type: "string", enum: ["asc", "desc"] },
          { name: "query", in: "query", type: "string" },
          { name: "from", in: "query", type: "integer" },
          { name: "to", in: "query", type: "integer" },
        ],
      },
      post: {
        operationId: "createAlert",
        parameters: [cloudId, {
          name: "body",
          in: "body",
          required: true,
          schema: { $ref: "#/definitions/CreateAlert" },
        }],
      },
    },
    [`${OPS}/alerts/requests/{id}`]: {
      get: { operationId: "getRequestStatus", parameters: [cloudId, alertId] },
    },
    [`${OPS}/alerts/alias`]: {
      get: {
        operationId: "getAlertByAlias",
        parameters: [cloudId, { name: "alias", in: "query", required: true, type: "string" }],
      },
    },
    [`${OPS}/alerts/{id}`]: { get: { operationId: "getAlert", parameters: [cloudId, alertId] } },
    [`${OPS}/alerts/{id}/notes`]: {
      get: {
        operationId: "listNotes",
        parameters: [
          cloudId,
          alertId,
          { name: "size", in: "query", type: "integer", minimum: 1, maximum: 100 },
          { name: "offset", in: "query", type: "string" },
          { name: "order", in: "query", type: "string", enum: ["asc", "desc"] },
          { name: "direction", in: "query", type: "string", enum: ["next", "prev"] },
        ],
      },
      post: {
        operationId: "addNote",
        parameters: [cloudId, alertId, {
          name: "body",
          in: "body",
          required: true,
          schema: { $ref: "#/definitions/AddNote" },
        }],
      },
    },
    [`${OPS}/alerts/{id}/close`]: {
      post: {
        operationId: "closeAlert",
        parameters: [cloudId, alertId, {
          name: "body",
          in: "body",
          required: false,
          schema: { $ref: "#/definitions/AlertAction" },
        }],
      },
    },
    [`${OPS}/schedules/{scheduleId}/on-calls`]: {
      get: {
        operationId: "getOnCalls",
        parameters: [
          cloudId,
          { name: "scheduleId", in: "path", required: true, type: "string" },
          { name: "flat", in: "query", type: "boolean" },
          { name: "date", in: "query", type: "string", format: "date-time" },
        ],
      },
    },
    "/ex/jira/{cloudId}/rest/api/3/user/search": {
      get: {
        operationId: "findUsers",
        parameters: [
          cloudId,
          { name: "query", in: "query", type: "string" },
          { name: "accountId", in: "query", type: "string" },
          { name: "startAt", in: "query", type: "integer", minimum: 0 },
          { name: "maxResults", in: "query", type: "integer", minimum: 1 },
          { name: "property", in: "query", type: "string" },
        ],
      },
    },
  },
  definitions: {
    Responder: {
      type: "object",
      required: ["id", "type"],
      properties: {
        id: { type: "string" },
        type: { type: "string", enum: ["team", "user", "escalation", "schedule"] },
      },
    },
    CreateAlert: {
      type: "object",
      required: ["message"],
      properties: {
        message: { type: "string", maxLength: 130 },
        alias: { type: "string", maxLength: 512 },
        description: { type: "string", maxLength: 15_000 },
        responders: { type: "array", maxItems: 50, items: { $ref: "#/definitions/Responder" } },
        visibleTo: { type: "array", maxItems: 50, items: { $ref: "#/definitions/Responder" } },
        actions: { type: "array", maxItems: 10, items: { type: "string", maxLength: 50 } },
        tags: { type: "array", maxItems: 20, items: { type: "string", maxLength: 50 } },
        details: { type: "object", additionalProperties: { type: "string" } },
        entity: { type: "string", maxLength: 512 },
        source: { type: "string", maxLength: 100 },
        priority: { type: "string", enum: ["P1", "P2", "P3", "P4", "P5"] },
        user: { type: "string", maxLength: 100 },
        note: { type: "string", maxLength: 25_000 },
      },
    },
    AlertAction: {
      type: "object",
      properties: {
        user: { type: "string", maxLength: 100 },
        source: { type: "string", maxLength: 100 },
        note: { type: "string", maxLength: 25_000 },
      },
    },
    AddNote: {
      type: "object",
      required: ["note"],
      allOf: [{ $ref: "#/definitions/AlertAction" }],
    },
  },
};
