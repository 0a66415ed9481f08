/**
 * A container: its config, its status read from disk and the kernel, and the
 * operations on it. Any process that loads the same id from the same root sees and
 * acts on the same container.
 *
 * @module
 */

import { join } from "../path.ts";
import { type CgroupManager, detectCgroupMode, restoreCgroupManager } from "../cgroups/mod.ts";
import { type OomEvent, OomStream } from "../cgroups/oom.ts";
import type { CgroupStats } from "../cgroups/stats.ts";
import { mergeResources } from "../cgroups/merge.ts";
import { subCgroupDirs } from "../cgroups/sub.ts";
import { validateResources } from "../config/validate_resources.ts";
import type { Capabilities, Resources, Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { spawnError } from "../process/failure.ts";
import { ContainerProcess } from "../process/handle.ts";
import type { ProcessOptions } from "../process/options.ts";
import { planExec, planInit, type ResolvedProcess, resolveProcess } from "../process/plan.ts";
import type { PlanOp } from "../plan/ops.ts";
import { signalNumber } from "../process/signals.ts";
import { prepareStdio } from "../process/stdio.ts";
import { watchExit, watchFd } from "../process/waiter.ts";
import { setgroupsDenied } from "../userns/id_maps.ts";
import { identify, isAlive, type ProcessIdentity } from "../state/identity.ts";
import { isCorruptState, type Remnants } from "../state/parse.ts";
import type { ContainerState, StateStore } from "../state/store.ts";
import { intendedDirs } from "../cgroups/intent.ts";
import { faultPoint, type FaultStep } from "../fault_point.ts";
import { destroyLeftovers, signalVerified, waitGone } from "./leftovers.ts";
import { explainFailure } from "./failure_hint.ts";
import { gatherHostFacts } from "./gather_host_facts.ts";
import {
  close,
  decodeRecord,
  encodePlan,
  kill,
  mkfifo,
  open,
  pidfdSignal,
  pipe,
  readFd,
  readWait,
  spawn,
  writeFd,
} from "../syscalls.ts";
import {
  hasRuntimeHooks,
  hasStartHooks,
  runPoststart,
  runPoststop,
  runRuntimeHooks,
} from "./lifecycle_hooks.ts";
import { hookOutcome } from "../process/failure.ts";
import { refuse, type Status } from "./status.ts";
import { hookFailureMessage } from "../hooks/run.ts";
import { connectSeccompAgent, type SeccompAgent } from "./seccomp_agent.ts";

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const SIGKILL = 9;

/** The OCI runtime-spec version cell implements. */
export const OCI_SPEC_VERSION = "1.2.0";

/** A container's state in the OCI runtime spec's words. */
export interface OciState {
  /** The spec version. */
  ociVersion: string;
  /** The container id. */
  id: string;
  /** created, running, paused or stopped. */
  status: Exclude<Status, "pausing" | "destroyed">;
  /** The init's host pid while it lives, else 0. */
  pid: number;
  /** The bundle directory. */
  bundle: string;
  /** The root filesystem path. */
  rootfs: string;
  /** ISO time of creation. */
  created: string;
  /** The config's annotations. */
  annotations: Record<string, string>;
}

/** Options of {@linkcode Container.signal}. */
export interface SignalOptions {
  /** Send to every process of the container, not just the init. */
  all?: boolean;
}

/** How #launch makes a process: the plan, work done during the spawn, bookkeeping. */
interface LaunchSteps {
  plan: (stdio: [number, number, number]) => PlanOp[];
  /** The fault step between the spawn and the record of the process. */
  spawned: FaultStep;
  whileSpawning?: () => void;
  /** The child stops for hooks run here: the pause's pipes and the hooks. */
  paused?: PauseSteps;
  started?: (process: ProcessIdentity) => void;
}

/** The runtime's side of the init's pause for hooks (op hooks_pause). */
interface PauseSteps {
  /** [read, write]: the native parent writes the child's host pid to the write end. */
  notify: [number, number];
  /** Where "1" (go on) or "0" (the hooks failed) is written. */
  resume: number;
  /** Runs the hooks; a throw stops the child and fails the spawn with it. */
  run: (pid: number) => Promise<void>;
}

/** A container. Get one from a Factory's `create` or `load`. */
export class Container implements AsyncDisposable {
  /** The container id. */
  readonly id: string;
  /** The validated OCI config. */
  readonly config: Spec;
  #store: StateStore;
  #destroyed = false;
  #streams = new Set<OomStream>();
  /**
   * The state as this handle last read or wrote it: what destroy still knows (the init, the
   * cgroups) when the state directory was removed behind our back.
   */
  #known: ContainerState;

  /** Made by the Factory. */
  constructor(store: StateStore, state: ContainerState) {
    this.id = state.id;
    this.config = state.config;
    this.#store = store;
    this.#known = state;
  }

  /** The container's lock; ContainerDestroyed when its state is gone. */
  async #lock(action: string): Promise<Disposable> {
    if (this.#destroyed) refuse(this.id, "destroyed", action);
    try {
      return await this.#store.lock(this.id);
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") {
        refuse(this.id, "destroyed", action);
      }
      throw e;
    }
  }

  /** The state on disk; null when it is gone; a ContainerError naming the file when corrupt. */
  #state(): ContainerState | null {
    if (this.#destroyed) return null;
    try {
      const state = this.#store.read(this.id);
      this.#known = state;
      return state;
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") return null;
      throw e;
    }
  }

  /** Writes the state (under the lock) and remembers it. */
  #write(state: ContainerState): void {
    this.#store.write(state);
    this.#known = state;
  }

  /** What this handle knows of the processes and cgroups, for a destroy without state. */
  #remnants(): Remnants {
    const known = this.#known;
    return { init: known.init ?? undefined, starting: known.starting, cgroup: known.cgroup };
  }

  /**
   * created: no init yet (or one waiting on its exec fifo); stopped: the init is gone, or
   * the process that was starting it died before it recorded one (only destroy is left);
   * running, pausing or paused from the freezer; destroyed: no state.
   */
  #statusOf(state: ContainerState | null): Status {
    if (!state) return "destroyed";
    if (!state.init) return state.starting && !isAlive(state.starting) ? "stopped" : "created";
    if (!isAlive(state.init)) return "stopped";
    // Released (or killed) inits hold the fifo no more: a start cut short after the release
    // and before its record reads as running, as it is.
    if (state.execFifo && waitsOnFifo(state.execFifo)) return "created";
    const freezer = this.#cgroupOf(state).freezerState();
    return freezer === "frozen" ? "paused" : freezer === "freezing" ? "pausing" : "running";
  }

  /** The cgroup as the state on disk says now (another process may have started us). */
  #cgroupOf(state: ContainerState): CgroupManager {
    const init = state.init && isAlive(state.init) ? state.init.pid : null;
    return restoreCgroupManager(state.cgroup, state.config.linux?.resources, init);
  }

  /**
   * The container's state as the OCI runtime spec words it (what `cell state` prints and
   * hooks read): `pid` is the init's host pid while it lives, `bundle` the bundle
   * directory ("" when the config did not come from one).
   */
  // deno-lint-ignore require-await
  async ociState(): Promise<OciState> {
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state) refuse(this.id, status, "read the state of");
    const alive = status !== "stopped" && state.init !== null;
    return {
      ociVersion: OCI_SPEC_VERSION,
      id: this.id,
      status: (status === "pausing" ? "paused" : status) as OciState["status"],
      pid: alive && state.init ? state.init.pid : 0,
      bundle: state.bundle ?? "",
      rootfs: state.config.root.path,
      created: state.created,
      annotations: state.config.annotations ?? {},
    };
  }

  /** The current status: created, running, stopped or destroyed. */
  // deno-lint-ignore require-await
  async status(): Promise<Status> {
    return this.#statusOf(this.#state());
  }

  /** Host pids of every process in the container's cgroup. */
  // deno-lint-ignore require-await
  async processes(): Promise<number[]> {
    const state = this.#state();
    if (!state) refuse(this.id, "destroyed", "list processes of");
    return this.#cgroupOf(state).pids();
  }

  /**
   * Starts a process. The first call creates the container's init in new namespaces;
   * later calls run another process in the init's namespaces and cgroup (exec).
   */
  async start(options: ProcessOptions = {}): Promise<ContainerProcess> {
    using _lock = await this.#lock("start a process in");
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state) refuse(this.id, status, "start a process in");
    if (status === "created" && !state.init) {
      if (!hasStartHooks(state.config)) {
        const init = await this.#launchInit(state, options);
        await this.#poststart(init.pid);
        return init;
      }
      // Hooks run while the init waits before its exec: the create/start split inside.
      const init = await this.#createInit(state, options);
      await this.#startInit();
      return init;
    }
    // An init made by createInit is there to exec into, as runc allows.
    if (status !== "running" && !(status === "created" && state.init)) {
      refuse(this.id, status, "start a process in");
    }
    return await this.#exec(state, options);
  }

  /**
   * Makes the init and stops it just before it execs its program (runc `create`): the
   * namespaces, mounts and cgroup are all set up, the status stays `created`, and
   * {@linkcode Container.startInit} (from this or any other process) lets it run.
   */
  async createInit(options: ProcessOptions = {}): Promise<ContainerProcess> {
    using _lock = await this.#lock("create the init of");
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state || status !== "created" || state.init) refuse(this.id, status, "create the init of");
    return await this.#createInit(state, options);
  }

  /**
   * createInit under the lock. The prestart and createRuntime hooks run here while the init
   * is stopped before its root change; it runs the createContainer ones itself.
   */
  async #createInit(state: ContainerState, options: ProcessOptions): Promise<ContainerProcess> {
    const fifos: string[] = [];
    const fds: number[] = [];
    try {
      const exec = this.#openFifo("exec.fifo", fifos, fds);
      const startHooks = this.config.hooks?.startContainer?.length
        ? this.#openFifo("hooks.fifo", fifos, fds)
        : undefined;
      faultPoint("createInit:fifo");
      return await this.#launchInit(state, options, { fd: exec, path: fifos[0] }, startHooks);
    } catch (e) {
      fifos.forEach(removeQuietly);
      throw e;
    } finally {
      fds.forEach(close);
    }
  }

  /**
   * Makes a fifo in the container's state directory and opens it read-write. Writable by
   * anyone: a user namespace's root is not the host's; the directory is private, and the
   * init reaches the fifo only through the fd passed to it.
   */
  #openFifo(name: string, paths: string[], fds: number[]): number {
    const path = join(this.#store.dir(this.id), name);
    mkfifo(path, 0o600);
    paths.push(path);
    Deno.chmodSync(path, 0o622);
    const fd = open(path, O_RDWR | O_CLOEXEC);
    fds.push(fd);
    return fd;
  }

  /** Lets an init made by {@linkcode Container.createInit} exec its program (runc `start`). */
  async startInit(): Promise<void> {
    using _lock = await this.#lock("start");
    await this.#startInit();
  }

  /** startInit under the lock: startContainer hooks, the release, then poststart. */
  async #startInit(): Promise<void> {
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state?.init || !state.execFifo || status !== "created") {
      if (state && !state.init && !state.config.process) {
        throw new ContainerError(
          "ConfigInvalid",
          `cannot start container "${this.id}": its config has no process`,
        );
      }
      if (status === "running" || status === "paused") {
        throw new ContainerError(
          "ContainerNotRunning",
          `cannot start container "${this.id}": it is already ${status}`,
        );
      }
      refuse(this.id, status, "start");
    }
    // The init runs the startContainer hooks after the release; a failure comes back
    // through the hooks fifo, the end of the hooks as its end of file (exec or exit).
    const hooks = this.config.hooks?.startContainer?.length
      ? join(this.#store.dir(this.id), "hooks.fifo")
      : undefined;
    const outcome = hooks ? open(hooks, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
    try {
      releaseInit(state.execFifo, state.init);
      faultPoint("startInit:released");
      removeQuietly(state.execFifo);
      this.#write({ ...state, execFifo: undefined });
      if (hooks) {
        removeQuietly(hooks);
        const failure = await startHooksFailure(outcome);
        if (failure) {
          await waitGone(state.init); // it exits right after the record
          const hook = this.config.hooks!.startContainer![failure.opIndex];
          throw new ContainerError(
            "SystemError",
            hookFailureMessage(
              "startContainer",
              failure.opIndex,
              hook?.path ?? "?",
              hookOutcome(failure),
            ),
            { path: hook?.path },
          );
        }
      }
    } finally {
      close(outcome);
    }
    await this.#poststart(state.init.pid);
  }

  /** poststart hooks; a failure is a warning and the container goes on (runtime-spec 1.2). */
  async #poststart(pid: number): Promise<void> {
    if (!this.config.hooks?.poststart?.length) return; // the common case: no state read
    const state = this.#state();
    if (!state) return;
    for (const warning of await runPoststart(state, pid)) console.warn(`cell: ${warning}`);
  }

  /**
   * The init. On v1 its cgroup is made here, on this thread, while the worker thread
   * clones the child (creating namespaces is the slow part of a clone), and the native
   * parent waits for our "made it" byte before it places the child. On v2 the cgroup is
   * made first and the child is cloned straight into it (clone3 CLONE_INTO_CGROUP).
   */
  async #launchInit(
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
    const proc = resolveProcess(this.config, options);
    const cgroup = this.#cgroupOf(state);
    // Recorded before anything is made: a runtime killed from here on leaves a state that
    // names the cgroup directories (whatever of them exist) and says the start was cut short.
    const intent: ContainerState = {
      ...state,
      starting: selfIdentity(),
      cgroup: { ...state.cgroup, created: intendedDirs(state.cgroup) },
    };
    this.#write(intent);
    faultPoint("start:intent");
    const intoCgroup = cgroup.mode === "v2" ? state.cgroup.paths.unified : undefined;
    // A child sharing our memory must never wait where the OOM killer can pick it.
    const memory = cgroup.preExecMemory({ join: false });
    let ready = -1;
    let readyWriter = -1;
    let made = false;
    let agent: SeccompAgent | undefined;
    let pause: { notify: [number, number]; resume: [number, number] } | undefined;
    try {
      if (intoCgroup) {
        cgroup.create();
        made = true;
        faultPoint("start:cgroup");
      } else [ready, readyWriter] = pipe();
      // The init stops for the prestart and createRuntime hooks, which run here.
      if (hasRuntimeHooks(this.config)) pause = { notify: pipe(), resume: pipe() };
      agent = connectSeccompAgent(this.config, {
        ociVersion: OCI_SPEC_VERSION,
        id: this.id,
        bundle: state.bundle ?? "",
        status: "creating",
      });
      const init = await this.#launch(proc, options, {
        spawned: "start:spawned",
        plan: (stdio) =>
          planInit(this.config, {
            process: proc,
            stdio,
            extraFds: options.extraFds ?? [],
            awaitFd: intoCgroup ? undefined : ready,
            cloneIntoCgroup: intoCgroup,
            ownMemory: memory === "own",
            cgroupProcs: cgroup.procsFiles(),
            cgroupPaths: state.cgroup.paths,
            cgroupMode: detectCgroupMode(),
            noPivotRoot: state.noPivotRoot,
            execFifo: fifo?.fd,
            seccompListener: agent,
            hooks: hasStartHooks(this.config)
              ? {
                pause: pause && { notify: pause.notify[1], resume: pause.resume[0] },
                createContainer: this.config.hooks?.createContainer,
                startContainer: this.config.hooks?.startContainer,
                report: hookReport,
                state: {
                  ociVersion: this.config.ociVersion,
                  id: this.id,
                  bundle: state.bundle ?? "",
                  annotations: this.config.annotations ?? {},
                },
              }
              : undefined,
          }, gatherHostFacts(this.config, { init: { noPivotRoot: state.noPivotRoot } })),
        paused: pause && {
          notify: pause.notify,
          resume: pause.resume[1],
          run: (pid) => runRuntimeHooks(state, pid),
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
          this.#write({
            ...state,
            init,
            cgroup: cgroup.state(),
            execFifo: fifo?.path,
            starting: undefined,
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
      this.#write({ ...state, cgroup: removed ? state.cgroup : intent.cgroup });
      throw e;
    } finally {
      close(ready);
      close(readyWriter);
      if (agent) close(agent.socket);
      if (pause) [...pause.notify, ...pause.resume].forEach(close);
    }
  }

  async #exec(state: ContainerState, options: ProcessOptions): Promise<ContainerProcess> {
    const init = state.init as ProcessIdentity;
    const proc = resolveProcess(this.config, options);
    const agent = connectSeccompAgent(this.config, {
      ociVersion: OCI_SPEC_VERSION,
      id: this.id,
      bundle: state.bundle ?? "",
      status: "running",
      initPid: init.pid,
    });
    try {
      return await this.#execWith(state, init, proc, options, agent);
    } finally {
      if (agent) close(agent.socket);
    }
  }

  #execWith(
    state: ContainerState,
    init: ProcessIdentity,
    proc: ResolvedProcess,
    options: ProcessOptions,
    agent: SeccompAgent | undefined,
  ): Promise<ContainerProcess> {
    const dirs = options.subCgroups ? subCgroupDirs(state.cgroup, options.subCgroups) : undefined;
    const cgroupProcs = dirs
      ? Object.values(dirs).map((dir) => `${dir}/cgroup.procs`)
      : this.#cgroupOf(state).procsFiles();
    const v2Dir = dirs ? dirs.unified : state.cgroup.paths.unified;
    return this.#launch(proc, options, {
      spawned: "exec:spawned",
      plan: (stdio) =>
        planExec(this.config, {
          initPid: init.pid,
          setgroupsDenied: this.config.linux?.namespaces?.some((n) => n.type === "user") === true &&
            setgroupsDenied(init.pid),
          process: proc,
          stdio,
          extraFds: options.extraFds ?? [],
          cgroupProcs,
          cloneIntoCgroup: state.cgroup.mode === "v2" ? v2Dir : undefined,
          ownMemory: this.#cgroupOf(state).preExecMemory({ join: true }) === "own",
          seccompListener: agent,
        }, gatherHostFacts(this.config, {})),
    });
  }

  async #launch(
    proc: { args: string[]; cwd: string; capabilities?: Capabilities },
    options: ProcessOptions,
    steps: LaunchSteps,
  ): Promise<ContainerProcess> {
    const stdio = prepareStdio([
      options.stdin ?? "inherit",
      options.stdout ?? "inherit",
      options.stderr ?? "inherit",
    ]);
    let ok = false;
    try {
      const plan = steps.plan(stdio.childFds);
      const spawning = spawn(encodePlan(plan)); // runs on a worker thread from here
      let during: unknown;
      try {
        steps.whileSpawning?.();
      } catch (e) {
        during = e;
      }
      const hooksFailed = steps.paused ? await duringPause(steps.paused, spawning) : undefined;
      const result = await spawning;
      if (during !== undefined) throw during;
      if (hooksFailed !== undefined) throw hooksFailed;
      if (result.failure) {
        const descriptions = plan.map((op) => op.what);
        throw explainFailure(spawnError(result.failure, descriptions, proc), this.config);
      }
      faultPoint(steps.spawned);
      // A detached process is not reaped here: its parent-to-be (a subreaper) gets it.
      const exit = options.detached ? new Promise<never>(() => {}) : watchExit(result.pidfd);
      try {
        const identity = identify(result.pid);
        if (!identity) throw new ContainerError("SystemError", `process ${result.pid} vanished`);
        steps.started?.(identity);
      } catch (e) {
        // Not recorded, so nobody could find it: it must not outlive this error.
        pidfdSignal(result.pidfd, 9);
        if (!options.detached) await exit;
        close(result.pidfd);
        throw e;
      }
      ok = true;
      return new ContainerProcess(result.pid, result.pidfd, exit, stdio.files);
    } finally {
      stdio.release(!ok);
    }
  }

  /** Freezes every process of the container (status pausing, then paused). */
  async pause(): Promise<void> {
    using _lock = await this.#lock("pause");
    const state = this.#state();
    const status = this.#statusOf(state);
    if (status === "paused") return;
    if (!state || (status !== "running" && status !== "pausing")) refuse(this.id, status, "pause");
    await this.#cgroupOf(state).freeze();
  }

  /** Thaws a paused container. */
  async resume(): Promise<void> {
    using _lock = await this.#lock("resume");
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state || (status !== "paused" && status !== "pausing")) {
      if (status === "running") {
        throw new ContainerError(
          "ContainerNotRunning",
          `cannot resume container "${this.id}": it is not paused`,
        );
      }
      refuse(this.id, status, "resume");
    }
    await this.#cgroupOf(state).thaw();
  }

  /** Usage counters of the container's cgroup and network namespace. */
  // deno-lint-ignore require-await
  async stats(): Promise<CgroupStats> {
    const state = this.#state();
    if (!state) refuse(this.id, "destroyed", "read stats of");
    const init = state.init && isAlive(state.init) ? state.init.pid : null;
    return this.#cgroupOf(state).stats(init);
  }

  /**
   * Changes resource limits of a running (or paused, or not yet started) container. The
   * values are validated as `linux.resources` is; the kernel takes all of them or none.
   */
  async update(resources: Resources | unknown): Promise<void> {
    using _lock = await this.#lock("update");
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state || status === "stopped" || status === "destroyed") refuse(this.id, status, "update");
    const problems: string[] = [];
    const valid = validateResources(problems, resources);
    if (!valid || problems.length > 0) {
      throw new ContainerError("ConfigInvalid", `invalid resources:\n${problems.join("\n")}`);
    }
    const given = resources as Resources;
    const changes: Resources = given.devices === undefined ? { ...valid, devices: [] } : valid;
    if (state.init) {
      const cgroup = this.#cgroupOf(state);
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
    this.#write({ ...state, config });
  }

  /** One value per OOM kill in the container; ends when the container is destroyed. */
  // deno-lint-ignore require-await
  async oom(): Promise<AsyncIterableIterator<OomEvent>> {
    const state = this.#state();
    if (!state) refuse(this.id, "destroyed", "watch OOM kills of");
    const stream = new OomStream(this.#cgroupOf(state).oomSource());
    this.#streams.add(stream);
    return stream;
  }

  /**
   * Sends a signal to the init, or with `all` to every process still in the container's
   * cgroup, as runc does: `all` is no error when nothing is left (engines send it after
   * the init exited), a paused container is signalled too (the signal waits for the thaw,
   * but SIGKILL thaws it), and SIGKILL to an init without a pid namespace of its own kills
   * every process of the container (nothing else would).
   */
  async signal(
    signal: Deno.Signal | number = "SIGTERM",
    options: SignalOptions = {},
  ): Promise<void> {
    const number = signalNumber(signal);
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state) refuse(this.id, status, "signal");
    const cgroup = this.#cgroupOf(state);
    const killAll = number === SIGKILL && !ownsPidNamespace(state.config);
    if (options.all || killAll) {
      for (const pid of cgroup.pids()) kill(pid, number);
    }
    if (!options.all) {
      if (!state.init || status === "stopped") refuse(this.id, status, "signal");
      signalVerified(state.init, number);
    }
    if (number === SIGKILL && (status === "paused" || status === "pausing")) await cgroup.thaw();
  }

  /**
   * Kills every process of the container, waits for them, removes its cgroups and its
   * state. Idempotent. When the state is gone or unreadable, what is still known is
   * destroyed all the same: the init and cgroups this handle last saw or the file still
   * shows, else the cgroups at the id's default path.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    let lock: Disposable;
    try {
      lock = await this.#store.lock(this.id);
    } catch (e) {
      if (!(e instanceof ContainerError && e.code === "ContainerNotFound")) throw e;
      await destroyLeftovers(this.#store, this.id, this.#remnants());
      this.#ended();
      return;
    }
    using _lock = lock;
    let state: ContainerState;
    try {
      state = this.#store.read(this.id);
    } catch (e) {
      const gone = e instanceof ContainerError && e.code === "ContainerNotFound";
      if (!gone && !isCorruptState(e)) throw e;
      await destroyLeftovers(this.#store, this.id, this.#remnants());
      this.#ended();
      return;
    }
    this.#known = state;
    const cgroup = this.#cgroupOf(state);
    await cgroup.killAll();
    if (state.init && isAlive(state.init)) signalVerified(state.init, 9);
    await waitGone(state.init);
    faultPoint("destroy:killed");
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    await cgroup.remove();
    faultPoint("destroy:cgroups");
    this.#store.remove(this.id);
    for (const warning of await runPoststop(state)) console.warn(`cell: ${warning}`);
    this.#destroyed = true;
  }

  #ended(): void {
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    this.#destroyed = true;
  }

  /** `await using` destroys the container. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

/**
 * While the spawn runs: when the child stops for hooks, runs them and lets it go on (or,
 * when they fail, has the native parent kill it); returns the hooks' error. A spawn that
 * ends before the pause (the child failed earlier) ends the wait.
 */
