/**
 * Parser for Teleport identity files (`auth.pem`, from `tctl auth sign --format=file`
 * or `tsh login --out`). Layout, in order: private key PEM, SSH certificate line,
 * TLS certificate PEM, `@cert-authority` lines, TLS CA PEMs. Like Teleport's own
 * decoder we scan line by line: the first PEM block is the key, the second the
 * TLS certificate and every later one a TLS CA.
 */
import { readFileSync } from "node:fs";
import { CredentialsError } from "./errors.ts";

export interface IdentityFile {
  privateKeyPem: string;
  /** One line, e.g. `ssh-ed25519-cert-v01@openssh.com AAAA…`; "" when absent (we only dial TLS). */
  sshCert: string;
  tlsCertPem: string;
  /** `@cert-authority …` known_hosts lines (unused for TLS, kept for completeness of parsing). */
  sshCaLines: string[];
  tlsCaPems: string[];
}

const SSH_CERT_TYPE = /^[a-z0-9-]+-cert-v01@openssh\.com$/;

function isSshCertLine(line: string): boolean {
  return SSH_CERT_TYPE.test(line.split(" ", 1)[0]);
}

/** Splits the file into PEM blocks and the SSH lines between them. */
function scan(text: string): { pems: string[]; sshCerts: string[]; sshCaLines: string[] } {
  const pems: string[] = [];
  const sshCerts: string[] = [];
  const sshCaLines: string[] = [];
  let block: string[] | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (block) {
      block.push(line);
      if (line.startsWith("-----END")) {
        pems.push(block.join("\n") + "\n");
        block = undefined;
      }
    } else if (line.startsWith("-----BEGIN")) {
      block = [line];
    } else if (line.startsWith("@cert-authority")) {
      sshCaLines.push(line);
    } else if (isSshCertLine(line)) {
      sshCerts.push(line);
    }
  }
  if (block) throw new Error("unterminated PEM block");
  return { pems, sshCerts, sshCaLines };
}

export function parseIdentityFile(text: string): IdentityFile {
  const { pems, sshCerts, sshCaLines } = scan(text);
  const [privateKeyPem, tlsCertPem, ...tlsCaPems] = pems;
  if (!privateKeyPem || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKeyPem)) {
    throw new Error("the first PEM block is not a private key");
  }
  if (!tlsCertPem || !tlsCertPem.startsWith("-----BEGIN CERTIFICATE-----")) {
    throw new Error("no TLS certificate after the private key");
  }
  if (tlsCaPems.length === 0) throw new Error("no TLS CA certificates");
  return { privateKeyPem, sshCert: sshCerts[0] ?? "", tlsCertPem, sshCaLines, tlsCaPems };
}

export function readIdentityFile(path: string): IdentityFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CredentialsError(`cannot read identity file ${path}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  try {
    return parseIdentityFile(text);
  } catch (error) {
    throw new CredentialsError(`invalid identity file ${path}: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
}
