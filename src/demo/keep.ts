/**
 * `--keep`: after the story, leave the doubles and the plugin running, print what a
 * second, separate plugin process needs, and take simple commands on standard input.
 * PagerDuty only: `--backend opsgenie --keep` is refused.
 */
import { join } from "node:path";
import { BOT_EMAIL } from "../doubles/world.ts";
import { ONCALL_SERVICE, REVIEWER } from "./story.ts";
import type { PagerDutyDemoEnv as DemoEnv } from "./story.ts";

/** A TOML configuration for `deno task start -c <file>` against the running doubles. */
export function demoConfigToml(env: DemoEnv): string {
  const { world } = env;
  const q = (s: string) => JSON.stringify(s);
  return `# teleport-pagerduty configuration for the demo's doubles (deleted when the demo stops)
[teleport]
addr = ${q(world.teleport.addr)}
client_key = ${q(world.credentials.clientKey)}
client_crt = ${q(world.credentials.clientCrt)}
root_cas = ${q(world.credentials.rootCas)}

[pagerduty]
api_key = ${q(world.pagerduty.apiKey)}
user_email = ${q(BOT_EMAIL)}
api_endpoint = ${q(world.pagerduty.url)}

[log]
output = "stderr"
severity = "info"
`;
}

export const COMMANDS_HELP = `Commands (one per line on standard input):
  request <user> <role> [service…]   create an access request, e.g. \`request alice@example.com editor\`;
                                     services go into pagerduty_services (on-call auto-approval),
                                     e.g. \`request bob@example.com demo-role "${ONCALL_SERVICE}"\`
  approve <id> [reason]              ${REVIEWER} approves (an id prefix is enough)
  deny <id> [reason]                 ${REVIEWER} denies
  list                               requests and incidents
  help                               this text
Ctrl-C stops everything and removes the temporary files.`;

/** Writes the config next to the world's credentials and prints how to use everything. */
export async function printKeepInstructions(env: DemoEnv): Promise<void> {
  const { world } = env;
  const configPath = join(world.dir, "teleport-pagerduty.toml");
  const toml = demoConfigToml(env);
  // It holds the API key: private, as the plugin asks of any config that does.
  await Deno.writeTextFile(configPath, toml, { mode: 0o600 });
  console.log(`
Everything keeps running.
  Teleport Auth (double):  ${world.teleport.addr}  (gRPC over mutual TLS, cluster ${world.teleport.clusterName})
  plugin credentials:      ${world.credentials.clientCrt}, .key, .cas
  PagerDuty API (double):  ${world.pagerduty.url}
  PagerDuty API key:       ${world.pagerduty.apiKey}
  configuration:           ${configPath}
  plugin diagnostics:      http://${world.config.diag.addr}/readyz, /livez, /metrics  ([diag] addr)

Look for setup mistakes the way an operator would (reads only, changes nothing):
  deno run -A src/main.ts check -c ${configPath}

A second plugin instance (a separate process) can join; both share the work through leases in plugin data:
  deno task start -c ${configPath}
(Deno's HTTP/2 can abort this demo process when a client in another process closes its connection,
 see docs/deno-http2.md; stop the second instance with \`kill -9\` to avoid that.)

----- ${configPath} -----
${toml}-----

${COMMANDS_HELP}
`);
}

/** Splits a command line into words; "double quotes" group words. */
export function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** Runs one command line; returns what to print (the timeline shows the effects). */
export function runCommand(env: DemoEnv, line: string): string | undefined {
  const [command, ...args] = words(line);
  const teleport = env.world.teleport;
  const findId = (prefix: string | undefined): string => {
    if (!prefix) throw new Error("which request? give its id (a prefix is enough)");
    const ids = env.world.pagerduty.incidents().map((i) => i.incidentKey?.split("/")[1] ?? "");
    const known = [...new Set([...env.requestIds(), ...ids])].filter((id) => id.startsWith(prefix));
    if (known.length !== 1) {
      throw new Error(known.length === 0 ? `no request ${prefix}` : `${prefix} is ambiguous`);
    }
    return known[0];
  };
  switch (command) {
    case undefined:
      return undefined;
    case "request": {
      const [user, role, ...services] = args;
      if (!user || !role) throw new Error("usage: request <user> <role> [service…]");
      const id = env.request(user, role, services);
      return `created request ${id}`;
    }
    case "approve":
    case "deny": {
      const id = findId(args[0]);
      teleport.review(REVIEWER, id, command === "approve" ? "APPROVED" : "DENIED", args.slice(1).join(" "));
      return undefined;
    }
    case "list": {
      const requests = env.requestIds().map((id) => {
        const r = teleport.getRequest(id);
        return r
          ? `  request ${id}  ${r.user}  ${r.roles.join(",")}  ${r.state}`
          : `  request ${id}  deleted`;
      });
      const incidents = env.world.pagerduty.incidents().map((i) =>
        `  incident ${i.id}  ${i.status}  "${i.title}"  ${i.notes.length} note(s)`
      );
      return [...requests, ...incidents].join("\n") || "  nothing yet";
    }
    case "help":
      return COMMANDS_HELP;
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}; type \`help\``);
  }
}

/** Reads command lines from standard input until it closes or `signal` aborts. */
export async function readCommands(env: DemoEnv, signal: AbortSignal): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = Deno.stdin.readable.getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  while (!signal.aborted) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      try {
        const answer = runCommand(env, line);
        if (answer) console.log(answer);
      } catch (err) {
        console.log(`! ${(err as Error).message}`);
      }
    }
  }
}
