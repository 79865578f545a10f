/**
 * TeleportDouble: an in-process fake Teleport Auth Service for tests. It serves
 * the proto.AuthService subset the plugin uses over real mutual TLS (a throwaway
 * CA per double) with the server semantics of Teleport's Auth Service: its checks, status codes
 * and messages. Keep it in the same process as the client under test (docs/deno-http2.md).
 *
 * Test-facing API
 *   TeleportDouble.start(options?: TeleportDoubleOptions): Promise<TeleportDouble>
 *   .addr: string                      "127.0.0.1:<port>" of the Auth listener
 *   .port: number / .clusterName: string / .pki: TestPki
 *   .ping: PingSettings                mutable: serverVersion, advancedAccessWorkflows, proxyPublicAddr, unimplemented
 *   .listAccessRequestsUnimplemented   set true to make ListAccessRequests answer UNIMPLEMENTED
 *   .calls: Record<string, number>     RPC calls per method name ("Ping", "WatchEvents", …)
 *   .lastClientVersion                 the `version` metadata of the latest call
 *   .lastCaller                        the client certificate CN of the latest call
 *   .unauthenticated: number           calls answered UNAUTHENTICATED because no client certificate could be
 *                                      read (their connection was already gone when the handler ran)
 *   .watcherCount: number              open WatchEvents streams
 *   writeCredentials(user, dir, { expired?, validForMs? }): Promise<CredentialPaths>
 *                                      trio (key/crt/cas) and an auth.pem identity file
 *   setReviewer(user, roles: string[]) who may review requests for which roles ("*" = any)
 *   addUser(name, { roles?, traits? })  a Teleport user (UsersService GetUser/ListUsers)
 *   setSubmitForUsers(user, names)     role rule review_requests.submit_for_users ("*" = anyone)
 *   .maxUsersPage                      ListUsers page size cap (default 1000)
 *   .onBehalfSupported                 false = a server older than reviews on behalf of users
 *                                      (drops AccessReview.SubmittedBy as an unknown field)
 *   defineRole(DoubleRole) / deleteRole(name)   roles served by GetRoles (starts with ACCESS_PLUGIN_ROLE)
 *   assignRoles(user, names)           the user's roles (the users store) for GetCurrentUserRoles and
 *                                      the GetRoles permission check (a user not in the store: ["access-plugin"])
 *   createRequest(NewRequest): string  → id; emits PUT
 *   review(author, id, "APPROVED" | "DENIED", reason): AccessRequest
 *                                      a human review through the SubmitAccessReview logic (throws DoubleRpcError)
 *   setState(id, state, reason)        admin approve/deny (no review); emits PUT
 *   deleteRequest(id)                  emits DELETE
 *   getRequest(id): AccessRequest | undefined
 *   pluginData(id, plugin): Record<string, string> | undefined
 *   reviewsSubmittedBy(user): SubmittedReview[]
 *   Access monitoring rules and users (teleport.accessmonitoringrules.v1, GetUser):
 *   upsertRule(rule, extras?)          validates as Teleport does (throws DoubleRpcError), stores, emits PUT
 *   deleteRule(name)                   emits DELETE (kind access_monitoring_rule, version v1)
 *   rulesPageCap: number               the server's page size cap for ListAccessMonitoringRulesWithFilter
 *   setUser(name, traits)              a user with traits, read by GetUser
 *   denyAccess(user, kind) / allowAccess(user, kind)
 *                                      RBAC: the caller may not read/list/watch that kind
 *                                      ("access_monitoring_rule", "user", "access_request")
 *   reviewLog(): every accepted review with author and submittedBy
 *   Fault hooks:
 *   restart({ graceful }): Promise<void>  graceful = GOAWAY (tryShutdown), watch streams end, rebind the
 *                                      same port; abrupt = connections destroyed, then rebind
 *   dropStreams()                      end every watch stream with UNAVAILABLE
 *   refuseConnections(on): Promise<void>  stop listening (on) / listen again on the same port (off)
 *   setLatency(ms)                     delay every RPC
 *   holdCalls(): CallHold              park every new RPC before it is handled until hold.release()
 *   startRouter(): Promise<TlsRouter>  a TLS-routing listener in front of this double (see tls_router.ts)
 *   close(): Promise<void>
 */
import { Buffer } from "node:buffer";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { clone, create } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import {
  GetRolesResponseSchema,
  type GetUserRequest as LegacyGetUserRequest,
  type ListAccessRequestsRequest,
  ListAccessRequestsResponseSchema,
  type PingRequest,
  PingResponseSchema,
  PluginDataSeqSchema,
  type Watch,
} from "../teleport/gen/teleport/legacy/client/proto/authservice_pb.ts";
import type { Event } from "../teleport/gen/teleport/legacy/client/proto/event_pb.ts";
import {
  type AccessRequestFilter,
  type AccessRequestV3,
  AccessRequestV3Schema,
  type AccessReview as WireAccessReview,
  AccessReviewSchema,
  type AccessReviewSubmission,
  MetadataSchema,
  type PluginDataFilter,
  type PluginDataUpdateParams,
  PluginDataV3Schema,
  RequestState,
  type RoleV6,
  UserV2Schema,
  type WatchKind,
} from "../teleport/gen/teleport/legacy/types/types_pb.ts";
import {
  accessRequestFromWire,
  KIND_ACCESS_REQUEST,
  requiredTimeToWire,
  stateToWire,
} from "../teleport/codec.ts";
import {
  DEFAULT_NAMESPACE,
  deleteEvent,
  initEvent,
  KIND_PLUGIN_DATA,
  labelValuesToWire,
  putEvent,
  type RuleExtras,
  rulePutEvent,
  ruleToWire,
  withGogoDefaults,
} from "./teleport_wire.ts";
import { authServiceDefinition, rulesServiceDefinition, usersServiceDefinition } from "../teleport/rpc.ts";
import type { AccessMonitoringRule, AccessRequest } from "../core/types.ts";
import {
  type AccessMonitoringRule as WireRule,
  AccessMonitoringRuleSchema,
  type ListAccessMonitoringRulesWithFilterRequest,
  ListAccessMonitoringRulesWithFilterResponseSchema,
} from "../teleport/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_pb.ts";
import { KIND_ACCESS_MONITORING_RULE } from "../teleport/rules_codec.ts";
import { Condition } from "../rules/condition.ts";
import { parseClock } from "../rules/schedule.ts";
import {
  type GetUserRequest,
  GetUserResponseSchema,
  type ListUsersRequest,
  ListUsersResponseSchema,
} from "../teleport/gen/teleport/users/v1/users_service_pb.ts";
import { TestPki } from "./pki.ts";
import { ACCESS_PLUGIN_ROLE, type DoubleRole, rolesAllow, roleToWire } from "./teleport_roles.ts";
import { startTlsRouter, type TlsRouter } from "./tls_router.ts";

