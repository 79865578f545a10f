/** Entry point of the teleport-opsgenie binary. */
import { runProgram } from "./cli/program.ts";
import { OPSGENIE_PROGRAM } from "./cli/opsgenie_program.ts";

if (import.meta.main) Deno.exit(await runProgram(OPSGENIE_PROGRAM, Deno.args));
