/**
 * The scraper for bench/scrape.ts, in its own process as Prometheus would be: GETs
 * the URL every `intervalMs` until stdin closes, then prints the latencies (ms) and
 * the last body's size as one JSON line. After the first (warm-up) scrape it prints
 * "ready", which is not counted.
 *   deno run --allow-net bench/scrape_client.ts <url> <intervalMs>
 */
const [url, intervalArg] = Deno.args;
const intervalMs = Number(intervalArg ?? "100");
const latencies: number[] = [];
let bytes = 0;
let failures = 0;
let stop = false;
let warmedUp = false;
const stdinClosed = (async () => {
  for await (const _ of Deno.stdin.readable) { /* the parent closes stdin to stop us */ }
  stop = true;
})();
while (!stop) {
  const started = performance.now();
  try {
    const response = await fetch(url);
    const body = await response.text();
    if (response.status !== 200) failures++;
    bytes = body.length;
  } catch {
    failures++;
  }
  if (warmedUp) latencies.push(performance.now() - started);
  else {
    warmedUp = true;
    console.log("ready");
  }
  await Promise.race([new Promise((resolve) => setTimeout(resolve, intervalMs)), stdinClosed]);
}
console.log(JSON.stringify({ latencies, bytes, failures }));
