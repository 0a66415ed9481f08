/**
 * resctrl for a container's `linux.intelRdt`: the plan from this host's resctrl mount, and
 * what the container's state keeps of it (the groups to remove, the `tasks` files every
 * process joins).
 *
 * @module
 */

import type { IntelRdt } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { present } from "../cgroups/host.ts";
import { resctrlMount } from "./mount.ts";
import { planResctrl, type ResctrlPlan, type ResctrlView } from "./plan.ts";

import { removeGroups } from "./apply.ts";

export { applyResctrl } from "./apply.ts";
export type { ResctrlPlan } from "./plan.ts";

/** What a container's state records of its resctrl groups. */
export interface ResctrlState {
  /** The directories destroy removes, deepest first (only what cell made). */
  remove: string[];
  /** The `tasks` files each new process of the container is written to, in order. */
  tasks: string[];
}

/** The host's resctrl filesystem, read as it is. */
const HOST_VIEW: ResctrlView = {
  exists: present,
  read: (path) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return undefined;
    }
  },
};

/** Where the kernel makes the mount point when it supports resctrl. */
const DEFAULT_MOUNT = "/sys/fs/resctrl";

/**
 * The resctrl plan for container `id`, from the host as it is now. A ConfigInvalid error
 * when resctrl is not mounted (the spec: an error, never a silent skip) or the host's groups
 * do not fit the config; nothing is made.
 */
export function resctrlPlanFor(
  rdt: IntelRdt,
  id: string,
): { plan: ResctrlPlan; mount: string } {
  const mount = resctrlMount();
  if (mount === undefined) {
    const why = present(DEFAULT_MOUNT)
      ? `the kernel supports it: mount -t resctrl resctrl ${DEFAULT_MOUNT}`
      : "this kernel or CPU has no resctrl (it needs Intel RDT or AMD PQoS and a kernel " +
        "built with CONFIG_X86_CPU_RESCTRL)";
    throw new ContainerError(
      "ConfigInvalid",
      `linux.intelRdt: resctrl is not mounted on this host; ${why}`,
    );
  }
  return { plan: planResctrl(rdt, { id, mount, view: HOST_VIEW }), mount };
}

/** Where resctrl is mounted, when the caller knows (the host's mount otherwise). */
export interface ResctrlRemoveOptions {
  /** The resctrl mount point; default: this process's resctrl mount, if any. */
  mount?: string;
}

/**
 * Removes recorded resctrl groups, deepest first; returns those still there. Only paths
 * strictly below this host's resctrl mount are touched (a damaged state names no other
 * directory for removal); with resctrl unmounted there is nothing left to remove.
 */
export function removeResctrl(
  dirs: readonly string[],
  options: ResctrlRemoveOptions = {},
): string[] {
  if (dirs.length === 0) return [];
  const mount = options.mount ?? resctrlMount();
  if (mount === undefined) return [];
  const below = dirs.filter((dir) => dir.startsWith(`${mount}/`) && !dir.split("/").includes(".."));
  return removeGroups(below);
}

/**
 * The resctrl groups cell made for container `id`, its processes gone,
 * removed; a group still there (a task the kill missed) is a SystemError naming it, so the
 * caller keeps the state and a later destroy can try again.
 */
export function removeContainerResctrl(
  id: string,
  dirs: readonly string[],
  options: ResctrlRemoveOptions = {},
): void {
  const left = removeResctrl(dirs, options);
  if (left.length === 0) return;
  throw new ContainerError(
    "SystemError",
    `cannot remove the resctrl group ${left[0]} of container "${id}"`,
    { path: left[0] },
  );
}
