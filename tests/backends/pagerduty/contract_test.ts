/**
 * Contract: what goes on the wire for each operation — headers, bodies and query
 * encoding as PagerDuty's REST API v2 defines them.
 */
import assert from "node:assert/strict";
import { BOT_EMAIL, clientFor, incidentInput, withDouble } from "./helpers.ts";

const ACCEPT = "application/vnd.pagerduty+json;version=2";

Deno.test("every call sends Accept, Content-Type and Authorization; only writes send From", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "Teleport Notifications" });
    const user = pd.addUser({ name: "Alice", email: "alice@example.com" });
    pd.addOnCall({ userId: user.id, escalationPolicyId: service.escalationPolicyId });

    await client.healthCheck();
    await client.findServiceByName("Teleport Notifications");
    await client.findUserByEmail("alice@example.com");
    await client.onCallPolicies(user.id, [service.escalationPolicyId]);
    const incident = await client.createIncident(incidentInput(service.id, "req-1"));
    await client.addNote(incident.id, "hello");
    assert.deepEqual(await client.listNotes(incident.id), ["hello"]);
    await client.resolveIncident(incident.id);
    await client.findIncidentByKey("teleport-access-request/req-1");

    assert.equal(pd.requests.length, 9);
    for (const r of pd.requests) {
      assert.equal(r.headers.get("accept"), ACCEPT, `${r.method} ${r.path}`);
      assert.equal(r.headers.get("content-type"), "application/json", `${r.method} ${r.path}`);
      assert.equal(r.headers.get("authorization"), `Token token=${pd.apiKey}`);
      assert.equal(r.headers.get("from"), r.method === "GET" ? null : BOT_EMAIL, `${r.method} ${r.path}`);
    }
    assert.deepEqual(pd.violations, []);
  }));

Deno.test("healthCheck calls GET /abilities", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    await client.healthCheck();
    assert.deepEqual(pd.requests.map((r) => `${r.method} ${r.path}`), ["GET /abilities"]);
  }));

Deno.test("createIncident posts the incident body with the request's incident key", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "Teleport Notifications" });
    const incident = await client.createIncident({
      serviceId: service.id,
      requestId: "0b9e4e2a-6c5f",
      title: "Access request from alice@example.com",
      details: "alice requested permissions\n",
    });

    const post = pd.requests.find((r) => r.method === "POST")!;
    assert.equal(post.path, "/incidents");
    assert.deepEqual(post.body, {
      incident: {
        type: "incident",
        title: "Access request from alice@example.com",
        service: { id: service.id, type: "service_reference" },
        incident_key: "teleport-access-request/0b9e4e2a-6c5f",
        body: { type: "incident_body", details: "alice requested permissions\n" },
      },
    });
    assert.deepEqual(incident, {
      id: pd.incidents()[0].id,
      status: "triggered",
      incidentKey: "teleport-access-request/0b9e4e2a-6c5f",
      serviceId: service.id,
      title: "Access request from alice@example.com",
    });
  }));

Deno.test("addNote posts {note:{content}} and resolveIncident puts an incident_reference", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    const incident = await client.createIncident(incidentInput(service.id, "r"));
    await client.addNote(incident.id, "Access request has been approved\nReason: okay");
    await client.resolveIncident(incident.id);

    const [note, put] = pd.requests.slice(-2);
    assert.equal(note.path, `/incidents/${incident.id}/notes`);
    assert.deepEqual(note.body, { note: { content: "Access request has been approved\nReason: okay" } });
    assert.equal(put.method, "PUT");
    assert.equal(put.path, `/incidents/${incident.id}`);
    assert.deepEqual(put.body, { incident: { type: "incident_reference", status: "resolved" } });
    assert.equal(pd.incidents()[0].status, "resolved");
    assert.deepEqual(pd.notes(incident.id).map((n) => n.content), [
      "Access request has been approved\nReason: okay",
    ]);
  }));

Deno.test("onCallPolicies repeats bracketed array parameters and skips empty or repeated ids", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    await client.onCallPolicies("PUSER1", ["PEP1", "", "PEP2", "PEP1"]);
    assert.equal(
      pd.requests[0].rawQuery,
      "user_ids[]=PUSER1&escalation_policy_ids[]=PEP1&escalation_policy_ids[]=PEP2&limit=100&offset=0",
    );
  }));

Deno.test("onCallPolicies without any policy id makes no call", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    assert.deepEqual(await client.onCallPolicies("PUSER1", ["", ""]), []);
    assert.equal(pd.requests.length, 0);
  }));

Deno.test("onCallPolicies returns the policies where the user is on call, at any level, in the order asked", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const alice = pd.addUser({ name: "Alice", email: "alice@example.com" });
    const bob = pd.addUser({ name: "Bob", email: "bob@example.com" });
    pd.addOnCall({ userId: alice.id, escalationPolicyId: "PEP2", level: 3 });
    pd.addOnCall({ userId: alice.id, escalationPolicyId: "PEP1" });
    pd.addOnCall({ userId: bob.id, escalationPolicyId: "PEP3" });
    assert.deepEqual(await client.onCallPolicies(alice.id, ["PEP1", "PEP2", "PEP3"]), ["PEP1", "PEP2"]);
  }));

Deno.test("lookup values are percent-encoded in the query", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    await client.findUserByEmail("a+b@example.com");
    await client.findServiceByName("Ops & Security");
    assert.equal(pd.requests[0].rawQuery, "query=a%2Bb%40example.com&limit=100&offset=0");
    assert.equal(pd.requests[1].query.get("query"), "Ops & Security");
  }));

Deno.test("a trailing slash on the endpoint does not double the path separator", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, { apiEndpoint: `${pd.url}/` });
    await client.healthCheck();
    assert.equal(pd.requests[0].path, "/abilities");
  }));
