/**
 * linux.resources as cgroup v1 file writes, in the order the kernel accepts them.
 *
 * @module
 */

import type { CpuResources, Resources } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { checkPageSize, checkWithin, present } from "./host.ts";
import type { CgroupWrite } from "./writes.ts";
import { controllersOf, UNIFIED_KEY } from "./hybrid.ts";
import {
  planCpuV2,
  planHugetlbV2,
  planIoV2,
  planMemoryV2,
  planPidsV2,
  planRdmaV2,
} from "./resources_v2.ts";
import { planRdma, rdmaUnavailable } from "./rdma.ts";

const UNLIMITED = "-1";

/** The directory of the hierarchy holding `controller`, or undefined. */
function dirOf(paths: Record<string, string>, controller: string): string | undefined {
  const key = Object.keys(paths).find((k) => k.split(",").includes(controller));
  return key === undefined ? undefined : paths[key];
}

function need(paths: Record<string, string>, controller: string, field: string): string {
  const dir = dirOf(paths, controller);
  if (dir === undefined) {
    throw new ContainerError(
      "ConfigInvalid",
      `${field}: no ${controller} cgroup hierarchy is mounted`,
    );
  }
  return dir;
}

/**
 * The writes for `resources` on v1 (devices excluded: see V1Manager). On a hybrid host a
 * controller that no v1 hierarchy has but the container's unified directory offers
 * (`paths.unified`) gets its v2 writes there.
 */
export function planV1(resources: Resources, paths: Record<string, string>): CgroupWrite[] {
  if (resources.unified && Object.keys(resources.unified).length > 0) {
    throw new ContainerError(
      "ConfigInvalid",
      "invalid configuration: linux.resources.unified needs cgroup v2 (this host is v1)",
    );
  }
  const unified = paths[UNIFIED_KEY];
  const offered = unified === undefined ? [] : controllersOf(unified);
  const inUnified = (v1: string, v2: string) =>
    dirOf(paths, v1) === undefined && offered.includes(v2);
  const r = resources;
  return [
    ...(inUnified("memory", "memory") ? planMemoryV2(r, unified!) : memory(r, paths)),
    ...(inUnified("cpu", "cpu") ? planCpuV2(r, unified!) : cpu(r, paths)),
    ...(inUnified("pids", "pids") ? planPidsV2(r, unified!) : pids(r, paths)),
    ...(inUnified("blkio", "io") ? planIoV2(r, unified!) : blockIO(r, paths)),
    ...(inUnified("hugetlb", "hugetlb") ? planHugetlbV2(r, unified!) : hugetlb(r, paths)),
    ...network(r, paths),
    ...(inUnified("rdma", "rdma") ? planRdmaV2(r, unified!) : rdma(r, paths)),
  ];
}

/** rdma.max in the v1 rdma hierarchy. */
function rdma(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  if (r.rdma === undefined || Object.keys(r.rdma).length === 0) return [];
  const dir = dirOf(paths, "rdma");
  if (dir === undefined) throw rdmaUnavailable("in any mounted cgroup hierarchy");
  return planRdma(r, dir);
}

function memory(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  const m = r.memory;
  if (!m) return [];
  const dir = need(paths, "memory", "linux.resources.memory");
  const f = "linux.resources.memory";
  const out: CgroupWrite[] = [];
  const limit = m.limit === undefined ? undefined : String(m.limit === -1 ? UNLIMITED : m.limit);
  const memsw = `${dir}/memory.memsw.limit_in_bytes`;
  // runc: an unlimited memory with the swap left out makes memory+swap unlimited too
  // (memsw may not stay below memory).
  const swapValue = m.swap ?? (m.limit === -1 && present(memsw) ? -1 : undefined);
  const swap = swapValue === undefined
    ? undefined
    : String(swapValue === -1 ? UNLIMITED : swapValue);
  const limitWrite = limit === undefined ? [] : [{
    file: `${dir}/memory.limit_in_bytes`,
    value: limit,
    field: `${f}.limit`,
  }];
  if (swap !== undefined) {
    if (!present(memsw)) {
      throw new ContainerError(
        "ConfigInvalid",
        `${f}.swap: this kernel does not account swap (boot with swapaccount=1)`,
      );
    }
    const swapWrite = { file: memsw, value: swap, field: `${f}.swap` };
    // memory.limit <= memsw.limit at all times: raise memsw first, lower it last.
    const current = Number(Deno.readTextFileSync(memsw).trim());
    const raising = swapValue === -1 || swapValue! > current;
    out.push(...(raising ? [swapWrite, ...limitWrite] : [...limitWrite, swapWrite]));
  } else {
    out.push(...limitWrite);
  }
  if (m.reservation !== undefined) {
    out.push({
      file: `${dir}/memory.soft_limit_in_bytes`,
      value: m.reservation === -1 ? UNLIMITED : String(m.reservation),
      field: `${f}.reservation`,
    });
  }
  if (m.swappiness !== undefined) {
    out.push({
      file: `${dir}/memory.swappiness`,
      value: String(m.swappiness),
      field: `${f}.swappiness`,
    });
  }
  if (m.disableOOMKiller !== undefined) {
    out.push({
      file: `${dir}/memory.oom_control`,
      value: m.disableOOMKiller ? "1" : "0",
      field: `${f}.disableOOMKiller`,
      // Read as "oom_kill_disable N ...", written as "N".
      restoreFrom: (text) => /oom_kill_disable (\d)/.exec(text)?.[1] ?? "0",
    });
  }
  if (m.kernelTCP !== undefined) {
    const file = `${dir}/memory.kmem.tcp.limit_in_bytes`;
    if (!present(file)) {
      throw new ContainerError(
        "ConfigInvalid",
        `${f}.kernelTCP: this kernel has no ${file.slice(dir.length + 1)}`,
      );
    }
    out.push({
      file,
      value: m.kernelTCP === -1 ? UNLIMITED : String(m.kernelTCP),
      field: `${f}.kernelTCP`,
    });
  }
  return out;
}

