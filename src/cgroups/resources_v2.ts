/**
 * linux.resources as cgroup v2 file writes. v1-style values convert the way the OCI
 * spec and runc do: cpu shares to cpu.weight, blkio weights to io.weight, memory+swap
 * to memory.swap.max.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { checkPageSize, checkWithin, present } from "./host.ts";
import type { CgroupWrite } from "./writes.ts";
import { controllersOf } from "./hybrid.ts";
import { planRdma, rdmaUnavailable } from "./rdma.ts";

/** cpu.shares (2..262144) → cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) → io.weight (1..10000). */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** The writes for `resources` on v2 (devices excluded: they are an eBPF program). */
export function planV2(resources: Resources, dir: string): CgroupWrite[] {
  return [
    ...planMemoryV2(resources, dir),
    ...planCpuV2(resources, dir),
    ...planPidsV2(resources, dir),
    ...planIoV2(resources, dir),
    ...planHugetlbV2(resources, dir),
    ...planRdmaV2(resources, dir),
    ...unified(resources, dir),
    ...(resources.network ? v1Only("linux.resources.network") : []),
  ];
}

function v1Only(field: string): never {
  throw new ContainerError("ConfigInvalid", `${field}: not available on cgroup v2`);
}

/** The memory controller's writes for `r` in the v2 cgroup `dir`. */
export function planMemoryV2(r: Resources, dir: string): CgroupWrite[] {
  const m = r.memory;
  if (!m) return [];
  const f = "linux.resources.memory";
  if (m.swappiness !== undefined) v1Only(`${f}.swappiness`);
  if (m.disableOOMKiller) v1Only(`${f}.disableOOMKiller`);
  if (m.kernelTCP !== undefined) v1Only(`${f}.kernelTCP`);
  const out: CgroupWrite[] = [];
  const max = (n: number) => (n === -1 ? "max" : String(n));
  if (m.limit !== undefined) {
    out.push({ file: `${dir}/memory.max`, value: max(m.limit), field: `${f}.limit` });
  }
  if (m.swap !== undefined) {
    let value: string;
    if (m.swap === -1) value = "max";
    else if (m.limit === undefined || m.limit === -1) {
      throw new ContainerError(
        "ConfigInvalid",
        `${f}.swap: a memory+swap limit needs a memory limit on cgroup v2`,
      );
    } else value = String(m.swap - m.limit);
    out.push({ file: `${dir}/memory.swap.max`, value, field: `${f}.swap` });
  }
  if (m.reservation !== undefined) {
    out.push({ file: `${dir}/memory.low`, value: max(m.reservation), field: `${f}.reservation` });
  }
  return out;
}

/** The cpu and cpuset controller's writes for `r` in the v2 cgroup `dir`. */
export function planCpuV2(r: Resources, dir: string): CgroupWrite[] {
  const c = r.cpu;
  if (!c) return [];
  const f = "linux.resources.cpu";
  const out: CgroupWrite[] = [];
  if (c.shares !== undefined) {
    out.push({
      file: `${dir}/cpu.weight`,
      value: String(sharesToWeight(c.shares)),
      field: `${f}.shares`,
    });
  }
  if (c.quota !== undefined || c.period !== undefined) {
    const quota = c.quota === undefined || c.quota === -1 ? "max" : String(c.quota);
    out.push({
      file: `${dir}/cpu.max`,
      value: `${quota} ${c.period ?? 100000}`,
      field: `${f}.quota`,
    });
  }
  if (c.idle !== undefined) {
    out.push({ file: `${dir}/cpu.idle`, value: String(c.idle), field: `${f}.idle` });
  }
  if (c.realtimeRuntime !== undefined || c.realtimePeriod !== undefined) {
    const which = c.realtimeRuntime !== undefined ? "realtimeRuntime" : "realtimePeriod";
    throw new ContainerError(
      "ConfigInvalid",
      `${f}.${which}: cgroup v2 has no real-time group scheduling (v1 only)`,
    );
  }
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  for (const key of ["cpus", "mems"] as const) {
    const value = c[key];
    if (value === undefined) continue;
    checkWithin(`${f}.${key}`, value, Deno.readTextFileSync(`${parent}/cpuset.${key}.effective`));
    out.push({ file: `${dir}/cpuset.${key}`, value, field: `${f}.${key}` });
  }
  return out;
}

