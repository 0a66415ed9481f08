/**
 * Containers made at once under one fresh shared parent cgroup, as engines start them:
 * every one must be able to join its cpuset (a v1 cpuset cgroup starts with no cpus and no
 * mems, so each level is filled before any process joins below it), and a parent removed
 * by one container's destroy must not fail another's creation under it. Runs as root on
 * a host with a v1 cpuset hierarchy (the development VM is a hybrid host).
 *
 * @module
 */

import assert from "node:assert/strict";
import { hybridUnifiedRoot } from "../../src/cgroups/hybrid.ts";
import { v1Hierarchies } from "../../src/cgroups/v1.ts";
import { bundle, cell, stateRoot } from "../support/cli.ts";
import type { RaceJob, RaceResult } from "../support/cgroup_race_worker.ts";

const WORKERS = 12;
const ROUNDS = 40;

function cpusetMount(): string {
  const h = v1Hierarchies().find((h) => h.controllers.split(",").includes("cpuset"));
  assert.ok(h, "no v1 cpuset hierarchy is mounted (this test is for cgroup v1 and hybrid hosts)");
  return h.mount;
}

/** Removes what is left of `parent` in every hierarchy (a parent made by one of many stays). */
function removeParent(parent: string): void {
  const unified = hybridUnifiedRoot();
  const roots = [...v1Hierarchies().map((h) => h.mount), ...(unified ? [unified] : [])];
  for (const root of roots) {
    try {
      Deno.removeSync(`${root}${parent}`);
    } catch { /* gone, or never made */ }
  }
}

Deno.test(`${WORKERS} threads make cgroups under a fresh shared parent at once, ${ROUNDS} times: every cpuset leaf is filled`, async () => {
  cpusetMount();
  const prefix = `/cell-race-${Deno.pid}`;
  const parents = Array.from({ length: ROUNDS }, (_, r) => `${prefix}-${r}`);
  const barrier = new SharedArrayBuffer(8);
  const sync = new Int32Array(barrier);
  const workers = Array.from(
    { length: WORKERS },
    () =>
      new Worker(new URL("../support/cgroup_race_worker.ts", import.meta.url), { type: "module" }),
  );
  let failed: string | undefined;
  const done = workers.map((w) =>
    new Promise<RaceResult[]>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<RaceResult[]>) => resolve(e.data);
      w.onerror = (e) => {
        failed ??= e.message;
        reject(new Error(e.message));
      };
    })
  );
  done.forEach((p) => p.catch(() => {})); // seen through `failed` while the rounds wait
  try {
    workers.forEach((w, i) => w.postMessage({ parents, name: `w${i}`, barrier } satisfies RaceJob));
    for (let round = 0; round < ROUNDS; round++) {
      // Release a round once every worker waits on it (bounded wait, clear failure). The first
      // waits for the workers to load their modules too: on a fresh machine each of them
      // transpiles the graph at once on two cores, which took more than 20 s once.
      const deadline = Date.now() + (round === 0 ? 120_000 : 20_000);
      while (Atomics.load(sync, 1) < WORKERS * (round + 1)) {
        assert.equal(failed, undefined, `a worker failed: ${failed}`);
        assert.ok(Date.now() < deadline, `workers never reached round ${round}`);
        await new Promise((r) => setTimeout(r, 1));
      }
      Atomics.store(sync, 0, round + 1);
      Atomics.notify(sync, 0);
    }
    const all = (await Promise.all(done)).flat();
    const bad = all.filter((r) => r.error !== undefined || !r.cpus || !r.mems);
    assert.deepEqual(bad, [], `${bad.length} of ${all.length} cgroups could not take a process`);
    assert.equal(all.length, WORKERS * ROUNDS);
  } finally {
    workers.forEach((w) => w.terminate());
    parents.forEach(removeParent);
  }
});

Deno.test(`${WORKERS} parallel \`cell run\` under one fresh shared parent all run`, async () => {
  cpusetMount();
  const root = await stateRoot();
  for (let round = 0; round < 3; round++) {
    const parent = `/cell-par-${Deno.pid}-${round}`;
    const dirs = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        bundle(["true"], (s) => {
          s.linux!.cgroupsPath = `${parent}/par-${Deno.pid}-${round}-${i}`;
        })),
    );
    try {
      const runs = await Promise.all(
        dirs.map((dir, i) => cell(root, ["run", "--bundle", dir, `par-${Deno.pid}-${round}-${i}`])),
      );
      const failed = runs.filter((r) => r.code !== 0).map((r) => r.stderr.trim());
      assert.deepEqual(failed, [], `${failed.length} of ${WORKERS} runs failed`);
    } finally {
      removeParent(parent);
    }
  }
});