/** net_cls.classid and one net_prio.ifpriomap write per interface. */
function network(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  const n = r.network;
  if (!n) return [];
  const f = "linux.resources.network";
  const out: CgroupWrite[] = [];
  if (n.classID !== undefined) {
    const dir = need(paths, "net_cls", `${f}.classID`);
    out.push({ file: `${dir}/net_cls.classid`, value: String(n.classID), field: `${f}.classID` });
  }
  for (const [i, p] of (n.priorities ?? []).entries()) {
    const dir = need(paths, "net_prio", `${f}.priorities`);
    const field = `${f}.priorities[${i}]`;
    out.push({
      file: `${dir}/net_prio.ifpriomap`,
      value: `${p.name} ${p.priority}`,
      field,
      // Read as "<if> <prio>" lines: the old value is this interface's line.
      key: { name: p.name, reset: `${p.name} 0` },
    });
  }
  return out;
}

function cpu(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  const c = r.cpu;
  if (!c) return [];
  const f = "linux.resources.cpu";
  const out: CgroupWrite[] = [];
  if (
    c.shares !== undefined || c.quota !== undefined || c.period !== undefined ||
    c.idle !== undefined
  ) {
    const dir = need(paths, "cpu", f);
    if (c.shares !== undefined) {
      out.push({ file: `${dir}/cpu.shares`, value: String(c.shares), field: `${f}.shares` });
    }
    // Each write is checked against the other value in force and the parent's limit, so
    // a shorter period goes after the quota (old quota / new period could exceed the
    // parent), a longer one before it.
    const period = c.period === undefined
      ? []
      : [{ file: `${dir}/cpu.cfs_period_us`, value: String(c.period), field: `${f}.period` }];
    const quota = c.quota === undefined
      ? []
      : [{ file: `${dir}/cpu.cfs_quota_us`, value: String(c.quota), field: `${f}.quota` }];
    const shorter = c.period !== undefined && c.quota !== undefined &&
      c.period < currentPeriod(`${dir}/cpu.cfs_period_us`);
    out.push(...(shorter ? [...quota, ...period] : [...period, ...quota]));
    if (c.idle !== undefined) {
      out.push({ file: `${dir}/cpu.idle`, value: String(c.idle), field: `${f}.idle` });
    }
  }
  out.push(...realtime(c, paths));
  if (c.cpus !== undefined || c.mems !== undefined) {
    const dir = need(paths, "cpuset", f);
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    for (const key of ["cpus", "mems"] as const) {
      const value = c[key];
      if (value === undefined) continue;
      checkWithin(`${f}.${key}`, value, Deno.readTextFileSync(`${parent}/cpuset.${key}`));
      out.push({ file: `${dir}/cpuset.${key}`, value, field: `${f}.${key}` });
    }
  }
  return out;
}

/**
 * Real-time group scheduling (CONFIG_RT_GROUP_SCHED): cpu.rt_period_us and
 * cpu.rt_runtime_us of the container's cgroup. As runc, the parents are left alone: a
 * runtime needs that much budget in every parent (a new cgroup has none), which the host
 * gives.
 */
