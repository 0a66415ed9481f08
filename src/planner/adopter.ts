/**
 * Who a planner's parent is after the door's double fork: init, or a child subreaper that
 * adopted it (an engine's conmon or containerd shim). conmon waits for every child before it
 * exits, so a planner that is the last child of its subreaper keeps that process alive: such
 * a planner must not stay long after its last call.
 *
 * @module
 */

/** The parent pid of this process, from /proc/self/stat (0 when outside our pid namespace). */
function parentPid(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** The children of every thread of `pid` (empty when it is gone or the kernel lacks the file). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) out.push(...text.split(" ").map(Number));
    }
  } catch {
    return [];
  }
  return out;
}

/**
 * Whether this process was adopted by a subreaper (its parent is not init) and is that
 * subreaper's only child, so it is all the subreaper may be waiting for.
 */
export function aloneUnderSubreaper(): boolean {
  const parent = parentPid();
  if (!(parent > 1)) return false;
  const children = childrenOf(parent);
  return children.length > 0 && children.every((pid) => pid === Deno.pid);
}
