/**
 * The container image (Dockerfile, scripts/container.sh), built and run under podman the way
 * upstream's image is run: `version`, then the default command (`start --config
 * /etc/teleport-pagerduty.toml`) with the config mounted there and the credentials under
 * /var/lib/teleport/plugins/pagerduty, against the doubles in this process.
 *
 * No registry is reachable, so both bases are root filesystems made here from this host's own
 * files and imported into a podman storage of the test's own (removed afterwards): a builder
 * with the tools the Dockerfile's build stage and `install` use, and a runtime base with only
 * what the executable needs (for the launcher: /bin/sh, env, and the libraries of the shipped
 * deno; for the compiled binary: its libraries). That the plugin works on that base is the
 * proof of the "minimal base" claim in the README. Skips, saying so, where podman is missing
 * (CI: only node/npm).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { startWorld } from "../../src/doubles/world.ts";
import { assertIncidentFlow, buildRelease, DENO, editConfig, ROOT, run, spawnProcess } from "./helpers.ts";

const NAME = "teleport-pagerduty";
// This podman needs runc and explicit ulimits (the default crun and ulimit handling fail here).
const RUN_OPTIONS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

async function missing(tool: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${tool}`])).code !== 0;
}

/** The shared libraries (and the dynamic loader) `binary` loads, as ldd names them. */
async function libraries(binary: string): Promise<string[]> {
  const res = await run("ldd", [binary]);
  if (res.code !== 0) return []; // a static binary
  return [...res.stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
}

/**
 * A root filesystem tarball holding `programs` (looked up on this host's PATH) and every
 * library they load, at the host's paths (with the usr-merge links), plus `extra` files.
 */
async function hostRootfs(dir: string, programs: string[], extra: string[] = []): Promise<string> {
  const root = join(dir, "rootfs");
  for (const link of ["bin", "lib", "lib64", "sbin"]) {
    await Deno.mkdir(join(root, "usr", link), { recursive: true });
    await Deno.symlink(`usr/${link}`, join(root, link));
  }
  await Deno.mkdir(join(root, "etc"));
  await Deno.writeTextFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await Deno.writeTextFile(join(root, "etc/group"), "root:x:0:\n");
  const files = new Set<string>(extra);
  for (const program of programs) {
    const which = await run("sh", ["-c", `command -v ${program}`]);
    assert.equal(which.code, 0, `${program} not found on this host`);
    files.add(which.stdout.trim());
  }
  for (const file of [...files]) for (const lib of await libraries(file)) files.add(lib);
  for (const file of files) {
    const target = join(root, file);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    await Deno.copyFile(await Deno.realPath(file), target);
  }
  const tarball = join(dir, "rootfs.tar");
  const res = await run("tar", [
    "-C",
    root,
    "--numeric-owner",
    "--owner=0",
    "--group=0",
    "-cf",
    tarball,
    ".",
  ]);
  assert.equal(res.code, 0, res.stderr);
  await Deno.remove(root, { recursive: true });
  return tarball;
}

Deno.test("the container image builds from the release and runs `version` and the incident flow under podman", async (t) => {
  const absent = [];
  for (const tool of ["podman", "runc", "ldd"]) if (await missing(tool)) absent.push(tool);
  if (absent.length > 0) {
    console.log(
      `SKIPPED: ${absent.join(" and ")} not installed (apt-get install -y podman runc); ` +
        "the container image was not built",
    );
    return;
  }
  const started = Date.now();
  const tmp = await Deno.makeTempDir({ prefix: "tp-container-" });
  const storage = join(tmp, "storage");
  const podman = ["podman", "--root", join(storage, "root"), "--runroot", join(storage, "run")];
  const pod = (args: string[]) => run(podman[0], [...podman.slice(1), ...args]);
  const release = await buildRelease();
  const container = `tp-test-${crypto.randomUUID().slice(0, 8)}`;
  const image = "localhost/teleport-plugin-pagerduty:test";
  try {
    assert.equal(release.result.code, 0, release.result.stderr);
    const flavour = release.result.stderr.match(/^release: executable: .* \((\w+) flavour: /m)?.[1];

    await t.step("base images from local root filesystems (this host's files)", async () => {
      // What the shipped executable loads (the launcher's deno, or the compiled binary).
      const shipped = join(release.dist, NAME, flavour === "launcher" ? `lib/${NAME}/deno` : NAME);
      const needs = await libraries(shipped);
      // The runtime base: /bin/sh, env and those libraries, nothing else.
      const runtime = await hostRootfs(join(tmp, "runtime"), ["sh", "env"], needs);
      // The builder: the tools of the build stage and of `install`, and the same libraries
      // (the stage runs `version` as a smoke test).
      const builder = await hostRootfs(join(tmp, "builder"), [
        ...["sh", "env", "sha256sum", "tar", "gzip", "id", "dirname", "stat", "mkdir", "chmod", "cp", "mv"],
        ...["rm", "rmdir", "cmp", "cat"],
      ], needs);
      for (const [tarball, name] of [[builder, "builder"], [runtime, "runtime"]]) {
        const imported = await pod(["import", "--quiet", tarball, `localhost/tp-test-base:${name}`]);
        assert.equal(imported.code, 0, imported.stderr);
        await Deno.remove(tarball);
      }
    });

    await t.step("scripts/container.sh builds the image from the release tarball", async () => {
      const built = await run("bash", [join(ROOT, "scripts/container.sh"), ...RUN_OPTIONS], {
        env: {
          ENGINE: podman.join(" "),
          DENO,
          IMAGE: image,
          BASE: "localhost/tp-test-base:runtime",
          BUILDER_BASE: "localhost/tp-test-base:builder",
          DIST_DIR: release.dist,
          SKIP_RELEASE: "1",
        },
      });
      assert.equal(built.code, 0, built.stderr);
      const config = await pod(["image", "inspect", "--format", "{{json .Config}}", image]);
      assert.equal(config.code, 0, config.stderr);
      const { User, Entrypoint, Cmd } = JSON.parse(config.stdout);
      assert.equal(User, "65532:65532");
      assert.deepEqual(Entrypoint, [`/usr/local/bin/${NAME}`]);
      assert.deepEqual(Cmd, ["start", "--config", `/etc/${NAME}.toml`]);
    });

    await t.step("`version` says the flavour; the process is not root", async () => {
      const version = await pod(["run", "--rm", ...RUN_OPTIONS, image, "version"]);
      assert.equal(version.code, 0, version.stderr);
      assert.match(
        version.stdout,
        new RegExp(`^${NAME} v[\\d.]+ git:\\S+ deno [\\d.]+ \\(${flavour}\\)\\n$`),
      );
      const uid = await pod([
        ...["run", "--rm", ...RUN_OPTIONS, "--entrypoint", "/bin/sh", image, "-c"],
        'while read -r key value rest; do [ "$key" = Uid: ] && echo "$value"; done </proc/self/status',
      ]);
      assert.equal(uid.stdout.trim(), "65532", uid.stderr);
    });

    await t.step("the default command with the config mounted at /etc serves the incident flow", async () => {
      const world = await startWorld();
      // The credentials directory as the chart mounts it; readable by the image's user.
      const creds = join(tmp, "creds");
      await Deno.mkdir(creds, { mode: 0o755 });
      await Deno.chmod(creds, 0o755);
      const inside = "/var/lib/teleport/plugins/pagerduty";
      for (const [key, path] of Object.entries(world.credentials)) {
        await Deno.copyFile(path as string, join(creds, key));
        await Deno.chmod(join(creds, key), 0o644);
      }
      await Deno.writeTextFile(join(creds, "pagerduty_api_key"), world.pagerduty.apiKey + "\n", {
        mode: 0o644,
      });
      await Deno.chmod(join(creds, "pagerduty_api_key"), 0o644);
      const config = join(tmp, `${NAME}.toml`);
      await Deno.writeTextFile(
        config,
        editConfig(EXAMPLE_CONFIG, {
          addr: world.teleport.addr,
          client_key: `${inside}/clientKey`,
          client_crt: `${inside}/clientCrt`,
          root_cas: `${inside}/rootCas`,
          api_key: `${inside}/pagerduty_api_key`,
          user_email: "bot@example.com",
          api_endpoint: world.pagerduty.url,
        }),
      );
      await Deno.chmod(config, 0o644);
      const plugin = spawnProcess(podman[0], [
        ...podman.slice(1),
        "run",
        "--rm",
        "--name",
        container,
        "--network",
        "host", // the doubles listen on this host's loopback
        ...RUN_OPTIONS,
        "-v",
        `${config}:/etc/${NAME}.toml:ro`,
        "-v",
        `${creds}:${inside}:ro`,
        image,
      ], { cwd: tmp, env: Deno.env.toObject() });
      try {
        await assertIncidentFlow(world, plugin, "container test");
      } finally {
        await pod(["rm", "--force", "--time", "0", container]);
        await plugin.kill();
        await world[Symbol.asyncDispose]();
      }
    });
  } finally {
    await pod(["rm", "--all", "--force", "--time", "0"]);
    await pod(["system", "reset", "--force"]);
    await Deno.remove(tmp, { recursive: true });
    await release.cleanup();
    console.log(`container test wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
});
