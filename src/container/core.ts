/**
 * What every verb of a container starts from: its state on disk under its lock, the phase
 * derived from that state and the kernel, checked against the verb's rule in `status.ts`.
 * Internal to `src/container/`: `Container` is the public face.
 *
 * @module
 */

import { type CgroupManager, restoreCgroupManager } from "../cgroups/mod.ts";
import type { OomStream } from "../cgroups/oom.ts";
import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { isAlive } from "../state/identity.ts";
import type { Remnants } from "../state/parse.ts";
import type { ContainerState, StateStore } from "../state/store.ts";
import { waitsOnFifo } from "./exec_fifo.ts";
import { check, type Phase, refuse, type Status, statusOfPhase, type Verb } from "./status.ts";

/** A verb's view of the container: its state, phase and status. */
export interface Entry {
  state: ContainerState;
  phase: Phase;
  status: Status;
  /** The cgroup as the state says now (another process may have started the container). */
  cgroup(): CgroupManager;
}

/** An {@linkcode Entry} made under the container's lock, held until disposed. */
export type LockedEntry = Entry & Disposable;

/** One container's state, lock and bookkeeping, shared by the verb modules. */
export class ContainerCore {
  readonly id: string;
  readonly config: Spec;
  readonly store: StateStore;
  /** Set once destroyed by this handle: every later verb is refused without a read. */
  destroyed = false;
  /** The OOM streams this handle gave out; closed by destroy. */
  readonly streams: Set<OomStream> = new Set();
  /**
   * The state as this handle last read or wrote it: what destroy still knows (the init, the
   * cgroups) when the state directory was removed behind our back.
   */
  #known: ContainerState;

  constructor(store: StateStore, state: ContainerState) {
    this.id = state.id;
    this.config = state.config;
    this.store = store;
    this.#known = state;
  }

  /** The container's lock; ContainerDestroyed when its state is gone. */
  async lock(verb: Verb): Promise<Disposable> {
    if (this.destroyed) refuse(this.id, verb, "destroyed");
    try {
      return await this.store.lock(this.id);
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") {
        refuse(this.id, verb, "destroyed");
      }
      throw e;
    }
  }

  /** Under the lock: the state, checked to allow `verb` (else its error). */
  async enter(verb: Verb): Promise<LockedEntry> {
    const lock = await this.lock(verb);
    try {
      const entry = this.look(verb);
      return { ...entry, [Symbol.dispose]: () => lock[Symbol.dispose]() };
    } catch (e) {
      lock[Symbol.dispose]();
      throw e;
    }
  }

  /** Without the lock: the state, checked to allow `verb` (else its error). */
  look(verb: Verb): Entry {
    const state = this.state();
    const phase = this.phaseOf(state);
    check(this.id, verb, phase);
    return this.#entry(state as ContainerState, phase);
  }

  /**
   * Without the lock, for a verb every phase with a state allows (reads): the state, or the
   * verb's error when it is gone. The phase is not derived (no freezer read).
   */
  present(verb: Verb): ContainerState {
    const state = this.state();
    if (!state) refuse(this.id, verb, "destroyed");
    return state;
  }

  /** An entry for a state already read (the phase derived by the caller). */
  #entry(state: ContainerState, phase: Phase): Entry {
    return {
      state,
      phase,
      status: statusOfPhase(phase),
      cgroup: () => this.cgroupOf(state),
    };
  }

  /** The state on disk; null when it is gone; a ContainerError naming the file when corrupt. */
  state(): ContainerState | null {
    if (this.destroyed) return null;
    try {
      const state = this.store.read(this.id);
      this.#known = state;
      return state;
    } catch (e) {
      if (e instanceof ContainerError && e.code === "ContainerNotFound") return null;
      throw e;
    }
  }

  /** Remembers a state read elsewhere (destroy reads it itself). */
  remember(state: ContainerState): void {
    this.#known = state;
  }

  /** Writes the state (under the lock) and remembers it. */
  write(state: ContainerState): void {
    this.store.write(state);
    this.#known = state;
  }

  /** What this handle knows of the processes and cgroups, for a destroy without state. */
  remnants(): Remnants {
    const known = this.#known;
    return {
      init: known.init ?? undefined,
      starting: known.starting,
      cgroup: known.cgroup,
      networkMade: known.networkMade,
    };
  }

  /**
   * new: no init yet; ready: an init waiting on its exec fifo; stopped: the init is gone,
   * or the process that was starting it died before it recorded one (only destroy is
   * left); running, pausing or paused from the freezer; destroyed: no state.
   */
  phaseOf(state: ContainerState | null): Phase {
    if (!state) return "destroyed";
    if (!state.init) return state.starting && !isAlive(state.starting) ? "stopped" : "new";
    if (!isAlive(state.init)) return "stopped";
    // Released (or killed) inits hold the fifo no more: a start cut short after the release
    // and before its record reads as running, as it is.
    if (state.execFifo && waitsOnFifo(state.execFifo)) return "ready";
    const freezer = this.cgroupOf(state).freezerState();
    return freezer === "frozen" ? "paused" : freezer === "freezing" ? "pausing" : "running";
  }

  /** The cgroup as the state on disk says now (another process may have started us). */
  cgroupOf(state: ContainerState): CgroupManager {
    // Only a container without a cgroup finds its processes through the init.
    const init = state.cgroup.mode === "none" && state.init && isAlive(state.init)
      ? state.init.pid
      : null;
    return restoreCgroupManager(state.cgroup, state.config.linux?.resources, init);
  }

  /** Marks this handle destroyed and ends its OOM streams. */
  ended(): void {
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    this.destroyed = true;
  }
}
