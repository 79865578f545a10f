/**
 * TeleportClient: the plugin's view of the Teleport Auth Service gRPC API. It
 * implements the core's AccessRequestSource and WatchSource ports and maps wire
 * messages and gRPC statuses to domain types and typed errors.
 *
 * The route to the Auth Service is chosen on the first call (connection.ts), and
 * the calls are spread over channels by a ChannelStrategy (channels.ts): the choice
 * that keeps the process clear of Deno's GOAWAY abort (denoland/deno#36788).
 */
import * as grpc from "@grpc/grpc-js";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { TeleportConfig } from "../config/types.ts";
import type { AccessRequestSource, ReviewResult, ReviewSubmission, WatchSource } from "../core/ports.ts";
import {
  GetUserRequestSchema as LegacyGetUserRequestSchema,
  ListAccessRequestsRequestSchema,
  PingRequestSchema,
  WatchSchema,
} from "./gen/teleport/legacy/client/proto/authservice_pb.ts";
import type { Event } from "./gen/teleport/legacy/client/proto/event_pb.ts";
import {
  AccessRequestFilterSchema,
  PluginDataFilterSchema,
  RequestState as WireRequestState,
} from "./gen/teleport/legacy/types/types_pb.ts";
import { ListAccessMonitoringRulesWithFilterRequestSchema } from "./gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_pb.ts";
import {
  accessRequestFromWire,
  KIND_ACCESS_REQUEST,
  pluginDataUpdateToWire,
  reviewSubmissionToWire,
  traitsFromWire,
  watchKindsToWire,
} from "./codec.ts";
import { ruleFromWire } from "./rules_codec.ts";
import { loadCredentials, parseCertificates, subjectField, type TlsCredentials } from "./credentials.ts";
import { callMetadata, type DialRoute } from "./dial.ts";
import { type Channels, type ChannelStrategy, DEFAULT_CHANNEL_STRATEGY, sharedChannels } from "./channels.ts";
import { Connection } from "./connection.ts";
import { refreshIdentityPeriodically } from "./identity_refresh.ts";
import {
  AccessDeniedError,
  ConnectionProblemError,
  fromGrpcError,
  IncompatibleVersionError,
  NotFoundError,
  NotImplementedError,
} from "./errors.ts";
import { type RpcMethod, rpcMethod, rulesRpcMethod, usersRpcMethod } from "./rpc.ts";
import { GetUserRequestSchema, ListUsersRequestSchema } from "./gen/teleport/users/v1/users_service_pb.ts";
import { type TeleportUser, userFromWire } from "./users.ts";
import type { AccessMonitoringRule, AccessRequest, PluginDataMap, WatchEvent } from "../core/types.ts";
import { type Role, roleFromWire } from "./roles.ts";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { PingInfo } from "./types.ts";
import { DEFAULT_WATCHER_TIMING, type WatcherTiming, watchWithReconnect } from "./watcher.ts";

/** The PagerDuty plugin's minimum Auth Service version (upstream app.go). */
export const MIN_SERVER_VERSION = "6.1.0";
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const LIST_PAGE_SIZE = 500;
const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** Upstream's page size for ListAccessMonitoringRulesWithFilter. */
const RULES_PAGE_SIZE = 1000;

const RPC = {
  ping: rpcMethod("ping"),
  watchEvents: rpcMethod("watchEvents"),
  getPluginData: rpcMethod("getPluginData"),
  updatePluginData: rpcMethod("updatePluginData"),
  submitAccessReview: rpcMethod("submitAccessReview"),
  getAccessRequestsV2: rpcMethod("getAccessRequestsV2"),
  listAccessRequests: rpcMethod("listAccessRequests"),
  getUser: rpcMethod("getUser"),
  listRules: rulesRpcMethod("listAccessMonitoringRulesWithFilter"),
  usersGetUser: usersRpcMethod("getUser"),
  listUsers: usersRpcMethod("listUsers"),
  getCurrentUserRoles: rpcMethod("getCurrentUserRoles"),
  getRoles: rpcMethod("getRoles"),
};

