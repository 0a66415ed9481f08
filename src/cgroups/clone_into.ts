/**
 * Whether a process may be cloned straight into its v2 cgroup (clone3 CLONE_INTO_CGROUP).
 *
 * @module
 */

/**
 * The cgroup v2 directory to clone into, or undefined when the process must be placed after
 * its clone instead (not v2). A pids limit is not looked at: a clone into a cgroup at its
 * pids.max fails with EAGAIN (a move into it is allowed), and the native core then falls back
 * to a plain clone and the cgroup.procs writes the plan always carries. That covers a limit
 * of 0 set by any route (`pids.limit`, `unified["pids.max"]`, a later update), where a check
 * here would see only some.
 */
export function cloneIntoDir(mode: string, dir: string | undefined): string | undefined {
  return mode === "v2" ? dir : undefined;
}
