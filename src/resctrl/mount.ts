/**
 * Where the resctrl filesystem (Intel RDT, AMD PQoS: cache and memory bandwidth
 * allocation) is mounted, from /proc/self/mountinfo: the runtime's mount namespace, as the
 * spec asks. The kernel makes /sys/fs/resctrl when it supports resctrl, but mounting it is
 * the administrator's choice, and it may be mounted elsewhere.
 *
 * @module
 */

/** The mount point of the first resctrl mount in a mountinfo text, or undefined. */
export function resctrlMountIn(mountinfo: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] !== "resctrl") continue;
    const point = left.split(" ")[4];
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    if (point) return point.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

/** Where resctrl is mounted in this process's mount namespace, or undefined. */
export function resctrlMount(): string | undefined {
  return resctrlMountIn(Deno.readTextFileSync("/proc/self/mountinfo"));
}
