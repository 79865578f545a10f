/**
 * Tries what the release permission set must forbid (and a few things it must allow)
 * and prints one JSON object: { check: "denied" | "allowed" | "error: …" }.
 * Usage: deno run <release permissions> deny_probe.ts <writable-looking tmp path>
 */
const [outsidePath] = Deno.args;
const results: Record<string, string> = {};

function attempt(name: string, fn: () => unknown): void {
  try {
    fn();
    results[name] = "allowed";
  } catch (err) {
    results[name] = err instanceof Deno.errors.NotCapable ? "denied" : `error: ${err}`;
  }
}

// An absolute path: with no PATH, a bare name would fail before the permission check.
attempt("run", () => new Deno.Command(Deno.execPath(), { args: ["--version"] }).outputSync());
attempt("write outside the log dir", () => Deno.writeTextFileSync(outsidePath, "x"));
attempt("env HOME", () => Deno.env.get("HOME"));
attempt("env PATH", () => Deno.env.get("PATH"));
attempt("env toObject", () => Deno.env.toObject());
// The value as the process received it (before "env set" below changes it).
results["value of TELEPORT_PLUGIN_FAIL_FAST"] = Deno.env.get("TELEPORT_PLUGIN_FAIL_FAST") ?? "(unset)";
attempt("env set", () => Deno.env.set("TELEPORT_PLUGIN_FAIL_FAST", "1"));
attempt("env TELEPORT_PLUGIN_FAIL_FAST", () => Deno.env.get("TELEPORT_PLUGIN_FAIL_FAST"));
attempt("env https_proxy", () => Deno.env.get("https_proxy"));
attempt("env HTTPS_PROXY", () => Deno.env.get("HTTPS_PROXY"));
attempt("env NO_COLOR", () => Deno.env.get("NO_COLOR"));
attempt("sys hostname", () => Deno.hostname());
attempt("sys osRelease", () => Deno.osRelease());
attempt("ffi", () => Deno.dlopen("libc.so.6", {}));
attempt("read", () => Deno.readTextFileSync("/etc/hostname"));

const query = (desc: Deno.PermissionDescriptor) => Deno.permissions.querySync(desc).state;
results["query write /var/log/teleport-pagerduty/plugin.log"] = query({
  name: "write",
  path: "/var/log/teleport-pagerduty/plugin.log",
});
results["query write /var/log/syslog"] = query({ name: "write", path: "/var/log/syslog" });
results["query net api.pagerduty.com:443"] = query({ name: "net", host: "api.pagerduty.com:443" });
results["query import"] = query({ name: "import", host: "deno.land" });

console.log(JSON.stringify(results));
