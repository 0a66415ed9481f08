/**
 * `deno task test:unit` needs no root: the unit tests run here as the unprivileged user
 * nobody, on a copy of the repository that user can read, with a Deno cache of its own.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NOBODY = 65534;

/** Copies the tracked files (and the unit tests' own) to a fresh dir anyone can read. */
async function readableCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cell-unit-" });
  Deno.chmodSync(dir, 0o755);
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(listed.success, `git ls-files: ${new TextDecoder().decode(listed.stderr)}`);
  const files = new TextDecoder().decode(listed.stdout).split("\n").filter((f) =>
    f !== "" && !f.startsWith("zig-src/")
  );
  for (const file of files) {
    const target = `${dir}/repo/${file}`;
    Deno.mkdirSync(target.slice(0, target.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    try {
      Deno.copyFileSync(`${ROOT}/${file}`, target);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted in the work tree
    }
  }
  await new Deno.Command("chmod", { args: ["-R", "a+rX", dir] }).output();
  Deno.mkdirSync(`${dir}/home`, { mode: 0o700 });
  Deno.chownSync(`${dir}/home`, NOBODY, NOBODY);
  return dir;
}

Deno.test("deno task test:unit passes as an unprivileged user", async () => {
  const dir = await readableCopy();
  try {
    const out = await new Deno.Command("setpriv", {
      args: [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        Deno.execPath(),
        "task",
        "test:unit",
      ],
      cwd: `${dir}/repo`,
      env: {
        HOME: `${dir}/home`,
        DENO_DIR: `${dir}/home/deno`,
        NO_COLOR: "1",
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `test:unit as nobody failed:\n${text.slice(-6000)}`);
    assert.match(text, /ok \| \d+ passed( \(\d+ steps\))? \| 0 failed/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
