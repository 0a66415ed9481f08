/**
 * cgroup v2 (unified hosts): one directory; kill through cgroup.kill where the kernel
 * has it, else freeze, SIGKILL everyone and thaw.
 *
 * @module
 */

import { kill } from "../syscalls.ts";
import { mkdirTracked, readPids, removeDirs, waitEmpty, writeCgroupFile } from "./fs.ts";
import type { CgroupManager, CgroupState } from "./manager.ts";

/** Where the unified hierarchy is mounted. */
export const UNIFIED_ROOT = "/sys/fs/cgroup";

/** Options of {@linkcode V2Manager}. */
export interface V2Options {
  /** The cgroup path under the unified root, e.g. "/cell/web". */
  path: string;
  /** Where the unified hierarchy is mounted (default /sys/fs/cgroup). */
  root?: string;
  /** A state to resume from (load from another process). */
  state?: CgroupState;
}

/** The cgroup v2 backend. */
export class V2Manager implements CgroupManager {
  readonly mode = "v2" as const;
  #dir: string;
  #root: string;
  #created: string[];

  /** Plans the directory; nothing is touched until create(). */
  constructor(options: V2Options) {
    this.#root = options.state?.roots.unified ?? options.root ?? UNIFIED_ROOT;
    this.#dir = options.state?.paths.unified ?? this.#root + options.path;
    this.#created = [...options.state?.created ?? []];
  }

  state(): CgroupState {
    return {
      mode: "v2",
      paths: { unified: this.#dir },
      roots: { unified: this.#root },
      created: [...this.#created],
    };
  }

  create(): void {
    this.#created = mkdirTracked(this.#dir, this.#root);
  }

  procsFiles(): string[] {
    return [`${this.#dir}/cgroup.procs`];
  }

  pids(): number[] {
    // Only a cgroup this container made is its own (never another's at the same path).
    if (this.#created.length === 0) return [];
    return readPids(`${this.#dir}/cgroup.procs`);
  }

  async killAll(): Promise<void> {
    if (this.#created.length === 0) return;
    const procs = `${this.#dir}/cgroup.procs`;
    if (readPids(procs).length === 0) return;
    let killed = false;
    try {
      writeCgroupFile(`${this.#dir}/cgroup.kill`, "1");
      killed = true;
    } catch { /* kernels before 5.14 have no cgroup.kill */ }
    if (!killed) {
      writeCgroupFile(`${this.#dir}/cgroup.freeze`, "1");
      try {
        for (const pid of readPids(procs)) kill(pid, 9);
      } finally {
        writeCgroupFile(`${this.#dir}/cgroup.freeze`, "0");
      }
    }
    await waitEmpty(procs);
  }

  async remove(): Promise<void> {
    await removeDirs(this.#created);
  }
}
