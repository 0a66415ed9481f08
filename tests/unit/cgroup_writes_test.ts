/**
 * The cgroup write plans without root: `linux.resources` as the list of (file, value,
 * field) writes on v1 and on v2, against a fake cgroup tree in a temp dir that holds only
 * what the planners read (the parent's cpusets, which swap and huge page files exist).
 */

import assert from "node:assert/strict";
import { ContainerError, type Resources } from "../../mod.ts";
import { planV1 } from "../../src/cgroups/resources_v1.ts";
import { planV2 } from "../../src/cgroups/resources_v2.ts";
import type { CgroupWrite } from "../../src/cgroups/writes.ts";
import { mergeResources } from "../../src/cgroups/merge.ts";
import {
  hostHasRdmaController,
  parseRdma,
  rdmaUnavailable,
  readRdma,
} from "../../src/cgroups/rdma.ts";
import { withTempDir } from "../support/fixture.ts";

const MiB = 1024 * 1024;

const RESOURCES: Resources = {
  memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: "1", mems: "0" },
  pids: { limit: 100 },
  blockIO: { weight: 300 },
  hugepageLimits: [{ pageSize: "2MB", limit: 4 * MiB }],
};

/** Makes `dir` with `files` in it. */
function tree(dir: string, files: Record<string, string> = {}): void {
  Deno.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) Deno.writeTextFileSync(`${dir}/${name}`, text);
}

/** The writes as [file below root, value, field]. */
function shown(writes: CgroupWrite[], root: string): [string, string, string][] {
  return writes.map((w) => [w.file.slice(root.length), w.value, w.field]);
}

/** A v1 host: one hierarchy per controller (cpu and cpuacct together), swap accounting on. */
function v1Paths(root: string): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const key of ["memory", "cpu,cpuacct", "cpuset", "pids", "blkio", "hugetlb"]) {
    paths[key] = `${root}/${key}/cell/c`;
    tree(paths[key]);
  }
  tree(paths.memory, { "memory.memsw.limit_in_bytes": "9223372036854771712" });
  tree(`${root}/cpuset/cell`, { "cpuset.cpus": "0-1", "cpuset.mems": "0" });
  tree(paths.blkio, { "blkio.weight": "500" });
  tree(paths.hugetlb, { "hugetlb.2MB.limit_in_bytes": "0" });
  return paths;
}

Deno.test("cgroup v1 write plan: every controller's files, values and fields, in order", () => {
  withTempDir("cell-cgroup-plan-", (root) => {
    const f = "linux.resources";
    assert.deepEqual(shown(planV1(RESOURCES, v1Paths(root)), root), [
      // The limit before memory+swap (memsw may never be below it).
      ["/memory/cell/c/memory.limit_in_bytes", String(64 * MiB), `${f}.memory.limit`],
      ["/memory/cell/c/memory.memsw.limit_in_bytes", String(128 * MiB), `${f}.memory.swap`],
      ["/memory/cell/c/memory.soft_limit_in_bytes", String(32 * MiB), `${f}.memory.reservation`],
      ["/cpu,cpuacct/cell/c/cpu.shares", "512", `${f}.cpu.shares`],
      // The period before the quota, as runc writes them.
      ["/cpu,cpuacct/cell/c/cpu.cfs_period_us", "100000", `${f}.cpu.period`],
      ["/cpu,cpuacct/cell/c/cpu.cfs_quota_us", "50000", `${f}.cpu.quota`],
      ["/cpuset/cell/c/cpuset.cpus", "1", `${f}.cpu.cpus`],
      ["/cpuset/cell/c/cpuset.mems", "0", `${f}.cpu.mems`],
      ["/pids/cell/c/pids.max", "100", `${f}.pids.limit`],
      ["/blkio/cell/c/blkio.weight", "300", `${f}.blockIO.weight`],
      [
        "/hugetlb/cell/c/hugetlb.2MB.limit_in_bytes",
        String(4 * MiB),
        `${f}.hugepageLimits[0].limit`,
      ],
    ]);
  });
});

