/**
 * What the soak counts: this process's fds, threads and RSS, the host's mounts and cgroup
 * directories, the soak's own share of them, state entries, and live processes that carry
 * the soak's marker in their environment.
 *
 * @module
 */

/** One sample of every counter. */
export interface Sample {
  /** Entries of /proc/self/fd. */
  fds: number;
  /** Entries of /proc/self/task. */
  threads: number;
  /** VmRSS of /proc/self/status, KiB. */
  rssKiB: number;
  /** V8 heap in use after a full GC, KiB: objects JavaScript still holds. */
  heapKiB: number;
  /** Lines of the host's /proc/self/mountinfo (every process on the host adds to it). */
  hostMounts: number;
  /** mountinfo lines naming the soak's directory or run id (only the soak adds to it). */
  mounts: number;
  /** Directories under every cgroup hierarchy of the host (every process adds to it). */
  hostCgroups: number;
  /** Cgroup directories, in every hierarchy, whose name holds the soak's run id. */
  cgroups: number;
  /** Files and directories under the soak's state root(s). */
  state: number;
  /** Live processes whose environment holds the soak's marker. */
  processes: number;
}

/** Where the soak's own things are, so that they can be told from other processes' things. */
export interface Scope {
  /** The soak's scratch directory (rootfs, bundles, state roots are below it). */
  dir: string;
  /** The run id: every container id (and so its cgroup directory's name) contains it. */
  runId: string;
  /** The state roots to count. */
  stateRoots: string[];
  /** `NAME=value` put into the environment of every soak process and container. */
  marker: string;
}

/** The directory of every distinct cgroup hierarchy (v1 ones and the cgroup2 one). */
export function cgroupHierarchies(): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || !/^cgroup2?$/.test(fields[dash + 1])) continue;
    const mountPoint = fields[4];
    if (fields[3] !== "/" || !mountPoint.startsWith("/sys/fs/cgroup")) continue;
    const real = Deno.realPathSync(mountPoint);
    if (!seen.has(real)) seen.add(real), found.push(real);
  }
  return found;
}

/** Counts directories under `dir`, itself included (0 when it is absent); bounded depth. */
export function countDirs(dir: string, depth = 16): number {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return 0;
  }
  let n = 1;
  if (depth === 0) return n;
  for (const e of entries) if (e.isDirectory) n += countDirs(`${dir}/${e.name}`, depth - 1);
  return n;
}

/** Directories below `dir` whose name `matches`, deepest last; bounded depth. */
export function findDirs(dir: string, matches: (name: string) => boolean, depth = 8): string[] {
  const found: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isDirectory) continue;
      const path = `${dir}/${e.name}`;
      if (matches(e.name)) found.push(path);
      if (depth > 0) found.push(...findDirs(path, matches, depth - 1));
    }
  } catch { /* gone meanwhile */ }
  return found;
}

/** Cgroup directories of every hierarchy whose name `matches`. */
export function cgroupDirs(matches: (name: string) => boolean): string[] {
  return cgroupHierarchies().flatMap((h) => findDirs(h, matches));
}

/** Counts files and directories below `dir` (not itself; 0 when it is absent). */
export function countEntries(dir: string, depth = 8): number {
  let n = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      n++;
      if (e.isDirectory && depth > 0) n += countEntries(`${dir}/${e.name}`, depth - 1);
    }
  } catch { /* absent */ }
  return n;
}

/** Pids of live (not zombie) processes other than this one whose environment has `marker`. */
export function markedProcesses(marker: string): number[] {
  const pids: number[] = [];
  const needle = new TextEncoder().encode(`${marker}\0`);
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (/\) [ZX] /.test(stat)) continue;
      if (includes(Deno.readFileSync(`/proc/${e.name}/environ`), needle)) pids.push(Number(e.name));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i === 0 || hay[i - 1] === 0;
  }
  return false;
}

/** VmRSS (or another `Vm*` line) of /proc/self/status, in KiB. */
export function statusKiB(field = "VmRSS"): number {
  const match = Deno.readTextFileSync("/proc/self/status").match(
    new RegExp(`^${field}:\\s+(\\d+) kB`, "m"),
  );
  return match ? Number(match[1]) : NaN;
}

/** Entries of a /proc/self directory. */
export function procEntries(name: "fd" | "task"): number {
  return [...Deno.readDirSync(`/proc/self/${name}`)].length;
}

/**
 * Takes one sample. A full GC runs first when it is exposed (`--v8-flags=--expose-gc`), so
 * that the heap holds only what is still referenced.
 */
export function sample(scope: Scope): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo").trimEnd().split("\n");
  const hierarchies = cgroupHierarchies();
  const ours = (name: string) => name.includes(scope.runId);
  return {
    fds: procEntries("fd"),
    threads: procEntries("task"),
    rssKiB: statusKiB(),
    heapKiB: Math.round(Deno.memoryUsage().heapUsed / 1024),
    hostMounts: mountinfo.length,
    mounts: mountinfo.filter((l) => l.includes(scope.dir) || l.includes(scope.runId)).length,
    hostCgroups: hierarchies.reduce((n, h) => n + countDirs(h), 0),
    cgroups: hierarchies.reduce((n, h) => n + findDirs(h, ours).length, 0),
    state: scope.stateRoots.reduce((n, root) => n + countEntries(root), 0),
    processes: markedProcesses(scope.marker).length,
  };
}
