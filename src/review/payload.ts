/**
 * Reading deliveries into one shape. Only ids are taken from a payload (event, incident,
 * clicker, workflow or trigger); everything else is fetched again from PagerDuty and
 * Teleport by the verification pipeline.
 *
 * - V3 webhook (Incident Workflow with a manual trigger): `{"event":{id, event_type,
 *   occurred_at, agent, data:{incident_workflow, workflow_trigger, incident}}}`;
 * - Custom Incident Action (V2 extension): `{"messages":[{id, event:"incident.custom",
 *   created_on, incident:{id}, log_entries:[{type:"custom_log_entry", agent}]}]}`.
 */
export type ReviewAction = "approve" | "deny";

export interface Delivery {
  trigger: "workflow" | "custom_action";
  /** PagerDuty's event (V3) or message (V2) id. */
  eventId: string;
  /** Unix milliseconds of the click as PagerDuty reports it. */
  occurredAt: number;
  action: ReviewAction;
  incidentId: string;
  /** The PagerDuty user who pressed the button. */
  agentId: string;
}

export type Parsed =
  | { kind: "deliveries"; deliveries: Delivery[] }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; reason: string };

export const WORKFLOW_STARTED = "incident.workflow.started";
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | undefined {
  const id = isObject(value) ? value.id : undefined;
  return typeof id === "string" && ID.test(id) ? id : undefined;
}

function timeOf(value: unknown): number {
  return typeof value === "string" ? Date.parse(value) : NaN;
}

/** A V3 webhook body; only workflow starts for the configured ids become deliveries. */
export function parseWorkflowEvent(body: unknown, ids: { approve: string[]; deny: string[] }): Parsed {
  const event = isObject(body) ? body.event : undefined;
  if (!isObject(event)) return { kind: "invalid", reason: "no event object" };
  const eventId = idOf(event);
  if (!eventId) return { kind: "invalid", reason: "event without a valid id" };
  if (event.event_type !== WORKFLOW_STARTED) {
    return { kind: "ignored", reason: `event type ${JSON.stringify(event.event_type)}` };
  }
  const data = isObject(event.data) ? event.data : {};
  const configured = [idOf(data.workflow_trigger), idOf(data.incident_workflow)].filter((id) => id);
  const action: ReviewAction | undefined = configured.some((id) => ids.approve.includes(id!))
    ? "approve"
    : configured.some((id) => ids.deny.includes(id!))
    ? "deny"
    : undefined;
  if (!action) return { kind: "ignored", reason: "workflow or trigger is not a configured approve/deny id" };
  const incidentId = idOf(data.incident);
  const agent = isObject(event.agent) ? event.agent : undefined;
  const agentId = idOf(agent);
  const occurredAt = timeOf(event.occurred_at);
  if (!incidentId) return { kind: "invalid", reason: "workflow event without an incident" };
  if (!agentId || agent?.type !== "user_reference") {
    return { kind: "invalid", reason: "workflow event not started by a user" };
  }
  if (Number.isNaN(occurredAt)) return { kind: "invalid", reason: "event without a valid occurred_at" };
  return {
    kind: "deliveries",
    deliveries: [{ trigger: "workflow", eventId, occurredAt, action, incidentId, agentId }],
  };
}

/** A Custom Incident Action body; the action comes from the endpoint the secret unlocked. */
export function parseCustomAction(body: unknown, action: ReviewAction): Parsed {
  const messages = isObject(body) ? body.messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0) return { kind: "invalid", reason: "no messages" };
  const deliveries: Delivery[] = [];
  for (const message of messages.slice(0, 10)) {
    if (!isObject(message) || message.event !== "incident.custom") continue;
    const eventId = idOf(message);
    const incidentId = idOf(message.incident);
    const entries = Array.isArray(message.log_entries) ? message.log_entries : [];
    const custom = entries.find((entry) => isObject(entry) && entry.type === "custom_log_entry");
    const agent = isObject(custom) && isObject(custom.agent) ? custom.agent : undefined;
    const agentId = idOf(agent);
    const occurredAt = timeOf(message.created_on);
    if (!eventId || !incidentId || !agentId || agent?.type !== "user_reference" || Number.isNaN(occurredAt)) {
      return { kind: "invalid", reason: "custom action message without id, incident, user agent or time" };
    }
    deliveries.push({ trigger: "custom_action", eventId, occurredAt, action, incidentId, agentId });
  }
  if (deliveries.length === 0) return { kind: "ignored", reason: "no incident.custom message" };
  return { kind: "deliveries", deliveries };
}
