/**
 * The resource usage of a container's cgroup, one shape for both backends
 * (readers: `stats_v1.ts`, `stats_v2.ts`, `net_stats.ts`), and the small file parsers
 * they share.
 *
 * Conventions, the same in every field:
 * - A counter or value whose file does not exist on this kernel or in this cgroup (the
 *   controller is not mounted or not enabled, the feature is not built in) reads as `0`,
 *   a list as `[]`, a map as `{}`. Reading never fails because a file is missing.
 * - A limit that is not set ("max" on v2 and in pids.max; on v1 memory, the huge
 *   page-aligned `LONG_MAX` such as 9223372036854771712) is {@linkcode UNLIMITED}, `-1`:
 *   JSON-friendly, and impossible as a real limit. `0` in a limit field means the file
 *   was not there.
 * - Numbers are JavaScript numbers: counters past 2^53 (about 104 days of CPU time in
 *   nanoseconds, or 8 PiB) lose their last digits, never their magnitude.
 *
 * @module
 */

import type { MiscStats, Pressure } from "./pressure.ts";

import { ContainerError } from "../errors.ts";

/** The value of a limit field (`limitBytes`, `swapLimitBytes`, `pids.limit`) when no limit is set. */
export const UNLIMITED = -1;

/**
 * Counters of one network interface, from `/proc/<pid>/net/dev`, or for a veth of the
 * `network` option from its host end (receive and transmit swapped).
 */
export interface NetworkInterfaceStats {
  /** The interface name, e.g. "lo" or "eth0". */
  name: string;
  /** Bytes received. */
  rxBytes: number;
  /** Packets received. */
  rxPackets: number;
  /** Receive errors. */
  rxErrors: number;
  /** Received packets dropped. */
  rxDropped: number;
  /** Bytes sent. */
  txBytes: number;
  /** Packets sent. */
  txPackets: number;
  /** Transmit errors. */
  txErrors: number;
  /** Packets dropped on transmit. */
  txDropped: number;
}

/** Usage of one huge page size. */
export interface HugetlbStats {
  /** Bytes of huge pages of this size in use now (v1 `usage_in_bytes`, v2 `current`). */
  usageBytes: number;
  /** Most bytes ever in use (v1 `max_usage_in_bytes`); v2 has no such file: 0. */
  maxUsageBytes: number;
  /** Allocations refused by the limit (v1 `failcnt`; v2 the `max` count of `.events`). */
  failcnt: number;
}

/** I/O done on one block device. */
export interface BlockIOStats {
  /** The device as "major:minor", e.g. "254:0". */
  device: string;
  /** Bytes read. */
  readBytes: number;
  /** Bytes written. */
  writeBytes: number;
  /** Read operations. */
  readOps: number;
  /** Write operations. */
  writeOps: number;
}

/** A cgroup's resource usage, the same shape on cgroup v1 and v2. */
export interface CgroupStats {
  /** CPU time. */
  cpu: {
    /** CPU time used by every task of the cgroup and its descendants, in nanoseconds. */
    usageTotalNs: number;
    /**
     * CPU time per CPU, in nanoseconds, index = CPU number (v1 `cpuacct.usage_percpu`,
     * every possible CPU). `[]` on v2, which has no per-CPU accounting, or when missing.
     */
    usagePerCpuNs: number[];
    /**
     * CPU time in user mode, in nanoseconds. v1: `cpuacct.stat` counts clock ticks
     * (USER_HZ, the rate is taken from the process's auxiliary vector, AT_CLKTCK, else
     * 100), so it has a 10 ms grain at 100 Hz and may lag `usageTotalNs`.
     */
    usageUserNs: number;
    /** CPU time in kernel mode, in nanoseconds (same source and grain as `usageUserNs`). */
    usageSystemNs: number;
    /** CFS bandwidth throttling; all 0 when no CPU quota was ever enforced or on v2 without the cpu controller. */
    throttling: {
      /** Enforcement periods that have elapsed with runnable tasks. */
      periods: number;
      /** Periods in which the cgroup hit its quota and was throttled. */
      throttledPeriods: number;
      /** Total time the cgroup's tasks were throttled, in nanoseconds. */
      throttledTimeNs: number;
    };
  };
  /** Memory. */
  memory: {
    /** Memory charged to the cgroup now, in bytes (v1 `usage_in_bytes`, v2 `memory.current`). */
    usageBytes: number;
    /**
     * Highest memory usage seen, in bytes (v1 `max_usage_in_bytes`; v2 `memory.peak`,
     * which kernels before 5.19 lack: 0 there).
     */
    maxUsageBytes: number;
    /** The memory limit in bytes; {@linkcode UNLIMITED} (-1) when none; 0 when the file is missing. */
    limitBytes: number;
    /**
     * How often usage hit the limit (v1 `failcnt`; v2 has none: the `max` count of
     * `memory.events`, the times reclaim was forced by the limit).
     */
    failcnt: number;
    /**
     * Page cache in bytes (v1 `total_cache` of memory.stat, including descendants, else
     * `cache`; v2 `file`).
     */
    cacheBytes: number;
    /**
     * Anonymous memory in bytes (v1 `total_rss` of memory.stat, including descendants,
     * else `rss`; v2 `anon`).
     */
    rssBytes: number;
    /**
     * Swap in use, in bytes (v2 `memory.swap.current`; v1 `memory.memsw.usage_in_bytes`
     * minus `usage_in_bytes`). 0 when the kernel does no swap accounting.
     */
    swapUsageBytes: number;
    /**
     * The swap limit in bytes, swap alone (v2 `memory.swap.max`; v1 the memsw limit minus
     * the memory limit). {@linkcode UNLIMITED} (-1) when none; 0 when the kernel does no
     * swap accounting.
     */
    swapLimitBytes: number;
    /** Every line of memory.stat, as the kernel names it (units as the kernel prints them, mostly bytes). */
    stat: Record<string, number>;
  };
  /** Process numbers. */
  pids: {
    /** Tasks (threads included) in the cgroup and its descendants; 0 when missing. */
    current: number;
    /** The pids.max limit; {@linkcode UNLIMITED} (-1) for "max"; 0 when the file is missing. */
    limit: number;
  };
  /**
   * Bytes and operations per block device, in the order the kernel lists devices. v1:
   * `blkio.throttle.io_service_bytes` / `io_serviced` (the `_recursive` ones, which count
   * descendants too, where present), else the bfq ones; v2 `io.stat`. Kernels since 6.9
   * count v1 throttle stats only on devices with a throttle rule somewhere, so this may be
   * `[]` on v1 although I/O happened.
   */
  blockIO: BlockIOStats[];
  /** Usage per huge page size, keyed as the kernel names it ("2MB", "1GB"), smallest first; `{}` when missing. */
  hugetlb: Record<string, HugetlbStats>;
  /**
   * Every interface of the network namespace of the container's init process, `lo`
   * included (a veth of the `network` option counted at its host end); `[]` without an init
   * process or when it is gone.
   */
  network: NetworkInterfaceStats[];
  /**
   * Pressure stall information of the container's cgroup2 directory (`cpu.pressure`,
   * `memory.pressure`, `io.pressure`): on v2, and on a hybrid host where the container has
   * a directory in the unified hierarchy; each resource absent without PSI (`psi=0`, or a
   * v1-only container).
   */
  pressure: { cpu?: Pressure; memory?: Pressure; io?: Pressure };
  /** The misc controller's resources by name (v2 `misc.current`, `misc.events`); `{}` without it. */
  misc: Record<string, MiscStats>;
}

