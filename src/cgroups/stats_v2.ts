/**
 * Reads a container's {@linkcode CgroupStats} from its cgroup v2 directory. Only reads
 * files; a controller that is not enabled for the cgroup, or a file this kernel lacks,
 * gives the "missing" values documented on {@linkcode CgroupStats}. cpu.stat's usage
 * lines exist in every v2 cgroup, with or without the cpu controller.
 *
 * @module
 */

import { readNetDev } from "./net_stats.ts";
import { readMisc, readPressure } from "./pressure.ts";
import { readRdma } from "./rdma.ts";
import {
  type BlockIOStats,
  type CgroupStats,
  emptyStats,
  hugePageSizes,
  parseNumber,
  readFlatKeyed,
  readLimit,
  readNumber,
  readOptional,
} from "./stats.ts";

/** io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device). */
export function parseIoStat(text: string | undefined): BlockIOStats[] {
  const out: BlockIOStats[] = [];
  if (text === undefined) return out;
  for (const line of text.split("\n")) {
    const [device, ...fields] = line.trim().split(/\s+/);
    if (!/^\d+:\d+$/.test(device)) continue;
    const values: Record<string, number> = {};
    for (const field of fields) {
      const eq = field.indexOf("=");
      if (eq > 0) values[field.slice(0, eq)] = parseNumber(field.slice(eq + 1));
    }
    out.push({
      device,
      readBytes: values.rbytes ?? 0,
      writeBytes: values.wbytes ?? 0,
      readOps: values.rios ?? 0,
      writeOps: values.wios ?? 0,
    });
  }
  return out;
}

/** cpu.stat of a v2 cgroup into `stats.cpu` (its usage lines exist in every cgroup). */
export function readCpuV2(stats: CgroupStats, dir: string): void {
  const stat = readFlatKeyed(`${dir}/cpu.stat`);
  stats.cpu.usageTotalNs = (stat.usage_usec ?? 0) * 1000;
  stats.cpu.usageUserNs = (stat.user_usec ?? 0) * 1000;
  stats.cpu.usageSystemNs = (stat.system_usec ?? 0) * 1000;
  stats.cpu.throttling = {
    periods: stat.nr_periods ?? 0,
    throttledPeriods: stat.nr_throttled ?? 0,
    throttledTimeNs: (stat.throttled_usec ?? 0) * 1000,
  };
}

/** The memory controller's files of a v2 cgroup into `stats.memory`. */
export function readMemoryV2(stats: CgroupStats, dir: string): void {
  const m = stats.memory;
  m.usageBytes = readNumber(`${dir}/memory.current`);
  m.maxUsageBytes = readNumber(`${dir}/memory.peak`);
  m.limitBytes = readLimit(`${dir}/memory.max`);
  m.failcnt = readFlatKeyed(`${dir}/memory.events`).max ?? 0;
  m.swapUsageBytes = readNumber(`${dir}/memory.swap.current`);
  m.swapLimitBytes = readLimit(`${dir}/memory.swap.max`);
  m.stat = readFlatKeyed(`${dir}/memory.stat`);
  m.cacheBytes = m.stat.file ?? 0;
  m.rssBytes = m.stat.anon ?? 0;
}

/** Each huge page size's usage in a v2 cgroup. */
export function readHugetlbV2(dir: string): CgroupStats["hugetlb"] {
  const out: CgroupStats["hugetlb"] = {};
  for (const size of hugePageSizes(dir, "current")) {
    out[size] = {
      usageBytes: readNumber(`${dir}/hugetlb.${size}.current`),
      maxUsageBytes: 0,
      failcnt: readFlatKeyed(`${dir}/hugetlb.${size}.events`).max ?? 0,
    };
  }
  return out;
}

/** pids.current and pids.max of a v2 cgroup into `stats.pids`. */
export function readPidsV2(stats: CgroupStats, dir: string): void {
  stats.pids.current = readNumber(`${dir}/pids.current`);
  stats.pids.limit = readLimit(`${dir}/pids.max`);
}

/** io.stat of a v2 cgroup. */
export function readIoV2(dir: string): BlockIOStats[] {
  return parseIoStat(readOptional(`${dir}/io.stat`));
}

/**
 * Reads the stats of a cgroup v2 container.
 *
 * @param dir The container's cgroup directory (`CgroupState.paths.unified`); "" (no
 *   cgroup) reads as nothing, never as the files at "/".
 * @param initPid The container's init process on the host, for the network counters of
 *   its namespace; null (or a pid that is gone) gives `network: []`.
 */
export function readStatsV2(dir: string, initPid: number | null): CgroupStats {
  const stats = emptyStats();
  stats.network = initPid === null ? [] : readNetDev(initPid);
  if (dir === "") return stats;
  readCpuV2(stats, dir);
  readMemoryV2(stats, dir);
  readPidsV2(stats, dir);
  stats.blockIO = readIoV2(dir);
  stats.hugetlb = readHugetlbV2(dir);
  stats.pressure = readPressure(dir);
  stats.misc = readMisc(dir);
  stats.rdma = readRdma(dir);
  return stats;
}
