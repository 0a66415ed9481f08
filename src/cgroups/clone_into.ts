/**
 * Whether a process may be cloned straight into its v2 cgroup (clone3 CLONE_INTO_CGROUP).
 *
 * @module
 */

import type { Resources } from "../config/types.ts";

/**
 * The cgroup v2 directory to clone into, or undefined when the process must be placed after
 * its clone instead: not v2, or a pids limit of 0. A clone into a cgroup counts against its
 * pids limit (and is refused at 0), while moving a process in is not a fork and is allowed.
 */
export function cloneIntoDir(
  mode: string,
  dir: string | undefined,
  resources: Resources | undefined,
): string | undefined {
  if (mode !== "v2" || resources?.pids?.limit === 0) return undefined;
  return dir;
}