export interface TeleportClientOptions {
  /** Per-call deadline for unary calls, milliseconds (default 30 s). */
  callTimeoutMs?: number;
  /** Overrides for the watch reconnect timings (tests shorten the INIT timeout). */
  watcherTiming?: Partial<WatcherTiming>;
  /** How calls are spread over connections (default DEFAULT_CHANNEL_STRATEGY; bench/goaway.ts compares them). */
  channelStrategy?: ChannelStrategy;
  /** Bound for probing each route on the first call, milliseconds (default 10 s, at most callTimeoutMs). */
  probeTimeoutMs?: number;
}

export class TeleportClient implements AccessRequestSource, WatchSource {
  /** The routed connection, or a fixed channel given to the constructor. */
  readonly #connection: Connection | Channels;
  readonly #options: TeleportClientOptions;
  /** Aborted by close(), so watches stop instead of retrying on a closed channel. */
  readonly #closed = new AbortController();
  /** Review author: Teleport identifies us by the client certificate's CN. */
  readonly user: string;

  /** A client on one channel the caller dialed, or on a Connection that picks the route. */
  constructor(channel: grpc.Client | Connection, user: string, options: TeleportClientOptions = {}) {
    this.#connection = channel instanceof Connection ? channel : sharedChannels(channel);
    this.user = user;
    this.#options = options;
  }

