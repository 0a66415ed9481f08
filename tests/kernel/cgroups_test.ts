/**
 * The cgroup backends on the real kernel. v1 is this host's mode; v2 is exercised on
 * the host's (empty) unified hierarchy, which takes processes like any cgroup2.
 */

import assert from "node:assert/strict";
import { hybridUnifiedRoot } from "../../src/cgroups/hybrid.ts";
import { v1Hierarchies, V1Manager } from "../../src/cgroups/v1.ts";
import { V2Manager } from "../../src/cgroups/v2.ts";
import { restoreCgroupManager } from "../../src/cgroups/mod.ts";
import type { CgroupManager } from "../../src/cgroups/manager.ts";
import { cgroupDirsOf, uniqueId } from "../support/fixture.ts";

function unifiedMount(): string {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.startsWith("cgroup2 ")) return left.split(" ")[4];
  }
  throw new Error("no cgroup2 mount on this host: mount one (mount -t cgroup2 none DIR)");
}

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["60"] }).spawn();
}

async function placeAndKill(cg: CgroupManager, id: string): Promise<void> {
  cg.create();
  assert.ok(cgroupDirsOf(id).length > 0);
  const child = sleeper();
  try {
    for (const file of cg.procsFiles()) Deno.writeTextFileSync(file, String(child.pid));
    assert.deepEqual(cg.pids(), [child.pid]);
    // another process restores the manager from its saved state and kills
    const again = restoreCgroupManager(JSON.parse(JSON.stringify(cg.state())));
    await again.killAll();
    assert.equal((await child.status).signal, "SIGKILL");
    assert.deepEqual(cg.pids(), []);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already dead */ }
    await cg.remove();
  }
  assert.deepEqual(cgroupDirsOf(id), []);
}

Deno.test("v1: a directory in every hierarchy, placement, freeze-kill-thaw, removal", async () => {
  const id = uniqueId("cg1");
  const cg = new V1Manager({ path: `/cell/${id}` });
  const dirs = Object.values(cg.state().paths);
  // One per v1 hierarchy, and on a hybrid host one in the unified hierarchy too.
  const unified = hybridUnifiedRoot();
  assert.equal(dirs.length, v1Hierarchies().length + (unified === undefined ? 0 : 1));
  if (unified !== undefined) assert.equal(cg.state().paths.unified, `${unified}/cell/${id}`);
  await placeAndKill(cg, id);
});

Deno.test("v1: device rules are written, deny-all first", async () => {
  const id = uniqueId("cg1d");
  const cg = new V1Manager({
    path: `/cell/${id}`,
    resources: { devices: [{ allow: false, access: "rwm" }] },
  });
  cg.create();
  try {
    const dir = Object.entries(cg.state().paths).find(([k]) => k === "devices")?.[1];
    assert.ok(dir, "a devices hierarchy is mounted");
    const list = Deno.readTextFileSync(`${dir}/devices.list`).trim().split("\n");
    assert.ok(list.includes("c 1:3 rwm"), "null is allowed");
    assert.ok(!list.includes("a *:* rwm"), "everything else is denied");
  } finally {
    await cg.remove();
  }
});

Deno.test("v2: create, place, cgroup.kill, remove on a real cgroup2 hierarchy", async () => {
  const id = uniqueId("cg2");
  const cg = new V2Manager({ path: `/cell/${id}`, root: unifiedMount() });
  await placeAndKill(cg, id);
});

Deno.test("v2: clone3 puts the process in its cgroup from its first instruction", async () => {
  const { encodePlan, spawn } = await import("../../src/syscalls.ts");
  const { planInit, resolveProcess } = await import("../../src/process/plan.ts");
  const { gatherHostFacts } = await import("../../src/container/gather_host_facts.ts");
  const { watchExit } = await import("../../src/process/waiter.ts");
  const { prepareStdio } = await import("../../src/process/stdio.ts");
  const { validateConfig, defaultConfig } = await import("../../mod.ts");
  const { rootfs } = await import("../support/fixture.ts");
  const id = uniqueId("into");
  const root = unifiedMount();
  const cg = new V2Manager({ path: `/cell/${id}`, root });
  cg.create();
  try {
    const spec = validateConfig(defaultConfig({ rootfs: await rootfs(), args: ["true"] }));
    // No cgroup namespace, so /proc/self/cgroup shows the path on the host; no
    // cgroup.procs write either: only the clone can have put it there.
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== "cgroup");
    const stdio = prepareStdio(["null", "piped", "inherit"]);
    const plan = planInit(spec, {
      process: resolveProcess(spec, { args: ["grep", "^0::", "/proc/self/cgroup"] }),
      stdio: stdio.childFds,
      extraFds: [],
      cloneIntoCgroup: cg.dir,
      cgroupProcs: [],
      cgroupPaths: cg.state().paths,
      cgroupMode: "v1",
    }, gatherHostFacts(spec, { init: {} }));
    const result = await spawn(encodePlan(plan));
    stdio.release(false);
    assert.equal(result.failure, undefined, JSON.stringify(result.failure));
    const out = await new Response(stdio.files[1]!.readable).text();
    await watchExit(result.pidfd);
    const { close } = await import("../../src/syscalls.ts");
    close(result.pidfd);
    assert.equal(out, `0::${cg.dir.slice(root.length)}\n`);
  } finally {
    await cg.remove();
  }
});

Deno.test("a spawn that fails before the clone leaks no fd", async () => {
  const { encodePlan, spawn, close } = await import("../../src/syscalls.ts");
  const { planInit, resolveProcess } = await import("../../src/process/plan.ts");
  const { gatherHostFacts } = await import("../../src/container/gather_host_facts.ts");
  const { validateConfig, defaultConfig } = await import("../../mod.ts");
  const { rootfs, openFds } = await import("../support/fixture.ts");
  const spec = validateConfig(defaultConfig({ rootfs: await rootfs(), args: ["true"] }));
  const ops = planInit(spec, {
    process: resolveProcess(spec, {}),
    stdio: [-1, -1, -1],
    extraFds: [],
    cloneIntoCgroup: "/sys/fs/cgroup/unified/cell-no-such-cgroup",
    cgroupProcs: [],
    cgroupPaths: {},
    cgroupMode: "v1",
  }, gatherHostFacts(spec, { init: {} }));
  const plan = encodePlan(ops);
  const first = await spawn(plan); // warm up lazily opened things
  assert.equal(first.failure?.syscall, "open");
  const before = openFds();
  for (let i = 0; i < 10; i++) {
    const result = await spawn(plan);
    assert.equal(result.failure?.errno, 2);
    close(result.pidfd);
  }
  assert.equal(openFds(), before);
});
