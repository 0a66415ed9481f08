/**
 * Reads a container's {@linkcode CgroupStats} from its cgroup v1 directories. Only
 * reads files; a controller that is not mounted, or a file this kernel lacks, gives the
 * "missing" values documented on {@linkcode CgroupStats}.
 *
 * @module
 */

import { readPressure } from "./pressure.ts";
import { readNetDev } from "./net_stats.ts";
import { readHugetlbV2, readIoV2, readMemoryV2, readPidsV2 } from "./stats_v2.ts";
import {
  type BlockIOStats,
  type CgroupStats,
  emptyStats,
  hugePageSizes,
  parseLimit,
  parseNumber,
  readFlatKeyed,
  readLimit,
  readNumber,
  readOptional,
  UNLIMITED,
} from "./stats.ts";
import { UNIFIED_KEY } from "./hybrid.ts";
import { readRdma } from "./rdma.ts";

/** AT_CLKTCK, the auxiliary vector entry holding USER_HZ. */
const AT_CLKTCK = 17n;
let clockTicks: number | undefined;

/**
 * USER_HZ, the unit of cpuacct.stat: the AT_CLKTCK entry of /proc/self/auxv (what
 * sysconf(_SC_CLK_TCK) returns), else 100, its value on every mainstream architecture.
 */
export function userHz(): number {
  if (clockTicks !== undefined) return clockTicks;
  clockTicks = 100;
  try {
    const raw = Deno.readFileSync("/proc/self/auxv");
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    for (let off = 0; off + 16 <= raw.byteLength; off += 16) {
      const type = view.getBigUint64(off, little);
      if (type === 0n) break;
      if (type === AT_CLKTCK) {
        const hz = Number(view.getBigUint64(off + 8, little));
        if (hz > 0 && hz <= 1_000_000) clockTicks = hz;
        break;
      }
    }
  } catch { /* keep 100 */ }
  return clockTicks;
}

/** The directory of the hierarchy that has `controller` (keys like "cpu,cpuacct"). */
function dirOf(paths: Record<string, string>, controller: string): string | undefined {
  for (const [controllers, dir] of Object.entries(paths)) {
    if (controllers.split(",").includes(controller)) return dir;
  }
  return undefined;
}

function readCpu(stats: CgroupStats, paths: Record<string, string>): void {
  const acct = dirOf(paths, "cpuacct");
  if (acct !== undefined) {
    stats.cpu.usageTotalNs = readNumber(`${acct}/cpuacct.usage`);
    const perCpu = readOptional(`${acct}/cpuacct.usage_percpu`);
    stats.cpu.usagePerCpuNs = perCpu === undefined
      ? []
      : perCpu.trim().split(/\s+/).filter((v) => v !== "").map(parseNumber);
    const ticks = readFlatKeyed(`${acct}/cpuacct.stat`);
    const nsPerTick = 1e9 / userHz();
    stats.cpu.usageUserNs = (ticks.user ?? 0) * nsPerTick;
    stats.cpu.usageSystemNs = (ticks.system ?? 0) * nsPerTick;
  }
  const cpu = dirOf(paths, "cpu");
  if (cpu !== undefined) {
    const stat = readFlatKeyed(`${cpu}/cpu.stat`);
    stats.cpu.throttling = {
      periods: stat.nr_periods ?? 0,
      throttledPeriods: stat.nr_throttled ?? 0,
      throttledTimeNs: stat.throttled_time ?? 0,
    };
  }
}

function readMemory(stats: CgroupStats, dir: string): void {
  const m = stats.memory;
  m.usageBytes = readNumber(`${dir}/memory.usage_in_bytes`);
  m.maxUsageBytes = readNumber(`${dir}/memory.max_usage_in_bytes`);
  m.limitBytes = readLimit(`${dir}/memory.limit_in_bytes`);
  m.failcnt = readNumber(`${dir}/memory.failcnt`);
  // memsw counts memory + swap; without swap accounting the files are absent.
  const memswUsage = readOptional(`${dir}/memory.memsw.usage_in_bytes`);
  if (memswUsage !== undefined) {
    m.swapUsageBytes = Math.max(0, parseNumber(memswUsage) - m.usageBytes);
  }
  const memswLimit = parseLimit(readOptional(`${dir}/memory.memsw.limit_in_bytes`));
  if (memswLimit === UNLIMITED) m.swapLimitBytes = UNLIMITED;
  else if (memswLimit > 0) {
    // The kernel keeps memsw >= memory; an unlimited memory with a finite memsw cannot be.
    m.swapLimitBytes = m.limitBytes === UNLIMITED
      ? memswLimit
      : Math.max(0, memswLimit - m.limitBytes);
  }
  m.stat = readFlatKeyed(`${dir}/memory.stat`);
  m.cacheBytes = m.stat.total_cache ?? m.stat.cache ?? 0;
  m.rssBytes = m.stat.total_rss ?? m.stat.rss ?? 0;
}