export interface TeleportDoubleOptions {
  clusterName?: string;
  serverVersion?: string;
  advancedAccessWorkflows?: boolean;
  proxyPublicAddr?: string;
}

export interface PingSettings {
  serverVersion: string;
  advancedAccessWorkflows: boolean;
  proxyPublicAddr: string;
  /** Answer Ping with UNIMPLEMENTED (a server older than Ping). */
  unimplemented: boolean;
}

export interface CredentialPaths {
  clientKey: string;
  clientCrt: string;
  rootCas: string;
  /** auth.pem-style identity file: key, SSH cert line, TLS cert, @cert-authority line, CA. */
  identity: string;
}

export interface NewRequest {
  user: string;
  roles: string[];
  reason?: string;
  systemAnnotations?: Record<string, string[]>;
  suggestedReviewers?: string[];
  /** One threshold for the whole request; default 1 approval / 1 denial. */
  thresholds?: { approve: number; deny: number };
}

export interface SubmittedReview {
  requestId: string;
  proposedState: "APPROVED" | "DENIED";
  reason: string;
}

export interface LoggedReview extends SubmittedReview {
  author: string;
  /** The plugin that submitted it on the author's behalf ("" for the author's own). */
  submittedBy: string;
}

export interface DoubleUser {
  roles?: string[];
  traits?: Record<string, string[]>;
}

/** A failure with the gRPC status a real Auth Service would return. */
export class DoubleRpcError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/** RPCs parked by holdCalls(): counted on arrival, handled (and their caller read) on release. */
export interface CallHold {
  /** Resolves when the first call is held, with a promise that resolves once that call's client is gone. */
  arrived: Promise<{ cancelled: Promise<void> }>;
  /** Lets every held call proceed; resolves once each has been answered. */
  release(): Promise<void>;
}

interface Watcher {
  call: grpc.ServerWritableStream<Watch, Event>;
  kind: WatchKind;
}

const RESOLVED = new Set([RequestState.APPROVED, RequestState.DENIED, RequestState.PROMOTED]);
const STATE_VERBS: Partial<Record<RequestState, string>> = {
  [RequestState.APPROVED]: "approved",
  [RequestState.DENIED]: "denied",
  [RequestState.PROMOTED]: "promoted",
};
const MAX_LIST_LIMIT = 16_000;
const KIND_USER = "user";
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DEFAULT_LIST_LIMIT = 1_000;

function fail(code: grpc.status, message: string): never {
  throw new DoubleRpcError(code, message);
}

/** A fake OpenSSH certificate line: the right type prefix and a base64 blob that starts like one. */
function fakeSshCertLine(user: string): string {
  const type = "ssh-ed25519-cert-v01@openssh.com";
  const typeField = Buffer.alloc(4 + type.length);
  typeField.writeUInt32BE(type.length);
  typeField.write(type, 4, "latin1");
  const blob = Buffer.concat([typeField, Buffer.from(crypto.getRandomValues(new Uint8Array(64)))]);
  return `${type} ${blob.toString("base64")} ${user}`;
}

export class TeleportDouble {
  readonly calls: Record<string, number> = {};
  readonly ping: PingSettings;
  listAccessRequestsUnimplemented = false;
  /** Page size cap of ListAccessMonitoringRulesWithFilter (a server clamps what the client asks). */
  rulesPageCap = 1_000;
  /** ListUsers page size cap ("the server may impose a different page size"). */
  maxUsersPage = 1_000;
  /** Whether the server knows AccessReview.SubmittedBy (Teleport with reviews on behalf of users). */
  onBehalfSupported = true;
  /** The `version` metadata of the latest call (the client's API version). */
  lastClientVersion: string | undefined;
  lastCaller: string | undefined;
  /** Calls refused because their client certificate could not be read (the connection was gone). */
  unauthenticated = 0;
  port = 0;

  #server: grpc.Server | undefined;
  #serverCredentials!: grpc.ServerCredentials;
  #latencyMs = 0;
  /** Set while a graceful stop waits for open calls: a watch admitted then is ended at once. */
  #stopping = false;
  #hold: { gate: Promise<void>; onArrival(call: ServerCall): void; handled: Promise<void>[] } | undefined;
  readonly #requests = new Map<string, AccessRequestV3>();
  /** requestId → plugin → data. Outlives its request, as Teleport's (TTL-bound) plugin data does. */
  readonly #pluginData = new Map<string, Map<string, Record<string, string>>>();
  readonly #reviewers = new Map<string, string[]>();
  readonly #roles = new Map<string, DoubleRole>([[ACCESS_PLUGIN_ROLE.name, ACCESS_PLUGIN_ROLE]]);
  readonly #reviewLog: LoggedReview[] = [];
  readonly #users = new Map<string, Required<DoubleUser>>();
  readonly #submitForUsers = new Map<string, string[]>();
  readonly #watchers = new Set<Watcher>();
  readonly #routers: TlsRouter[] = [];
  readonly #rules = new Map<string, WireRule>();
  /** caller → resource kinds it may not read, list or watch. */
  readonly #denied = new Map<string, Set<string>>();

