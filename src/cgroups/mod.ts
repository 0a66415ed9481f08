/**
 * Picks the cgroup backend for this host and restores one from saved state.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import type { CgroupManager, CgroupMode, CgroupState } from "./manager.ts";
import { ContainerError } from "../errors.ts";
import { needsCgroup, undelegated } from "./delegation.ts";
import { NoCgroupManager } from "./none.ts";
import { V1Manager } from "./v1.ts";
import { V2Manager } from "./v2.ts";
import { UNIFIED_KEY } from "./hybrid.ts";
import { hostHasRdmaController, rdmaUnavailable } from "./rdma.ts";

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
  /**
   * The uid of a non-root caller: the cgroup is used only if it is delegated to them,
   * else the container has none (and resources other than device rules are refused).
   */
  rootlessUid?: number;
}

/**
 * A manager for a new container's cgroup on this host. Limits on a controller this kernel
 * lacks altogether (rdma) are refused here, before anything is made.
 */
export function cgroupManager(options: CgroupManagerOptions): CgroupManager {
  const rdma = options.resources?.rdma;
  if (rdma && Object.keys(rdma).length > 0 && !hostHasRdmaController()) {
    throw rdmaUnavailable("here");
  }
  const manager = detectCgroupMode() === "v2"
    ? new V2Manager({ path: options.path, resources: options.resources })
    : new V1Manager({ path: options.path, resources: options.resources });
  const uid = options.rootlessUid;
  if (uid === undefined || uid === 0) return manager;
  const refused = undelegated(manager.state(), uid);
  if (refused.length === 0) return manager;
  // A hybrid host's unified directory is extra: without it the v1 ones still serve, as
  // long as no limit needs a controller that lives only there.
  const state = manager.state();
  if (manager.mode === "v1" && state.paths[UNIFIED_KEY] !== undefined) {
    const v1Only = { ...state, paths: { ...state.paths } };
    delete v1Only.paths[UNIFIED_KEY];
    if (undelegated(v1Only, uid).length === 0) {
      return new V1Manager({ path: options.path, resources: options.resources, unified: false });
    }
  }
  if (needsCgroup(options.resources)) {
    throw new ContainerError(
      "ConfigInvalid",
      `linux.resources: limits need a cgroup, and ${refused[0]} is not delegated to uid ${uid} ` +
        `(chown it to the user, or remove linux.resources)`,
    );
  }
  return new NoCgroupManager({ initPid: null });
}

/**
 * A manager for a cgroup recorded in a container's state (resources for create; the
 * init's pid finds the processes of a container without a cgroup).
 */
export function restoreCgroupManager(
  state: CgroupState,
  resources?: Resources,
  initPid: number | null = null,
): CgroupManager {
  if (state.mode === "none") return new NoCgroupManager({ initPid });
  return state.mode === "v2"
    ? new V2Manager({ path: "", state, resources })
    : new V1Manager({ path: "", state, resources });
}