/**
 * Per device Read and Write of a blkio "rwstat" file ("8:0 Read 4096" lines); the
 * Sync/Async/Discard/Total lines and the last "Total N" line are skipped. Undefined when
 * the file is missing.
 */
export function parseBlkioRwstat(
  text: string | undefined,
): Map<string, { read: number; write: number }> | undefined {
  if (text === undefined) return undefined;
  const out = new Map<string, { read: number; write: number }>();
  for (const line of text.split("\n")) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (value === undefined || !/^\d+:\d+$/.test(device)) continue;
    if (op !== "Read" && op !== "Write") continue;
    let entry = out.get(device);
    if (!entry) out.set(device, entry = { read: 0, write: 0 });
    if (op === "Read") entry.read = parseNumber(value);
    else entry.write = parseNumber(value);
  }
  return out;
}

/** The first of the stats file families that lists any device. */
const BLKIO_SOURCES = [
  ["blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"],
  ["blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"],
  ["blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"],
  ["blkio.bfq.io_service_bytes", "blkio.bfq.io_serviced"],
];

function readBlkio(dir: string): BlockIOStats[] {
  for (const [bytesFile, opsFile] of BLKIO_SOURCES) {
    const bytes = parseBlkioRwstat(readOptional(`${dir}/${bytesFile}`));
    const ops = parseBlkioRwstat(readOptional(`${dir}/${opsFile}`));
    if (!bytes?.size && !ops?.size) continue;
    const devices = [...new Set([...bytes?.keys() ?? [], ...ops?.keys() ?? []])];
    return devices.map((device) => ({
      device,
      readBytes: bytes?.get(device)?.read ?? 0,
      writeBytes: bytes?.get(device)?.write ?? 0,
      readOps: ops?.get(device)?.read ?? 0,
      writeOps: ops?.get(device)?.write ?? 0,
    }));
  }
  return [];
}

function readHugetlb(dir: string): CgroupStats["hugetlb"] {
  const out: CgroupStats["hugetlb"] = {};
  for (const size of hugePageSizes(dir, "usage_in_bytes")) {
    out[size] = {
      usageBytes: readNumber(`${dir}/hugetlb.${size}.usage_in_bytes`),
      maxUsageBytes: readNumber(`${dir}/hugetlb.${size}.max_usage_in_bytes`),
      failcnt: readNumber(`${dir}/hugetlb.${size}.failcnt`),
    };
  }
  return out;
}

/**
 * Reads the stats of a cgroup v1 container.
 *
 * @param paths The container's directory per hierarchy, keyed by the hierarchy's
 *   controllers ("memory", "cpu,cpuacct", ...), and on a hybrid host its directory in the
 *   unified hierarchy under "unified": `CgroupState.paths`.
 * @param initPid The container's init process on the host, for the network counters of
 *   its namespace; null (or a pid that is gone) gives `network: []`.
 */
export function readStatsV1(paths: Record<string, string>, initPid: number | null): CgroupStats {
  const stats = emptyStats();
  readCpu(stats, paths);
  const memory = dirOf(paths, "memory");
  if (memory !== undefined) readMemory(stats, memory);
  const pids = dirOf(paths, "pids");
  if (pids !== undefined) {
    stats.pids.current = readNumber(`${pids}/pids.current`);
    stats.pids.limit = readLimit(`${pids}/pids.max`);
  }
  const blkio = dirOf(paths, "blkio");
  if (blkio !== undefined) stats.blockIO = readBlkio(blkio);
  const hugetlb = dirOf(paths, "hugetlb");
  if (hugetlb !== undefined) stats.hugetlb = readHugetlb(hugetlb);
  const rdma = dirOf(paths, "rdma");
  if (rdma !== undefined) stats.rdma = readRdma(rdma);
  // A hybrid host: a controller no v1 hierarchy has may live in the unified hierarchy
  // (hugetlb on a fresh Debian VM); its files are read there, in their v2 form.
  const unified = paths[UNIFIED_KEY];
  if (unified !== undefined) {
    if (memory === undefined) readMemoryV2(stats, unified);
    if (pids === undefined) readPidsV2(stats, unified);
    if (blkio === undefined) stats.blockIO = readIoV2(unified);
    if (hugetlb === undefined) stats.hugetlb = readHugetlbV2(unified);
    if (rdma === undefined) stats.rdma = readRdma(unified);
    // PSI is cgroup2's alone: the container's unified directory has it.
    stats.pressure = readPressure(unified);
  }
  stats.network = initPid === null ? [] : readNetDev(initPid);
  return stats;
}
