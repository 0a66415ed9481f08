/**
 * cgroup v2 (unified hosts): one directory. Controllers are enabled down the path;
 * kill is cgroup.kill where the kernel has it, else freeze, SIGKILL everyone, thaw.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { kill, rmdirRaw } from "../syscalls.ts";
import {
  mkdirTracked,
  readPids,
  removeDefaultParent,
  removeDirs,
  waitEmpty,
  writeCgroupFile,
} from "./fs.ts";
import type {
  CgroupManager,
  CgroupState,
  FreezerState,
  OomSource,
  PreExecMemory,
} from "./manager.ts";
import { planV2 } from "./resources_v2.ts";
import type { CgroupStats } from "./stats.ts";
import { readStatsV2 } from "./stats_v2.ts";
import { applyWrites } from "./writes.ts";
import { applyDeviceProgram } from "./devices_v2.ts";
import { enableControllersDown } from "./hybrid.ts";

/** Where the unified hierarchy is mounted. */
export const UNIFIED_ROOT = "/sys/fs/cgroup";

/** Options of {@linkcode V2Manager}. */
export interface V2Options {
  /** The cgroup path under the unified root, e.g. "/cell/web". */
  path: string;
  /** Where the unified hierarchy is mounted (default /sys/fs/cgroup). */
  root?: string;
  /** linux.resources, applied by create(). */
  resources?: Resources;
  /** A state to resume from (load from another process). */
  state?: CgroupState;
}

/** The cgroup v2 backend. */
export class V2Manager implements CgroupManager {
  readonly mode = "v2" as const;
  #dir: string;
  #root: string;
  #created: string[];
  #resources: Resources;

  /** Plans the directory; nothing is touched until create(). */
  constructor(options: V2Options) {
    this.#root = options.state?.roots.unified ?? options.root ?? UNIFIED_ROOT;
    this.#dir = options.state?.paths.unified ?? this.#root + options.path;
    this.#created = [...options.state?.created ?? []];
    this.#resources = options.resources ?? {};
  }

  /** The container's cgroup directory. */
  get dir(): string {
    return this.#dir;
  }

  state(): CgroupState {
    return {
      mode: "v2",
      paths: { unified: this.#dir },
      roots: { unified: this.#root },
      created: [...this.#created],
    };
  }

  /**
   * On v2 the child is cloned straight into the container's cgroup, where the memory
   * controller can OOM-kill it, and there is no switch to hold the OOM killer: it forks.
   */
  preExecMemory(): PreExecMemory {
    return "own";
  }

  releaseOomKiller(): void {}

  create(): void {
    try {
      this.#enableControllers();
      this.#created = mkdirTracked(this.#dir, this.#root);
      // mkdirTracked made the parents too: enable controllers on them as well.
      this.#enableControllers();
      this.apply(this.#resources);
    } catch (e) {
      for (const dir of [...this.#created].reverse()) rmdirRaw(dir);
      this.#created = [];
      throw e;
    }
  }

  /** Enables the wanted controllers on the way down to the container's directory. */
  #enableControllers(): void {
    enableControllersDown(this.#root, this.#dir);
  }

  apply(resources: Resources): void {
    // Planning checks the host first; the device program goes before the values, so a
    // refused program leaves the values untouched.
    const writes = planV2(resources, this.#dir);
    if (resources.devices?.length) applyDeviceProgram(this.#dir, resources.devices);
    applyWrites(writes);
  }

  procsFiles(): string[] {
    return [`${this.#dir}/cgroup.procs`];
  }

  pids(): number[] {
    // Only a cgroup this container made is its own (never another's at the same path).
    if (this.#created.length === 0) return [];
    return readPids(`${this.#dir}/cgroup.procs`);
  }

  freezerState(): FreezerState {
    if (this.#created.length === 0) return "thawed";
    let asked: string;
    try {
      asked = Deno.readTextFileSync(`${this.#dir}/cgroup.freeze`).trim();
    } catch {
      return "thawed";
    }
    if (asked !== "1") return "thawed";
    return this.#frozen() ? "frozen" : "freezing";
  }

  #frozen(): boolean {
    try {
      return /^frozen 1$/m.test(Deno.readTextFileSync(`${this.#dir}/cgroup.events`));
    } catch {
      return false;
    }
  }

  async freeze(): Promise<void> {
    writeCgroupFile(`${this.#dir}/cgroup.freeze`, "1");
    let delay = 0.5;
    for (let attempt = 0; attempt < 200; attempt++) {
      if (this.#frozen()) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10);
    }
    writeCgroupFile(`${this.#dir}/cgroup.freeze`, "0");
    throw new ContainerError("SystemError", `cannot freeze ${this.#dir}`, { path: this.#dir });
  }

  thaw(): Promise<void> {
    writeCgroupFile(`${this.#dir}/cgroup.freeze`, "0");
    return Promise.resolve();
  }

  stats(initPid: number | null): CgroupStats {
    return readStatsV2(this.#created.length === 0 ? "" : this.#dir, initPid);
  }

  oomSource(): OomSource | null {
    if (this.#created.length === 0) return null;
    const file = `${this.#dir}/memory.events`;
    return {
      kind: "inotify",
      file,
      kills: () => {
        try {
          return Number(/^oom_kill (\d+)$/m.exec(Deno.readTextFileSync(file))?.[1] ?? 0);
        } catch {
          return 0;
        }
      },
    };
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
      await this.freeze();
      try {
        for (const pid of readPids(procs)) kill(pid, 9);
      } finally {
        await this.thaw();
      }
    }
    await waitEmpty(procs);
  }

  async remove(): Promise<void> {
    const mine = this.#created.length > 0;
    await removeDirs(this.#created);
    if (mine) removeDefaultParent(this.#dir, this.#root);
  }
}
