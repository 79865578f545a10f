/** Configuration and credential files: readable, valid, private, certificate not expired. */
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config, TeleportConfig } from "../config/types.ts";
import { clientCertificateNotAfter } from "../teleport/cert_expiry.ts";
import { type CheckItem, error, ok, warning } from "./report.ts";

/** A certificate expiring sooner than this is a warning. */
export const EXPIRY_WARNING_DAYS = 3;
const DAY_MS = 24 * 3600 * 1000;

/** Loads the configuration as `start` does; every loader warning becomes a warning item. */
export async function checkConfigFile(path: string): Promise<{ config?: Config; items: CheckItem[] }> {
  try {
    const { config, warnings } = await loadConfig(path);
    const items = [ok("config.file", `${path} is valid`)];
    for (const w of warnings) {
      const chmod = /run `(chmod [^`]+)`/.exec(w)?.[1];
      items.push(warning("config.file", w.replace(/; run `chmod [^`]+`$/, ""), chmod ?? `edit ${path}`));
    }
    return { config, items };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const fix = err instanceof ConfigError
      ? `edit ${path} (see \`teleport-pagerduty configure\`)`
      : "check the path";
    return { items: [error("config.file", message, fix)] };
  }
}

/** The Teleport credential files: each one readable and private, the certificate valid for long enough. */
export async function checkCredentialFiles(teleport: TeleportConfig, now = new Date()): Promise<CheckItem[]> {
  const files = teleport.identity
    ? [["identity", teleport.identity]]
    : [["client_key", teleport.clientKey], ["client_crt", teleport.clientCrt], [
      "root_cas",
      teleport.rootCas,
    ]];
  const items: CheckItem[] = [];
  let readable = true;
  for (const [key, path] of files as Array<[string, string]>) {
    const id = `teleport.${key}`;
    try {
      const { mode } = await Deno.stat(path);
      using _ = await Deno.open(path);
      if (key !== "root_cas" && key !== "client_crt" && mode !== null && (mode & 0o077) !== 0) {
        items.push(
          warning(
            id,
            `${path} holds a private key and is readable by group or others (mode ${
              (mode & 0o777).toString(8)
            })`,
            `chmod 600 ${path}`,
          ),
        );
      } else {
        items.push(ok(id, `${path} is readable`));
      }
    } catch (err) {
      readable = false;
      items.push(
        error(
          id,
          `cannot read ${path}: ${(err as Error).message}`,
          `check teleport.${key} and the file's owner`,
        ),
      );
    }
  }
  if (readable) items.push(checkCertificateExpiry(teleport, now));
  return items;
}

function checkCertificateExpiry(teleport: TeleportConfig, now: Date): CheckItem {
  const id = "teleport.certificate";
  const renew = teleport.identity
    ? `issue a new identity (tctl auth sign --format=file, or let tbot renew ${teleport.identity})`
    : "issue new certificates with tctl auth sign --format=tls";
  let notAfter: Date;
  try {
    notAfter = clientCertificateNotAfter(teleport);
  } catch (err) {
    return error(id, (err as Error).message, renew);
  }
  const days = (notAfter.getTime() - now.getTime()) / DAY_MS;
  if (days <= 0) return error(id, `the client certificate expired at ${notAfter.toISOString()}`, renew);
  if (days < EXPIRY_WARNING_DAYS) {
    return warning(
      id,
      `the client certificate expires in ${Math.floor(days * 24)} h (${notAfter.toISOString()})`,
      renew,
    );
  }
  return ok(id, `the client certificate is valid until ${notAfter.toISOString()} (${Math.floor(days)} days)`);
}
