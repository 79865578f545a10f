/**
 * Logs carry the structured PagerDuty fields, and neither log records nor error
 * messages ever contain the API key — even when the server echoes it back.
 */
import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { PagerDutyClient } from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, incidentInput, withDouble } from "./helpers.ts";
import { captureLogs } from "../../ops/capture_logs.ts";

const render = (r: LogRecord) => JSON.stringify({ message: r.message, properties: r.properties });

Deno.test("log records carry pd_* fields and never the API key", async () => {
  const errors: string[] = [];
  let apiKey = "";
  const records = await captureLogs(() =>
    withDouble(async (pd) => {
      apiKey = pd.apiKey;
      using client = clientFor(pd);
      const service = pd.addService({ name: "S" });
      await client.findServiceByName("missing service");
      await client.findUserByEmail("nobody@example.com");
      pd.inject5xx({ nextN: 1 });
      const incident = await client.createIncident(incidentInput(service.id, "r1"));
      await client.createIncident(incidentInput(service.id, "r1"));
      await client.resolveIncident(incident.id);
      using badKey = clientFor(pd, { apiKey: `${pd.apiKey}-wrong` }, { retry: { deadlineMs: 0 } });
      errors.push(String(await badKey.healthCheck().catch((e) => e)));
    })
  );

  assert.ok(records.length >= 5);
  for (const record of records) {
    assert.deepEqual(record.category, ["teleport-pagerduty", "pagerduty"]);
    assert.ok(!render(record).includes(apiKey), render(record));
  }
  for (const error of errors) assert.ok(!error.includes(apiKey), error);
  const fields = new Set(records.flatMap((r) => Object.keys(r.properties)));
  for (const field of ["pd_incident_id", "pd_service_name", "pd_user_email"]) {
    assert.ok(fields.has(field), field);
  }
});

Deno.test("an API key echoed back by the server is redacted from the error", async () => {
  const apiKey = "u+SECRET_key_42";
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const echoed = req.headers.get("authorization") ?? "";
    const error = { code: 2001, message: `Bad header ${echoed}`, errors: [`value was ${echoed}`] };
    return Response.json({ error }, { status: 400 });
  });
  using client = new PagerDutyClient({
    apiKey,
    userEmail: "bot@example.com",
    apiEndpoint: `http://127.0.0.1:${server.addr.port}`,
  });
  const err = await client.healthCheck().catch((e) => e);
  assert.match(err.message, /\[REDACTED\]/);
  assert.ok(!err.message.includes(apiKey));
  assert.ok(!JSON.stringify(err.details).includes(apiKey));
  assert.ok(!err.apiMessage.includes(apiKey));
});
