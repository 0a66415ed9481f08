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
import type { Resources, Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { spawnError } from "../process/failure.ts";
import { ContainerProcess } from "../process/handle.ts";
import type { ProcessOptions } from "../process/options.ts";
import { planExec, planInit, resolveProcess } from "../process/plan.ts";
import type { PlanBuilder } from "../process/plan_builder.ts";
import { signalNumber } from "../process/signals.ts";
import { prepareStdio } from "../process/stdio.ts";
import { watchExit } from "../process/waiter.ts";
import { setgroupsDenied } from "../userns/id_maps.ts";
import { identify, isAlive, type ProcessIdentity } from "../state/identity.ts";
import type { ContainerState, StateStore } from "../state/store.ts";
import {
  close,
  kill,
  mkfifo,
  open,
  pidfdOpen,
  pidfdSignal,
  pipe,
  spawn,
  writeFd,
} from "../syscalls.ts";
import { hasStartHooks, runLifecycleHooks, runPoststart, runPoststop } from "./lifecycle_hooks.ts";
import { refuse, type Status } from "./status.ts";

const O_WRONLY = 1;
const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

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
  plan: (stdio: [number, number, number]) => PlanBuilder;
  whileSpawning?: () => void;
  started?: (process: ProcessIdentity) => void;
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

  /** Made by the Factory. */
  constructor(store: StateStore, state: ContainerState) {
    this.id = state.id;
    this.config = state.config;
    this.#store = store;
  }

  /** The container's lock; ContainerDestroyed when its state is gone. */
  async #lock(action: string): Promise<Disposable> {
    if (this.#destroyed) refuse(this.id, "destroyed", action);
    try {
      return await this.#store.lock(this.id);
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") {
        this.#destroyed = true;
        refuse(this.id, "destroyed", action);
      }
      throw e;
    }
  }

  #state(): ContainerState | null {
    if (this.#destroyed) return null;
    try {
      return this.#store.read(this.id);
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") return null;
      throw e;
    }
  }

  #statusOf(state: ContainerState | null): Status {
    if (!state) return "destroyed";
    if (!state.init) return "created";
    if (!isAlive(state.init)) return "stopped";
    if (state.execFifo) return "created";
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

  /** createInit under the lock; then the prestart, createRuntime and createContainer hooks. */
  async #createInit(state: ContainerState, options: ProcessOptions): Promise<ContainerProcess> {
    const fifo = join(this.#store.dir(this.id), "exec.fifo");
    mkfifo(fifo, 0o600);
    // Writable by anyone: a user namespace's root is not the host's. The directory is
    // private, and the init reaches the fifo only through the fd passed to it.
    Deno.chmodSync(fifo, 0o622);
    let fd = -1;
    let init: ContainerProcess;
    try {
      fd = open(fifo, O_RDWR | O_CLOEXEC);
      init = await this.#launchInit(state, options, { fd, path: fifo });
    } catch (e) {
      removeQuietly(fifo);
      throw e;
    } finally {
      close(fd);
    }
    const made = this.#state() as ContainerState;
    try {
      for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
        await runLifecycleHooks(kind, made, init.pid);
      }
    } catch (e) {
      // The spec: a failed create hook stops the container; it stays to be deleted.
      this.#killInit(made);
      await init.status;
      throw e;
    }
    return init;
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
      if (status === "running" || status === "paused") {
        throw new ContainerError(
          "ContainerNotRunning",
          `cannot start container "${this.id}": it is already ${status}`,
        );
      }
      refuse(this.id, status, "start");
    }
    try {
      await runLifecycleHooks("startContainer", state, state.init.pid);
    } catch (e) {
      this.#killInit(state);
      throw e;
    }
    releaseInit(state.execFifo, state.init);
    removeQuietly(state.execFifo);
    this.#store.write({ ...state, execFifo: undefined });
    await this.#poststart(state.init.pid);
  }

  /** poststart hooks; a failure is a warning and the container goes on (runtime-spec 1.2). */
  async #poststart(pid: number): Promise<void> {
    if (!this.config.hooks?.poststart?.length) return; // the common case: no state read
    const state = this.#state();
    if (!state) return;
    for (const warning of await runPoststart(state, pid)) console.warn(`cell: ${warning}`);
  }

  /** SIGKILL to every process of the container (a hook failed). */
  #killInit(state: ContainerState): void {
    for (const pid of this.#cgroupOf(state).pids()) kill(pid, 9);
    if (state.init) signalInit(state.init, 9);
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
  ): Promise<ContainerProcess> {
    if (options.subCgroups) {
      throw new ContainerError(
        "ConfigInvalid",
        "subCgroups: only a process joining a running container takes them",
      );
    }
    const proc = resolveProcess(this.config, options);
    const cgroup = this.#cgroupOf(state);
    const intoCgroup = cgroup.mode === "v2" ? state.cgroup.paths.unified : undefined;
    if (intoCgroup) cgroup.create();
    const [ready, readyWriter] = intoCgroup ? [-1, -1] : pipe();
    let made = intoCgroup !== undefined;
    try {
      return await this.#launch(proc, options, {
        plan: (stdio) =>
          planInit(this.config, {
            process: proc,
            stdio,
            extraFds: options.extraFds ?? [],
            awaitFd: intoCgroup ? undefined : ready,
            cloneIntoCgroup: intoCgroup,
            cgroupProcs: cgroup.procsFiles(),
            cgroupPaths: state.cgroup.paths,
            cgroupMode: detectCgroupMode(),
            noPivotRoot: state.noPivotRoot,
            execFifo: fifo?.fd,
          }),
        whileSpawning: intoCgroup ? undefined : () => {
          try {
            cgroup.create();
            made = true;
          } finally {
            writeFd(readyWriter, made ? "1" : "0");
          }
        },
        started: (init) =>
          this.#store.write({ ...state, init, cgroup: cgroup.state(), execFifo: fifo?.path }),
      });
    } catch (e) {
      if (made) await cgroup.remove();
      throw e;
    } finally {
      close(ready);
      close(readyWriter);
    }
  }

  async #exec(state: ContainerState, options: ProcessOptions): Promise<ContainerProcess> {
    const init = state.init as ProcessIdentity;
    const proc = resolveProcess(this.config, options);
    const dirs = options.subCgroups ? subCgroupDirs(state.cgroup, options.subCgroups) : undefined;
    const cgroupProcs = dirs
      ? Object.values(dirs).map((dir) => `${dir}/cgroup.procs`)
      : this.#cgroupOf(state).procsFiles();
    const v2Dir = dirs ? dirs.unified : state.cgroup.paths.unified;
    return await this.#launch(proc, options, {
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
        }),
    });
  }

  async #launch(
    proc: { args: string[]; cwd: string },
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
      const spawning = spawn(plan.finish()); // runs on a worker thread from here
      let during: unknown;
      try {
        steps.whileSpawning?.();
      } catch (e) {
        during = e;
      }
      const result = await spawning;
      if (during !== undefined) throw during;
      if (result.failure) throw spawnError(result.failure, plan.descriptions, proc);
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
    this.#store.write({ ...state, config });
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

  /** Sends a signal to the init, or with `all` to every process of the container. */
  // deno-lint-ignore require-await
  async signal(
    signal: Deno.Signal | number = "SIGTERM",
    options: SignalOptions = {},
  ): Promise<void> {
    const number = signalNumber(signal);
    const state = this.#state();
    const status = this.#statusOf(state);
    if (!state?.init || (status !== "running" && status !== "created")) {
      refuse(this.id, status, "signal");
    }
    if (options.all) {
      for (const pid of this.#cgroupOf(state).pids()) kill(pid, number);
    } else {
      signalInit(state.init, number);
    }
  }

  /**
   * Kills every process of the container, waits for them, removes its cgroups and its
   * state. Idempotent.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    let lock: Disposable;
    try {
      lock = await this.#lock("destroy");
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerDestroyed") return;
      throw e;
    }
    using _lock = lock;
    const state = this.#state();
    if (!state) {
      this.#destroyed = true;
      return;
    }
    const cgroup = this.#cgroupOf(state);
    await cgroup.killAll();
    if (state.init && isAlive(state.init)) signalInit(state.init, 9);
    await waitGone(state.init);
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    await cgroup.remove();
    this.#store.remove(this.id);
    for (const warning of await runPoststop(state)) console.warn(`cell: ${warning}`);
    this.#destroyed = true;
  }

  /** `await using` destroys the container. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

/** Signals the init through a pidfd opened and then verified, so a reused pid is safe. */
function signalInit(init: ProcessIdentity, signal: number): void {
  let pidfd: number;
  try {
    pidfd = pidfdOpen(init.pid);
  } catch {
    return; // already gone
  }
  try {
    if (isAlive(init)) pidfdSignal(pidfd, signal);
  } finally {
    close(pidfd);
  }
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

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/** Waits (bounded) until the init is no longer a live process. */
async function waitGone(init: ProcessIdentity | null): Promise<void> {
  if (!init) return;
  for (let i = 0; i < 1000 && isAlive(init); i++) {
    await new Promise((r) => setTimeout(r, i < 10 ? 1 : 10));
  }
}