  private constructor(readonly pki: TestPki, options: TeleportDoubleOptions) {
    this.ping = {
      serverVersion: options.serverVersion ?? "17.4.8",
      advancedAccessWorkflows: options.advancedAccessWorkflows ?? true,
      proxyPublicAddr: options.proxyPublicAddr ?? "proxy.example.com:443",
      unimplemented: false,
    };
  }

  static async start(options: TeleportDoubleOptions = {}): Promise<TeleportDouble> {
    const pki = await TestPki.create(options.clusterName ?? "double.example.com");
    const double = new TeleportDouble(pki, options);
    const server = await pki.issueServerCert();
    double.#serverCredentials = grpc.ServerCredentials.createSsl(
      Buffer.from(pki.caPem),
      [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }],
      true,
    );
    await double.#listen(0);
    return double;
  }

  get clusterName(): string {
    return this.pki.clusterName;
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  get watcherCount(): number {
    return new Set([...this.#watchers].map((watcher) => watcher.call)).size;
  }

  // ---- test-facing state API -------------------------------------------------------

  async writeCredentials(
    user: string,
    dir: string,
    options: { expired?: boolean; validForMs?: number } = {},
  ): Promise<CredentialPaths> {
    const now = Date.now();
    const validity = options.expired
      ? { notBefore: new Date(now - 2 * 3600_000), notAfter: new Date(now - 3600_000) }
      : { notAfter: new Date(now + (options.validForMs ?? 24 * 3600_000)) };
    const { certPem, keyPem } = await this.pki.issueClientCert(user, validity);
    const paths: CredentialPaths = {
      clientKey: join(dir, `${user}.key`),
      clientCrt: join(dir, `${user}.crt`),
      rootCas: join(dir, `${user}.cas`),
      identity: join(dir, `${user}.identity`),
    };
    writeFileSync(paths.clientKey, keyPem);
    writeFileSync(paths.clientCrt, certPem);
    writeFileSync(paths.rootCas, this.pki.caPem);
    const sshCa = `@cert-authority *.${this.clusterName} ${fakeSshCertLine(user).split(" ")[1]} type=host`;
    writeFileSync(
      paths.identity,
      keyPem + fakeSshCertLine(user) + "\n" + certPem + sshCa + "\n" + this.pki.caPem,
    );
    return paths;
  }

  setReviewer(user: string, roles: string[]): void {
    this.#reviewers.set(user, roles);
  }

  defineRole(role: DoubleRole): void {
    this.#roles.set(role.name, role);
  }

  deleteRole(name: string): void {
    this.#roles.delete(name);
  }

  assignRoles(user: string, roles: string[]): void {
    this.#users.set(user, { roles, traits: this.#users.get(user)?.traits ?? {} });
  }

  addUser(name: string, user: DoubleUser = {}): void {
    this.#users.set(name, { roles: user.roles ?? [], traits: user.traits ?? {} });
  }

  setSubmitForUsers(user: string, names: string[]): void {
    this.#submitForUsers.set(user, names);
  }

  reviewLog(): LoggedReview[] {
    return this.#reviewLog.map((review) => ({ ...review }));
  }

  createRequest(request: NewRequest): string {
    const id = crypto.randomUUID();
    const thresholds = request.thresholds ?? { approve: 1, deny: 1 };
    const wire = withGogoDefaults(create(AccessRequestV3Schema, {
      Kind: KIND_ACCESS_REQUEST,
      Version: "v3",
      Metadata: create(MetadataSchema, { Name: id, Namespace: DEFAULT_NAMESPACE }),
      Spec: {
        User: request.user,
        Roles: request.roles,
        State: RequestState.PENDING,
        Created: requiredTimeToWire(new Date()),
        Expires: requiredTimeToWire(new Date(Date.now() + 3600_000)),
        RequestReason: request.reason ?? "",
        SystemAnnotations: labelValuesToWire(request.systemAnnotations ?? {}),
        SuggestedReviewers: request.suggestedReviewers ?? [],
        Thresholds: [{ Name: "default", Approve: thresholds.approve, Deny: thresholds.deny }],
        RoleThresholdMapping: Object.fromEntries(
          request.roles.map((role) => [role, { Sets: [{ Indexes: [0] }] }]),
        ),
      },
    }));
    this.#requests.set(id, wire);
    this.#broadcastPut(wire);
    return id;
  }

  review(author: string, id: string, state: "APPROVED" | "DENIED", reason: string): AccessRequest {
    const review = create(AccessReviewSchema, {
      Author: author,
      ProposedState: stateToWire(state),
      Reason: reason,
    });
    return accessRequestFromWire(this.#submitReview(author, id, review));
  }

  setState(id: string, state: "APPROVED" | "DENIED" | "PENDING", reason: string): void {
    const request = this.#requests.get(id) ?? fail(grpc.status.NOT_FOUND, `access request "${id}" not found`);
    request.Spec!.State = stateToWire(state);
    request.Spec!.ResolveReason = reason;
    this.#broadcastPut(request);
  }

  deleteRequest(id: string): void {
    if (!this.#requests.delete(id)) fail(grpc.status.NOT_FOUND, `access request "${id}" not found`);
    for (const watcher of this.#watchersOf(KIND_ACCESS_REQUEST)) {
      watcher.call.write(deleteEvent(KIND_ACCESS_REQUEST, id));
    }
  }

  getRequest(id: string): AccessRequest | undefined {
    const request = this.#requests.get(id);
    return request && accessRequestFromWire(request);
  }

  pluginData(id: string, plugin: string): Record<string, string> | undefined {
    const data = this.#pluginData.get(id)?.get(plugin);
    return data && { ...data };
  }

  reviewsSubmittedBy(user: string): SubmittedReview[] {
    return this.#reviewLog.filter((review) => review.author === user).map((
      { author: _, submittedBy: __, ...review },
    ) => review);
  }

  /** Creates or replaces a rule after Teleport's validation (ValidateAccessMonitoringRule); emits PUT. */
  upsertRule(rule: AccessMonitoringRule, extras: RuleExtras = {}): void {
    const wire = ruleToWire(rule, extras);
    validateRule(wire);
    this.#rules.set(rule.name, wire);
    for (const watcher of this.#watchersOf(KIND_ACCESS_MONITORING_RULE)) {
      watcher.call.write(rulePutEvent(clone(AccessMonitoringRuleSchema, wire)));
    }
  }

  /** Deletes a rule; emits DELETE with the rule's header. */
  deleteRule(name: string): void {
    if (!this.#rules.delete(name)) {
      fail(grpc.status.NOT_FOUND, `access_monitoring_rule "${name}" doesn't exist`);
    }
    for (const watcher of this.#watchersOf(KIND_ACCESS_MONITORING_RULE)) {
      watcher.call.write(deleteEvent(KIND_ACCESS_MONITORING_RULE, name, "v1"));
    }
  }

  /** Creates a user with these traits, or replaces the traits of an existing one (roles are kept). */
  setUser(name: string, traits: Record<string, string[]>): void {
    this.#users.set(name, { roles: this.#users.get(name)?.roles ?? [], traits: structuredClone(traits) });
  }

  /** RBAC: `user` may no longer read, list or watch resources of `kind`. */
  denyAccess(user: string, kind: string): void {
    const kinds = this.#denied.get(user) ?? new Set();
    kinds.add(kind);
    this.#denied.set(user, kinds);
  }

  /** Undoes denyAccess. */
  allowAccess(user: string, kind: string): void {
    this.#denied.get(user)?.delete(kind);
  }

  // ---- fault hooks ---------------------------------------------------------------------

  async restart(options: { graceful: boolean }): Promise<void> {
    await this.#stop(options.graceful);
    await this.#listen(this.port);
  }

  dropStreams(): void {
    for (const watcher of this.#watchers) {
      watcher.call.emit("error", {
        code: grpc.status.UNAVAILABLE,
        details: "watch stream dropped by the test",
      });
    }
    this.#watchers.clear();
  }

  async refuseConnections(on: boolean): Promise<void> {
    if (on && this.#server) await this.#stop(false);
    if (!on && !this.#server) await this.#listen(this.port);
  }

  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** Parks every new RPC after it is counted, before its caller is read, until `release()`. */
  holdCalls(): CallHold {
    const gate = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<{ cancelled: Promise<void> }>();
    const hold = {
      gate: gate.promise,
      handled: [] as Promise<void>[],
      onArrival(call: ServerCall) {
        const cancelled = new Promise<void>((resolve) => call.once("cancelled", () => resolve()));
        arrived.resolve({ cancelled });
      },
    };
    this.#hold = hold;
    return {
      arrived: arrived.promise,
      release: async () => {
        if (this.#hold === hold) this.#hold = undefined;
        gate.resolve();
        await Promise.all(hold.handled);
      },
    };
  }

  async startRouter(): Promise<TlsRouter> {
    const router = await startTlsRouter({ clusterName: this.clusterName, backendPort: () => this.port });
    this.#routers.push(router);
    return router;
  }

  async close(): Promise<void> {
    for (const router of this.#routers.splice(0)) await router.close();
    if (this.#server) await this.#stop(false);
  }

  // ---- server lifecycle -------------------------------------------------------------------

  async #listen(port: number): Promise<void> {
    const server = new grpc.Server();
    server.addService(authServiceDefinition(), this.#handlers());
    server.addService(rulesServiceDefinition(), {
      ListAccessMonitoringRulesWithFilter: this.#unary(
        "ListAccessMonitoringRulesWithFilter",
        (request: ListAccessMonitoringRulesWithFilterRequest, _call, caller) =>
          this.#listRules(caller, request),
      ),
    });
    server.addService(usersServiceDefinition(), this.#userHandlers());
    for (let attempt = 0;; attempt++) {
      try {
        this.port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(`127.0.0.1:${port}`, this.#serverCredentials, (error, bound) => {
            if (error) reject(error);
            else resolve(bound);
          })
        );
        break;
      } catch (error) {
        // The old listener may need a moment to release the port after a restart.
        if (port === 0 || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    this.#server = server;
  }

  async #stop(graceful: boolean): Promise<void> {
    const server = this.#server!;
    this.#server = undefined;
    if (!graceful) {
      server.forceShutdown();
      this.#watchers.clear();
      return;
    }
    // tryShutdown sends GOAWAY, then waits for open calls: end the watch streams as
    // Teleport does when it stops its watchers, including any whose handler runs later.
    this.#stopping = true;
    const stopped = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    for (const watcher of this.#watchers) watcher.call.end();
    this.#watchers.clear();
    try {
      await stopped;
    } finally {
      this.#stopping = false;
    }
  }

  #handlers(): grpc.UntypedServiceImplementation {
    return {
      Ping: this.#unary("Ping", (_: PingRequest, call) => this.#handlePing(call)),
      GetPluginData: this.#unary("GetPluginData", (filter: PluginDataFilter) => this.#getPluginData(filter)),
      UpdatePluginData: this.#unary("UpdatePluginData", (params: PluginDataUpdateParams) => {
        this.#updatePluginData(params);
        return create(EmptySchema);
      }),
      SubmitAccessReview: this.#unary(
        "SubmitAccessReview",
        (submission: AccessReviewSubmission, _call, caller) => {
          const review = submission.Review ?? create(AccessReviewSchema);
          return clone(AccessRequestV3Schema, this.#submitReview(caller, submission.RequestID, review));
        },
      ),
      ListAccessRequests: this.#unary(
        "ListAccessRequests",
        (request: ListAccessRequestsRequest) => this.#listAccessRequests(request),
      ),
      GetAccessRequestsV2: this.#streaming(
        "GetAccessRequestsV2",
        (call: grpc.ServerWritableStream<AccessRequestFilter, AccessRequestV3>) => {
          for (const request of this.#filtered(call.request)) {
            call.write(
              clone(AccessRequestV3Schema, request),
            );
          }
          call.end();
        },
      ),
      GetCurrentUserRoles: this.#streaming(
        "GetCurrentUserRoles",
        (call: grpc.ServerWritableStream<unknown, RoleV6>, caller) => {
          for (const role of this.#rolesOf(caller)) call.write(roleToWire(role));
          call.end();
        },
      ),
      GetRoles: this.#unary("GetRoles", (_: unknown, _call, caller) => {
        const roles = this.#rolesOf(caller);
        for (const verb of ["list", "read"]) {
          if (!rolesAllow(roles, "role", verb)) {
            fail(grpc.status.PERMISSION_DENIED, `access denied to perform action "${verb}" on "role"`);
          }
        }
        return create(GetRolesResponseSchema, { Roles: [...this.#roles.values()].map(roleToWire) });
      }),
      GetUser: this.#unary(
        "GetUser",
        (request: LegacyGetUserRequest, _call, caller) => this.#getUser(caller, request.Name),
      ),
      WatchEvents: this.#streaming(
        "WatchEvents",
        (call: grpc.ServerWritableStream<Watch, Event>, caller) => this.#watch(call, caller),
      ),
    };
  }

  /** teleport.users.v1.UsersService: GetUser and ListUsers (secrets are never returned). */
  #userHandlers(): grpc.UntypedServiceImplementation {
    return {
      GetUser: this.#unary("GetUser", (request: GetUserRequest, _call, caller) => {
        return create(GetUserResponseSchema, { user: this.#getUser(caller, request.name) });
      }),
      ListUsers: this.#unary("ListUsers", (request: ListUsersRequest, _call, caller) => {
        if (this.#isDenied(caller, KIND_USER)) {
          fail(grpc.status.PERMISSION_DENIED, accessDenied("list", KIND_USER));
        }
        const names = [...this.#users.keys()].sort().filter((name) => name >= request.pageToken);
        const size = Math.min(
          request.pageSize < 1 ? DEFAULT_LIST_LIMIT : request.pageSize,
          this.maxUsersPage,
        );
        return create(ListUsersResponseSchema, {
          users: names.slice(0, size).map((name) => this.#userToWire(name, this.#users.get(name)!)),
          nextPageToken: names.at(size) ?? "",
        });
      }),
    };
  }

  #userToWire(name: string, user: Required<DoubleUser>) {
    return create(UserV2Schema, {
      Kind: "user",
      Version: "v2",
      Metadata: create(MetadataSchema, { Name: name, Namespace: DEFAULT_NAMESPACE }),
      Spec: { Roles: user.roles, Traits: labelValuesToWire(user.traits) },
    });
  }

  /** Counts the call, applies latency, authenticates the caller, and turns DoubleRpcError into a gRPC status. */
  #unary<Req, Res>(
    method: string,
    handle: (request: Req, call: grpc.ServerUnaryCall<Req, Res>, caller: string) => Res,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) =>
      this.#admit(method, call, (caller) => {
        try {
          callback(null, handle(call.request, call, caller));
        } catch (error) {
          callback(toServiceError(error));
        }
      }, (status) => callback(status));
  }

  #streaming<Req, Res>(
    method: string,
    handle: (call: grpc.ServerWritableStream<Req, Res>, caller: string) => void,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) =>
      this.#admit(method, call, (caller) => {
        try {
          handle(call, caller);
        } catch (error) {
          call.emit("error", toServiceError(error));
        }
      }, (status) => call.emit("error", status));
  }

  /** The caller's roles that exist (a user may name a deleted role). */
  #rolesOf(user: string): DoubleRole[] {
    const names = this.#users.get(user)?.roles ?? [ACCESS_PLUGIN_ROLE.name];
    return names.flatMap((name) => this.#roles.get(name) ?? []);
  }

  /**
   * Counts the call, waits out latency and holds, then reads the caller from the client certificate.
   * A call whose certificate cannot be read (its connection closed meanwhile) is answered
   * UNAUTHENTICATED, as Teleport answers a call without an identity; it never throws.
   */
  async #admit(
    method: string,
    call: ServerCall,
    handle: (caller: string) => void,
    refuse: (status: Partial<grpc.StatusObject>) => void,
  ): Promise<void> {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.lastClientVersion = call.metadata.get("version")[0]?.toString();
    const hold = this.#hold;
    if (hold) {
      const answered = Promise.withResolvers<void>();
      hold.handled.push(answered.promise);
      hold.onArrival(call);
      await hold.gate;
      try {
        this.#admitNow(call, handle, refuse);
      } finally {
        answered.resolve();
      }
      return;
    }
    await this.#delay();
    this.#admitNow(call, handle, refuse);
  }

  #admitNow(
    call: ServerCall,
    handle: (caller: string) => void,
    refuse: (status: Partial<grpc.StatusObject>) => void,
  ): void {
    const caller = callerOf(call);
    if (caller === undefined) {
      this.unauthenticated++;
      refuse({ code: grpc.status.UNAUTHENTICATED, details: "no client certificate on this connection" });
      return;
    }
    this.lastCaller = caller;
    handle(caller);
  }

  #delay(): Promise<void> {
    return this.#latencyMs > 0
      ? new Promise((resolve) => setTimeout(resolve, this.#latencyMs))
      : Promise.resolve();
  }

  // ---- RPC semantics (Teleport's) -----------------------------------------------------------

  #handlePing(call: grpc.ServerUnaryCall<PingRequest, unknown>) {
    if (this.ping.unimplemented) fail(grpc.status.UNIMPLEMENTED, "unknown method Ping");
    return create(PingResponseSchema, {
      ClusterName: this.clusterName,
      ServerVersion: this.ping.serverVersion,
      ServerFeatures: { AdvancedAccessWorkflows: this.ping.advancedAccessWorkflows },
      ProxyPublicAddr: this.ping.proxyPublicAddr,
      RemoteAddr: call.getPeer(),
    });
  }

  #watch(call: grpc.ServerWritableStream<Watch, Event>, caller: string): void {
    const { Kinds: kinds, AllowPartialSuccess: partial } = call.request;
    if (kinds.length === 0) fail(grpc.status.PERMISSION_DENIED, "can't setup global watch");
    const accepted: WatchKind[] = [];
    for (const kind of kinds) {
      if (!WATCHABLE.has(kind.Kind)) {
        if (!partial) fail(grpc.status.INVALID_ARGUMENT, `watching "${kind.Kind}" is not supported`);
      } else if (this.#isDenied(caller, kind.Kind)) {
        if (!partial) fail(grpc.status.PERMISSION_DENIED, accessDenied("read", kind.Kind));
      } else {
        accepted.push(kind);
      }
    }
    if (accepted.length === 0) {
      fail(grpc.status.INVALID_ARGUMENT, "none of the requested kinds can be watched");
    }
    if (this.#stopping) {
      // The stream arrived before the GOAWAY but is handled after the watchers were ended.
      call.end();
      return;
    }
    call.write(initEvent(accepted));
    for (const kind of accepted) {
      const watcher: Watcher = { call, kind };
      this.#watchers.add(watcher);
      call.on("cancelled", () => this.#watchers.delete(watcher));
      call.on("finish", () => this.#watchers.delete(watcher));
    }
  }

  #watchersOf(kind: string): Watcher[] {
    return [...this.#watchers].filter((watcher) => watcher.kind.Kind === kind);
  }

  #isDenied(caller: string, kind: string): boolean {
    return this.#denied.get(caller)?.has(kind) ?? false;
  }

  /** services.MatchAccessMonitoringRule filters, then a page from `page_token` on (names in order). */
  #listRules(caller: string, request: ListAccessMonitoringRulesWithFilterRequest) {
    if (this.#isDenied(caller, KIND_ACCESS_MONITORING_RULE)) {
      fail(grpc.status.PERMISSION_DENIED, accessDenied("list", KIND_ACCESS_MONITORING_RULE));
    }
    const requested = Number(request.pageSize);
    const pageSize = requested <= 0 || requested > this.rulesPageCap ? this.rulesPageCap : requested;
    const matching = [...this.#rules.values()]
      .filter((rule) => {
        const spec = rule.spec!;
        return request.subjects.every((subject) => spec.subjects.includes(subject)) &&
          (!request.notificationName || spec.notification?.name === request.notificationName) &&
          (!request.automaticReviewName || spec.automaticReview?.integration === request.automaticReviewName);
      })
      .sort((a, b) => a.metadata!.name.localeCompare(b.metadata!.name))
      .filter((rule) => rule.metadata!.name >= request.pageToken);
    return create(ListAccessMonitoringRulesWithFilterResponseSchema, {
      rules: matching.slice(0, pageSize).map((rule) => clone(AccessMonitoringRuleSchema, rule)),
      nextPageToken: matching.at(pageSize)?.metadata?.name ?? "",
    });
  }

  /** GetUser of either service: the caller needs `read` on users. */
  #getUser(caller: string, name: string) {
    if (this.#isDenied(caller, KIND_USER)) {
      fail(grpc.status.PERMISSION_DENIED, accessDenied("read", KIND_USER));
    }
    const user = this.#users.get(name) ??
      fail(grpc.status.NOT_FOUND, `user ${JSON.stringify(name)} is not found`);
    return this.#userToWire(name, user);
  }

  #broadcastPut(request: AccessRequestV3): void {
    for (const watcher of this.#watchersOf(KIND_ACCESS_REQUEST)) {
      if (matchesWatchFilter(request, watcher.kind.Filter)) {
        watcher.call.write(putEvent(clone(AccessRequestV3Schema, request)));
      }
    }
  }

  #getPluginData(filter: PluginDataFilter) {
    if (filter.Kind !== KIND_ACCESS_REQUEST) fail(grpc.status.INVALID_ARGUMENT, "unsupported resource kind");
    const ids = filter.Resource ? [filter.Resource] : [...this.#pluginData.keys()];
    const found = [];
    for (const id of ids) {
      const entries = this.#pluginData.get(id);
      if (!entries || (filter.Plugin && !entries.has(filter.Plugin))) continue;
      found.push(create(PluginDataV3Schema, {
        Kind: KIND_PLUGIN_DATA,
        SubKind: KIND_ACCESS_REQUEST,
        Version: "v3",
        Metadata: create(MetadataSchema, { Name: id, Namespace: DEFAULT_NAMESPACE }),
        Spec: {
          Entries: Object.fromEntries([...entries].map(([plugin, data]) => [plugin, { Data: { ...data } }])),
        },
      }));
    }
    return create(PluginDataSeqSchema, { PluginData: found });
  }

  #updatePluginData(params: PluginDataUpdateParams): void {
    if (params.Kind !== KIND_ACCESS_REQUEST) fail(grpc.status.INVALID_ARGUMENT, "unsupported resource kind");
    let entries = this.#pluginData.get(params.Resource);
    if (!entries) {
      if (!this.#requests.has(params.Resource)) {
        fail(grpc.status.NOT_FOUND, `access_request "${params.Resource}" doesn't exist`);
      }
      entries = new Map();
      this.#pluginData.set(params.Resource, entries);
    }
    const current = entries.get(params.Plugin);
    // An Expect with no entries decodes as nil in Go: no precondition.
    for (const [key, expected] of Object.entries(params.Expect)) {
      const actual = current?.[key] ?? "";
      if (actual !== expected) {
        fail(grpc.status.FAILED_PRECONDITION, `expectations not met for field "${key}"`);
      }
    }
    const next = { ...current };
    for (const [key, value] of Object.entries(params.Set)) {
      if (value === "") delete next[key];
      else next[key] = value;
    }
    if (Object.keys(next).length === 0) entries.delete(params.Plugin);
    else entries.set(params.Plugin, next);
  }

  /**
   * SubmitAccessReview checks in the order of spec §5.4; returns the updated request.
   * A review with SubmittedBy (RFD 0250) is the plugin's on behalf of Author: the
   * caller must be SubmittedBy and hold `review_requests.submit_for_users` for the
   * author, and every later check runs as the author (existing user, review rules,
   * self-review ban, one review per author).
   */
  #submitReview(caller: string, id: string, submitted: WireAccessReview): AccessRequestV3 {
    const review = clone(AccessReviewSchema, submitted);
    // An older server does not know field 11: it is dropped as an unknown field.
    if (!this.onBehalfSupported) review.SubmittedBy = "";
    if (review.ProposedState === RequestState.PROMOTED) {
      fail(grpc.status.INVALID_ARGUMENT, "state promoted can be only set when promoting to access list");
    }
    if (review.Author === "") review.Author = caller;
    const reviewer = review.SubmittedBy === "" ? caller : review.Author;
    if (review.SubmittedBy !== "") {
      if (review.SubmittedBy !== caller) {
        fail(
          grpc.status.PERMISSION_DENIED,
          `user "${caller}" cannot submit reviews as "${review.SubmittedBy}"`,
        );
      }
      const allowed = this.#submitForUsers.get(caller) ?? [];
      if (!allowed.includes("*") && !allowed.includes(review.Author)) {
        fail(
          grpc.status.PERMISSION_DENIED,
          `user "${caller}" cannot submit reviews on behalf of "${review.Author}"`,
        );
      }
      if (!this.#users.has(review.Author)) {
        fail(grpc.status.NOT_FOUND, `user ${JSON.stringify(review.Author)} is not found`);
      }
    } else if (review.Author !== caller) {
      fail(
        grpc.status.PERMISSION_DENIED,
        `user "${caller}" cannot submit reviews on behalf of "${review.Author}"`,
      );
    }
    const reviewableRoles = this.#reviewers.get(reviewer);
    if (!reviewableRoles) fail(grpc.status.PERMISSION_DENIED, `user "${reviewer}" cannot submit reviews`);
    const request = this.#requests.get(id) ??
      fail(grpc.status.NOT_FOUND, `cannot apply review to access request "${id}" (not found)`);
    const spec = request.Spec!;
    const canReview = spec.User !== reviewer &&
      spec.Roles.every((role) => reviewableRoles.includes("*") || reviewableRoles.includes(role));
    if (!canReview) fail(grpc.status.PERMISSION_DENIED, `user "${reviewer}" cannot review request "${id}"`);
    applyReview(request, review);
    this.#reviewLog.push({
      requestId: id,
      author: reviewer,
      submittedBy: review.SubmittedBy,
      proposedState: review.ProposedState === RequestState.APPROVED ? "APPROVED" : "DENIED",
      reason: review.Reason,
    });
    this.#broadcastPut(request);
    return request;
  }

  #listAccessRequests(request: ListAccessRequestsRequest) {
    if (this.listAccessRequestsUnimplemented) {
      fail(grpc.status.UNIMPLEMENTED, "unknown method ListAccessRequests");
    }
    if (request.Limit > MAX_LIST_LIMIT) {
      fail(grpc.status.INVALID_ARGUMENT, `limit ${request.Limit} is too large`);
    }
    const limit = request.Limit < 1 ? DEFAULT_LIST_LIMIT : request.Limit;
    const matching = this.#filtered(request.Filter)
      .sort((a, b) => a.Metadata!.Name.localeCompare(b.Metadata!.Name))
      .filter((r) => r.Metadata!.Name >= request.StartKey);
    return create(ListAccessRequestsResponseSchema, {
      AccessRequests: matching.slice(0, limit).map((r) => clone(AccessRequestV3Schema, r)),
      NextKey: matching.at(limit)?.Metadata?.Name ?? "",
    });
  }

  #filtered(filter: AccessRequestFilter | undefined): AccessRequestV3[] {
    return [...this.#requests.values()].filter((request) =>
      (!filter?.ID || request.Metadata!.Name === filter.ID) &&
      (!filter?.User || request.Spec!.User === filter.User) &&
      (!filter?.State || request.Spec!.State === filter.State)
    );
  }
}

