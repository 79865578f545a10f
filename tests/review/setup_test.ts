/** review-setup against the PagerDuty double: create once (secret printed once), then update in place. */
import assert from "node:assert/strict";
import { PagerDutyReviewApi } from "../../src/backends/pagerduty/review_api.ts";
import { PagerDutyDouble } from "../../src/doubles/pagerduty_double.ts";
import type { ReviewConfig } from "../../src/config/review.ts";
import { runReviewSetup } from "../../src/review/setup.ts";

const REVIEW: ReviewConfig = {
  enabled: false,
  listenAddr: "",
  publicUrl: "https://teleport-pd.example.com",
  webhookSecrets: [],
  approveIds: [],
  denyIds: [],
  actionSecrets: {},
  services: [],
  userTrait: "pagerduty_user_id",
  matchEmail: false,
};

async function withApi(use: (pd: PagerDutyDouble, api: PagerDutyReviewApi) => Promise<void>) {
  const pd = await PagerDutyDouble.start();
  const api = new PagerDutyReviewApi({
    apiKey: pd.apiKey,
    userEmail: "bot@example.com",
    apiEndpoint: pd.url,
  });
  try {
    await use(pd, api);
  } finally {
    api.close();
    await pd.close();
  }
}

Deno.test("review-setup creates one subscription per service, prints each secret once, then updates in place", async () => {
  await withApi(async (pd, api) => {
    const services = [pd.addService({ name: "A" }).id, pd.addService({ name: "B" }).id];
    const review = { ...REVIEW, services };
    let first = "";
    await runReviewSetup(review, api, (text) => first += text);
    const subscriptions = pd.subscriptions();
    assert.equal(subscriptions.length, 2);
    for (const [i, subscription] of subscriptions.entries()) {
      assert.equal(subscription.url, "https://teleport-pd.example.com/pagerduty/webhook");
      assert.deepEqual(subscription.events, ["incident.workflow.started"]);
      assert.deepEqual(subscription.filter, { type: "service_reference", id: services[i] });
      assert.ok(first.includes(`${subscription.secret}  # ${services[i]}`), "the secret is printed");
    }
    assert.match(first, /submit_for_users/);
    assert.match(first, /\/pagerduty\/action\/approve/);

    let second = "";
    await runReviewSetup({ ...review, publicUrl: "https://new.example.com" }, api, (text) => second += text);
    assert.equal(pd.subscriptions().length, 2, "updated, not duplicated");
    assert.equal(pd.subscriptions()[0].url, "https://new.example.com/pagerduty/webhook");
    assert.equal(pd.subscriptions()[0].secret, subscriptions[0].secret, "the secret survives an update");
    for (const subscription of subscriptions) assert.ok(!second.includes(subscription.secret));
    assert.match(second, /Updated webhook subscription/);
    assert.deepEqual(pd.violations, []);
  });
});

Deno.test("review-setup explains in one line what is missing", async () => {
  await withApi(async (_pd, api) => {
    await assert.rejects(
      runReviewSetup({ ...REVIEW, publicUrl: undefined }, api, () => {}),
      /^Error: review-setup needs review\.public_url/,
    );
    await assert.rejects(runReviewSetup(REVIEW, api, () => {}), /review-setup needs review\.services/);
  });
});
