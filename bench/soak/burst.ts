/**
 * Many containers at once from one process: N `sleep` inits started concurrently, checked
 * running, then all destroyed concurrently. Wall times, this process's peak RSS (VmHWM,
 * reset first) and peak thread count, and every failure.
 *
 * @module
 */

import { type Container, type ContainerProcess, createFactory } from "../../mod.ts";
import { procEntries, statusKiB } from "./probe.ts";
import { soakConfig, type SoakSpace } from "./setup.ts";

/** What a burst measured. */
export interface BurstResult {
  /** Containers asked for. */
  count: number;
  /** From the first create to the last start resolved, ms. */
  startMs: number;
  /** Containers whose init was running after all starts resolved. */
  running: number;
  /** From the first destroy to the last one resolved, ms. */
  destroyMs: number;
  /** VmHWM of this process over the burst, KiB. */
  peakRssKiB: number;
  /** VmRSS before the burst, KiB. */
  rssBeforeKiB: number;
  /** Most threads of this process seen during the burst. */
  peakThreads: number;
  /** Threads before the burst. */
  threadsBefore: number;
  /** Every failed create, start, status check or destroy, with its message. */
  failures: string[];
}

/** Starts `count` containers of `sleep` at once, then destroys them all at once. */
export async function burst(space: SoakSpace, count: number): Promise<BurstResult> {
  const factory = createFactory({ root: space.libraryRoot });
  const failures: string[] = [];
  const inits: ContainerProcess[] = [];
  const threadsBefore = procEntries("task");
  const rssBeforeKiB = statusKiB();
  let peakThreads = threadsBefore;
  const watchThreads = () => peakThreads = Math.max(peakThreads, procEntries("task"));
  // "5" resets the peak RSS (VmHWM) to the current RSS: the peak is then the burst's own.
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  const timer = setInterval(watchThreads, 5);
  try {
    const t0 = performance.now();
    const started = await Promise.allSettled(
      Array.from({ length: count }, async (_, n) => {
        const id = `${space.runId}-burst-${n}`;
        const container = await factory.create(id, soakConfig(space, id, ["sleep", "3600"]));
        try {
          inits.push(await container.start({ stdin: "null", stdout: "null", stderr: "null" }));
        } catch (e) {
          await container.destroy().catch(() => {});
          throw e;
        } finally {
          watchThreads();
        }
        return container;
      }),
    );
    const startMs = performance.now() - t0;
    const containers: Container[] = [];
    for (const r of started) {
      if (r.status === "fulfilled") containers.push(r.value);
      else failures.push(`start: ${message(r.reason)}`);
    }
    let running = 0;
    for (const c of containers) {
      const status = await c.status();
      if (status === "running") running++;
      else failures.push(`${c.id}: ${status} after start, not running`);
    }
    const t1 = performance.now();
    const destroyed = await Promise.allSettled(containers.map((c) => c.destroy()));
    const destroyMs = performance.now() - t1;
    for (const r of destroyed) {
      if (r.status === "rejected") failures.push(`destroy: ${message(r.reason)}`);
    }
    // destroy() returns once the inits are dead; their exit statuses (and pidfds) are
    // collected by the waiter just after.
    const reaped = await withTimeout(Promise.all(inits.map((p) => p.status)), 10_000);
    if (!reaped) failures.push("the inits' exit statuses did not all arrive within 10 s");
    watchThreads();
    return {
      count,
      startMs,
      running,
      destroyMs,
      peakRssKiB: statusKiB("VmHWM"),
      rssBeforeKiB,
      peakThreads,
      threadsBefore,
      failures,
    };
  } finally {
    clearInterval(timer);
  }
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