async function duringPause(
  pause: PauseSteps,
  spawning: Promise<unknown>,
): Promise<unknown> {
  const [notifyRead, notifyWrite] = pause.notify;
  const reading = readWait(notifyRead, 32);
  const first = await Promise.race([reading, spawning.then(() => "ended" as const)]);
  if (first === "ended" || first === null) {
    // No pause came: end the read (every write end closed) before its fd is closed.
    close(notifyWrite);
    pause.notify[1] = -1;
    await reading;
    return undefined;
  }
  const pid = Number(new TextDecoder().decode(first).trim());
  try {
    await pause.run(pid);
  } catch (e) {
    writeFd(pause.resume, "0");
    return e;
  }
  writeFd(pause.resume, "1");
  return undefined;
}

/**
 * Waits until the init has run its startContainer hooks: end of file on the hooks fifo
 * (the init exec'd or exited; its fd was its last writer), or the failure record it wrote.
 */
async function startHooksFailure(fd: number): Promise<ReturnType<typeof decodeRecord> | null> {
  const { promise, resolve } = Promise.withResolvers<Uint8Array | null>();
  watchFd(fd, () => {
    const bytes = readFdOrEnd(fd);
    if (bytes === undefined) return true; // nothing yet
    resolve(bytes);
    return false;
  });
  const bytes = await promise;
  return bytes && bytes.length === 256 ? decodeRecord(bytes) : null;
}