function realtime(c: CpuResources, paths: Record<string, string>): CgroupWrite[] {
  const f = "linux.resources.cpu";
  const { realtimeRuntime: runtime, realtimePeriod: period } = c;
  if (runtime === undefined && period === undefined) return [];
  const dir = need(paths, "cpu", f);
  const runtimeFile = `${dir}/cpu.rt_runtime_us`;
  if (!present(runtimeFile)) {
    throw new ContainerError(
      "ConfigInvalid",
      `${f}.realtime${runtime === undefined ? "Period" : "Runtime"}: this kernel has no ` +
        "real-time group scheduling (CONFIG_RT_GROUP_SCHED)",
    );
  }
  if (runtime !== undefined && runtime !== -1 && period !== undefined && runtime > period) {
    throw new ContainerError(
      "ConfigInvalid",
      `${f}.realtimeRuntime: ${runtime} is more than realtimePeriod ${period}`,
    );
  }
  const periodWrite = period === undefined ? [] : [{
    file: `${dir}/cpu.rt_period_us`,
    value: String(period),
    field: `${f}.realtimePeriod`,
    hint: "the runtime in force must fit in it",
  }];
  const runtimeWrite = runtime === undefined ? [] : [{
    file: runtimeFile,
    value: String(runtime),
    field: `${f}.realtimeRuntime`,
    hint: "every parent cgroup's cpu.rt_runtime_us must leave that much real-time budget",
  }];
  // The runtime in force must fit the period at every step: a shorter period goes last.
  const current = Number(Deno.readTextFileSync(runtimeFile).trim());
  const periodFirst = period === undefined || current === -1 || period >= current;
  return periodFirst ? [...periodWrite, ...runtimeWrite] : [...runtimeWrite, ...periodWrite];
}

/** The period in force; a cgroup not made yet counts as the kernel's default. */
function currentPeriod(file: string): number {
  try {
    return Number(Deno.readTextFileSync(file).trim());
  } catch {
    return 100_000;
  }
}

function pids(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  if (r.pids?.limit === undefined) return [];
  const dir = need(paths, "pids", "linux.resources.pids");
  const value = r.pids.limit === -1 ? "max" : String(r.pids.limit);
  return [{ file: `${dir}/pids.max`, value, field: "linux.resources.pids.limit" }];
}

function blockIO(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  const b = r.blockIO;
  if (!b) return [];
  const f = "linux.resources.blockIO";
  const dir = need(paths, "blkio", f);
  const out: CgroupWrite[] = [];
  // Kernels with the BFQ scheduler expose the weight as blkio.bfq.weight.
  const weightFile = present(`${dir}/blkio.weight`) ? "blkio.weight" : "blkio.bfq.weight";
  if (b.weight !== undefined) {
    out.push({ file: `${dir}/${weightFile}`, value: String(b.weight), field: `${f}.weight` });
  }
  if (b.leafWeight !== undefined) {
    out.push({
      file: `${dir}/blkio.leaf_weight`,
      value: String(b.leafWeight),
      field: `${f}.leafWeight`,
    });
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const key = `${d.major}:${d.minor}`;
    if (d.weight !== undefined) {
      out.push({
        file: `${dir}/${weightFile}_device`,
        value: `${key} ${d.weight}`,
        field: `${f}.weightDevice[${i}].weight`,
        key: { name: key, reset: `${key} 0` },
      });
    }
    if (d.leafWeight !== undefined) {
      out.push({
        file: `${dir}/blkio.leaf_weight_device`,
        value: `${key} ${d.leafWeight}`,
        field: `${f}.weightDevice[${i}].leafWeight`,
        key: { name: key, reset: `${key} 0` },
      });
    }
  });
  const throttles = [
    ["throttleReadBpsDevice", "blkio.throttle.read_bps_device"],
    ["throttleWriteBpsDevice", "blkio.throttle.write_bps_device"],
    ["throttleReadIOPSDevice", "blkio.throttle.read_iops_device"],
    ["throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"],
  ] as const;
  for (const [name, file] of throttles) {
    (b[name] ?? []).forEach((d, i) => {
      const key = `${d.major}:${d.minor}`;
      out.push({
        file: `${dir}/${file}`,
        value: `${key} ${d.rate}`,
        field: `${f}.${name}[${i}]`,
        key: { name: key, reset: `${key} 0` },
      });
    });
  }
  return out;
}

function hugetlb(r: Resources, paths: Record<string, string>): CgroupWrite[] {
  if (!r.hugepageLimits?.length) return [];
  const f = "linux.resources.hugepageLimits";
  const dir = need(paths, "hugetlb", f);
  return r.hugepageLimits.map((h, i) => {
    const file = `${dir}/hugetlb.${h.pageSize}.limit_in_bytes`;
    checkPageSize(`${f}[${i}].pageSize`, h.pageSize, present(file));
    return { file, value: String(h.limit), field: `${f}[${i}].limit` };
  });
}
