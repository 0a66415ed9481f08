/**
 * Where a child sharing the caller's memory may wait before its exec (v1 and hybrid hosts),
 * without root: a fake cgroup tree in a temp dir holds only what the decision reads (the
 * limits above the container, the controllers of the hybrid host's cgroup2 root).
 */

import assert from "node:assert/strict";
import type { Resources } from "../../mod.ts";
import { restoreCgroupManager } from "../../src/cgroups/mod.ts";
import { withTempDir } from "../support/fixture.ts";

const LIMITED: Resources = { memory: { limit: 64 * 1024 * 1024 } };
const UNLIMITED = "9223372036854771712";

/** A v1 memory hierarchy at `root/memory` (the parent's limit given) and a cgroup2 root. */
function hybrid(root: string, parentLimit: string, unifiedControllers: string, v1Memory = true) {
  const paths: Record<string, string> = { unified: `${root}/unified/cell/c` };
  const roots: Record<string, string> = { unified: `${root}/unified` };
  Deno.mkdirSync(`${root}/unified`, { recursive: true });
  Deno.writeTextFileSync(`${root}/unified/cgroup.controllers`, unifiedControllers);
  if (v1Memory) {
    Deno.mkdirSync(`${root}/memory/cell`, { recursive: true });
    Deno.writeTextFileSync(`${root}/memory/cell/memory.limit_in_bytes`, parentLimit);
    paths.memory = `${root}/memory/cell/c`;
    roots.memory = `${root}/memory`;
  }
  return { mode: "v1" as const, paths, roots, created: [] };
}

Deno.test("v1 memory: a limit of its own is guarded, a limited parent or a join into one forks", () => {
  withTempDir("cell-pre-exec-", (root) => {
    const free = hybrid(root, UNLIMITED, "hugetlb");
    assert.equal(restoreCgroupManager(free, LIMITED).preExecMemory({ join: false }), "guarded");
    assert.equal(restoreCgroupManager(free, {}).preExecMemory({ join: false }), "shared");
    assert.equal(restoreCgroupManager(free, LIMITED).preExecMemory({ join: true }), "shared");
    Deno.writeTextFileSync(`${root}/memory/cell/memory.limit_in_bytes`, String(1 << 30));
    assert.equal(restoreCgroupManager(free, {}).preExecMemory({ join: false }), "own");
  });
});

Deno.test("hybrid host with memory on the cgroup2 side: a limited child is forked", () => {
  withTempDir("cell-pre-exec-", (root) => {
    const state = hybrid(root, UNLIMITED, "memory hugetlb", false);
    assert.equal(restoreCgroupManager(state, LIMITED).preExecMemory({ join: false }), "own");
    assert.equal(restoreCgroupManager(state, {}).preExecMemory({ join: true }), "own");
    assert.equal(restoreCgroupManager(state, {}).preExecMemory({ join: false }), "shared");
    const noMemory = hybrid(root, UNLIMITED, "hugetlb", false);
    assert.equal(restoreCgroupManager(noMemory, LIMITED).preExecMemory({ join: false }), "shared");
  });
});
