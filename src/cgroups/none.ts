/**
 * No cgroup at all: a rootless container whose cgroup is not delegated to its user.
 * Processes are found through the init's pid namespace instead, and everything that
 * needs a cgroup (limits, pause, OOM events) says so clearly.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { kill } from "../syscalls.ts";
import type {
  CgroupManager,
  CgroupState,
  FreezerState,
  OomSource,
  PreExecMemory,
} from "./manager.ts";
import { readNetDev } from "./net_stats.ts";
import { type CgroupStats, emptyStats } from "./stats.ts";

/** The state of a container without a cgroup. */
export const NO_CGROUP: CgroupState = { mode: "none", paths: {}, roots: {}, created: [] };

/** Options of {@linkcode NoCgroupManager}. */
export interface NoCgroupOptions {
  /** The init's host pid, once it runs. */
  initPid: number | null;
}

/** A container without a cgroup (rootless, not delegated). */
export class NoCgroupManager implements CgroupManager {
  readonly mode = "none" as const;
  #initPid: number | null;

  /** A manager that finds processes through the init. */
  constructor(options: NoCgroupOptions) {
    this.#initPid = options.initPid;
  }

  state(): CgroupState {
    return structuredClone(NO_CGROUP);
  }

  create(): void {}

  preExecMemory(): PreExecMemory {
    return "shared"; // no memory cgroup of the container's
  }

  releaseOomKiller(): void {}

  procsFiles(): string[] {
    return [];
  }

  /** Every process sharing the init's pid namespace, or the init and its descendants. */
  pids(): number[] {
    const init = this.#initPid;
    if (init === null) return [];
    const ns = linkOf(`/proc/${init}/ns/pid`);
    if (ns === null) return [];
    const all = listPids();
    if (ns !== linkOf("/proc/self/ns/pid")) {
      return all.filter((p) => linkOf(`/proc/${p}/ns/pid`) === ns);
    }
    return descendants(init, all);
  }

  apply(resources: Resources): void {
    const fields = Object.entries(resources).filter(([k, v]) => k !== "devices" && v !== undefined);
    if (fields.length > 0) throw noCgroup(`set linux.resources.${fields[0][0]}`);
  }

  freeze(): Promise<void> {
    return Promise.reject(noCgroup("pause"));
  }

  thaw(): Promise<void> {
    return Promise.reject(noCgroup("resume"));
  }

  freezerState(): FreezerState {
    return "thawed";
  }

  /** Only the process count and the network counters exist without a cgroup. */
  stats(initPid: number | null): CgroupStats {
    const stats = emptyStats();
    stats.pids.current = this.pids().length;
    if (initPid !== null) stats.network = readNetDev(initPid);
    return stats;
  }

  oomSource(): OomSource | null {
    return null;
  }

  /** SIGKILL to every process found, then waits (bounded) until none is left. */
  async killAll(): Promise<void> {
    for (let round = 0; round < 200; round++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      if (round % 20 === 0) { for (const pid of pids) kill(pid, 9); }
      await new Promise((r) => setTimeout(r, round < 10 ? 1 : 10));
    }
  }

  async remove(): Promise<void> {}
}

function noCgroup(action: string): ContainerError {
  return new ContainerError(
    "SystemError",
    `cannot ${action}: this rootless container has no cgroup (none is delegated to uid ` +
      `${Deno.uid()}); give the user a cgroup subtree to use limits, pause and OOM events`,
  );
}

function linkOf(path: string): string | null {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return null;
  }
}

function listPids(): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (/^\d+$/.test(entry.name)) out.push(Number(entry.name));
  }
  return out;
}

/** `root` and every process below it, from the parent pids in /proc/<pid>/stat. */
function descendants(root: number, all: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const pid of all) {
    const ppid = parentOf(pid);
    if (ppid === null) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < all.length) {
    const pid = queue.shift() as number;
    if (!all.includes(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function parentOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}
