/**
 * The JSM Operations flavour against the contract-checked JSM double: same behaviour as
 * Opsgenie, with Basic authentication, id addressing and account-id on-call lists.
 */
import assert from "node:assert/strict";
import {
  createOpsgenieClient,
  OpsgenieBackend,
  type OpsgenieClientOptions,
} from "../../../src/backends/opsgenie/mod.ts";
import { failureOf } from "../../../src/core/errors.ts";
import type { AccessRequest } from "../../../src/core/types.ts";
import { JsmDouble } from "../../../src/doubles/jsm_double.ts";

const SIGNAL = new AbortController().signal;
const SCHEDULE = "5e6f7a8b-2222-4a7e-9d0e-1b2c3d4e5f60";
const TEAM = "0c1d2e3f-3333-4a7e-9d0e-1b2c3d4e5f60";

function clientFor(jsm: JsmDouble, options: OpsgenieClientOptions = {}) {
  return createOpsgenieClient(
    {
      api: "jsm",
      cloudId: jsm.cloudId,
      userEmail: jsm.email,
      apiToken: jsm.apiToken,
      apiEndpoint: jsm.url,
      rateLimitPerMinute: 600_000,
      requestTimeout: 2_000,
    },
    { retry: { deadlineMs: 5_000, baseDelayMs: 2, maxDelayMs: 20 }, poll: { firstDelayMs: 2 }, ...options },
  );
}

async function withJsm(fn: (jsm: JsmDouble) => Promise<void>): Promise<void> {
  const jsm = await JsmDouble.start();
  try {
    await fn(jsm);
    assert.deepEqual(jsm.violations, [], "JSM contract violations");
  } finally {
    await jsm.close();
  }
}

function request(annotations: Record<string, string[]>, user = "alice@example.com"): AccessRequest {
  return {
    id: "9f8e7d6c-1234-4a7e-9d0e-1b2c3d4e5f60",
    user,
    roles: ["editor"],
    state: "PENDING",
    created: new Date("2021-06-01T13:27:17Z"),
    requestReason: "",
    resolveReason: "",
    systemAnnotations: annotations,
    reviews: [],
    suggestedReviewers: [],
  };
}

function backendFor(jsm: JsmDouble) {
  return new OpsgenieBackend(clientFor(jsm), { defaultSchedules: [], defaultTeams: [], tags: ["T"] });
}

Deno.test("JSM: a notify-only request costs two calls, under /jsm/ops/api/{cloudId}/v1 with Basic auth", () =>
  withJsm(async (jsm) => {
    const backend = backendFor(jsm);
    assert.equal(backend.notificationNoun, "JSM Operations alert");
    const req = request({ "teleport.dev/notify-services": [SCHEDULE], "teleport.dev/teams": [TEAM] });
    const n = await backend.notify("", backend.recipientsOf(req).notify, req, undefined, SIGNAL);
    const [alert] = jsm.alerts();
    assert.deepEqual(n.ids, { alertId: alert.id, alias: `teleport-access-request/${req.id}` });
    assert.deepEqual(alert.responders, [{ type: "schedule", id: SCHEDULE }, { type: "team", id: TEAM }]);
    const base = `/jsm/ops/api/${jsm.cloudId}/v1`;
    assert.deepEqual(jsm.requests.map((r) => `${r.method} ${r.path}`), [
      `POST ${base}/alerts`,
      `GET ${base}/alerts/requests/${jsm.acceptedRequestIds[0]}`,
    ]);
    const basic = `Basic ${btoa(`${jsm.email}:${jsm.apiToken}`)}`;
    assert.ok(jsm.requests.every((r) => r.headers.get("authorization") === basic));
  }));

Deno.test("JSM: notes and close address the alert by id; the close follows the resolution note", () =>
  withJsm(async (jsm) => {
    const backend = backendFor(jsm);
    const req = request({ "teleport.dev/notify-services": [SCHEDULE] });
    const n = await backend.notify("", [`schedule:${SCHEDULE}`], req, undefined, SIGNAL);
    const resolution = { tag: "denied" as const, reason: "not okay" };
    await backend.annotate(n, { kind: "resolution", resolution }, { signal: SIGNAL, unlessPosted: true });
    await backend.annotate(n, { kind: "resolution", resolution }, { signal: SIGNAL, unlessPosted: true });
    await backend.resolve(n, resolution, SIGNAL);
    const [alert] = jsm.alerts();
    assert.deepEqual(alert.notes.map((x) => x.note), ["Access request has been denied\nReason: not okay"]);
    assert.equal(alert.status, "closed");
    const writes = jsm.requests.filter((r) => r.method === "POST").map((r) => r.path.split("/v1")[1]);
    assert.deepEqual(writes, ["/alerts", `/alerts/${alert.id}/notes`, `/alerts/${alert.id}/close`]);
  }));

Deno.test("JSM: an alert known only by its alias is found through /alerts/alias", () =>
  withJsm(async (jsm) => {
    using client = clientFor(jsm);
    const alert = await client.createAlert({
      message: "m",
      alias: "teleport-access-request/x",
      description: "",
      responders: [],
      tags: [],
    });
    await client.closeAlert({ id: "", alias: alert.alias });
    assert.equal(jsm.alerts()[0].status, "closed");
    assert.ok(
      jsm.requests.some((r) => r.path.endsWith("/alerts/alias") && r.query.get("alias") === alert.alias),
    );
  }));

Deno.test("JSM: the requester is approved when their account (found by e-mail) is on call", () =>
  withJsm(async (jsm) => {
    const alice = jsm.addUser({ email: "alice@example.com" });
    jsm.addUser({ email: "alice@example.com.evil" });
    jsm.addSchedule({ name: "Approvers", id: SCHEDULE, onCall: [alice] });
    const backend = backendFor(jsm);
    assert.deepEqual(await backend.findOnCall(request({}), [SCHEDULE], SIGNAL), {
      onCall: true,
      reason: `Access requested by user alice@example.com who is on call on schedule(s) ${SCHEDULE}`,
    });
    assert.deepEqual(await backend.findOnCall(request({}, "bob@example.com"), [SCHEDULE], SIGNAL), {
      onCall: false,
      why: "JSM Operations has no user bob@example.com",
    });
  }));

Deno.test("JSM: a schedule or team named instead of identified is a permanent error naming it", () =>
  withJsm(async (jsm) => {
    const backend = backendFor(jsm);
    const req = request({ "teleport.dev/notify-services": ["Night shift"] });
    const err = await backend.notify("", backend.recipientsOf(req).notify, req, undefined, SIGNAL)
      .then(() => null, (e) => e);
    assert.equal(failureOf(err), "permanent");
    assert.match(String(err), /by id; not an id: schedule "Night shift"/);
    assert.equal(jsm.requests.length, 0);
  }));

Deno.test("JSM: wrong credentials are a permanent auth error that never shows the token", () =>
  withJsm(async (jsm) => {
    using client = createOpsgenieClient({
      api: "jsm",
      cloudId: jsm.cloudId,
      userEmail: jsm.email,
      apiToken: "wrong-token-abcdef",
      apiEndpoint: jsm.url,
    });
    const err = await client.healthCheck().then(() => null, (e) => e);
    assert.equal(failureOf(err), "permanent");
    assert.doesNotMatch(String(err), /wrong-token-abcdef/);
  }));