/** A non-blocking read: the bytes, null at end of file, undefined when nothing is there. */
function readFdOrEnd(fd: number): Uint8Array | null | undefined {
  const bytes = readFd(fd, 256);
  if (bytes === null) return undefined;
  return bytes.length === 0 ? null : bytes;
}

/**
 * Writes the byte the init waits for on the exec fifo. The init holds the fifo open, so
 * a writer can open it only while the init lives (else ENXIO).
 */
function releaseInit(fifo: string, init: ProcessIdentity): void {
  let fd: number;
  try {
    fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  } catch (e) {
    if (e instanceof ContainerError && e.errnoName === "ENXIO") {
      throw new ContainerError("ContainerNotRunning", `the init ${init.pid} exited before start`, {
        path: fifo,
      });
    }
    throw e;
  }
  try {
    writeFd(fd, "0");
  } finally {
    close(fd);
  }
}

/** Whether the container has a pid namespace of its own (not the host's, not joined). */
function ownsPidNamespace(config: Spec): boolean {
  return config.linux?.namespaces?.some((n) => n.type === "pid" && !n.path) === true;
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/** Whether an init still waits on its exec fifo (holds it open): it was not released. */
function waitsOnFifo(fifo: string): boolean {
  let fd: number;
  try {
    fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  } catch {
    return false; // ENXIO: no reader; ENOENT: the fifo is gone
  }
  close(fd);
  return true;
}

let self: ProcessIdentity | null = null;

/** This process's identity (its start time never changes). */
function selfIdentity(): ProcessIdentity {
  self ??= identify(Deno.pid);
  if (!self) throw new ContainerError("SystemError", "cannot read /proc/self/stat");
  return self;
}
