/**
 * No memory limit can kill the program that runs cell. A child cloned with the caller's
 * memory (CLONE_VM) that waits before its exec in a memory cgroup whose OOM killer picks
 * it takes down every process sharing that memory: the caller. Each case runs in a
 * process of its own (tests/support/memory_child.ts, or the CLI), so a regression shows
 * as that process's death (exit 137) instead of the test runner's.
 */

import assert from "node:assert/strict";
import { bundle, cell, stateRoot, uid } from "../support/cli.ts";
import { cgroupDirsOf, rootfs } from "../support/fixture.ts";

const CHILD = new URL("../support/memory_child.ts", import.meta.url).pathname;

interface ChildRun {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

async function child(mode: "init" | "exec", values: number[]): Promise<ChildRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, await rootfs(), mode, ...values.map(String)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const lines = text.decode(out.stdout).trim().split("\n").filter((l) => l !== "")
    .map((l) => JSON.parse(l));
  return { code: out.code, lines, stderr: text.decode(out.stderr) };
}

function assertSurvived(run: ChildRun, what: string): void {
  assert.equal(run.code, 0, `${what}: the caller died (exit ${run.code}): ${run.stderr}`);
  assert.deepEqual(run.lines.at(-1), { alive: true }, what);
}

Deno.test("a container's tiny memory limit never kills the library's process (init)", async () => {
  const run = await child("init", [4096, 65536, 1 << 20, 64 << 20]);
  assertSurvived(run, "init under tiny limits");
  assert.equal(run.lines.length, 5);
  // Whatever happens to the container's process is reported for it: an error, or its end.
  for (const line of run.lines.slice(0, 4)) assert.ok("result" in line, JSON.stringify(line));
  const roomy = run.lines[3] as { result: { status: { success: boolean } } };
  assert.equal(roomy.result.status.success, true, "64 MiB is plenty for `true`");
  for (const line of run.lines.slice(0, 4)) {
    assert.deepEqual(cgroupDirsOf(String(line.id)), [], `no cgroup of ${line.id} left`);
  }
});

Deno.test("execs into a container at its memory limit never kill the library's process", async () => {
  // The limit shrinks to what the container uses plus this slack, and each exec carries a
  // 100 KB argument, which the kernel charges to the cgroup while the exec copies it.
  const run = await child("exec", [4096, 16384]);
  assertSurvived(run, "execs at the limit");
  for (const line of run.lines.slice(0, 2)) {
    assert.equal((line.execs as unknown[]).length, 5, JSON.stringify(line));
    assert.deepEqual(cgroupDirsOf(String(line.id)), [], `no cgroup of ${line.id} left`);
  }
});

Deno.test("cli: run, create + start, run -d and exec under tiny memory limits exit with a code", async () => {
  const root = await stateRoot();
  const tiny = (args: string[]) =>
    bundle(args, (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 65536 } };
    });
  const killed = (r: { code: number; stderr: string }, what: string) =>
    assert.notEqual(r.code, 137, `${what}: the CLI was SIGKILLed: ${r.stderr}`);
  const once = await tiny(["true"]);
  killed(await cell(root, ["run", "--bundle", once, uid("mrun")]), "run");
  const id = uid("mcreate");
  killed(await cell(root, ["create", "--bundle", once, id], { detached: true }), "create");
  killed(await cell(root, ["start", id]), "start");
  killed(await cell(root, ["delete", "--force", id]), "delete");
  const sleeper = await bundle(["sleep", "60"], (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 4 << 20 } };
  });
  const d = uid("mrund");
  killed(await cell(root, ["run", "-d", "--bundle", sleeper, d], { detached: true }), "run -d");
  killed(await cell(root, ["update", "--memory", "600k", d]), "update");
  for (let n = 0; n < 3; n++) {
    killed(await cell(root, ["exec", d, "true", "x".repeat(100_000)]), "exec");
  }
  assert.equal((await cell(root, ["delete", "--force", d])).code, 0);
});
