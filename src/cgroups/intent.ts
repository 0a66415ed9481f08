/**
 * What a container's cgroup directories will be before they are made: recorded in its state
 * first, so a runtime killed while making them (or after, before it recorded the init)
 * leaves a state from which any later destroy finds and removes every directory and
 * every process placed in them.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { leafInUse } from "./fs.ts";
import { present } from "./host.ts";
import type { CgroupState } from "./manager.ts";

/**
 * The directories `create()` would make for this cgroup, shallowest first per hierarchy:
 * the levels below each root that do not exist yet, and the leaf (a leftover leaf with
 * nobody in it is taken over, as create does). A leaf in use is refused here, before
 * anything is recorded, so a recorded intent never names another container's cgroup.
 */
export function intendedDirs(state: CgroupState): string[] {
  const dirs: string[] = [];
  for (const [key, leaf] of Object.entries(state.paths)) {
    const root = state.roots[key];
    if (root === undefined || !leaf.startsWith(`${root}/`)) continue;
    const parts = leaf.slice(root.length + 1).split("/").filter((p) => p !== "");
    let at = root;
    let missing = false;
    for (const part of parts) {
      at = `${at}/${part}`;
      missing ||= !present(at);
      if (missing || at === leaf) dirs.push(at);
    }
    if (!missing && leafInUse(leaf)) {
      throw new ContainerError(
        "IdInUse",
        `cgroup ${leaf} already exists: another container uses it`,
        {
          path: leaf,
        },
      );
    }
  }
  return dirs;
}

/**
 * The cgroup a container with no readable state would have had at the default path
 * (`/cell/<id>` under every hierarchy), with the leaves that exist counted as its own: what
 * `destroy` can find from the id alone.
 */
export function defaultCgroupLeftovers(state: CgroupState): CgroupState {
  const created = Object.values(state.paths).filter(present);
  return { ...state, created };
}