/** The pids controller's writes for `r` in the v2 cgroup `dir`. */
export function planPidsV2(r: Resources, dir: string): CgroupWrite[] {
  if (r.pids?.limit === undefined) return [];
  const value = r.pids.limit === -1 ? "max" : String(r.pids.limit);
  return [{ file: `${dir}/pids.max`, value, field: "linux.resources.pids.limit" }];
}

/** The io controller's writes for `r` in the v2 cgroup `dir`. */
export function planIoV2(r: Resources, dir: string): CgroupWrite[] {
  const b = r.blockIO;
  if (!b) return [];
  const f = "linux.resources.blockIO";
  if (b.leafWeight !== undefined) v1Only(`${f}.leafWeight`);
  const out: CgroupWrite[] = [];
  if (b.weight !== undefined) {
    const value = `default ${blkioToIoWeight(b.weight)}`;
    out.push({ file: `${dir}/io.weight`, value, field: `${f}.weight` });
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    if (d.leafWeight !== undefined) v1Only(`${f}.weightDevice[${i}].leafWeight`);
    if (d.weight === undefined) return;
    const key = `${d.major}:${d.minor}`;
    out.push({
      file: `${dir}/io.weight`,
      value: `${key} ${blkioToIoWeight(d.weight)}`,
      field: `${f}.weightDevice[${i}]`,
      key: { name: key, reset: `${key} default` },
    });
  });
  // One io.max line per device, with every limit of that device.
  const limits = new Map<string, string[]>();
  const kinds = [
    ["throttleReadBpsDevice", "rbps"],
    ["throttleWriteBpsDevice", "wbps"],
    ["throttleReadIOPSDevice", "riops"],
    ["throttleWriteIOPSDevice", "wiops"],
  ] as const;
  for (const [name, word] of kinds) {
    for (const d of b[name] ?? []) {
      const key = `${d.major}:${d.minor}`;
      limits.set(key, [...limits.get(key) ?? [], `${word}=${d.rate === 0 ? "max" : d.rate}`]);
    }
  }
  for (const [key, words] of limits) {
    out.push({
      file: `${dir}/io.max`,
      value: `${key} ${words.join(" ")}`,
      field: `${f}.throttle (${key})`,
      key: { name: key, reset: `${key} rbps=max wbps=max riops=max wiops=max` },
    });
  }
  return out;
}

/** The hugetlb controller's writes for `r` in the v2 cgroup `dir`. */
export function planHugetlbV2(r: Resources, dir: string): CgroupWrite[] {
  const f = "linux.resources.hugepageLimits";
  return (r.hugepageLimits ?? []).map((h, i) => {
    const file = `${dir}/hugetlb.${h.pageSize}.max`;
    checkPageSize(`${f}[${i}].pageSize`, h.pageSize, present(file));
    return { file, value: String(h.limit), field: `${f}[${i}].limit` };
  });
}

/** rdma.max in the v2 cgroup `dir`, which must have the rdma controller. */
export function planRdmaV2(r: Resources, dir: string): CgroupWrite[] {
  if (r.rdma === undefined || Object.keys(r.rdma).length === 0) return [];
  if (!controllersOf(dir).includes("rdma")) throw rdmaUnavailable(`in ${dir}`);
  return planRdma(r, dir);
}

function unified(r: Resources, dir: string): CgroupWrite[] {
  return Object.entries(r.unified ?? {}).map(([key, value]) => ({
    file: `${dir}/${key}`,
    value,
    field: `linux.resources.unified["${key}"]`,
  }));
}
