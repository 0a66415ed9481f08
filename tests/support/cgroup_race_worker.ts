/**
 * A Deno worker for cgroups_parallel_test.ts: makes a container's v1 cgroups under a
 * shared parent at the moment every worker is released together, reports what the cpuset
 * leaf got, and removes them again, for a number of rounds.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { V1Manager } from "../../src/cgroups/v1.ts";

/** What the test sends: the parent of each round, this worker's name, the barrier. */
export interface RaceJob {
  parents: string[];
  name: string;
  /** Int32Array over a SharedArrayBuffer: [0] the round released, [1] workers waiting. */
  barrier: SharedArrayBuffer;
}

/** One line per round: the cpuset leaf's cpus and mems, or the error. */
export interface RaceResult {
  round: number;
  cpus?: string;
  mems?: string;
  error?: string;
}

self.onmessage = async (event: MessageEvent<RaceJob>) => {
  const { parents, name, barrier } = event.data;
  const sync = new Int32Array(barrier);
  const results: RaceResult[] = [];
  for (let round = 0; round < parents.length; round++) {
    // Wait until the test releases this round (bounded: a lost wake-up fails the round).
    Atomics.add(sync, 1, 1);
    Atomics.wait(sync, 0, round, 10_000);
    const cg = new V1Manager({ path: `${parents[round]}/${name}` });
    try {
      cg.create();
      const dir = cg.state().paths[
        Object.keys(cg.state().paths).find((k) => k.split(",").includes("cpuset"))!
      ];
      results.push({
        round,
        cpus: Deno.readTextFileSync(`${dir}/cpuset.cpus`).trim(),
        mems: Deno.readTextFileSync(`${dir}/cpuset.mems`).trim(),
      });
    } catch (e) {
      results.push({ round, error: String(e) });
    }
    // Removed at once: the next round's parents are made while others still remove.
    await cg.remove().catch((e) => results.push({ round, error: `remove: ${e}` }));
  }
  self.postMessage(results);
  self.close();
};
