/**
 * Loads the client's TLS identity from the configuration: either the
 * `client_key`/`client_crt`/`root_cas` trio or an identity file. Certificates are
 * checked up front so an expired identity stops the plugin with a clear message
 * instead of surfacing later as an opaque TLS failure.
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { TeleportConfig } from "../config/types.ts";
import { CredentialsError } from "./errors.ts";
import { readIdentityFile } from "./identity_file.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("teleport");

/** Teleport's own wording, so operators find the upstream docs for it. */
export const EXPIRED_CREDENTIALS_MESSAGE =
  "No valid credentials found, this likely means credentials are expired. " +
  "In this case, please sign new credentials and increase their TTL if needed.";

const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;

/** PEM material as Buffers (grpc-js rejects Uint8Array under Deno). */
export interface TlsCredentials {
  privateKey: Buffer;
  certChain: Buffer;
  rootCas: Buffer;
  /** Where the material came from, for messages: a file path or "a, b, c". */
  source: string;
}

function readPemFile(path: string, what: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    throw new CredentialsError(`cannot read ${what} ${path}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  if (!pem.includes("-----BEGIN ")) throw new CredentialsError(`${what} ${path} contains no PEM data`);
  return pem;
}

export function loadCredentials(config: TeleportConfig, now = new Date()): TlsCredentials {
  const credentials = config.identity ? fromIdentityFile(config.identity) : fromKeyPair(config);
  checkExpiry(credentials, now);
  return credentials;
}

function fromKeyPair(config: TeleportConfig): TlsCredentials {
  const { clientKey, clientCrt, rootCas } = config;
  if (!clientKey || !clientCrt || !rootCas) {
    throw new CredentialsError(
      "either an identity file or client_key, client_crt and root_cas must be configured",
    );
  }
  return {
    privateKey: readPemFile(clientKey, "client key"),
    certChain: readPemFile(clientCrt, "client certificate"),
    rootCas: readPemFile(rootCas, "root CA file"),
    source: `${clientCrt}, ${clientKey}, ${rootCas}`,
  };
}

function fromIdentityFile(path: string): TlsCredentials {
  const identity = readIdentityFile(path);
  return {
    privateKey: Buffer.from(identity.privateKeyPem),
    certChain: Buffer.from(identity.tlsCertPem),
    rootCas: Buffer.from(identity.tlsCaPems.join("")),
    source: path,
  };
}

/** Every certificate in a PEM bundle, parsed; errors name the source. */
export function parseCertificates(pem: Buffer, source: string): X509Certificate[] {
  const blocks =
    pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CredentialsError(`no certificate found in ${source}`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    throw new CredentialsError(`invalid certificate in ${source}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
}

function checkExpiry(credentials: TlsCredentials, now: Date): void {
  const certs = parseCertificates(credentials.certChain, credentials.source);
  // The first certificate is the client's own; the rest (if any) are intermediates.
  const notAfter = new Date(certs[0].validTo);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CredentialsError(
      `${EXPIRED_CREDENTIALS_MESSAGE} (the certificate in ${credentials.source} expired at ${notAfter.toISOString()})`,
    );
  }
  if (notAfter.getTime() - now.getTime() < EXPIRY_WARNING_MS) {
    log.warn("Teleport credentials from {source} expire soon, at {expiry}; sign new ones", {
      source: credentials.source,
      expiry: notAfter.toISOString(),
    });
  }
}

/**
 * The cluster name from the CA certificate. Teleport's host CA is self-signed
 * with subject `O=<cluster name>, CN=<cluster name>`; we read O and fall back to CN.
 */
export function clusterNameFromCa(credentials: TlsCredentials): string {
  const [ca] = parseCertificates(credentials.rootCas, credentials.source);
  const name = subjectField(ca, "O") ?? subjectField(ca, "CN");
  if (!name) {
    throw new CredentialsError(
      `cannot read the cluster name from the CA certificate in ${credentials.source}`,
    );
  }
  return name;
}

/** One attribute of a certificate subject (node:crypto renders it as "K=V" lines). */
export function subjectField(cert: X509Certificate, key: string): string | undefined {
  const line = cert.subject.split("\n").find((entry) => entry.startsWith(`${key}=`));
  return line?.slice(key.length + 1);
}
