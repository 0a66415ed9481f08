/**
 * The planner's pure pieces: strlists both ways, the fds a plan names and their renaming in
 * the encoded plan, and the cgroup roots a planner moves to.
 */

import assert from "node:assert/strict";
import { encodePlan, planFds } from "../../ffi/plan_encoder.ts";
import type { PlanOp } from "../../src/plan/ops.ts";
import { cgroupRoots } from "../../src/planner/leave_cgroups.ts";
import { decodeStrLists, encodeStrLists } from "../../src/planner/protocol.ts";

Deno.test("planner protocol: strlists round-trip, and a short body is refused", () => {
  const lists = [["cell-planner/1", "abc", "/work dir"], [], ["é", ""]];
  const body = encodeStrLists(...lists);
  assert.deepEqual(decodeStrLists(body, 3), lists);
  assert.throws(() => decodeStrLists(body.subarray(0, body.length - 1), 3), /truncated/);
});

Deno.test("planner protocol: a plan's fds are listed once and renamed, -1 kept", () => {
  const plan: PlanOp[] = [
    { op: "stdio", fds: [5, -1, 5], what: "stdio" },
    { op: "fds", fds: [7, 8], what: "fds" },
    { op: "awaitFd", fd: 9, what: "await" },
    { op: "args", args: ["true"], what: "args" },
  ] as PlanOp[];
  assert.deepEqual(planFds(plan), [5, 7, 8, 9]);
  const renamed = encodePlan(plan, (fd) => fd + 100);
  const plain = encodePlan(plan);
  assert.equal(renamed.length, plain.length);
  const fdsAt = (bytes: Uint8Array) => {
    const v = new DataView(bytes.buffer);
    const out: number[] = [];
    for (let at = 16; at + 4 <= bytes.length; at += 4) out.push(v.getInt32(at, true));
    return out;
  };
  // Every word that differs is an fd, moved by exactly 100; -1 stayed.
  const a = fdsAt(plain);
  const b = fdsAt(renamed);
  const moved = a.flatMap((x, i) => (x !== b[i] ? [[x, b[i]]] : []));
  assert.deepEqual(moved, [[5, 105], [5, 105], [7, 107], [8, 108], [9, 109]]);
  assert.throws(() =>
    encodePlan(plan, () => {
      throw new Error("not sent");
    }), /not sent/);
});

Deno.test("planner: the cgroup roots are the hierarchies mounted at their own root", () => {
  const mountinfo = [
    "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw",
    "31 25 0:27 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids",
    "40 31 0:27 /sub /mnt/bound rw - cgroup cgroup rw,pids",
    "41 25 0:40 / /tmp rw - tmpfs tmpfs rw",
    "42 25 0:28 / /mnt/with\\040space rw - cgroup cgroup rw,memory",
  ].join("\n");
  assert.deepEqual(cgroupRoots(mountinfo), [
    "/sys/fs/cgroup/unified",
    "/sys/fs/cgroup/pids",
    "/mnt/with space",
  ]);
});