Deno.test("cgroup v2 write plan: v1 values converted as runc converts them", () => {
  withTempDir("cell-cgroup-plan-", (root) => {
    const dir = `${root}/cell/c`;
    tree(dir, { "hugetlb.2MB.max": "max" });
    tree(`${root}/cell`, { "cpuset.cpus.effective": "0-1", "cpuset.mems.effective": "0" });
    const f = "linux.resources";
    assert.deepEqual(shown(planV2(RESOURCES, dir), root), [
      ["/cell/c/memory.max", String(64 * MiB), `${f}.memory.limit`],
      // v1's swap is memory+swap; v2's memory.swap.max is the swap alone.
      ["/cell/c/memory.swap.max", String(64 * MiB), `${f}.memory.swap`],
      ["/cell/c/memory.low", String(32 * MiB), `${f}.memory.reservation`],
      // 1 + (512 - 2) * 9999 / 262142, rounded down.
      ["/cell/c/cpu.weight", "20", `${f}.cpu.shares`],
      ["/cell/c/cpu.max", "50000 100000", `${f}.cpu.quota`],
      ["/cell/c/cpuset.cpus", "1", `${f}.cpu.cpus`],
      ["/cell/c/cpuset.mems", "0", `${f}.cpu.mems`],
      ["/cell/c/pids.max", "100", `${f}.pids.limit`],
      // 1 + (300 - 10) * 9999 / 990.
      ["/cell/c/io.weight", "default 2930", `${f}.blockIO.weight`],
      ["/cell/c/hugetlb.2MB.max", String(4 * MiB), `${f}.hugepageLimits[0].limit`],
    ]);
  });
});

Deno.test("cgroup write plans refuse what the host lacks, naming the field", () => {
  withTempDir("cell-cgroup-plan-", (root) => {
    const paths = v1Paths(root);
    const refused = (fn: () => unknown, field: RegExp) =>
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid", `${e}`);
        assert.match(e.message, field);
        return true;
      });
    refused(() => planV1({ cpu: { cpus: "5" } }, paths), /cpu\.cpus: 5 not available here/);
    refused(
      () => planV1({ hugepageLimits: [{ pageSize: "1GB", limit: 0 }] }, paths),
      /hugepageLimits\[0\]\.pageSize: no 1GB huge pages/,
    );
    Deno.removeSync(`${paths.memory}/memory.memsw.limit_in_bytes`);
    refused(() => planV1({ memory: { limit: MiB, swap: 2 * MiB } }, paths), /memory\.swap/);
  });
});

Deno.test("rdma write plan: one rdma.max line per device, only the keys given, v1, hybrid and v2", () => {
  withTempDir("cell-cgroup-plan-", (root) => {
    const rdma = { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 0 } };
    const lines = (dir: string) => [
      [`${dir}/rdma.max`, "mlx5_1 hca_handle=3 hca_object=10000", "linux.resources.rdma.mlx5_1"],
      [`${dir}/rdma.max`, "rxe3 hca_object=0", "linux.resources.rdma.rxe3"],
    ];
    // v1: the rdma hierarchy.
    const paths = { ...v1Paths(root), rdma: `${root}/rdma/cell/c` };
    tree(paths.rdma);
    const v1 = planV1({ rdma }, paths);
    assert.deepEqual(shown(v1, root), lines("/rdma/cell/c"));
    // The old line of the device is what a refused write puts back.
    assert.deepEqual(v1[1].key, { name: "rxe3", reset: "rxe3 hca_handle=max hca_object=max" });
    assert.match(v1[0].noDevice!, /no RDMA device "mlx5_1"/);
    // Hybrid: no v1 rdma hierarchy, the container's unified directory offers it.
    const hybrid = { ...v1Paths(root), unified: `${root}/unified/cell/c` };
    tree(hybrid.unified, { "cgroup.controllers": "hugetlb rdma\n" });
    assert.deepEqual(shown(planV1({ rdma }, hybrid), root), lines("/unified/cell/c"));
    // v2: the container's directory, where the rdma controller is enabled.
    const dir = `${root}/v2/cell/c`;
    tree(dir, { "cgroup.controllers": "cpu memory pids rdma\n" });
    assert.deepEqual(shown(planV2({ rdma }, dir), root), lines("/v2/cell/c"));
    assert.deepEqual(planV2({ rdma: {} }, `${root}/nowhere`), []);
  });
});

