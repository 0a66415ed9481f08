/**
 * Picks the cgroup backend for this host and restores one from saved state.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import type { CgroupManager, CgroupMode, CgroupState } from "./manager.ts";
import { V1Manager } from "./v1.ts";
import { V2Manager } from "./v2.ts";

export type { CgroupManager, CgroupMode, CgroupState, FreezerState, OomSource } from "./manager.ts";

let detected: CgroupMode | undefined;

/** v2 when /sys/fs/cgroup itself is cgroup2 (a unified host), else v1 (v1 or hybrid). */
export function detectCgroupMode(): CgroupMode {
  if (detected) return detected;
  const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
  const unified = mountinfo.split("\n").some((line) => {
    const [left, right] = line.split(" - ");
    return right?.startsWith("cgroup2 ") && left.split(" ")[4] === "/sys/fs/cgroup";
  });
  detected = unified ? "v2" : "v1";
  return detected;
}

/** Options of {@linkcode cgroupManager}. */
export interface CgroupManagerOptions {
  /** The cgroup path below each hierarchy root, absolute ("/cell/web"). */
  path: string;
  /** linux.resources, applied when the cgroup is made. */
  resources?: Resources;
}

/** A manager for a new container's cgroup on this host. */
export function cgroupManager(options: CgroupManagerOptions): CgroupManager {
  return detectCgroupMode() === "v2"
    ? new V2Manager({ path: options.path, resources: options.resources })
    : new V1Manager({ path: options.path, resources: options.resources });
}

/** A manager for a cgroup recorded in a container's state (resources for create). */
export function restoreCgroupManager(state: CgroupState, resources?: Resources): CgroupManager {
  return state.mode === "v2"
    ? new V2Manager({ path: "", state, resources })
    : new V1Manager({ path: "", state, resources });
}
