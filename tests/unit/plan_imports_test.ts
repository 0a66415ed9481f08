/**
 * Planning reaches no native code: the planners' module graphs (`deno info --json`) hold
 * no module of ffi/ and not src/syscalls.ts, mount planning does not import the process
 * planner, and the plan encoder needs only the ABI's tables and the op types.
 */

import assert from "node:assert/strict";
import { moduleGraph, relative } from "../support/module_graph.ts";

async function reached(entry: string): Promise<string[]> {
  const modules = await moduleGraph(entry);
  return modules.map((m) => relative(m.specifier)).filter((path) => !path.includes(":"));
}

Deno.test("the planners reach neither ffi/ nor src/syscalls.ts", async () => {
  for (const entry of ["src/process/plan.ts", "src/rootfs/plan.ts"]) {
    const native = (await reached(entry)).filter((path) =>
      path.startsWith("ffi/") || path === "src/syscalls.ts"
    );
    assert.deepEqual(native, [], `${entry} reaches native code`);
  }
});

Deno.test("mount planning does not import the process planner", async () => {
  const modules = await reached("src/rootfs/plan.ts");
  assert.ok(modules.includes("src/plan/ops.ts"), modules.join(" "));
  assert.deepEqual(modules.filter((path) => path.startsWith("src/process/")), []);
});

Deno.test("the plan encoder needs only the ABI's tables and the op types", async () => {
  const modules = await reached("ffi/plan_encoder.ts");
  assert.deepEqual(modules.sort(), ["ffi/abi.ts", "ffi/plan_encoder.ts", "src/plan/ops.ts"]);
});
