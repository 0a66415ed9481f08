/**
 * cgroup v1 (and hybrid hosts, where every controller is v1): one directory per
 * hierarchy. Kill is freeze, SIGKILL everyone, thaw, so nothing forks away meanwhile.
 *
 * @module
 */

import type { DeviceRule } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { kill } from "../syscalls.ts";
import { mkdirTracked, readPids, removeDirs, waitEmpty, writeCgroupFile } from "./fs.ts";
import type { CgroupManager, CgroupState } from "./manager.ts";

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

/** Device rules runc allows on top of the config's (so /dev basics keep working). */
const DEFAULT_ALLOWED = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm",
  "c 1:5 rwm",
  "c 1:7 rwm",
  "c 1:8 rwm",
  "c 1:9 rwm",
  "c 5:0 rwm",
  "c 5:1 rwm",
  "c 5:2 rwm",
  "c 136:* rwm",
  "c 10:200 rwm",
];

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
  /** Device rules from linux.resources.devices. */
  devices?: readonly DeviceRule[];
  /** A state to resume from (load from another process). */
  state?: CgroupState;
}

/** The cgroup v1 backend. */
export class V1Manager implements CgroupManager {
  readonly mode = "v1" as const;
  #paths: Record<string, string>;
  #roots: Record<string, string> = {};
  #created: string[];
  #devices: readonly DeviceRule[];

  /** Plans the directories; nothing is touched until create(). */
  constructor(options: V1Options) {
    this.#devices = options.devices ?? [];
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

  create(): void {
    try {
      for (const [controllers, dir] of Object.entries(this.#paths)) {
        const made = mkdirTracked(dir, this.#roots[controllers]);
        this.#created.push(...made);
        if (controllers.split(",").includes("cpuset")) inheritCpuset(made);
        if (controllers.split(",").includes("devices") && this.#devices.length > 0) {
          this.#applyDevices(dir);
        }
      }
    } catch (e) {
      for (const dir of [...this.#created].reverse()) {
        try {
          Deno.removeSync(dir);
        } catch { /* best effort: we are already failing */ }
      }
      this.#created = [];
      throw e;
    }
  }

  #applyDevices(dir: string): void {
    for (const rule of this.#devices) {
      writeCgroupFile(`${dir}/devices.${rule.allow ? "allow" : "deny"}`, deviceRule(rule));
    }
    for (const rule of DEFAULT_ALLOWED) writeCgroupFile(`${dir}/devices.allow`, rule);
  }

  procsFiles(): string[] {
    return Object.values(this.#paths).map((dir) => `${dir}/cgroup.procs`);
  }

  #procsFile(): string {
    const key = Object.keys(this.#paths).find((k) => k.split(",").includes("freezer")) ??
      Object.keys(this.#paths)[0];
    if (key === undefined) {
      throw new ContainerError("SystemError", "no cgroup v1 hierarchy is mounted");
    }
    return `${this.#paths[key]}/cgroup.procs`;
  }

  pids(): number[] {
    // Only a cgroup this container made is its own (never another's at the same path).
    if (this.#created.length === 0) return [];
    return readPids(this.#procsFile());
  }

  async killAll(): Promise<void> {
    if (this.#created.length === 0) return;
    const procs = this.#procsFile();
    if (readPids(procs).length === 0) return;
    const freezer = Object.entries(this.#paths).find(([k]) => k.split(",").includes("freezer"))
      ?.[1];
    if (freezer) await freeze(freezer);
    try {
      for (const pid of readPids(procs)) kill(pid, 9);
    } finally {
      if (freezer) writeCgroupFile(`${freezer}/freezer.state`, "THAWED");
    }
    await waitEmpty(procs);
  }

  async remove(): Promise<void> {
    await removeDirs(this.#created);
  }
}

/** A new cpuset cgroup has no cpus or mems; copy each level's from its parent. */
function inheritCpuset(made: readonly string[]): void {
  for (const dir of made) {
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const value = Deno.readTextFileSync(`${parent}/${file}`).trim();
      writeCgroupFile(`${dir}/${file}`, value);
    }
  }
}

/** FREEZING until FROZEN, with a bounded retry. */
async function freeze(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    writeCgroupFile(`${dir}/freezer.state`, "FROZEN");
    if (Deno.readTextFileSync(`${dir}/freezer.state`).trim() === "FROZEN") return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new ContainerError("SystemError", `cannot freeze ${dir}`, { path: dir });
}
