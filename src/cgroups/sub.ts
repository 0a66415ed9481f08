/**
 * Sub-cgroups for a process joining a running container (runc's `exec --cgroup`): existing
 * directories below the container's cgroup, chosen per controller or for every hierarchy.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { normalize } from "../path.ts";
import { present } from "./host.ts";
import type { CgroupState } from "./manager.ts";

/**
 * The cgroup directory per hierarchy (keys as in `state.paths`) for a process placed in
 * `sub`: relative paths by controller name, or `""` for the same path in every hierarchy.
 * A path that leaves the container's cgroup, an unknown controller, or a directory that
 * does not exist is refused before any process is made.
 */
export function subCgroupDirs(
  state: CgroupState,
  sub: Readonly<Record<string, string>>,
): Record<string, string> {
  if (state.mode === "none") {
    throw new ContainerError(
      "ConfigInvalid",
      "the container has no cgroup to choose a sub-cgroup of",
    );
  }
  const dirs = { ...state.paths };
  const every = sub[""];
  if (every !== undefined) {
    for (const key of Object.keys(dirs)) dirs[key] = below(state.paths[key], every);
  } else {
    for (const [controller, path] of Object.entries(sub)) {
      const keys = Object.keys(state.paths).filter((k) => hierarchyHas(k, controller));
      if (keys.length === 0) {
        throw new ContainerError("ConfigInvalid", `unknown controller ${controller}`);
      }
      for (const key of keys) dirs[key] = below(state.paths[key], path);
    }
  }
  for (const dir of Object.values(dirs)) {
    const procs = `${dir}/cgroup.procs`;
    if (!present(procs)) {
      throw new ContainerError(
        "ConfigInvalid",
        `adding pid to cgroups: open ${procs}: no such file or directory`,
        { path: procs },
      );
    }
  }
  return dirs;
}

/** Whether the hierarchy keyed `key` ("cpu,cpuacct", "name=systemd", "unified") has `controller`. */
function hierarchyHas(key: string, controller: string): boolean {
  return key.split(",").includes(controller);
}

/** `base` joined with `add`, which must stay at or below `base`. */
function below(base: string, add: string): string {
  const joined = normalize(`${base}/${add}`).replace(/\/+$/, "");
  if (joined !== base && !joined.startsWith(`${base}/`)) {
    throw new ContainerError("ConfigInvalid", `${add} is not a sub cgroup path`);
  }
  return joined;
}
