/**
 * cgroup v1: one directory per hierarchy. On a hybrid host the container also gets a
 * directory in the unified (cgroup2) hierarchy, where the controllers no v1 hierarchy has
 * are enabled, limited and read. Kill is freeze, SIGKILL everyone, thaw, so nothing
 * forks away meanwhile.
 *
 * @module
 */

import type { DeviceRule, Resources } from "../config/types.ts";
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
  CgroupCreateOptions,
  CgroupManager,
  CgroupState,
  FreezerState,
  OomSource,
  PreExecMemory,
} from "./manager.ts";
import { DEFAULT_ALLOWED_RULES } from "./device_filter.ts";
import { planV1 } from "./resources_v1.ts";
import type { CgroupStats } from "./stats.ts";
import { readStatsV1 } from "./stats_v1.ts";
import { applyWrites } from "./writes.ts";
import { controllersOf, enableControllersDown, hybridUnifiedRoot, UNIFIED_KEY } from "./hybrid.ts";

/** A mounted v1 hierarchy. */
export interface Hierarchy {
  /** Its mount point, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** Its controllers as mounted, e.g. "cpu,cpuacct" or "name=systemd". */
  controllers: string;
}

let cachedHierarchies: Hierarchy[] | undefined;

/** The v1 hierarchies of this host, from /proc/self/mountinfo (read once per process). */
export function v1Hierarchies(): Hierarchy[] {
  if (cachedHierarchies) return cachedHierarchies;
  const out: Hierarchy[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const [fstype, , superOptions] = right.split(" ");
    if (fstype !== "cgroup") continue;
    const mount = left.split(" ")[4];
    const controllers = superOptions.split(",").filter((o) =>
      o !== "rw" && o !== "ro" && !o.startsWith("release_agent") && o !== "clone_children" &&
      o !== "xattr" && o !== "noprefix"
    ).join(",");
    if (!out.some((h) => h.controllers === controllers)) out.push({ mount, controllers });
  }
  cachedHierarchies = out;
  return out;
}

function deviceRule(rule: DeviceRule): string {
  const major = rule.major === undefined ? "*" : String(rule.major);
  const minor = rule.minor === undefined ? "*" : String(rule.minor);
  const type = rule.type ?? "a";
  return type === "a" ? "a" : `${type} ${major}:${minor} ${rule.access ?? "rwm"}`;
}

/** Options of {@linkcode V1Manager}. */
export interface V1Options {
  /** The cgroup path under each hierarchy root, e.g. "/cell/web". */
  path: string;
  /** linux.resources, applied by create(). */
  resources?: Resources;
  /** A state to resume from (load from another process). */
  state?: CgroupState;
  /**
   * On a hybrid host, also a directory in the unified hierarchy (default true; false for
   * a rootless container whose unified cgroup is not delegated).
   */
  unified?: boolean;
}

/** The cgroup v1 backend. */
export class V1Manager implements CgroupManager {
  readonly mode = "v1" as const;
  #paths: Record<string, string>;
  #roots: Record<string, string> = {};
  #created: string[];
  #resources: Resources;

  /** Plans the directories; nothing is touched until create(). */
  constructor(options: V1Options) {
    this.#resources = options.resources ?? {};
    if (options.state) {
      this.#paths = { ...options.state.paths };
      this.#roots = { ...options.state.roots };
      this.#created = [...options.state.created];
      return;
    }
    this.#paths = {};
    for (const h of v1Hierarchies()) {
      this.#paths[h.controllers] = h.mount + options.path;
      this.#roots[h.controllers] = h.mount;
    }
    const unified = options.unified === false ? undefined : hybridUnifiedRoot();
    if (unified !== undefined) {
      this.#paths[UNIFIED_KEY] = unified + options.path;
      this.#roots[UNIFIED_KEY] = unified;
    }
    this.#created = [];
  }

