/**
 * grpc-js method definitions built from protobuf-es service descriptors (no .proto
 * file is read at run time, so this works inside a bundled executable). Shared by
 * the client and the test double.
 */
import { Buffer } from "node:buffer";
import type { ServiceDefinition } from "@grpc/grpc-js";
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { AuthService } from "./gen/teleport/legacy/client/proto/authservice_pb.ts";
import { AccessMonitoringRulesService } from "./gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service_pb.ts";
import { UsersService } from "./gen/teleport/users/v1/users_service_pb.ts";
import { decode } from "./codec.ts";

export interface RpcMethod<I extends DescMessage, O extends DescMessage> {
  path: string;
  serialize(message: MessageShape<I>): Buffer;
  deserialize(bytes: Buffer): MessageShape<O>;
}

function serializer<D extends DescMessage>(schema: D): (message: MessageShape<D>) => Buffer {
  return (message) => Buffer.from(toBinary(schema, message));
}

function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => decode(schema, bytes);
}

function pathOf(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

type MethodsOf<S extends DescService> = S["method"];
type MethodOf<S extends DescService, K extends keyof MethodsOf<S>> = RpcMethod<
  MethodsOf<S>[K]["input"],
  MethodsOf<S>[K]["output"]
>;

/** Client-side view of one method of `service` (request out, response in). */
export function serviceMethod<S extends DescService, K extends keyof MethodsOf<S>>(
  service: S,
  name: K,
): MethodOf<S, K> {
  const method = service.method[name as string] as DescMethod;
  return {
    path: pathOf(service, method),
    serialize: serializer(method.input),
    deserialize: deserializer(method.output),
  } as unknown as MethodOf<S, K>;
}

/** Client-side view of one proto.AuthService method. */
export function rpcMethod<K extends keyof MethodsOf<typeof AuthService>>(
  name: K,
): MethodOf<typeof AuthService, K> {
  return serviceMethod(AuthService, name);
}

/** Client-side view of one AccessMonitoringRulesService method. */
export function rulesRpcMethod<K extends keyof MethodsOf<typeof AccessMonitoringRulesService>>(
  name: K,
): MethodOf<typeof AccessMonitoringRulesService, K> {
  return serviceMethod(AccessMonitoringRulesService, name);
}

/** Client-side view of one teleport.users.v1.UsersService method. */
export function usersRpcMethod<K extends keyof MethodsOf<typeof UsersService>>(
  name: K,
): MethodOf<typeof UsersService, K> {
  return serviceMethod(UsersService, name);
}

/** The grpc-js ServiceDefinition a server registers handlers against (keyed by method name). */
export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: pathOf(service, method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition;
}

/** proto.AuthService's ServiceDefinition. */
export function authServiceDefinition(): ServiceDefinition {
  return serviceDefinition(AuthService);
}

/** teleport.accessmonitoringrules.v1.AccessMonitoringRulesService's ServiceDefinition. */
export function rulesServiceDefinition(): ServiceDefinition {
  return serviceDefinition(AccessMonitoringRulesService);
}

/** teleport.users.v1.UsersService's ServiceDefinition. */
export function usersServiceDefinition(): ServiceDefinition {
  return serviceDefinition(UsersService);
}
