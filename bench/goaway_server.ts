/**
 * The server side of bench/goaway.ts, in its own process: a Teleport double whose
 * graceful restart (GOAWAY, then rebinding the same port) the parent triggers.
 *
 * Writes the plugin's credentials into DIR (the parent creates and removes it), prints
 * one JSON line {addr, dir}, then reads commands from stdin: "restart" → graceful
 * restart, answers "restarted". At EOF it closes and exits.
 *
 *   deno run <flags> bench/goaway_server.ts DIR
 */
import { TeleportDouble } from "../src/doubles/teleport_double.ts";

const PLUGIN_USER = "plugin";

const double = await TeleportDouble.start();
const [dir] = Deno.args;
try {
  await double.writeCredentials(PLUGIN_USER, dir);
  double.setReviewer(PLUGIN_USER, ["*"]);
  for (let i = 0; i < 3; i++) double.createRequest({ user: `user${i}@example.com`, roles: ["editor"] });
  console.log(JSON.stringify({ addr: double.addr, dir }));
  for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    for (const command of line.split("\n").filter(Boolean)) {
      if (command !== "restart") throw new Error(`unknown command ${command}`);
      await double.restart({ graceful: true });
      console.log("restarted");
    }
  }
} finally {
  await double.close();
}
Deno.exit(0);
