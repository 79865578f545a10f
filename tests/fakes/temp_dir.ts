/**
 * A temporary directory that is removed with everything in it when disposed, so a test cleans up
 * even when it fails: `await using dir = await tempDir("logs-"); join(dir.path, "x.log")`.
 */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** Creates a directory under the system temp directory; disposing it removes it recursively. */
export async function tempDir(prefix = "teleport-pagerduty-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** A directory shared by the tests of one file, removed after the last of them (also when some fail). */
export async function tempDirForFile(prefix = "teleport-pagerduty-test-"): Promise<string> {
  const dir = await tempDir(prefix);
  Deno.test.afterAll(async () => await dir[Symbol.asyncDispose]());
  return dir.path;
}
