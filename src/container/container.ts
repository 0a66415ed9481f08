/**
 * A container: its config, its status read from disk and the kernel, and the operations
 * on it. Any process that loads the same id from the same root sees and acts on the same
 * container. Each verb checks its rule in `status.ts` first (`ContainerCore.enter`), then
 * does its work in the module of its group: `launch_init.ts`, `launch_exec.ts`,
 * `start_init.ts`, `control.ts`, `update.ts`, `destroy.ts`.
 *
 * @module
 */

import { withHostSideCounters } from "../network/stats.ts";
import type { OomEvent } from "../cgroups/oom.ts";
import { OomStream } from "../cgroups/oom.ts";
import type { CgroupStats } from "../cgroups/stats.ts";
import type { Resources, Spec } from "../config/types.ts";
import type { ContainerProcess } from "../process/handle.ts";
import type { ProcessOptions } from "../process/options.ts";
import { isAlive } from "../state/identity.ts";
import type { ContainerState, StateStore } from "../state/store.ts";
import * as control from "./control.ts";
import { ContainerCore } from "./core.ts";
import { destroy } from "./destroy.ts";
import { exec } from "./launch_exec.ts";
import { createInitLocked, launchInit } from "./launch_init.ts";
import { hasStartHooks } from "./lifecycle_hooks.ts";
import { type OciState, ociStateOf } from "./oci_state.ts";
import { poststart, startInitLocked } from "./start_init.ts";
import { type Status, statusOfPhase } from "./status.ts";
import { update } from "./update.ts";

export { OCI_SPEC_VERSION, type OciState } from "./oci_state.ts";
export type { SignalOptions } from "./control.ts";

/** A container. Get one from a Factory's `create` or `load`. */
export class Container implements AsyncDisposable {
  /** The container id. */
  readonly id: string;
  /** The validated OCI config. */
  readonly config: Spec;
  #core: ContainerCore;

  /** Made by the Factory. */
  constructor(store: StateStore, state: ContainerState) {
    this.id = state.id;
    this.config = state.config;
    this.#core = new ContainerCore(store, state);
  }

  /**
   * The container's state as the OCI runtime spec words it (what `cell state` prints and
   * hooks read): `pid` is the init's host pid while it lives, `bundle` the bundle
   * directory ("" when the config did not come from one).
   */
  // deno-lint-ignore require-await
  async ociState(): Promise<OciState> {
    return ociStateOf(this.id, this.#core.look("ociState"));
  }

  /** The current status: created, running, pausing, paused, stopped or destroyed. */
  // deno-lint-ignore require-await
  async status(): Promise<Status> {
    const core = this.#core;
    return statusOfPhase(core.phaseOf(core.state()));
  }

  /** Host pids of every process in the container's cgroup. */
  // deno-lint-ignore require-await
  async processes(): Promise<number[]> {
    const core = this.#core;
    return core.cgroupOf(core.present("processes")).pids();
  }

  /**
   * Starts a process. The first call creates the container's init in new namespaces;
   * later calls run another process in the init's namespaces and cgroup (exec), also
   * into an init made by `createInit` that was not started yet, as runc allows.
   */
  async start(options: ProcessOptions = {}): Promise<ContainerProcess> {
    const core = this.#core;
    using entry = await core.enter("start");
    if (entry.phase !== "new") return await exec(core, entry.state, options);
    if (!hasStartHooks(entry.state.config)) {
      const init = await launchInit(core, entry.state, options);
      await poststart(core, init.pid);
      return init;
    }
    // Hooks run while the init waits before its exec: the create/start split inside.
    const init = await createInitLocked(core, entry.state, options);
    await startInitLocked(core);
    return init;
  }

  /**
   * Makes the init and stops it just before it execs its program (runc `create`): the
   * namespaces, mounts and cgroup are all set up, the status stays `created`, and
   * {@linkcode Container.startInit} (from this or any other process) lets it run.
   */
  async createInit(options: ProcessOptions = {}): Promise<ContainerProcess> {
    using entry = await this.#core.enter("createInit");
    return await createInitLocked(this.#core, entry.state, options);
  }

  /** Lets an init made by {@linkcode Container.createInit} exec its program (runc `start`). */
  async startInit(): Promise<void> {
    using _lock = await this.#core.lock("startInit");
    await startInitLocked(this.#core);
  }

  /** Freezes every process of the container (status pausing, then paused). */
  async pause(): Promise<void> {
    await control.pause(this.#core);
  }

  /** Thaws a paused container. */
  async resume(): Promise<void> {
    await control.resume(this.#core);
  }

  /**
   * Usage counters of the container's cgroup and network namespace; the veths of the
   * `network` option are counted at their host ends.
   */
  // deno-lint-ignore require-await
  async stats(): Promise<CgroupStats> {
    const state = this.#core.present("stats");
    const init = state.init && isAlive(state.init) ? state.init.pid : null;
    const stats = this.#core.cgroupOf(state).stats(init);
    // A veth cell made is counted at its host end (rx and tx swapped), as libcontainer did.
    stats.network = withHostSideCounters(stats.network, state.networkMade);
    return stats;
  }

  /**
   * Changes resource limits of a running (or paused, or not yet started) container. The
   * values are validated as `linux.resources` is; the kernel takes all of them or none.
   */
  async update(resources: Resources | unknown): Promise<void> {
    await update(this.#core, resources);
  }

  /** One value per OOM kill in the container; ends when the container is destroyed. */
  // deno-lint-ignore require-await
  async oom(): Promise<AsyncIterableIterator<OomEvent>> {
    const core = this.#core;
    const stream = new OomStream(core.cgroupOf(core.present("oom")).oomSource());
    core.streams.add(stream);
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
    options: control.SignalOptions = {},
  ): Promise<void> {
    await control.signal(this.#core, signal, options);
  }

  /**
   * Kills every process of the container, waits for them, removes its cgroups and its
   * state. Idempotent. When the state is gone or unreadable, what is still known is
   * destroyed all the same: the init and cgroups this handle last saw or the file still
   * shows, else the cgroups at the id's default path.
   */
  async destroy(): Promise<void> {
    await destroy(this.#core);
  }

  /** `await using` destroys the container. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
