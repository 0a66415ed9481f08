/**
 * A container: its config, its status read from disk and the kernel, and the
 * operations on it. Any process that loads the same id from the same root sees and
 * acts on the same container.
 *
 * @module
 */

import { type CgroupManager, detectCgroupMode, restoreCgroupManager } from "../cgroups/mod.ts";
import { type OomEvent, OomStream } from "../cgroups/oom.ts";
import type { CgroupStats } from "../cgroups/stats.ts";
import { mergeResources } from "../cgroups/merge.ts";
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
import { close, kill, pidfdOpen, pidfdSignal, pipe, spawn, writeFd } from "../syscalls.ts";
import { refuse, type Status } from "./status.ts";

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
    const freezer = this.#cgroupOf(state).freezerState();
    return freezer === "frozen" ? "paused" : freezer === "freezing" ? "pausing" : "running";
  }

  /** The cgroup as the state on disk says now (another process may have started us). */
  #cgroupOf(state: ContainerState): CgroupManager {
    const init = state.init && isAlive(state.init) ? state.init.pid : null;
    return restoreCgroupManager(state.cgroup, state.config.linux?.resources, init);
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
    if (status === "created" && !state.init) return await this.#startInit(state, options);
    if (status !== "running") refuse(this.id, status, "start a process in");
    return await this.#exec(state, options);
  }

  /**
   * The init. On v1 its cgroup is made here, on this thread, while the worker thread
   * clones the child (creating namespaces is the slow part of a clone), and the native
   * parent waits for our "made it" byte before it places the child. On v2 the cgroup is
   * made first and the child is cloned straight into it (clone3 CLONE_INTO_CGROUP).
   */
  async #startInit(state: ContainerState, options: ProcessOptions): Promise<ContainerProcess> {
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
          }),
        whileSpawning: intoCgroup ? undefined : () => {
          try {
            cgroup.create();
            made = true;
          } finally {
            writeFd(readyWriter, made ? "1" : "0");
          }
        },
        started: (init) => this.#store.write({ ...state, init, cgroup: cgroup.state() }),
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
    return await this.#launch(proc, options, {
      plan: (stdio) =>
        planExec(this.config, {
          initPid: init.pid,
          setgroupsDenied: setgroupsDenied(init.pid),
          process: proc,
          stdio,
          extraFds: options.extraFds ?? [],
          cgroupProcs: this.#cgroupOf(state).procsFiles(),
          cloneIntoCgroup: state.cgroup.mode === "v2" ? state.cgroup.paths.unified : undefined,
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
      const exit = watchExit(result.pidfd);
      try {
        const identity = identify(result.pid);
        if (!identity) throw new ContainerError("SystemError", `process ${result.pid} vanished`);
        steps.started?.(identity);
      } catch (e) {
        // Not recorded, so nobody could find it: it must not outlive this error.
        pidfdSignal(result.pidfd, 9);
        await exit;
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

/** Waits (bounded) until the init is no longer a live process. */
async function waitGone(init: ProcessIdentity | null): Promise<void> {
  if (!init) return;
  for (let i = 0; i < 1000 && isAlive(init); i++) {
    await new Promise((r) => setTimeout(r, i < 10 ? 1 : 10));
  }
}
