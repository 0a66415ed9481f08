/**
 * The soak's results as text: one table per part.
 *
 * @module
 */

import type { BurstResult } from "./burst.ts";
import type { KillOutcome } from "./kills.ts";
import { killClean } from "./kills.ts";
import type { Limits } from "./limits.ts";
import type { CounterResult } from "./verdict.ts";

const pad = (v: unknown, n: number) => String(v).padStart(n);

/** The counters of a cycle run, with their slopes and totals. */
export function cycleTable(title: string, counters: CounterResult[]): string {
  const lines = [
    title,
    `${"counter".padEnd(12)}${pad("before", 9)}${pad("warm", 9)}${pad("middle", 9)}${
      pad("last", 9)
    }${pad("max", 9)}${pad("slope/cycle", 13)}${pad("total", 8)}  verdict`,
  ];
  for (const c of counters) {
    const t = c.trend;
    const verdict = !c.judged ? "(host-wide, not judged)" : c.grew ? "GREW" : "flat";
    lines.push(
      `${c.counter.padEnd(12)}${pad(c.before, 9)}${pad(t.first, 9)}${pad(t.middle, 9)}${
        pad(t.last, 9)
      }${pad(t.max, 9)}${pad(t.slope.toFixed(3), 13)}${pad(c.total, 8)}  ${verdict}`,
    );
  }
  return lines.join("\n");
}

/** The burst's figures. */
export function burstText(b: BurstResult, limits: Limits): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const raised = limits.nofileRaisedFrom === undefined
    ? "not raised (already at its hard limit)"
    : `raised from ${limits.nofileRaisedFrom}`;
  return [
    `${b.count} containers at once (sleep inits, started concurrently, then destroyed concurrently)`,
    `  limits: pid_max ${limits.pidMax}, threads-max ${limits.threadsMax}, RLIMIT_NPROC ${
      limits.nproc.join("/")
    }, RLIMIT_NOFILE ${limits.nofile.join("/")} (soft ${raised})`,
    `  start: ${b.startMs.toFixed(0)} ms for all, ${b.running} running; destroy: ${
      b.destroyMs.toFixed(0)
    } ms for all`,
    `  peak RSS ${mib(b.peakRssKiB)} MiB (${
      mib(b.rssBeforeKiB)
    } before); peak threads ${b.peakThreads} (${b.threadsBefore} before)`,
    `  failures: ${b.failures.length}`,
  ].join("\n");
}

/** Kills grouped by process and step. */
export function killTable(kills: KillOutcome[]): string {
  const lines = [
    "SIGKILL at every step, then a cleanup from a fresh process",
    `${"process".padEnd(9)}${"step".padEnd(12)}${pad("kills", 6)}${pad("in step", 9)}${
      pad("left by kill", 14)
    }${pad("left after cleanup", 20)}  what was left after cleanup`,
  ];
  const groups = new Map<string, KillOutcome[]>();
  for (const k of kills) {
    const key = `${k.kill.via}\t${k.kill.step}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  }
  for (const [key, group] of groups) {
    const [via, step] = key.split("\t");
    const inStep = group.filter((k) => !k.stepEnded).length;
    const byKill = group.filter((k) => Object.values(k.afterKill).some((n) => n > 0)).length;
    const dirty = group.filter((k) => !killClean(k));
    const sums = { processes: 0, cgroups: 0, mounts: 0, state: 0 };
    for (const k of dirty) {
      for (const w of Object.keys(sums) as (keyof typeof sums)[]) sums[w] += k.left[w];
    }
    const what = Object.entries(sums).filter(([, n]) => n > 0).map(([w, n]) => `${n} ${w}`);
    const errors = dirty.filter((k) => k.error).length;
    if (errors) what.push(`${errors} harness errors`);
    lines.push(
      `${via.padEnd(9)}${step.padEnd(12)}${pad(group.length, 6)}${pad(inStep, 9)}${
        pad(byKill, 14)
      }${pad(dirty.length, 20)}  ${what.join(", ") || "-"}`,
    );
  }
  return lines.join("\n");
}
