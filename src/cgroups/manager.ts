/**
 * One interface over the cgroup backends: v1 (also used on hybrid hosts, where every
 * controller is v1) and v2 (unified hosts). Resource limits, pause/resume and stats
 * come next; they will be methods here, implemented by each backend.
 *
 * @module
 */

/** The cgroup layout of the host. */
export type CgroupMode = "v1" | "v2";

/** What is stored in the container's state to find its cgroups again. */
export interface CgroupState {
  /** The backend. */
  mode: CgroupMode;
  /** Absolute directory per hierarchy (v1: keyed by the hierarchy's controllers; v2: "unified"). */
  paths: Record<string, string>;
  /** Where each hierarchy is mounted, same keys: directories are made below these. */
  roots: Record<string, string>;
  /** Directories this container created, deepest last, removed on destroy. */
  created: string[];
}

/** A container's cgroup, whatever the backend. */
export interface CgroupManager {
  /** The backend. */
  readonly mode: CgroupMode;
  /** What to persist to find this cgroup from another process. */
  state(): CgroupState;
  /** Makes the directories and applies the initial settings. Undoes itself on failure. */
  create(): void;
  /** Every cgroup.procs file a new process must be written to. */
  procsFiles(): string[];
  /** Host pids in the cgroup (one hierarchy is enough: every process joins all). */
  pids(): number[];
  /** Kills every process in the cgroup and waits until it is empty. */
  killAll(): Promise<void>;
  /** Removes the directories this container created. Idempotent. */
  remove(): Promise<void>;
}
