/**
 * What counts as growth, a failure or a leftover, for the full run and the short one, and
 * the list of findings that makes `deno task soak` exit non-zero.
 *
 * @module
 */

import type { BurstResult } from "./burst.ts";
import type { CycleRun } from "./cycles.ts";
import { killClean, type KillOutcome } from "./kills.ts";
import type { Sample } from "./probe.ts";
import type { SweepResult } from "./sweep.ts";
import { EXACT, grew, type Tolerance, type Trend, trend } from "./trend.ts";

/** The counters judged for library cycles (in this process) and for CLI cycles. */
export const LIBRARY_COUNTERS = [
  "fds",
  "threads",
  "rssKiB",
  "heapKiB",
  "mounts",
  "cgroups",
  "state",
  "processes",
] as const satisfies ReadonlyArray<keyof Sample>;

/** CLI cycles run in fresh processes: only what they leave on the host is judged. */
export const CLI_COUNTERS = [
  "mounts",
  "cgroups",
  "state",
  "processes",
] as const satisfies ReadonlyArray<keyof Sample>;

/** The host-wide counters, printed for information only: other processes change them. */
export const HOST_COUNTERS = ["hostMounts", "hostCgroups"] as const satisfies ReadonlyArray<
  keyof Sample
>;

/** Counters that must be back at their value from before the first cycle. */
const SCOPED: ReadonlyArray<keyof Sample> = ["mounts", "cgroups", "state", "processes"];

/**
 * Tolerances. The soak's own host objects (mounts, cgroups, state, processes) allow
 * nothing. fds allow nothing in the full run; in the short one a single late fd or two of
 * Deno's own may appear, while a leak of one per cycle gives a slope of 1. Threads may
 * vary by the one or two of the runtime's blocking pool. RSS and the V8 heap (after a full
 * GC) settle slowly as code is optimized: the full run allows 2 KiB RSS and 0.5 KiB heap
 * per cycle (a leaked plan buffer or a retained container object is several KiB, a leaked
 * thread stack far more); the short run, whose second half is 25 cycles, sees RSS noise of
 * ±25 KiB per cycle and allows 64 KiB (a leaked mapping still shows).
 */
export function tolerances(short: boolean): Record<keyof Sample, Tolerance> {
  return {
    fds: short ? { slopeLimit: 0.2, endLimit: 2 } : EXACT,
    threads: { slopeLimit: short ? 0.2 : 0.01, endLimit: 2 },
    rssKiB: short ? { slopeLimit: 64, endLimit: 4096 } : { slopeLimit: 2, endLimit: 2048 },
    heapKiB: short ? { slopeLimit: 8, endLimit: 512 } : { slopeLimit: 0.5, endLimit: 512 },
    mounts: EXACT,
    cgroups: EXACT,
    state: EXACT,
    processes: EXACT,
    hostMounts: EXACT,
    hostCgroups: EXACT,
  };
}

/** One counter's trend and whether it is a finding. */
export interface CounterResult {
  /** Counter name. */
  counter: keyof Sample;
  /** Before the first (warm-up) cycle. */
  before: number;
  /** Its trend over the measured cycles. */
  trend: Trend;
  /** `last - before`: the total change over the whole run, warm-up included. */
  total: number;
  /** Whether this is judged (host-wide counters are not). */
  judged: boolean;
  /** Whether it grew beyond its tolerance (or a scoped one did not come back). */
  grew: boolean;
}

/** The counters of a cycle run, judged. */
export function judgeCycles(
  run: CycleRun,
  counters: ReadonlyArray<keyof Sample>,
  short: boolean,
): CounterResult[] {
  const limits = tolerances(short);
  const all = [...counters, ...HOST_COUNTERS];
  if (run.samples.length === 0) return [];
  return all.map((counter) => {
    const t = trend(run.samples.map((s) => s[counter]));
    const judged = counters.includes(counter);
    const notBack = SCOPED.includes(counter) && t.last !== run.before[counter];
    return {
      counter,
      before: run.before[counter],
      trend: t,
      total: t.last - run.before[counter],
      judged,
      grew: judged && (grew(t, limits[counter]) || notBack),
    };
  });
}

/** Everything the soak measured. */
export interface SoakResults {
  /** Library cycles and their judged counters. */
  library?: { run: CycleRun; counters: CounterResult[] };
  /** CLI cycles and their judged counters. */
  cli?: { run: CycleRun; counters: CounterResult[] };
  /** The burst. */
  burst?: BurstResult;
  /** The kills. */
  kills?: KillOutcome[];
  /** The final sweep. */
  sweep?: SweepResult;
}

/** Every finding, one line each; empty when the run is clean. */
export function findings(results: SoakResults): string[] {
  const out: string[] = [];
  for (const [name, part] of [["library", results.library], ["cli", results.cli]] as const) {
    if (!part) continue;
    for (const f of part.run.failures) out.push(`${name} cycle failed: ${f}`);
    for (const c of part.counters) {
      if (!c.grew) continue;
      out.push(
        `${name} cycles: ${c.counter} grew (slope ${c.trend.slope.toFixed(3)}/cycle, ` +
          `${c.trend.middle} -> ${c.trend.last} over the second half, ${c.total} in all)`,
      );
    }
  }
  if (results.burst) {
    const b = results.burst;
    if (b.failures.length) {
      out.push(`burst: ${b.failures.length} failures of ${b.count}: ${distinct(b.failures)}`);
    }
  }
  for (const k of results.kills ?? []) {
    if (killClean(k)) continue;
    const left = Object.entries(k.left).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
    out.push(
      `kill ${k.kill.via} ${k.kill.step} at ${k.kill.delayMs.toFixed(2)} ms (${k.id}): ` +
        (k.error ? `${k.error}; ` : "") + (left.length ? `left ${left.join(", ")}` : "") +
        ` after cleanup (${k.cleanup})`,
    );
  }
  const sw = results.sweep;
  if (sw && sw.problems.length) out.push(`sweep could not remove: ${sw.problems.join("; ")}`);
  return out;
}

/** The distinct messages of a list, with how often each came, most frequent first. */
export function distinct(messages: string[], limit = 3): string {
  const counts = new Map<string, number>();
  // Numbers vary (fd numbers, pids): group messages by their words.
  for (const m of messages) {
    const key = m.replace(/\d+/g, "N");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([m, n]) => `${n}× ${m}`).join("; ");
}
