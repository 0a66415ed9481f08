/**
 * cgroup v2 (the qemu guest): the init is cloned straight into its cgroup, where nothing
 * holds the OOM killer, so a tiny memory limit must not reach the caller through a child
 * sharing its memory. Each case runs in a process of its own (tests/support/memory_child.ts).
 */

import assert from "node:assert/strict";
import { rootfs } from "../support/fixture.ts";

const CHILD = new URL("../support/memory_child.ts", import.meta.url).pathname;

async function child(mode: "init" | "exec", values: number[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", CHILD, await rootfs(), mode, ...values.map(String)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const lines = text.decode(out.stdout).trim().split("\n").filter((l) => l !== "");
  return { code: out.code, last: lines.at(-1), stderr: text.decode(out.stderr) };
}

Deno.test("v2: tiny memory limits never kill the caller, for the init or for execs", async () => {
  const init = await child("init", [4096, 65536, 1 << 20]);
  assert.equal(init.code, 0, `the caller died (exit ${init.code}): ${init.stderr}`);
  assert.equal(init.last, JSON.stringify({ alive: true }));
  const exec = await child("exec", [4096, 16384]);
  assert.equal(exec.code, 0, `the caller died (exit ${exec.code}): ${exec.stderr}`);
  assert.equal(exec.last, JSON.stringify({ alive: true }));
});
