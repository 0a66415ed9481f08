/**
 * Whether a caller lives in the planner's namespaces. A call is planned where the planner
 * lives: its paths resolve in the planner's mount namespace, `linux.netDevices` and network
 * records use its network namespace, pids and ids are read in its pid and user namespaces,
 * cgroup paths in its cgroup namespace. A caller elsewhere is sent back to run in-process.
 * (uts, ipc and time need no check: the door clones, so the container inherits the caller's.)
 *
 * @module
 */

/** The namespaces a call's plan depends on. */
export const PLANNED_NAMESPACES = ["net", "mnt", "pid", "user", "cgroup"] as const;

/** One namespace's identity: the nsfs device and inode of `/proc/<pid>/ns/<name>`. */
function identity(pid: number | "self", name: string): string {
  const { dev, ino } = Deno.statSync(`/proc/${pid}/ns/${name}`);
  return `${dev}:${ino}`;
}

/** The planner's own namespaces, read once at start. */
export function ownNamespaces(): string[] {
  return PLANNED_NAMESPACES.map((name) => identity("self", name));
}

/**
 * The first namespace in which process `pid` differs from `own` (as {@linkcode ownNamespaces}
 * read them), or undefined when it shares them all. A pid not visible here (0: the caller is
 * in a pid namespace the planner cannot see into) or gone counts as different.
 */
export function foreignNamespace(pid: number, own: string[]): string | undefined {
  if (pid <= 0) return "pid";
  for (const [i, name] of PLANNED_NAMESPACES.entries()) {
    let theirs: string;
    try {
      theirs = identity(pid, name);
    } catch {
      return name;
    }
    if (theirs !== own[i]) return name;
  }
  return undefined;
}