const WATCHABLE = new Set([KIND_ACCESS_REQUEST, KIND_ACCESS_MONITORING_RULE]);

function accessDenied(verb: string, kind: string): string {
  return `access denied to perform action "${verb}" on "${kind}"`;
}

/** lib/services ValidateAccessMonitoringRule, with Teleport's messages. */
function validateRule(rule: WireRule): void {
  const invalid = (message: string): never => fail(grpc.status.INVALID_ARGUMENT, message);
  if (rule.kind !== KIND_ACCESS_MONITORING_RULE) invalid(`invalid kind: ${JSON.stringify(rule.kind)}`);
  if (rule.version !== "v1") invalid(`invalid version: ${JSON.stringify(rule.version)}`);
  if (!rule.metadata?.name) invalid("accessMonitoringRule metadata is missing");
  const spec = rule.spec ?? invalid("accessMonitoringRule spec is missing");
  if (spec.subjects.length === 0) invalid("accessMonitoringRule subject is missing");
  if (spec.condition === "") invalid("accessMonitoringRule condition is missing");
  for (const [name, schedule] of Object.entries(spec.schedules)) {
    const shifts = schedule.time?.shifts ?? [];
    if (shifts.length === 0) invalid(`accessMonitoringRule schedule ${JSON.stringify(name)} has no shifts`);
    for (const shift of shifts) {
      if (!WEEKDAYS.includes(shift.weekday)) invalid(`invalid weekday: ${JSON.stringify(shift.weekday)}`);
      let ordered = false;
      try {
        ordered = parseClock(shift.start) < parseClock(shift.end);
      } catch (error) {
        invalid(`invalid shift: ${(error as Error).message}`);
      }
      if (!ordered) invalid(`invalid shift: start ${shift.start} must be before end ${shift.end}`);
    }
  }
  if (spec.notification && spec.notification.name === "") {
    invalid("accessMonitoringRule notification plugin name is missing");
  }
  if (spec.automaticReview) {
    if (spec.automaticReview.integration === "") {
      invalid("accessMonitoringRule automatic_review integration is missing");
    }
    if (!["APPROVED", "DENIED"].includes(spec.automaticReview.decision)) {
      invalid(
        `accessMonitoringRule automatic_review decision ${
          JSON.stringify(spec.automaticReview.decision)
        } is invalid`,
      );
    }
  }
  if (spec.subjects.includes(KIND_ACCESS_REQUEST)) {
    try {
      Condition.parse(spec.condition);
    } catch (error) {
      invalid(`accessMonitoringRule condition is invalid: ${(error as Error).message}`);
    }
    if (!["", "reviewed"].includes(spec.desiredState)) {
      invalid(`accessMonitoringRule desired_state ${JSON.stringify(spec.desiredState)} is invalid`);
    }
    if (!spec.notification && !spec.automaticReview) {
      invalid("one of notification or automatic_review must be configured");
    }
  }
}

