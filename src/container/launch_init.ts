/**
 * The init: made in fresh namespaces, into its cgroup, with the start recorded before
 * anything is made (so a runtime killed at any step leaves a state destroy can follow), and
 * for `createInit` stopped before its exec on the exec fifo.
 *
 * @module
 */

import { intendedDirs } from "../cgroups/intent.ts";
import { detectCgroupMode } from "../cgroups/mod.ts";
import { ContainerError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import type { ContainerProcess } from "../process/handle.ts";
import type { ProcessOptions } from "../process/options.ts";
import { planInit, resolveProcess } from "../process/plan.ts";
import type { InitHooks } from "../process/plan_hooks.ts";
import { applyResctrl, removeResctrl, resctrlPlanFor } from "../resctrl/mod.ts";
import { identify, type ProcessIdentity } from "../state/identity.ts";
import type { ContainerState } from "../state/store.ts";
import { close, pipe, writeFd } from "../syscalls.ts";
import type { ContainerCore } from "./core.ts";
import { openFifo, removeQuietly } from "./exec_fifo.ts";
import { gatherHostFacts } from "./gather_host_facts.ts";
import { launch } from "./launch.ts";
import { hasStartHooks, runRuntimeHooks } from "./lifecycle_hooks.ts";
import { needsPause } from "./init_pause.ts";
import { checkNetworkHost } from "../network/setup.ts";
import { InitNetwork } from "./init_network.ts";
import { OCI_SPEC_VERSION } from "./oci_state.ts";
import { connectSeccompAgent, type SeccompAgent } from "./seccomp_agent.ts";

/**
 * createInit under the lock. The prestart and createRuntime hooks run here while the init
 * is stopped before its root change; it runs the createContainer ones itself.
 */
export async function createInitLocked(
  core: ContainerCore,
  state: ContainerState,
  options: ProcessOptions,
): Promise<ContainerProcess> {
  const dir = core.store.dir(core.id);
  const fifos: string[] = [];
  const fds: number[] = [];
  try {
    const exec = openFifo(dir, "exec.fifo", fifos, fds);
    const startHooks = core.config.hooks?.startContainer?.length
      ? openFifo(dir, "hooks.fifo", fifos, fds)
      : undefined;
    faultPoint("createInit:fifo");
    return await launchInit(core, state, options, { fd: exec, path: fifos[0] }, startHooks);
  } catch (e) {
    fifos.forEach(removeQuietly);
    throw e;
  } finally {
    fds.forEach(close);
  }
}
/**
 * The init. On v1 its cgroup is made here, on this thread, while the worker thread
 * clones the child (creating namespaces is the slow part of a clone), and the native
 * parent waits for our "made it" byte before it places the child. On v2 the cgroup is
 * made first and the child is cloned straight into it (clone3 CLONE_INTO_CGROUP).
 */
export async function launchInit(
  core: ContainerCore,
  state: ContainerState,
  options: ProcessOptions,
  fifo?: { fd: number; path: string },
  hookReport?: number,
): Promise<ContainerProcess> {
  if (options.subCgroups) {
    throw new ContainerError(
      "ConfigInvalid",
      "subCgroups: only a process joining a running container takes them",
    );
  }
  const proc = resolveProcess(core.config, options);
  const cgroup = core.cgroupOf(state);
  const rdt = core.config.linux?.intelRdt;
  const resctrl = rdt ? resctrlPlanFor(rdt, core.id) : undefined;
  const resctrlState = resctrl && { remove: resctrl.plan.remove, tasks: resctrl.plan.tasks };
  // Before anything is made: the host may have changed since the create.
  checkNetworkHost(state.network);
  // Recorded before anything is made: a runtime killed from here on leaves a state that
  // names the cgroup and resctrl directories (whatever of them exist) and says the start
  // was cut short.
  const intent: ContainerState = {
    ...state,
    starting: selfIdentity(),
    cgroup: { ...state.cgroup, created: intendedDirs(state.cgroup) },
    resctrl: resctrlState,
  };
  core.write(intent);
  faultPoint("start:intent");
  // On v2, cloned straight into its cgroup; a clone3 the kernel refuses there (EAGAIN at a
  // pids limit of 0, however set) falls back natively to a plain clone and the planned
  // cgroup.procs writes (spawn.zig).
  const intoCgroup = cgroup.mode === "v2" ? state.cgroup.paths.unified : undefined;
  // A child sharing our memory must never wait where the OOM killer can pick it.
  const memory = cgroup.preExecMemory({ join: false });
  let ready = -1;
  let readyWriter = -1;
  let made = false;
  let agent: SeccompAgent | undefined;
  let pause: { notify: [number, number]; resume: [number, number] } | undefined;
  let resctrlMade = false;
  const network = new InitNetwork(core, intent);
  try {
    if (resctrl) {
      applyResctrl(resctrl.plan, resctrl.mount);
      resctrlMade = true;
    }
    if (intoCgroup) {
      cgroup.create();
      made = true;
      faultPoint("start:cgroup");
    } else [ready, readyWriter] = pipe();
    // The init stops for the network setup, linux.netDevices and the prestart and
    // createRuntime hooks, which run here.
    if (needsPause(core.config, state.network)) pause = { notify: pipe(), resume: pipe() };
    agent = connectSeccompAgent(core.config, {
      ociVersion: OCI_SPEC_VERSION,
      id: core.id,
      bundle: state.bundle ?? "",
      status: "creating",
    });
    const init = await launch(core.config, proc, options, {
      host: core.store.host,
      spawned: "start:spawned",
      plan: (stdio) =>
        planInit(core.config, {
          process: proc,
          stdio,
          extraFds: options.extraFds ?? [],
          awaitFd: intoCgroup ? undefined : ready,
          cloneIntoCgroup: intoCgroup,
          ownMemory: memory === "own",
          cgroupProcs: cgroup.procsFiles(),
          resctrlTasks: resctrlState?.tasks,
          cgroupPaths: state.cgroup.paths,
          cgroupMode: detectCgroupMode(),
          noPivotRoot: state.noPivotRoot,
          execFifo: fifo?.fd,
          seccompListener: agent,
          hooks: initHooks(core, state, pause, hookReport),
        }, gatherHostFacts(core.config, { init: { noPivotRoot: state.noPivotRoot } })),
      paused: pause && {
        notify: pause.notify,
        resume: pause.resume[1],
        run: async (pid) => {
          network.setUp(pid);
          await runRuntimeHooks(state, pid);
        },
      },
      whileSpawning: intoCgroup ? undefined : () => {
        try {
          cgroup.create({ holdOomKiller: memory === "guarded" });
          made = true;
          faultPoint("start:cgroup");
        } finally {
          writeFd(readyWriter, made ? "1" : "0");
        }
      },
      started: (init) => {
        // The child has memory of its own now (exec'd, or forked for the exec fifo).
        if (memory === "guarded") cgroup.releaseOomKiller();
        core.write({
          ...state,
          init,
          cgroup: cgroup.state(),
          resctrl: resctrlState,
          execFifo: fifo?.path,
          starting: undefined,
          // Moved devices stay in the container from here on (not moved back at delete).
          networkMade: network.kept(),
        });
      },
    });
    faultPoint("start:recorded");
    return init;
  } catch (e) {
    // Undone: the state says created again. If the cgroups cannot be removed, the state
    // keeps naming them (not the start), so destroy tries again.
    let removed = true;
    if (made) await cgroup.remove().catch(() => removed = false);
    const resctrlLeft = resctrlMade ? removeResctrl(resctrlState!.remove) : [];
    const networkLeft = network.undo();
    core.write({
      ...state,
      cgroup: removed ? state.cgroup : intent.cgroup,
      resctrl: resctrlLeft.length > 0 ? resctrlState : undefined,
      networkMade: networkLeft,
    });
    throw e;
  } finally {
    close(ready);
    close(readyWriter);
    network.close();
    if (agent) close(agent.socket);
    if (pause) [...pause.notify, ...pause.resume].forEach(close);
  }
}
/** What the init does for hooks: its pause, the hooks it runs itself, where failures go. */
function initHooks(
  core: ContainerCore,
  state: ContainerState,
  pause: { notify: [number, number]; resume: [number, number] } | undefined,
  report: number | undefined,
): InitHooks | undefined {
  if (!pause && !hasStartHooks(core.config)) return undefined;
  return {
    pause: pause && { notify: pause.notify[1], resume: pause.resume[0] },
    createContainer: core.config.hooks?.createContainer,
    startContainer: core.config.hooks?.startContainer,
    report,
    state: {
      ociVersion: core.config.ociVersion,
      id: core.id,
      bundle: state.bundle ?? "",
      annotations: core.config.annotations ?? {},
    },
  };
}

let self: ProcessIdentity | null = null;

/** This process's identity (its start time never changes). */
function selfIdentity(): ProcessIdentity {
  self ??= identify(Deno.pid);
  if (!self) throw new ContainerError("SystemError", "cannot read /proc/self/stat");
  return self;
}
