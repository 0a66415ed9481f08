/**
 * One interface over the cgroup backends: v1 (also used on hybrid hosts, where every
 * controller is v1) and v2 (unified hosts).
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import type { CgroupStats } from "./stats.ts";

/** The cgroup layout of the host. */
export type CgroupMode = "v1" | "v2";

/** What the freezer says. */
export type FreezerState = "thawed" | "freezing" | "frozen";

/** What is stored in the container's state to find its cgroups again. */
export interface CgroupState {
  /** The backend; "none" for a rootless container without a delegated cgroup. */
  mode: CgroupMode | "none";
  /** Absolute directory per hierarchy (v1: keyed by the hierarchy's controllers; v2: "unified"). */
  paths: Record<string, string>;
  /** Where each hierarchy is mounted, same keys: directories are made below these. */
  roots: Record<string, string>;
  /** Directories this container created, deepest last, removed on destroy. */
  created: string[];
}

/**
 * How a child cloned with the caller's memory (CLONE_VM) may wait in this cgroup before
 * its exec. The memory cgroup's OOM killer kills every process that shares the victim's
 * memory, so a child sharing ours in a cgroup that can OOM would take the caller down:
 * "shared" (no limit anywhere above it: safe), "guarded" (its own limit comes from the
 * config: safe while its OOM killer is held, see {@linkcode CgroupManager.create}), "own"
 * (the child must have memory of its own: forked).
 */
export type PreExecMemory = "shared" | "guarded" | "own";

/** Options of {@linkcode CgroupManager.create}. */
export interface CgroupCreateOptions {
  /**
   * Hold the memory cgroup's OOM killer (v1 memory.oom_control) until
   * {@linkcode CgroupManager.releaseOomKiller}: a charge over the limit fails or waits
   * instead of killing.
   */
  holdOomKiller?: boolean;
}

/** A container's cgroup, whatever the backend. */
export interface CgroupManager {
  /** The backend; "none" for a rootless container without a delegated cgroup. */
  readonly mode: CgroupMode | "none";
  /** What to persist to find this cgroup from another process. */
  state(): CgroupState;
  /** Makes the directories and applies the resources. Undoes itself on failure. */
  create(options?: CgroupCreateOptions): void;
  /** Where a child sharing the caller's memory would wait: see {@linkcode PreExecMemory}. */
  preExecMemory(options: { join: boolean }): PreExecMemory;
  /** Gives the OOM killer held by `create` back its configured behaviour. */
  releaseOomKiller(): void;
  /** Every cgroup.procs file a new process must be written to. */
  procsFiles(): string[];
  /** Host pids in the cgroup (one hierarchy is enough: every process joins all). */
  pids(): number[];
  /** Applies resource values to the live cgroup: all of them, or none. */
  apply(resources: Resources): void;
  /** Freezes every process, waiting (bounded) until the kernel says frozen. */
  freeze(): Promise<void>;
  /** Thaws every process. */
  thaw(): Promise<void>;
  /** The freezer's state. */
  freezerState(): FreezerState;
  /** Usage counters; network ones from the init's network namespace. */
  stats(initPid: number | null): CgroupStats;
  /** The file whose changes tell of OOM kills, and how to count them so far. */
  oomSource(): OomSource | null;
  /** Kills every process in the cgroup and waits until it is empty. */
  killAll(): Promise<void>;
  /** Removes the directories this container created. Idempotent. */
  remove(): Promise<void>;
}

/** Where OOM kills show: v1 memory.oom_control (eventfd), v2 memory.events (inotify). */
export interface OomSource {
  /** "eventfd" (v1 cgroup.event_control) or "inotify" (v2). */
  kind: "eventfd" | "inotify";
  /** memory.oom_control (v1) or memory.events (v2). */
  file: string;
  /** cgroup.event_control (v1 only). */
  eventControl?: string;
  /** The number of OOM kills so far. */
  kills(): number;
}
