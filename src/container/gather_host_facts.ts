/**
 * Reads what the planners need to know of the host, once per launch, so that planning
 * itself reads nothing (`src/plan/host_facts.ts`).
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { hostSeccompArch } from "../config/validate_seccomp.ts";
import type { HostFacts } from "../plan/host_facts.ts";
import { newNamespaces } from "../process/plan.ts";
import { hostPseudoFilesystems, nonDirectories } from "../rootfs/host_mounts.ts";
import { bindSources } from "../rootfs/plan.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import { seccompFlags } from "../seccomp/compile.ts";
import { checkIdMappedMounts, planIdMaps } from "../userns/id_maps.ts";

/** What is being launched: a container's init (with its rootfs) or a process joining it. */
export interface HostFactsFor {
  /** The init: its namespaces and rootfs are planned too. */
  init?: {
    /** MS_MOVE + chroot instead of pivot_root: the host's procfs and sysfs mounts matter. */
    noPivotRoot?: boolean;
  };
}

let lastCap: number | undefined;

/**
 * The host facts a plan of `spec` needs. ConfigInvalid when the id maps of a new user
 * namespace need a helper that is not installed, or a non-root caller asks for an
 * id-mapped mount.
 */
export function gatherHostFacts(spec: Spec, what: HostFactsFor): HostFacts {
  lastCap ??= Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  const seccomp = spec.linux?.seccomp;
  const fresh = what.init ? newNamespaces(spec) : new Set();
  const ownMounts = fresh.has("mount");
  if (ownMounts) checkIdMappedMounts(spec);
  return {
    root: Deno.uid() === 0,
    lastCap,
    idMaps: fresh.has("user") ? planIdMaps(spec) : undefined,
    fileSources: ownMounts ? nonDirectories(bindSources(spec)) : [],
    pseudoFilesystems: ownMounts && what.init?.noPivotRoot ? hostPseudoFilesystems() : [],
    seccomp: seccomp && {
      flags: seccompFlags(seccomp),
      program: compileSeccompCached(seccomp, hostSeccompArch()),
    },
  };
}
