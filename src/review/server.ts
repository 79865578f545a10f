/**
 * The HTTP(S) endpoint PagerDuty calls when someone approves or denies from an incident.
 * Started only when `[review] enabled = true`, after the Teleport support check.
 *
 * Routes (POST only):
 *   /pagerduty/webhook          V3 webhook subscription (Incident Workflow manual triggers)
 *   /pagerduty/action/approve   Custom Incident Action "Approve", secret header required
 *   /pagerduty/action/deny      Custom Incident Action "Deny", secret header required
 *
 * Cheap refusals come first (flood, path, method, content type, size), then the
 * signature or secret, the event's age and de-duplication. The answer (202) goes out
 * before any PagerDuty or Teleport call; the verification pipeline runs afterwards and
 * reports its outcome as an incident note.
 */
import type { ReviewConfig } from "../config/review.ts";
import { splitHostPort } from "../http/host_port.ts";
import { getLog } from "../ops/logging.ts";
import { DEDUPE_WINDOW_MS, DeliveryLog } from "./dedupe.ts";
import {
  type Delivery,
  parseCustomAction,
  type Parsed,
  parseWorkflowEvent,
  type ReviewAction,
} from "./payload.ts";
import { type Outcome, processDelivery } from "./pipeline.ts";
import type { ReviewPagerDuty, ReviewTeleport } from "./ports.ts";
import { checkWebhookSignature, secretsEqual } from "./signature.ts";
import { type SourceLimit, SourceRateLimiter } from "./source_limiter.ts";
import { checkOnBehalfReviews } from "./support.ts";
import { ACTION_PATHS, ACTION_SECRET_HEADER, WEBHOOK_PATH } from "./endpoints.ts";

/** PagerDuty drops deliveries over 256 KB; nothing legitimate is larger. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Deliveries being verified at once; beyond this PagerDuty is asked to come back (503). */
export const MAX_IN_FLIGHT = 64;
/** An event dated this far in the future is refused (clock skew allowance). */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

const log = getLog("review");

export interface ReviewServerOptions {
  config: ReviewConfig;
  teleport: ReviewTeleport;
  pagerduty: ReviewPagerDuty;
  /** Plugin data entry name ("pagerduty"). */
  pluginName: string;
  instanceId: string;
  /** From Ping, for the support check. */
  serverVersion: string;
  /** Called with the bound port (tests listen on port 0). */
  onListen?: (port: number) => void;
  /** Called once per processed delivery. */
  onOutcome?: (outcome: Outcome) => void;
  sourceLimit?: Partial<SourceLimit>;
}

export interface ReviewServer extends AsyncDisposable {
  port: number;
}

type Route = { trigger: "workflow" } | { trigger: "custom_action"; action: ReviewAction; secret: string };

/** Checks Teleport support, then listens; throws one line when either is impossible. */
export async function startReviewServer(options: ReviewServerOptions): Promise<ReviewServer> {
  const { config } = options;
  await checkOnBehalfReviews(options.teleport, options.serverVersion);
  const tls = config.tlsCertFile && config.tlsKeyFile ? await readTls(config) : {};
  const receiver = new Receiver(options);
  const { hostname, port } = splitHostPort(config.listenAddr);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, ...tls, onListen() {} },
      (request, info) => receiver.handle(request, info.remoteAddr.hostname),
    );
  } catch (error) {
    throw new Error(
      `cannot listen on ${config.listenAddr} (review.listen_addr): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  log.info("Accepting reviews from PagerDuty on {addr} ({scheme})", {
    addr: config.listenAddr,
    scheme: "cert" in tls ? "https" : "http",
  });
  options.onListen?.(server.addr.port);
  return {
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await receiver.drain();
    },
  };
}

async function readTls(config: ReviewConfig): Promise<{ cert: string; key: string }> {
  const read = async (path: string, key: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new Error(`cannot read ${path} (review.${key}): ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    cert: await read(config.tlsCertFile!, "tls_cert_file"),
    key: await read(config.tlsKeyFile!, "tls_key_file"),
  };
}

