/**
 * `events ID`: JSON lines as runc writes them: `{"type":"stats","id":...,"data":{...}}`
 * every `--interval` (one and done with `--stats`), and `{"type":"oom","id":...}` as OOM
 * kills happen, until the container stops.
 *
 * @module
 */

import {
  type CgroupStats,
  ContainerError,
  type Pressure,
  type PressureLine,
} from "../../../mod.ts";
import type { Command } from "../context.ts";
import { args, bool, parseFlags, str } from "../flags.ts";

/** `events [--stats] [--interval 5s] ID`. */
export const events: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    interval: { type: "string", help: `how often to print stats (default: "5s")` },
    stats: { type: "boolean", help: "print the stats once and exit" },
  });
  const [id] = args(p, { exactly: 1 }, "events");
  const container = await ctx.factory.load(id);
  const emit = (event: Record<string, unknown>) => ctx.io.out(JSON.stringify(event));
  const snapshot = async () => ({ type: "stats", id, data: runcStats(await container.stats()) });
  if (bool(p, "stats")) {
    emit(await snapshot());
    return 0;
  }
  const intervalMs = parseDuration(str(p, "interval", "5s")!);
  const oom = await container.oom();
  const watching = (async () => {
    for await (const _ of oom) emit({ type: "oom", id });
  })();
  try {
    while (true) {
      const status = await container.status();
      if (status === "stopped" || status === "destroyed") break;
      emit(await snapshot());
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    await oom.return?.();
    await watching;
  }
  return 0;
};

/** "5s", "500ms", "1m" (Go durations, the common units) in milliseconds. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new ContainerError("ConfigInvalid", `invalid --interval "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new ContainerError("ConfigInvalid", "--interval must be positive");
  return ms;
}

/** Our stats in the field names of runc's `events` (libcontainer's types.Stats). */
export function runcStats(s: CgroupStats): Record<string, unknown> {
  return {
    cpu: {
      usage: {
        total: s.cpu.usageTotalNs,
        percpu: s.cpu.usagePerCpuNs,
        kernel: s.cpu.usageSystemNs,
        user: s.cpu.usageUserNs,
      },
      throttling: {
        periods: s.cpu.throttling.periods,
        throttled_periods: s.cpu.throttling.throttledPeriods,
        throttled_time: s.cpu.throttling.throttledTimeNs,
      },
      ...psi(s.pressure.cpu),
    },
    memory: {
      cache: s.memory.cacheBytes,
      usage: {
        limit: s.memory.limitBytes,
        usage: s.memory.usageBytes,
        max: s.memory.maxUsageBytes,
        failcnt: s.memory.failcnt,
      },
      swap: { limit: s.memory.swapLimitBytes, usage: s.memory.swapUsageBytes },
      raw: s.memory.stat,
      ...psi(s.pressure.memory),
    },
    pids: { current: s.pids.current, limit: s.pids.limit },
    blkio: {
      ioServiceBytesRecursive: s.blockIO.flatMap((d) =>
        entries(d.device, d.readBytes, d.writeBytes)
      ),
      ioServicedRecursive: s.blockIO.flatMap((d) => entries(d.device, d.readOps, d.writeOps)),
      ...psi(s.pressure.io),
    },
    hugetlb: Object.fromEntries(
      Object.entries(s.hugetlb).map((
        [size, h],
      ) => [size, { usage: h.usageBytes, max: h.maxUsageBytes, failcnt: h.failcnt }]),
    ),
    ...(Object.keys(s.misc).length > 0 ? { misc: s.misc } : {}),
    network_interfaces: s.network.map((n) => ({
      name: n.name,
      rx_bytes: n.rxBytes,
      rx_packets: n.rxPackets,
      rx_errors: n.rxErrors,
      rx_dropped: n.rxDropped,
      tx_bytes: n.txBytes,
      tx_packets: n.txPackets,
      tx_errors: n.txErrors,
      tx_dropped: n.txDropped,
    })),
  };
}

/** A resource's PSI as `{psi: {some, full}}` (runc's names), nothing without PSI. */
function psi(p: Pressure | undefined): { psi?: Record<string, Record<string, number>> } {
  if (!p) return {};
  const line = (l: PressureLine) => ({
    avg10: l.avg10,
    avg60: l.avg60,
    avg300: l.avg300,
    total: l.totalUs,
  });
  return { psi: { some: line(p.some), ...(p.full ? { full: line(p.full) } : {}) } };
}

function entries(device: string, read: number, write: number) {
  const [major, minor] = device.split(":").map(Number);
  return [
    { major, minor, op: "Read", value: read },
    { major, minor, op: "Write", value: write },
  ];
}