/** What every server call (unary or streaming) offers: metadata, events, the peer's identity. */
type ServerCall = grpc.ServerUnaryCall<unknown, unknown>;

/**
 * The Teleport user of a call: its client certificate's CN, or undefined when no certificate can
 * be read. grpc-js returns no certificate once the connection has closed, and under Deno its
 * getAuthContext throws (a TypeError reading `raw` of null) when the socket is already destroyed.
 */
function callerOf(call: ServerCall): string | undefined {
  let context: ReturnType<ServerCall["getAuthContext"]>;
  try {
    context = call.getAuthContext();
  } catch {
    return undefined;
  }
  const commonName = context.sslPeerCertificate?.subject?.CN;
  return (Array.isArray(commonName) ? commonName[0] : commonName) || undefined;
}

function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof DoubleRpcError) return { code: error.code, details: error.message };
  return { code: grpc.status.UNKNOWN, details: String(error) };
}

/** WatchKind.Filter for access_request: keys id, user, state (enum name). */
function matchesWatchFilter(request: AccessRequestV3, filter: Record<string, string>): boolean {
  return (!filter.id || filter.id === request.Metadata!.Name) &&
    (!filter.user || filter.user === request.Spec!.User) &&
    (!filter.state || filter.state === RequestState[request.Spec!.State]);
}

