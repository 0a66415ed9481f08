/**
 * A planner outlives the call that started it, so it must not stay in that caller's cgroups:
 * an engine removes a container's or a shim's cgroup when it is done (a resident process
 * would keep it busy) and may kill everything in it, and the caller's limits are not the
 * planner's. It moves itself to the root of every cgroup hierarchy it can see.
 *
 * @module
 */

/** The mount points of cgroup hierarchies mounted at their root (from mountinfo). */
export function cgroupRoots(mountinfo: string): string[] {
  const roots: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const fstype = right.split(" ")[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const fields = left.split(" ");
    // A bind of a sub-cgroup (root field not "/") is no hierarchy's root.
    if (fields[3] === "/" && fields[4]) roots.push(fields[4].replace(/\\040/g, " "));
  }
  return [...new Set(roots)];
}

/** Moves this process to the root cgroup of each hierarchy; what could not be moved, and why. */
export function leaveCallerCgroups(): string[] {
  const failed: string[] = [];
  for (const root of cgroupRoots(Deno.readTextFileSync("/proc/self/mountinfo"))) {
    try {
      Deno.writeTextFileSync(`${root}/cgroup.procs`, String(Deno.pid));
    } catch (e) {
      failed.push(`${root}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed;
}
