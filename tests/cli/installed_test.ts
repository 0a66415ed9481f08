/**
 * The installed `cell` answers as `deno run cli.ts` does, with the empty environment engines
 * give it: version, spec, a container's output and exit code, errors and their codes. On the
 * in-process path that is `lib/cell/cell-deno` (a shell script running the bundled CLI with a
 * warm code cache), on the door path `bin/cell`, the front door (tests/support/cli.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bundle,
  cell,
  emptyDir,
  installedCell,
  installPrefix,
  stateRoot,
  uid,
} from "../support/cli.ts";

/** Installs into a fresh prefix (removed when the test ends) and returns the script. */
async function install(): Promise<{ script: string; prefix: string }> {
  const prefix = await installPrefix();
  return { script: installedCell(prefix), prefix };
}

/** Runs the installed script with no environment at all, bounded by a timeout. */
async function installed(script: string, root: string, args: string[]) {
  const out = await new Deno.Command(script, {
    args: ["--root", root, ...args],
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("installed cell: a script running one bundled file, answering as cli.ts does with no environment", async (t) => {
  const { script, prefix } = await install();
  const root = await stateRoot();

  await t.step("the in-process script runs the bundle, not cli.ts", () => {
    const text = Deno.readTextFileSync(join(prefix, "lib/cell/cell-deno"));
    const bundled = join(prefix, "lib/cell/cell.js");
    assert.ok(text.includes(bundled), `the script names ${bundled}:\n${text}`);
    assert.ok(!text.includes("cli.ts"), `the script runs no cli.ts:\n${text}`);
    assert.ok(Deno.statSync(bundled).size > 0);
  });

  await t.step("--version: the same version and spec lines, and the commit", async () => {
    const a = await installed(script, root, ["--version"]);
    const b = await cell(root, ["--version"]);
    assert.equal(a.code, 0, a.stderr);
    const lines = a.stdout.split("\n");
    const source = b.stdout.split("\n");
    assert.equal(lines[0], source[0]);
    assert.equal(lines[2], source[2]);
    assert.match(lines[1], /^commit: \S+$/);
    assert.notEqual(lines[1], "commit: unknown", "install writes the checkout's commit");
  });

  await t.step("spec: the same config.json", async () => {
    const [a, b] = [await emptyDir(), await emptyDir()];
    assert.equal((await installed(script, root, ["spec", "--bundle", a])).code, 0);
    assert.equal((await cell(root, ["spec", "--bundle", b])).code, 0);
    assert.equal(
      Deno.readTextFileSync(`${a}/config.json`),
      Deno.readTextFileSync(`${b}/config.json`),
    );
  });

  await t.step("run: the container's output and exit code, then nothing left", async () => {
    const dir = await bundle(["sh", "-c", "echo out; echo err >&2; exit 7"], (s) => {
      s.process!.terminal = false;
    });
    const a = await installed(script, root, ["run", "--bundle", dir, uid("inst-a")]);
    const b = await cell(root, ["run", "--bundle", dir, uid("inst-b")]);
    assert.equal(a.code, 7, a.stderr);
    assert.equal(b.code, 7, b.stderr);
    assert.equal(a.stdout, "out\n");
    assert.equal(a.stdout, b.stdout);
    assert.equal(a.stderr, b.stderr);
    const list = await installed(script, root, ["list", "-q"]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, "", "run removed its container");
  });

  await t.step("errors: the same message and code", async () => {
    const a = await installed(script, root, ["state", uid("missing")]);
    const b = await cell(root, ["state", uid("missing")]);
    assert.equal(a.code, 1);
    assert.equal(a.code, b.code);
    // runc's log line: the same but for its time.
    const untimed = (s: string) => s.replace(/^time="[^"]*" /gm, "");
    assert.match(a.stderr, /does not exist/);
    assert.equal(untimed(a.stderr), untimed(b.stderr));
    const usage = await installed(script, root, ["run"]);
    assert.equal(usage.code, (await cell(root, ["run"])).code);
    assert.notEqual(usage.code, 0);
  });
});