/** Teleport's services.ApplyAccessReview, with its threshold resolution. */
function applyReview(request: AccessRequestV3, review: WireAccessReview): void {
  const spec = request.Spec!;
  if (review.ProposedState !== RequestState.APPROVED && review.ProposedState !== RequestState.DENIED) {
    fail(grpc.status.INVALID_ARGUMENT, "invalid state proposal");
  }
  if (spec.Thresholds.length === 0) {
    fail(grpc.status.INVALID_ARGUMENT, "request is uninitialized or does not support reviews");
  }
  if (spec.Reviews.some((existing) => existing.Author === review.Author)) {
    fail(grpc.status.PERMISSION_DENIED, `user "${review.Author}" has already reviewed this request`);
  }
  if (review.Roles.length > 0 && review.Roles.length !== spec.Roles.length) {
    fail(grpc.status.UNIMPLEMENTED, "role subselection is not yet supported in reviews");
  }
  if (Object.keys(review.Annotations?.Values ?? {}).length > 0) {
    fail(grpc.status.UNIMPLEMENTED, "annotations are not yet supported in reviews");
  }
  // Only empty threshold filters are supported here; they match every review.
  review.ThresholdIndexes = spec.Thresholds.map((_, index) => index);
  if (!review.Created || review.Created.seconds <= 0n) review.Created = requiredTimeToWire(new Date());
  review.Annotations ??= labelValuesToWire({});
  if (RESOLVED.has(spec.State)) {
    fail(grpc.status.PERMISSION_DENIED, `the access request has been already ${STATE_VERBS[spec.State]}`);
  }
  spec.Reviews.push(review);
  resolveByThresholds(request);
}

