/**
 * `update`: new resource limits for a container, validated as `linux.resources` is, applied
 * to its cgroup when it has one (all or none) and kept in its state.
 *
 * @module
 */

import { mergeResources } from "../cgroups/merge.ts";
import type { Resources } from "../config/types.ts";
import { validateResources } from "../config/validate_resources.ts";
import { ContainerError } from "../errors.ts";
import type { ContainerCore } from "./core.ts";

/**
 * Changes resource limits of a running (or paused, or not yet started) container. The
 * values are validated as `linux.resources` is; the kernel takes all of them or none.
 */
export async function update(core: ContainerCore, resources: Resources | unknown): Promise<void> {
  using entry = await core.enter("update");
  const { state } = entry;
  const problems: string[] = [];
  const valid = validateResources(problems, resources);
  if (!valid || problems.length > 0) {
    throw new ContainerError("ConfigInvalid", `invalid resources:\n${problems.join("\n")}`);
  }
  const given = resources as Resources;
  const changes: Resources = given.devices === undefined ? { ...valid, devices: [] } : valid;
  if (state.init) {
    const cgroup = entry.cgroup();
    try {
      cgroup.apply(changes);
    } catch (e) {
      // The values were rolled back; put the device rules in force before back too.
      const old = state.config.linux?.resources?.devices;
      if (changes.devices?.length && old?.length) cgroup.apply({ devices: old });
      throw e;
    }
  }
  const config = structuredClone(state.config);
  config.linux = {
    ...config.linux,
    resources: mergeResources(config.linux?.resources, valid, given),
  };
  core.write({ ...state, config });
}