Deno.test("rdma write plan: a host or cgroup without the rdma controller is refused by name", () => {
  withTempDir("cell-cgroup-plan-", (root) => {
    const rdma = { mlx5_0: { hcaHandles: 1 } };
    const refused = (fn: () => unknown, message: RegExp) =>
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid", `${e}`);
        assert.match(e.message, /^linux\.resources\.rdma: /);
        assert.match(e.message, message);
        return true;
      });
    const dir = `${root}/cell/c`;
    tree(dir, { "cgroup.controllers": "cpu memory pids\n" });
    refused(() => planV2({ rdma }, dir), /rdma/);
    refused(() => planV1({ rdma }, v1Paths(root)), /rdma/);
    // Which of the two reasons, from /proc/cgroups.
    const withRdma = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nrdma\t0\t1\t1\n";
    const without = "#subsys_name\thierarchy\tnum_cgroups\tenabled\npids\t8\t3\t1\n";
    assert.equal(hostHasRdmaController(withRdma), true);
    assert.equal(hostHasRdmaController(without), false);
    refused(() => {
      throw rdmaUnavailable("in /x", without);
    }, /this host lacks the rdma cgroup controller \(.*CONFIG_CGROUP_RDMA\)/);
    refused(() => {
      throw rdmaUnavailable("in /x", withRdma);
    }, /the rdma cgroup controller is not available in \/x/);
  });
});

Deno.test("rdma update: merged per device and key, as rdma.max keeps a key left out", () => {
  const old: Resources = {
    rdma: { mlx5_1: { hcaHandles: 2, hcaObjects: 100 }, rxe0: { hcaHandles: 1 } },
  };
  const update: Resources = { rdma: { mlx5_1: { hcaHandles: 5 }, mlx4_0: { hcaObjects: 7 } } };
  assert.deepEqual(mergeResources(old, update, update).rdma, {
    mlx5_1: { hcaHandles: 5, hcaObjects: 100 },
    rxe0: { hcaHandles: 1 },
    mlx4_0: { hcaObjects: 7 },
  });
});

Deno.test("merge: an update's pids keeps the stored limit it leaves out (pids: {} under 1.3)", () => {
  const old: Resources = { pids: { limit: 0 }, memory: { limit: 64 * MiB } };
  assert.deepEqual(mergeResources(old, { pids: {} }, { pids: {} }).pids, { limit: 0 });
  assert.deepEqual(mergeResources(old, { pids: { limit: 7 } }, { pids: { limit: 7 } }).pids, {
    limit: 7,
  });
  assert.deepEqual(mergeResources(undefined, { pids: {} }, { pids: {} }).pids, {});
});

Deno.test("rdma stats: rdma.max and rdma.current lines read back, max as -1", () => {
  const max = "mlx5_1 hca_handle=3 hca_object=max\nrxe0 hca_handle=max hca_object=max\n";
  assert.deepEqual(parseRdma(max), [
    { device: "mlx5_1", hcaHandles: 3, hcaObjects: -1 },
    { device: "rxe0", hcaHandles: -1, hcaObjects: -1 },
  ]);
  assert.deepEqual(parseRdma("mlx5_1 hca_handle=1 hca_object=12\n\nbad\nx hca_handle=1\n"), [
    { device: "mlx5_1", hcaHandles: 1, hcaObjects: 12 },
  ]);
  assert.deepEqual(parseRdma(undefined), []);
  withTempDir("cell-rdma-stats-", (dir) => {
    tree(dir, { "rdma.max": max, "rdma.current": "mlx5_1 hca_handle=2 hca_object=40\n" });
    assert.deepEqual(readRdma(dir).current, [{ device: "mlx5_1", hcaHandles: 2, hcaObjects: 40 }]);
    assert.equal(readRdma(dir).limit.length, 2);
    assert.deepEqual(readRdma(`${dir}/none`), { limit: [], current: [] });
  });
});
