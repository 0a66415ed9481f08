/**
 * What the planners need to know besides the spec and the caller's options: facts read
 * from the host (or computed for it), gathered once per launch by
 * `src/container/gather_host_facts.ts`, so that planning itself reads nothing.
 *
 * @module
 */

import type { IdMapPlan } from "../userns/id_maps.ts";

/** The facts of the host a plan depends on. */
export interface HostFacts {
  /** The runtime runs as the host's root (uid 0). */
  root: boolean;
  /** The highest capability number the kernel knows (`/proc/sys/kernel/cap_last_cap`). */
  lastCap: number;
  /** The bind sources that exist and are not directories (a file is made to bind them on). */
  fileSources: readonly string[];
  /**
   * Mount points of the host's whole procfs and sysfs mounts, from our mountinfo (a mount
   * namespace without pivot_root detaches those outside the rootfs). Empty unless asked for.
   */
  pseudoFilesystems: readonly string[];
  /** Who writes the id maps of a new user namespace, when the container has one. */
  idMaps?: IdMapPlan;
  /** The spec's seccomp filter compiled for this machine, when it has one. */
  seccomp?: { flags: number; program: Uint8Array };
}