/** calculateReviewBasedResolution: deny wins as soon as a deny threshold is met; approve needs every role. */
function resolveByThresholds(request: AccessRequestV3): void {
  const spec = request.Spec!;
  const approvals = new Map<number, number>();
  const denials = new Map<number, number>();
  for (const review of spec.Reviews) {
    const counts = review.ProposedState === RequestState.APPROVED ? approvals : denials;
    for (const index of review.ThresholdIndexes) counts.set(index, (counts.get(index) ?? 0) + 1);
    const denied = spec.Thresholds.some((t, i) => t.Deny !== 0 && (denials.get(i) ?? 0) >= t.Deny);
    if (denied) return resolve(spec, RequestState.DENIED, review.Reason);
    const met = (i: number) =>
      spec.Thresholds[i].Approve !== 0 && (approvals.get(i) ?? 0) >= spec.Thresholds[i].Approve;
    const approved = Object.values(spec.RoleThresholdMapping).every((sets) =>
      sets.Sets.every((set) => set.Indexes.some(met))
    );
    if (approved) return resolve(spec, RequestState.APPROVED, review.Reason);
  }
}

function resolve(spec: NonNullable<AccessRequestV3["Spec"]>, state: RequestState, reason: string): void {
  spec.State = state;
  spec.ResolveReason = reason;
}
