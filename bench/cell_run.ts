/**
 * Times cell's library on a bundle: create, start, wait for the exit, destroy, the
 * same work `runc run` does for a container that exits.
 *
 * @module
 */

import { join } from "node:path";
import type { Factory } from "../mod.ts";

/** One timed lifecycle, in milliseconds. */
export interface CellTiming {
  /** create → start → exit → destroy. */
  total: number;
  /** Factory.create. */
  create: number;
  /** Container.start until it resolves. */
  start: number;
  /** From start's resolution to the exit status. */
  exit: number;
  /** Container.destroy. */
  destroy: number;
}

let runs = 0;

/** Runs the bundle's config once through the library and times each step. */
export async function timeCell(factory: Factory, bundleDir: string): Promise<CellTiming> {
  const config = JSON.parse(Deno.readTextFileSync(join(bundleDir, "config.json")));
  const id = `cell-bench-${Deno.pid}-${++runs}`;
  const t0 = performance.now();
  const container = await factory.create(id, config, { bundle: bundleDir });
  const t1 = performance.now();
  let t2 = t1, t3 = t1;
  let code: number | null = null;
  try {
    const proc = await container.start({ stdin: "null", stdout: "null", stderr: "null" });
    t2 = performance.now();
    code = (await proc.status).code;
    t3 = performance.now();
  } finally {
    await container.destroy();
  }
  const t4 = performance.now();
  if (code !== 0) throw new Error(`cell run ${id} exited with ${code}`);
  return { total: t4 - t0, create: t1 - t0, start: t2 - t1, exit: t3 - t2, destroy: t4 - t3 };
}
