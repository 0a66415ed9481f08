/**
 * A later process of a running container (an exec): it joins the init's namespaces and its
 * cgroup (or sub-cgroups of it), under the config's seccomp and identity unless the options
 * say otherwise.
 *
 * @module
 */

import { subCgroupDirs } from "../cgroups/sub.ts";
import type { ContainerProcess } from "../process/handle.ts";
import type { ProcessOptions } from "../process/options.ts";
import { planExec, type ResolvedProcess, resolveProcess } from "../process/plan.ts";
import type { ProcessIdentity } from "../state/identity.ts";
import type { ContainerState } from "../state/store.ts";
import { setgroupsDenied } from "../userns/id_maps.ts";
import { close } from "../syscalls.ts";
import type { ContainerCore } from "./core.ts";
import { gatherHostFacts } from "./gather_host_facts.ts";
import { launch } from "./launch.ts";
import { OCI_SPEC_VERSION } from "./oci_state.ts";
import { connectSeccompAgent, type SeccompAgent } from "./seccomp_agent.ts";

/** Runs a process in the init's namespaces and cgroup. */
export async function exec(
  core: ContainerCore,
  state: ContainerState,
  options: ProcessOptions,
): Promise<ContainerProcess> {
  const init = state.init as ProcessIdentity;
  const proc = resolveProcess(core.config, options);
  const agent = connectSeccompAgent(core.config, {
    ociVersion: OCI_SPEC_VERSION,
    id: core.id,
    bundle: state.bundle ?? "",
    status: "running",
    initPid: init.pid,
  });
  try {
    return await execWith(core, state, init, proc, options, agent);
  } finally {
    if (agent) close(agent.socket);
  }
}
function execWith(
  core: ContainerCore,
  state: ContainerState,
  init: ProcessIdentity,
  proc: ResolvedProcess,
  options: ProcessOptions,
  agent: SeccompAgent | undefined,
): Promise<ContainerProcess> {
  const dirs = options.subCgroups ? subCgroupDirs(state.cgroup, options.subCgroups) : undefined;
  const cgroup = core.cgroupOf(state);
  const cgroupProcs = dirs
    ? Object.values(dirs).map((dir) => `${dir}/cgroup.procs`)
    : cgroup.procsFiles();
  const v2Dir = dirs ? dirs.unified : state.cgroup.paths.unified;
  return launch(core.config, proc, options, {
    host: core.store.host,
    spawned: "exec:spawned",
    plan: (stdio) =>
      planExec(core.config, {
        initPid: init.pid,
        setgroupsDenied: core.config.linux?.namespaces?.some((n) => n.type === "user") === true &&
          setgroupsDenied(init.pid),
        process: proc,
        stdio,
        extraFds: options.extraFds ?? [],
        cgroupProcs,
        resctrlTasks: state.resctrl?.tasks,
        cloneIntoCgroup: state.cgroup.mode === "v2" ? v2Dir : undefined, // see launchInit
        ownMemory: cgroup.preExecMemory({ join: true }) === "own",
        seccompListener: agent,
      }, gatherHostFacts(core.config, {})),
  });
}
