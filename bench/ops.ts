/**
 * Latency of operations on a running container: pause + resume and one stats read,
 * through cell's library and through `runc pause`/`runc resume` and
 * `runc events --stats`, on the same bundle and workload.
 *
 * @module
 */

import { join } from "node:path";
import type { Factory } from "../mod.ts";
import { summarize, type TimingSummary } from "./peers.ts";

/** Medians and spreads of both operations, in milliseconds. */
export interface OpsTiming {
  /** pause then resume. */
  pauseResume: TimingSummary;
  /** one stats read. */
  stats: TimingSummary;
}

/** cell: one container running the bundle's process, `runs` of each operation. */
export async function timeCellOps(
  factory: Factory,
  bundleDir: string,
  runs: number,
): Promise<OpsTiming> {
  const config = JSON.parse(Deno.readTextFileSync(join(bundleDir, "config.json")));
  const container = await factory.create(`cell-ops-${Deno.pid}`, config, { bundle: bundleDir });
  try {
    await container.start({ stdin: "null", stdout: "null", stderr: "null" });
    const pr: number[] = [];
    const st: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await container.pause();
      await container.resume();
      const t1 = performance.now();
      await container.stats();
      st.push(performance.now() - t1);
      pr.push(t1 - t0);
    }
    return { pauseResume: summarize(pr), stats: summarize(st) };
  } finally {
    await container.destroy();
  }
}

async function runc(root: string, ...args: string[]): Promise<void> {
  // No pipes: `runc create` hands its stdio to the container, which keeps them open.
  const status = await new Deno.Command("runc", {
    args: ["--root", root, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().status;
  if (!status.success) throw new Error(`runc ${args.join(" ")} exited with ${status.code}`);
}

/** runc: the same, each operation a runc command as a user would run it. */
export async function timeRuncOps(
  bundleDir: string,
  stateParent: string,
  runs: number,
): Promise<OpsTiming> {
  const root = await Deno.makeTempDir({ prefix: "cell-runc-ops-", dir: stateParent });
  const id = `cell-runc-ops-${Deno.pid}`;
  try {
    await runc(root, "create", "--bundle", bundleDir, id);
    await runc(root, "start", id);
    const pr: number[] = [];
    const st: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await runc(root, "pause", id);
      await runc(root, "resume", id);
      const t1 = performance.now();
      await runc(root, "events", "--stats", id);
      st.push(performance.now() - t1);
      pr.push(t1 - t0);
    }
    return { pauseResume: summarize(pr), stats: summarize(st) };
  } finally {
    await runc(root, "delete", "--force", id).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}
