/**
 * The container's RLIMIT_NOFILE never breaks the runtime's own fd work: a caller holding
 * more fds than the limit (2000 against runc spec's 1024) still starts containers, the
 * init and execs, through the library and the CLI (`--preserve-fds` too).
 */

import assert from "node:assert/strict";
import { bundle, cellArgv, stateRoot, uid } from "../support/cli.ts";
import { busyboxConfig, runIn, testFactory, uniqueId } from "../support/fixture.ts";

const HELD = 2000;

function nofile(): number {
  const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
    .find((l) => l.startsWith("Max open files")) ?? "";
  return Number(line.slice(26).trim().split(/\s+/)[0]);
}

Deno.test("a caller holding 2000 fds starts an init and execs with RLIMIT_NOFILE 1024", async () => {
  assert.ok(nofile() > HELD + 100, `this process may hold only ${nofile()} fds`);
  const held: Deno.FsFile[] = [];
  for (let i = 0; i < HELD; i++) held.push(Deno.openSync("/dev/null"));
  const factory = await testFactory();
  const box = await factory.create(
    uniqueId("fds"),
    await busyboxConfig(["sleep", "30"], (s) => {
      s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }];
    }),
  );
  try {
    await box.start({ stdin: "null" });
    const out = await runIn(box, { args: ["sh", "-c", "ulimit -n; ls /proc/self/fd | wc -l"] });
    assert.equal(out.code, 0, out.stderr);
    // The limit is the container's, and none of our 2000 fds came along (0-2 and ls's own).
    assert.deepEqual(out.stdout.trim().split(/\s+/), ["1024", "4"]);
  } finally {
    for (const f of held) f.close();
    await box.destroy();
  }
});

Deno.test("cli: run and exec (with --preserve-fds) from a caller holding 2000 fds", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "30"], (s) => {
    s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }];
  });
  const id = uid("fdscli");
  // python3 opens 2000 inheritable fds (3 .. 2002), then becomes the CLI.
  const withFds = (args: string[], output: "piped" | "null" = "piped") =>
    new Deno.Command("python3", {
      args: [
        "-c",
        `import os, sys
for _ in range(${HELD}):
    os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
os.execvp(sys.argv[1], sys.argv[1:])`,
        ...cellArgv(root),
        ...args,
      ],
      stdout: output,
      stderr: output,
    }).output();
  const text = new TextDecoder();
  // The detached init keeps the stdio it is given: pipes here would stay open 30 s.
  const run = await withFds(["run", "-d", "--bundle", dir, id], "null");
  assert.equal(run.code, 0, "run -d");
  const exec = await withFds([
    "exec",
    "--preserve-fds",
    "2",
    id,
    "sh",
    "-c",
    "ulimit -n; ls /proc/self/fd | wc -l",
  ]);
  assert.equal(exec.code, 0, text.decode(exec.stderr));
  // stdio, the two preserved fds (3 and 4), and ls's own.
  assert.deepEqual(text.decode(exec.stdout).trim().split(/\s+/), ["1024", "6"]);
  const del = await withFds(["delete", "--force", id]);
  assert.equal(del.code, 0, text.decode(del.stderr));
});