  state(): CgroupState {
    return {
      mode: "v1",
      paths: { ...this.#paths },
      roots: { ...this.#roots },
      created: [...this.#created],
    };
  }

  create(options: CgroupCreateOptions = {}): void {
    try {
      for (const [controllers, dir] of Object.entries(this.#paths)) {
        const made = mkdirTracked(dir, this.#roots[controllers]);
        this.#created.push(...made);
        if (controllers === UNIFIED_KEY) enableControllersDown(this.#roots[controllers], dir);
        if (controllers.split(",").includes("cpuset")) inheritCpuset(dir, this.#roots[controllers]);
      }
      this.apply(this.#resources);
      const memory = this.#dirOf("memory");
      if (options.holdOomKiller && memory !== undefined) {
        writeCgroupFile(`${memory}/memory.oom_control`, "1");
      }
    } catch (e) {
      for (const dir of [...this.#created].reverse()) rmdirRaw(dir);
      this.#created = [];
      throw e;
    }
  }

  /**
   * A joining child waits in the live memory cgroup: it must fork if that cgroup or one
   * above it has a limit. An init's cgroup gets its limit from the config while the child
   * waits: "guarded" (create holds the OOM killer), unless a cgroup above has a limit.
   */
  preExecMemory(options: { join: boolean }): PreExecMemory {
    const m = this.#resources.memory;
    const limited = m !== undefined &&
      [m.limit, m.swap, m.kernelTCP].some((v) => v !== undefined && v !== -1);
    const key = Object.keys(this.#paths).find((k) => k.split(",").includes("memory"));
    if (key === undefined) {
      // Memory on the cgroup2 side of a hybrid host (no v1 hierarchy has it): nothing
      // holds the OOM killer there, so a child that could meet a limit is forked.
      const root = this.#roots[UNIFIED_KEY];
      const onUnified = root !== undefined && controllersOf(root).includes("memory");
      return onUnified && (options.join || limited) ? "own" : "shared";
    }
    if (memoryLimitedAbove(this.#paths[key], this.#roots[key], options.join)) return "own";
    if (options.join) return "shared";
    return limited ? "guarded" : "shared";
  }

  releaseOomKiller(): void {
    const dir = this.#dirOf("memory");
    if (dir === undefined || this.#created.length === 0) return;
    const disabled = this.#resources.memory?.disableOOMKiller === true;
    writeCgroupFile(`${dir}/memory.oom_control`, disabled ? "1" : "0");
  }

  apply(resources: Resources): void {
    // Planning checks the host first; device rules go before the values, so a refused
    // rule leaves the values untouched (rules themselves are not rolled back).
    const writes = planV1(resources, this.#paths);
    if (resources.devices?.length) this.#applyDevices(resources.devices);
    applyWrites(writes);
  }

  #applyDevices(rules: readonly DeviceRule[]): void {
    const dir = this.#dirOf("devices");
    if (dir === undefined) {
      throw new ContainerError(
        "ConfigInvalid",
        "linux.resources.devices: no devices hierarchy is mounted",
      );
    }
    for (const rule of rules) {
      writeCgroupFile(`${dir}/devices.${rule.allow ? "allow" : "deny"}`, deviceRule(rule));
    }
    for (const rule of DEFAULT_ALLOWED_RULES) {
      writeCgroupFile(`${dir}/devices.allow`, deviceRule(rule));
    }
  }

  #dirOf(controller: string): string | undefined {
    const key = Object.keys(this.#paths).find((k) => k.split(",").includes(controller));
    return key === undefined ? undefined : this.#paths[key];
  }

  procsFiles(): string[] {
    return Object.values(this.#paths).map((dir) => `${dir}/cgroup.procs`);
  }

  #procsFile(): string {
    const dir = this.#dirOf("freezer") ?? Object.values(this.#paths)[0];
    if (dir === undefined) {
      throw new ContainerError("SystemError", "no cgroup v1 hierarchy is mounted");
    }
    return `${dir}/cgroup.procs`;
  }

  pids(): number[] {
    // Only a cgroup this container made is its own (never another's at the same path).
    if (this.#created.length === 0) return [];
    return readPids(this.#procsFile());
  }

  freezerState(): FreezerState {
    const dir = this.#dirOf("freezer");
    if (dir === undefined || this.#created.length === 0) return "thawed";
    let text: string;
    try {
      text = Deno.readTextFileSync(`${dir}/freezer.state`).trim();
    } catch {
      return "thawed";
    }
    return text === "FROZEN" ? "frozen" : text === "FREEZING" ? "freezing" : "thawed";
  }

  async freeze(): Promise<void> {
    const dir = this.#dirOf("freezer");
    if (dir === undefined) {
      throw new ContainerError("SystemError", "no freezer cgroup hierarchy is mounted");
    }
    await freezeV1(dir);
  }

  thaw(): Promise<void> {
    const dir = this.#dirOf("freezer");
    if (dir !== undefined) writeCgroupFile(`${dir}/freezer.state`, "THAWED");
    return Promise.resolve();
  }

  stats(initPid: number | null): CgroupStats {
    return readStatsV1(this.#created.length === 0 ? {} : this.#paths, initPid);
  }

  oomSource(): OomSource | null {
    const dir = this.#dirOf("memory");
    if (dir === undefined || this.#created.length === 0) return null;
    const file = `${dir}/memory.oom_control`;
    return {
      kind: "eventfd",
      file,
      eventControl: `${dir}/cgroup.event_control`,
      kills: () => Number(/oom_kill (\d+)/.exec(readOr(file))?.[1] ?? 0),
    };
  }

  async killAll(): Promise<void> {
    if (this.#created.length === 0) return;
    const procs = this.#procsFile();
    if (readPids(procs).length === 0) return;
    const freezer = this.#dirOf("freezer");
    if (freezer) await freezeV1(freezer);
    try {
      for (const pid of readPids(procs)) kill(pid, 9);
    } finally {
      if (freezer) writeCgroupFile(`${freezer}/freezer.state`, "THAWED");
    }
    await waitEmpty(procs);
  }

  async remove(): Promise<void> {
    const mine = this.#created.length > 0;
    await removeDirs(this.#created);
    if (!mine) return;
    for (const [key, dir] of Object.entries(this.#paths)) {
      removeDefaultParent(dir, this.#roots[key]);
    }
  }
}

/** memory.limit_in_bytes reads this (or more: page-rounded) when there is no limit. */
const UNLIMITED_MEMORY = 2 ** 62;

/**
 * Whether a memory cgroup on the way from the hierarchy's root (excluded) to `dir` has a
 * limit: `dir` itself too when `self`. Missing directories (not made yet) have none.
 */
function memoryLimitedAbove(dir: string, root: string, self: boolean): boolean {
  let at = self ? dir : dir.slice(0, dir.lastIndexOf("/"));
  for (let depth = 0; depth < 64 && at.length > root.length; depth++) {
    const text = readOr(`${at}/memory.limit_in_bytes`).trim();
    if (text !== "" && Number(text) < UNLIMITED_MEMORY) return true;
    at = at.slice(0, at.lastIndexOf("/"));
  }
  return false;
}

function readOr(file: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return "";
  }
}

/** A new cpuset cgroup has no cpus or mems; copy each level's from its parent. */
function inheritCpuset(dir: string, root: string): void {
  // A parent made by someone else (a pod's cgroup) may be empty too: fill every empty level
  // from the hierarchy's root down, as runc does, or no process could join the leaf.
  let parent = root;
  for (const part of dir.slice(root.length).split("/").filter((p) => p !== "")) {
    const level = `${parent}/${part}`;
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (Deno.readTextFileSync(`${level}/${file}`).trim() !== "") continue;
      writeCgroupFile(`${level}/${file}`, Deno.readTextFileSync(`${parent}/${file}`).trim());
    }
    parent = level;
  }
}

/** FREEZING until FROZEN: writes FROZEN again while it is not, with a bounded retry. */
async function freezeV1(dir: string): Promise<void> {
  let delay = 0.5;
  for (let attempt = 0; attempt < 200; attempt++) {
    writeCgroupFile(`${dir}/freezer.state`, "FROZEN");
    if (Deno.readTextFileSync(`${dir}/freezer.state`).trim() === "FROZEN") return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10);
  }
  writeCgroupFile(`${dir}/freezer.state`, "THAWED");
  throw new ContainerError("SystemError", `cannot freeze ${dir}: it stays FREEZING`, { path: dir });
}
