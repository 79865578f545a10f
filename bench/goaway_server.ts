/**
 * The server side of bench/goaway.ts, in its own process: a Teleport double whose
 * graceful restart (GOAWAY, then rebinding the same port) the parent triggers.
 *
 * Prints one JSON line {addr, dir} (dir holds the plugin's credentials), then reads
 * commands from stdin: "restart" → graceful restart, answers "restarted". At EOF it
 * closes, removes dir and exits.
 */
import { TeleportDouble } from "../src/doubles/teleport_double.ts";

const PLUGIN_USER = "plugin";

const double = await TeleportDouble.start();
const dir = await Deno.makeTempDir({ prefix: "bench-goaway-" });
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
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(0);