  /** Loads and checks the credentials, then creates a client that connects on its first call. */
  static connect(config: TeleportConfig, options: TeleportClientOptions = {}): TeleportClient {
    const credentials = loadCredentials(config);
    const connection = new Connection(config, credentials, {
      strategy: options.channelStrategy ?? DEFAULT_CHANNEL_STRATEGY,
      probeTimeoutMs: Math.min(
        options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
        options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      ),
    });
    const client = new TeleportClient(connection, userOf(credentials), options);
    if (config.identity && config.refreshIdentity) {
      refreshIdentityPeriodically(config, connection, client.#closed.signal);
    }
    return client;
  }

  /** The route that answered (undefined before the first call, or for a caller-dialed channel). */
  get dialRoute(): DialRoute | undefined {
    return this.#connection instanceof Connection ? this.#connection.route : undefined;
  }

  /** Pings the server and checks it is at least MIN_SERVER_VERSION. */
  async ping(): Promise<PingInfo> {
    let response;
    try {
      await this.#channels();
      response = this.#probeResponse() ?? await this.#unary(RPC.ping, create(PingRequestSchema));
    } catch (error) {
      if (error instanceof NotImplementedError) {
        throw new IncompatibleVersionError(`server version must be at least ${MIN_SERVER_VERSION}`);
      }
      throw error;
    }
    checkMinVersion(response.ServerVersion, MIN_SERVER_VERSION);
    return {
      clusterName: response.ClusterName,
      serverVersion: response.ServerVersion,
      proxyPublicAddr: response.ProxyPublicAddr,
      advancedAccessWorkflows: response.ServerFeatures?.AdvancedAccessWorkflows ?? false,
    };
  }

  async getPluginData(
    requestId: string,
    plugin: string,
    signal?: AbortSignal,
  ): Promise<PluginDataMap | null> {
    const [found] = await this.#pluginData(requestId, plugin, signal);
    return found?.requestId === requestId ? found.data : null;
  }

  async updatePluginData(
    requestId: string,
    plugin: string,
    set: PluginDataMap,
    expect: PluginDataMap,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#unary(RPC.updatePluginData, pluginDataUpdateToWire(requestId, plugin, set, expect), signal);
  }

  listPluginData(
    plugin: string,
    signal?: AbortSignal,
  ): Promise<Array<{ requestId: string; data: PluginDataMap }>> {
    return this.#pluginData("", plugin, signal);
  }

  /** Submits a review as the plugin's user; a review this user already made is reported, not thrown. */
  async submitReview(
    requestId: string,
    review: ReviewSubmission,
    signal?: AbortSignal,
  ): Promise<ReviewResult> {
    const submission = reviewSubmissionToWire(requestId, {
      author: this.user,
      ...review,
      created: new Date(),
    });
    try {
      await this.#unary(RPC.submitAccessReview, submission, signal);
      return "submitted";
    } catch (error) {
      if (error instanceof AccessDeniedError && isAlreadyReviewed(error.message)) return "already-reviewed";
      throw error;
    }
  }

  /** Pending requests, one page (up to 500) at a time. */
  async *pendingRequests(signal?: AbortSignal): AsyncIterable<AccessRequest[]> {
    yield* this.#listRequestPages({ State: WireRequestState.PENDING }, signal);
  }

  // ---- reviews from PagerDuty (src/review) ---------------------------------------------

  /**
   * Submits a review with `author` as the reviewer and this plugin as `SubmittedBy`:
   * the Auth Service checks the plugin's `review_requests.submit_for_users` and then
   * the author's own review permissions. Returns the updated request.
   */
  async submitReviewFor(
    requestId: string,
    review: { author: string; proposedState: "APPROVED" | "DENIED"; reason: string },
  ): Promise<AccessRequest> {
    const submission = reviewSubmissionToWire(requestId, { ...review, created: new Date() });
    submission.Review!.SubmittedBy = this.user;
    return accessRequestFromWire(await this.#unary(RPC.submitAccessReview, submission));
  }

  /** The user with this name, or null (UsersService.GetUser). */
  async getUser(name: string): Promise<TeleportUser | null> {
    try {
      const response = await this.#unary(RPC.usersGetUser, create(GetUserRequestSchema, { name }));
      return response.user ? userFromWire(response.user) : null;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  /** Every user, page by page (UsersService.ListUsers). */
  async listUsers(): Promise<TeleportUser[]> {
    const users: TeleportUser[] = [];
    let pageToken = "";
    do {
      const request = create(ListUsersRequestSchema, { pageSize: LIST_PAGE_SIZE, pageToken });
      const page = await this.#unary(RPC.listUsers, request);
      users.push(...page.users.map(userFromWire));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return users;
  }

  async getRequest(requestId: string, signal?: AbortSignal): Promise<AccessRequest | null> {
    for await (const page of this.#listRequestPages({ ID: requestId }, signal)) {
      if (page.length > 0) return page[0];
    }
    return null;
  }

  /**
   * Every access_monitoring_rule about access requests whose notification is for
   * `notificationName`, paged to the end (the server filters; see the double).
   */
  async listAccessMonitoringRules(notificationName: string): Promise<AccessMonitoringRule[]> {
    const rules: AccessMonitoringRule[] = [];
    let pageToken = "";
    do {
      const request = create(ListAccessMonitoringRulesWithFilterRequestSchema, {
        pageSize: BigInt(RULES_PAGE_SIZE),
        pageToken,
        subjects: [KIND_ACCESS_REQUEST],
        notificationName,
      });
      const page = await this.#unary(RPC.listRules, request);
      rules.push(...page.rules.map(ruleFromWire));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return rules;
  }

  /** A user's traits (GetUser without secrets); AccessDeniedError without `user: read`. */
  async getUserTraits(user: string): Promise<Record<string, string[]>> {
    try {
      const response = await this.#unary(RPC.usersGetUser, create(GetUserRequestSchema, { name: user }));
      if (!response.user) throw new NotFoundError(`user ${JSON.stringify(user)} is not found`);
      return traitsFromWire(response.user);
    } catch (error) {
      // Servers before teleport.users.v1 answer only the legacy AuthService.GetUser.
      if (!(error instanceof NotImplementedError)) throw error;
      const wire = await this.#unary(RPC.getUser, create(LegacyGetUserRequestSchema, { Name: user }));
      return traitsFromWire(wire);
    }
  }

  /** Events until `signal` aborts or the client is closed; reconnects on its own. */
  watch(kinds: string[], signal: AbortSignal): AsyncIterable<WatchEvent> {
    const timing = { ...DEFAULT_WATCHER_TIMING, ...this.#options.watcherTiming };
    const stop = AbortSignal.any([signal, this.#closed.signal]);
    const connected = this.#channels().catch(() => {});
    const open = (watchKinds: string[]) => this.#openWatch(watchKinds);
    return (async function* () {
      // Choose the route first; if that fails, the watcher's retries (see #openWatch) take over.
      await connected;
      yield* watchWithReconnect(open, kinds, stop, timing);
    })();
  }

  /** The roles of the plugin's own identity, with the server's trait substitution (any user may ask). */
  async currentUserRoles(): Promise<Role[]> {
    const roles = await this.#collectStream(RPC.getCurrentUserRoles, create(EmptySchema));
    return roles.map(roleFromWire);
  }

  /** Every role in the cluster (needs role list/read). */
  async roles(): Promise<Role[]> {
    const response = await this.#unary(RPC.getRoles, create(EmptySchema));
    return response.Roles.map(roleFromWire);
  }

  /** Ends open watches and closes the channel. */
  close(): void {
    this.#closed.abort();
    this.#connection.close();
  }

  #channels(): Promise<Channels> {
    const connection = this.#connection;
    return connection instanceof Connection ? connection.channels() : Promise.resolve(connection);
  }

  #probeResponse() {
    return this.#connection instanceof Connection ? this.#connection.takeProbeResponse() : undefined;
  }

  /** Entries of `plugin`, for one request or (resource "") all access requests. */
  async #pluginData(
    resource: string,
    plugin: string,
    signal?: AbortSignal,
  ): Promise<Array<{ requestId: string; data: PluginDataMap }>> {
    const filter = create(PluginDataFilterSchema, {
      Kind: KIND_ACCESS_REQUEST,
      Resource: resource,
      Plugin: plugin,
    });
    const seq = await this.#unary(RPC.getPluginData, filter, signal);
    const found = [];
    for (const data of seq.PluginData) {
      const entry = data.Spec?.Entries[plugin];
      if (entry) found.push({ requestId: data.Metadata?.Name ?? "", data: { ...entry.Data } });
    }
    return found;
  }

  #openWatch(kinds: string[]): grpc.ClientReadableStream<Event> {
    const watch = create(WatchSchema, { Kinds: watchKindsToWire(kinds), AllowPartialSuccess: true });
    const channels = this.#connection instanceof Connection ? this.#connection.current() : this.#connection;
    if (!channels) {
      // No route chosen yet (a watch before any call): choose one, and let the watcher retry.
      this.#channels().catch(() => {});
      const why = this.#connection instanceof Connection ? this.#connection.lastFailure : undefined;
      throw new ConnectionProblemError(why instanceof Error ? why.message : "not connected to Teleport yet");
    }
    // waitForReady: during a server restart the stream waits for the channel to reconnect
    // (bounded by the watcher's INIT timeout) instead of failing at once.
    return channels.watch().makeServerStreamRequest(
      RPC.watchEvents.path,
      RPC.watchEvents.serialize,
      RPC.watchEvents.deserialize,
      watch,
      callMetadata({ waitForReady: true }),
    );
  }

  /** ListAccessRequests page by page; GetAccessRequestsV2 (one answer) on servers without it. */
  async *#listRequestPages(
    filter: Partial<{ ID: string; State: WireRequestState }>,
    signal?: AbortSignal,
  ): AsyncGenerator<AccessRequest[]> {
    const wireFilter = create(AccessRequestFilterSchema, filter);
    let startKey = "";
    try {
      do {
        const request = create(ListAccessRequestsRequestSchema, {
          Filter: wireFilter,
          Limit: LIST_PAGE_SIZE,
          StartKey: startKey,
        });
        const page = await this.#unary(RPC.listAccessRequests, request, signal);
        startKey = page.NextKey;
        yield page.AccessRequests.map(accessRequestFromWire);
      } while (startKey !== "");
    } catch (error) {
      if (!(error instanceof NotImplementedError) || startKey !== "") throw error;
      yield (await this.#collectStream(RPC.getAccessRequestsV2, wireFilter, signal)).map(
        accessRequestFromWire,
      );
    }
  }

  /** One unary call; an abort cancels it (the promise rejects with the signal's reason). */
  #unary<I extends DescMessage, O extends DescMessage>(
    method: RpcMethod<I, O>,
    request: MessageShape<I>,
    signal?: AbortSignal,
  ): Promise<MessageShape<O>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#onUnaryChannel((channel) =>
      new Promise((resolve, reject) => {
        const onAbort = () => {
          call.cancel();
          reject(signal!.reason);
        };
        const call = channel.makeUnaryRequest(
          ...this.#callArgs(method, request),
          (error: grpc.ServiceError | null, response?: MessageShape<O>) => {
            signal?.removeEventListener("abort", onAbort);
            if (error || !response) reject(fromGrpcError(error));
            else resolve(response);
          },
        );
        signal?.addEventListener("abort", onAbort, { once: true });
      })
    );
  }

  #collectStream<I extends DescMessage, O extends DescMessage>(
    method: RpcMethod<I, O>,
    request: MessageShape<I>,
    signal?: AbortSignal,
  ): Promise<MessageShape<O>[]> {
    return this.#onUnaryChannel(async (channel) => {
      const stream = channel.makeServerStreamRequest(...this.#callArgs(method, request));
      const items: MessageShape<O>[] = [];
      const cancel = () => stream.cancel();
      signal?.addEventListener("abort", cancel, { once: true });
      try {
        for await (const item of stream as AsyncIterable<MessageShape<O>>) items.push(item);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw fromGrpcError(error);
      } finally {
        signal?.removeEventListener("abort", cancel);
      }
      return items;
    });
  }

  /** Runs one call on the strategy's unary channel, telling it when the call has ended. */
  async #onUnaryChannel<T>(use: (channel: grpc.Client) => Promise<T>): Promise<T> {
    const channels = await this.#channels();
    try {
      return await use(channels.acquireUnary());
    } finally {
      channels.releaseUnary();
    }
  }

  /** grpc-js's leading arguments for a call: method, request, metadata, deadline. */
  #callArgs<I extends DescMessage, O extends DescMessage>(method: RpcMethod<I, O>, request: MessageShape<I>) {
    const deadline = new Date(Date.now() + (this.#options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
    const { path, serialize, deserialize } = method;
    return [path, serialize, deserialize, request, callMetadata(), { deadline }] as const;
  }
}

/** Teleport's answer when this reviewer already reviewed: a fleet peer got there first. */
export function isAlreadyReviewed(message: string): boolean {
  return message.endsWith("has already reviewed this request");
}

function userOf(credentials: TlsCredentials): string {
  const [cert] = parseCertificates(credentials.certChain, credentials.source);
  return subjectField(cert, "CN") ?? "";
}

// ---- version check ----------------------------------------------------------------

interface SemVer {
  core: [number, number, number];
  prerelease: string;
}

function parseSemVer(version: string): SemVer | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!match) return undefined;
  return { core: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease: match[4] ?? "" };
}

/** Semver precedence, simplified: a pre-release sorts before its release, pre-releases compare as text. */
function compareSemVer(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] - b.core[i];
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === "") return 1;
  if (b.prerelease === "") return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

export function checkMinVersion(current: string, minimum: string): void {
  const parsed = parseSemVer(current);
  if (!parsed) throw new IncompatibleVersionError(`invalid server version "${current}"`);
  if (compareSemVer(parsed, parseSemVer(minimum)!) < 0) {
    throw new IncompatibleVersionError(`incompatible versions: ${current} < ${minimum}`);
  }
}
