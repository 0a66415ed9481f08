/**
 * Smoke test of the cgroup v2 guest (`deno task test:vm`): the guest is a pure cgroup v2
 * system with the controllers delegated, and cell runs a busybox container in it.
 *
 * Runs only in the guest: on a host where /sys/fs/cgroup is not cgroup2 every test fails
 * and says so (tools/test.ts leaves tests/v2/ out of the host run).
 */

import assert from "node:assert/strict";
import { createFactory, defaultConfig } from "../../mod.ts";
import { busyboxRootfs } from "../support/rootfs.ts";
import { cgroupDirsOf, runIn, uniqueId } from "../support/fixture.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";
const CONTROLLERS = ["cpu", "cpuset", "io", "memory", "pids"];

/** Mount points and filesystem types, from /proc/self/mountinfo. */
function mounts(): Array<{ target: string; type: string }> {
  return Deno.readTextFileSync("/proc/self/mountinfo").trim().split("\n").map((line) => {
    const [left, right] = line.split(" - ");
    return { target: left.split(" ")[4], type: right.split(" ")[0] };
  });
}

/** Throws, saying where these tests belong, unless /sys/fs/cgroup is cgroup2. */
function requireUnified(): void {
  const type = mounts().findLast((m) => m.target === CGROUP_ROOT)?.type ?? "not mounted";
  assert.equal(
    type,
    "cgroup2",
    `${CGROUP_ROOT} is ${type}, not cgroup2: tests/v2/ runs in the cgroup v2 VM ` +
      "(deno task test:vm), not on this host",
  );
}

function words(path: string): string[] {
  return Deno.readTextFileSync(path).trim().split(/\s+/).filter((w) => w !== "");
}

Deno.test("the guest is pure cgroup v2 with cpu, cpuset, io, memory and pids delegated", () => {
  requireUnified();
  const v1 = mounts().filter((m) => m.type === "cgroup");
  assert.deepEqual(v1, [], "no cgroup v1 hierarchy is mounted");
  const enabled = words(`${CGROUP_ROOT}/cgroup.subtree_control`);
  for (const c of CONTROLLERS) {
    assert.ok(enabled.includes(c), `${c} in the root's cgroup.subtree_control (${enabled})`);
  }
});

Deno.test("a child cgroup can be made, given a process and removed", async () => {
  requireUnified();
  const dir = `${CGROUP_ROOT}/${uniqueId("vm-smoke")}`;
  Deno.mkdirSync(dir);
  const child = new Deno.Command("sleep", { args: ["60"], stdin: "null" }).spawn();
  try {
    for (const c of CONTROLLERS) {
      assert.ok(words(`${dir}/cgroup.controllers`).includes(c), `${c} offered to ${dir}`);
    }
    Deno.writeTextFileSync(`${dir}/cgroup.procs`, String(child.pid));
    assert.deepEqual(words(`${dir}/cgroup.procs`), [String(child.pid)]);
    const own = Deno.readTextFileSync(`/proc/${child.pid}/cgroup`);
    assert.equal(own, `0::${dir.slice(CGROUP_ROOT.length)}\n`);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.deepEqual(words(`${dir}/cgroup.procs`), []);
  Deno.removeSync(dir);
  assert.deepEqual(cgroupDirsOf(dir.slice(CGROUP_ROOT.length + 1)), []);
});

/** Creates a container running `args` on a private state root; destroys it after `check`. */
async function withContainer(
  args: string[],
  check: (out: Awaited<ReturnType<typeof runIn>>, id: string) => void,
): Promise<string> {
  const state = await Deno.makeTempDir({ prefix: "cell-vm-state-" });
  const rootfs = await busyboxRootfs("/tmp/cell-test-rootfs");
  const factory = createFactory({ root: state });
  const id = uniqueId("vm");
  const container = await factory.create(id, defaultConfig({ rootfs, args }));
  try {
    check(await runIn(container), id);
  } finally {
    await container.destroy();
    await Deno.remove(state, { recursive: true });
  }
  return id;
}

Deno.test("cell runs a busybox container in its own cgroup and cgroup namespace", async () => {
  requireUnified();
  const id = await withContainer(["cat", "/proc/self/cgroup"], (out, id) => {
    assert.equal(out.code, 0, `the container failed: ${out.stderr}`);
    assert.equal(out.stdout, "0::/\n", "the container sees its own cgroup as the root");
    assert.deepEqual(cgroupDirsOf(id), [`${CGROUP_ROOT}/cell/${id}`]);
  });
  assert.deepEqual(cgroupDirsOf(id), [], `the cgroup of ${id} is gone after destroy`);
});

Deno.test("a container's cgroup is offered cpu, cpuset, io, memory and pids", async () => {
  requireUnified();
  await withContainer(["cat", "/sys/fs/cgroup/cgroup.controllers"], (out) => {
    assert.equal(out.code, 0, `the container failed: ${out.stderr}`);
    const offered = out.stdout.trim().split(" ").filter((w) => w !== "");
    for (const c of CONTROLLERS) {
      assert.ok(offered.includes(c), `${c} offered to the container (it has: ${offered})`);
    }
  });
});