/** Stats with every field at its "missing" value. */
export function emptyStats(): CgroupStats {
  return {
    cpu: {
      usageTotalNs: 0,
      usagePerCpuNs: [],
      usageUserNs: 0,
      usageSystemNs: 0,
      throttling: { periods: 0, throttledPeriods: 0, throttledTimeNs: 0 },
    },
    memory: {
      usageBytes: 0,
      maxUsageBytes: 0,
      limitBytes: 0,
      failcnt: 0,
      cacheBytes: 0,
      rssBytes: 0,
      swapUsageBytes: 0,
      swapLimitBytes: 0,
      stat: {},
    },
    pids: { current: 0, limit: 0 },
    blockIO: [],
    hugetlb: {},
    network: [],
    pressure: {},
    misc: {},
  };
}

/** True for the errors that mean "this file is not there" (or cannot be read here). */
function isMissing(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotSupported ||
    e instanceof Deno.errors.NotADirectory;
}

function readError(path: string, e: unknown): ContainerError {
  const message = e instanceof Error ? e.message : String(e);
  return new ContainerError("SystemError", `cannot read ${path}: ${message}`, {
    syscall: "read",
    path,
    cause: e,
  });
}

/** A file's text, or undefined when it does not exist; other failures are SystemErrors. */
export function readOptional(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw readError(path, e);
  }
}

/** The names in a directory, or [] when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (isMissing(e)) return [];
    throw readError(dir, e);
  }
}

/** A decimal number, 0 when empty or not a number. */
export function parseNumber(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : 0;
}

/**
 * At or above this, a v1 limit means "no limit": the kernel prints an unset limit as
 * the page-aligned LONG_MAX (9223372036854771712 with 4 KiB pages).
 */
const V1_UNLIMITED_AT = 2 ** 62;

/** A limit: "max" or v1's huge "unset" value → {@linkcode UNLIMITED}; missing → 0. */
export function parseLimit(text: string | undefined): number {
  if (text === undefined) return 0;
  const t = text.trim();
  if (t === "max") return UNLIMITED;
  const n = parseNumber(t);
  return n >= V1_UNLIMITED_AT ? UNLIMITED : n;
}

/** The number in a one-value file; 0 when missing. */
export function readNumber(path: string): number {
  return parseNumber(readOptional(path));
}

/** A limit file (see {@linkcode parseLimit}). */
export function readLimit(path: string): number {
  return parseLimit(readOptional(path));
}

/** "key value" lines (cpu.stat, memory.stat, memory.events ...) as a map. */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (text === undefined) return out;
  for (const line of text.split("\n")) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (!key || value === undefined || extra !== undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out[key] = n;
  }
  return out;
}

/** A "key value" file as a map; {} when missing. */
export function readFlatKeyed(path: string): Record<string, number> {
  return parseFlatKeyed(readOptional(path));
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/**
 * The huge page sizes a hugetlb directory has files for, smallest first, found by the
 * file name pattern `hugetlb.<size>.<suffix>` (e.g. "2MB" from hugetlb.2MB.current).
 */
export function hugePageSizes(dir: string, suffix: string): string[] {
  const pattern = new RegExp(`^hugetlb\\.(\\d+)([KMGT]?)B\\.${suffix.replace(".", "\\.")}$`);
  const sizes: { name: string; bytes: number }[] = [];
  for (const name of listDir(dir)) {
    const m = pattern.exec(name);
    if (m) sizes.push({ name: `${m[1]}${m[2]}B`, bytes: Number(m[1]) * SIZE_UNITS[m[2]] });
  }
  return sizes.sort((a, b) => a.bytes - b.bytes).map((s) => s.name);
}