/** The request handling, separate from the listener so its state is in one place. */
class Receiver {
  readonly #options: ReviewServerOptions;
  readonly #routes = new Map<string, Route>();
  readonly #limiter: SourceRateLimiter;
  readonly #seen = new DeliveryLog();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: ReviewServerOptions) {
    this.#options = options;
    this.#limiter = new SourceRateLimiter(options.sourceLimit);
    const { config } = options;
    if (config.webhookSecrets.length > 0) this.#routes.set(WEBHOOK_PATH, { trigger: "workflow" });
    for (const action of ["approve", "deny"] as const) {
      const secret = config.actionSecrets[action];
      if (secret) this.#routes.set(ACTION_PATHS[action], { trigger: "custom_action", action, secret });
    }
  }

  async handle(request: Request, source: string): Promise<Response> {
    if (!this.#limiter.allow(source)) {
      return answer(429, "too many requests", {
        "retry-after": String(this.#limiter.retryAfterSeconds(source)),
      });
    }
    const route = this.#routes.get(new URL(request.url).pathname);
    if (!route) return answer(404, "not found");
    if (request.method !== "POST") return answer(405, "method not allowed", { allow: "POST" });
    const mediaType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (mediaType !== "application/json") return answer(415, "content type must be application/json");
    if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
      return answer(413, "body too large");
    }
    const raw = await readCapped(request, MAX_BODY_BYTES);
    if (!raw) return answer(413, "body too large");

    const denied = this.#authenticate(route, request.headers, raw);
    if (denied) {
      log.warn("Refused a delivery on {path} from {source}: {reason}", {
        path: new URL(request.url).pathname,
        source,
        reason: denied.reason,
      });
      return answer(denied.status, denied.reason);
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch {
      return answer(400, "body is not JSON");
    }
    const parsed: Parsed = route.trigger === "workflow"
      ? parseWorkflowEvent(body, {
        approve: this.#options.config.approveIds,
        deny: this.#options.config.denyIds,
      })
      : parseCustomAction(body, route.action);
    if (parsed.kind === "invalid") return answer(400, parsed.reason);
    if (parsed.kind === "ignored") {
      log.debug("Ignored a PagerDuty delivery: {reason}", { reason: parsed.reason });
      return answer(200, "ignored");
    }
    const stale = parsed.deliveries.find((d) => !withinWindow(d.occurredAt));
    if (stale) return answer(400, "event is outside the replay window");
    if (this.#inFlight.size >= MAX_IN_FLIGHT) return answer(503, "busy", { "retry-after": "5" });
    const webhookId = request.headers.get("x-webhook-id") ?? "";
    const ids = [
      webhookId && `${route.trigger}:webhook:${webhookId}`,
      ...parsed.deliveries.map((d) => `event:${d.eventId}`),
    ];
    if (!this.#seen.firstSighting(ids)) return answer(200, "duplicate");
    for (const delivery of parsed.deliveries) this.#process(delivery);
    return answer(202, "accepted");
  }

  /** Waits for deliveries being processed (on shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #authenticate(
    route: Route,
    headers: Headers,
    raw: Uint8Array,
  ): { status: number; reason: string } | undefined {
    if (route.trigger === "workflow") {
      const header = headers.get("x-pagerduty-signature");
      const checks = this.#options.config.webhookSecrets.map((secret) =>
        checkWebhookSignature(secret, raw, header)
      );
      const check = checks.includes("valid") ? "valid" : checks[0];
      if (check === "valid") return undefined;
      if (check === "mismatch") return { status: 403, reason: "signature does not match" };
      return { status: 400, reason: `signature header ${check}` };
    }
    const given = headers.get(ACTION_SECRET_HEADER);
    if (given === null) return { status: 401, reason: "action secret header missing" };
    return secretsEqual(given, route.secret)
      ? undefined
      : { status: 403, reason: "action secret does not match" };
  }

  #process(delivery: Delivery): void {
    const { teleport, pagerduty, pluginName, instanceId, config, onOutcome } = this.#options;
    const work = processDelivery(delivery, {
      teleport,
      pagerduty,
      pluginName,
      instanceId,
      identity: { trait: config.userTrait, matchEmail: config.matchEmail },
    }).then((outcome) => onOutcome?.(outcome)).catch((error) => {
      // processDelivery never throws; only a faulty outcome hook lands here.
      log.error("Review outcome hook failed: {error}", { error });
    });
    this.#inFlight.add(work);
    work.finally(() => this.#inFlight.delete(work));
  }
}

function withinWindow(occurredAt: number): boolean {
  const now = Date.now();
  return occurredAt >= now - DEDUPE_WINDOW_MS && occurredAt <= now + MAX_FUTURE_SKEW_MS;
}

function answer(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ status: message }, { status, headers });
}

/** The body, or null when it exceeds `limit` bytes (chunked bodies are cut off early). */
async function readCapped(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
