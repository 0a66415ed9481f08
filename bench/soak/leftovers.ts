/**
 * What one container left on the host: live processes carrying its marker, cgroup
 * directories named after it, mounts naming it, and its state directory.
 *
 * @module
 */

import { join } from "node:path";
import { cgroupDirs, markedProcesses } from "./probe.ts";
import { idMarker } from "./setup.ts";

/** Counts of what is left of one container. */
export interface Leftovers {
  /** Live processes with the container's marker (its own, or a runtime child of the soak). */
  processes: number;
  /** Cgroup directories named after the id, in every hierarchy. */
  cgroups: number;
  /** Lines of the host's mountinfo naming the id. */
  mounts: number;
  /** 1 when the id's directory is still in the state root. */
  state: number;
}

/** Whether nothing is left. */
export function isClean(left: Leftovers): boolean {
  return left.processes + left.cgroups + left.mounts + left.state === 0;
}

/** What is left of `id` now. Ids must not be prefixes of each other (pad their numbers). */
export function leftoversOf(stateRoot: string, id: string): Leftovers {
  let state = 0;
  try {
    Deno.lstatSync(join(stateRoot, id));
    state = 1;
  } catch { /* gone */ }
  return {
    processes: markedProcesses(idMarker(id)).length,
    cgroups: cgroupDirs((name) => name === id).length,
    mounts: Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
      .filter((l) => l.includes(id)).length,
    state,
  };
}

/**
 * What is left of `id` once it stops shrinking: killed processes take a moment to exit,
 * so this polls until nothing is left or `timeoutMs` passed, and returns the last count.
 */
export async function settledLeftovers(
  stateRoot: string,
  id: string,
  timeoutMs = 3000,
): Promise<Leftovers> {
  const deadline = performance.now() + timeoutMs;
  let left = leftoversOf(stateRoot, id);
  while (!isClean(left) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = leftoversOf(stateRoot, id);
  }
  return left;
}
