/** Entry point of the teleport-pagerduty binary. */
import { runCli } from "./cli/program.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
