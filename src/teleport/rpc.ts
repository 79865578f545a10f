/**
 * grpc-js method definitions for proto.AuthService, built from the protobuf-es
 * service descriptor (no .proto file is read at run time, so this works inside a
 * bundled executable). Shared by the client and the test double.
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

function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** A service's methods by local name, typed as client-side RpcMethods. */
type ClientMethods<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethod
    ? RpcMethod<S["method"][K]["input"], S["method"][K]["output"]>
    : never;
};

function clientMethod<S extends DescService, K extends keyof S["method"]>(
  service: S,
  name: K,
): ClientMethods<S>[K] {
  const method = service.method[name as string] as DescMethod;
  return {
    path: pathOf(method),
    serialize: serializer(method.input),
    deserialize: deserializer(method.output),
  } as unknown as ClientMethods<S>[K];
}

/** Client-side view of one AuthService method (request out, response in). */
export function rpcMethod<K extends keyof typeof AuthService.method>(name: K) {
  return clientMethod(AuthService, name);
}

/** Client-side view of one teleport.users.v1.UsersService method. */
export function usersRpcMethod<K extends keyof typeof UsersService.method>(name: K) {
  return clientMethod(UsersService, name);
}

/** The grpc-js ServiceDefinition a server registers handlers against (keyed by method name). */
export function authServiceDefinition(): ServiceDefinition {
  return serviceDefinition(AuthService);
}

/** The same for teleport.users.v1.UsersService. */
export function usersServiceDefinition(): ServiceDefinition {
  return serviceDefinition(UsersService);
}

function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: pathOf(method),
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
