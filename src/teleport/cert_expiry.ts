/** When the plugin's Teleport client certificate expires, read from the configured files. */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import type { TeleportConfig } from "../config/types.ts";
import { parseCertificates } from "./credentials.ts";
import { CredentialsError } from "./errors.ts";
import { readIdentityFile } from "./identity_file.ts";

/** The client certificate's NotAfter (identity file or `client_crt`); throws CredentialsError. */
export function clientCertificateNotAfter(config: TeleportConfig): Date {
  const [pem, source] = config.identity
    ? [Buffer.from(readIdentityFile(config.identity).tlsCertPem), config.identity]
    : [readCertFile(config.clientCrt), config.clientCrt ?? ""];
  return new Date(parseCertificates(pem, source)[0].validTo);
}

function readCertFile(path: string | undefined): Buffer {
  if (!path) throw new CredentialsError("neither teleport.identity nor teleport.client_crt is configured");
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CredentialsError(
      `cannot read client certificate ${path}: ${(error as Error).message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
}
