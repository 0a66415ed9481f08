/**
 * The state directory: `<root>/<id>/state.json`, mode 0700, written atomically (temp
 * file + rename), with a lock file so two processes cannot race on one container.
 *
 * @module
 */

import { LOCAL_HOST, type ProcessHost } from "../process/host.ts";
import { join } from "../path.ts";
import type { CgroupState } from "../cgroups/manager.ts";
import type { Spec } from "../config/types.ts";
import type { NetworkOptions, NetworkRecord } from "../network/options.ts";
import { ContainerError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import { clip } from "../text.ts";
import type { ProcessIdentity } from "./identity.ts";
import { corruptState, parseState, type Remnants, salvageState, serializeState } from "./parse.ts";

/** What is persisted for a container. */
export interface ContainerState {
  /** Format version of this file. */
  version: 1;
  /** The container id. */
  id: string;
  /** The validated config. */
  config: Spec;
  /** The bundle directory, when the config came from one. */
  bundle?: string;
  /** Set up the root with MS_MOVE + chroot instead of pivot_root. */
  noPivotRoot?: boolean;
  /** ISO time of creation. */
  created: string;
  /** The init, once started. */
  init: ProcessIdentity | null;
  /**
   * The process making the init, recorded (with the cgroup directories it is about to make)
   * before it makes anything and cleared when the init is recorded. Left behind by a process
   * that died half-way: the start was interrupted.
   */
  starting?: ProcessIdentity;
  /** The exec fifo an init made by `createInit` waits on; gone once it is started. */
  execFifo?: string;
  /** The container's cgroup. */
  cgroup: CgroupState;
  /** The `network` option it was created with (validated). */
  network?: NetworkOptions;
  /**
   * What its start made on the host for the network (recorded as it is made), for destroy
   * and for the undo of a failed start.
   */
  networkMade?: NetworkRecord;
}

const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Throws InvalidIdFormat unless id is 1–128 of letters, digits, `_ . -`, not led by `.`/`-`. */
export function checkId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    const shown = typeof id === "string" ? JSON.stringify(id.slice(0, 140)) : String(id);
    throw new ContainerError(
      "InvalidIdFormat",
      `invalid container id ${shown}: use 1 to 128 letters, digits, "_", "." or "-", ` +
        `not starting with "." or "-"`,
    );
  }
}

/** The name of the state file in a container's directory. */
export const STATE_FILE = "state.json";

/** The prefix of a directory being removed (renamed first, so it vanishes at once). */
const TOMB_PREFIX = ".gone.";

let tombs = 0;

/** The on-disk store under one root directory. */
export class StateStore {
  /** The root directory, e.g. /run/cell. */
  readonly root: string;
  /** Where the processes of this store's containers are cloned (this process by default). */
  readonly host: ProcessHost;

  /** A store rooted at `root` (made on first use, mode 0700). */
  constructor(root: string, host: ProcessHost = LOCAL_HOST) {
    this.root = root;
    this.host = host;
  }

  /** The directory of one container. */
  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  /** The state file of one container. */
  file(id: string): string {
    return join(this.dir(id), STATE_FILE);
  }

  /**
   * Claims the id and writes its first state, under the container's lock. A directory
   * without a state file is a leftover (a create or destroy that died half-way): it is
   * taken over, as the one with a state file is IdInUse.
   */
  async claim(state: ContainerState): Promise<void> {
    const dir = this.dir(state.id);
    Deno.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    // Bounded: each round either claims, fails, or saw the directory removed meanwhile.
    for (let round = 0; round < 20; round++) {
      let fresh = true;
      try {
        Deno.mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        fresh = false;
      }
      let lock: Disposable;
      try {
        lock = await this.lock(state.id);
      } catch (e) {
        if (e instanceof ContainerError && e.code === "ContainerNotFound") continue;
        throw e;
      }
      using _lock = lock;
      if (this.#hasStateFile(state.id)) {
        throw new ContainerError(
          "IdInUse",
          `container "${state.id}" already exists in ${this.root}`,
        );
      }
      if (!fresh) this.#clearLeftover(dir);
      faultPoint("create:claimed");
      try {
        this.write(state);
      } catch (e) {
        Deno.removeSync(dir, { recursive: true });
        throw e;
      }
      return;
    }
    throw new ContainerError(
      "SystemError",
      `cannot claim ${dir}: it keeps being removed while we wait for its lock`,
      { path: dir },
    );
  }

  #hasStateFile(id: string): boolean {
    try {
      Deno.lstatSync(this.file(id));
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** Empties a leftover directory but for its lock (which we hold). */
  #clearLeftover(dir: string): void {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.name === "lock") continue;
      Deno.removeSync(join(dir, entry.name), { recursive: true });
    }
  }

  /** Writes the state atomically. */
  write(state: ContainerState): void {
    const dir = this.dir(state.id);
    const tmp = join(dir, `.${STATE_FILE}.${Deno.pid}`);
    Deno.writeTextFileSync(tmp, serializeState(state), { mode: 0o600 });
    Deno.renameSync(tmp, join(dir, STATE_FILE));
  }

  /**
   * Reads a container's state: ContainerNotFound when there is none (no directory, or a
   * leftover directory without a state file); SystemError naming the file when it cannot be
   * read as a state.
   */
  read(id: string): ContainerState {
    const file = this.file(id);
    return parseState(this.#readText(id, file), id, file);
  }

  /** What can still be read from a state file that {@linkcode read} refuses. */
  salvage(id: string): Remnants {
    try {
      return salvageState(Deno.readTextFileSync(this.file(id)));
    } catch {
      return {};
    }
  }

  #readText(id: string, file: string): string {
    try {
      return Deno.readTextFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new ContainerError("ContainerNotFound", `container "${id}" does not exist`);
      }
      if (e instanceof Deno.errors.IsADirectory || e instanceof TypeError) {
        throw corruptState(id, file, clip(e.message));
      }
      throw e;
    }
  }

  /** Whether the container's directory still exists. */
  exists(id: string): boolean {
    try {
      Deno.statSync(this.dir(id));
      return true;
    } catch {
      return false;
    }
  }

  /** Ids with a state file (readable or not), sorted. */
  list(): string[] {
    const ids: string[] = [];
    try {
      for (const entry of Deno.readDirSync(this.root)) {
        if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
        try {
          Deno.lstatSync(join(this.root, entry.name, STATE_FILE));
          ids.push(entry.name);
        } catch { /* being created or destroyed, or a leftover */ }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ids.sort();
  }

  /**
   * Takes the container's exclusive lock (flock on `<dir>/lock`), waiting for another
   * process that holds it. Dispose the result to release it. The lock file is checked to
   * still be the one at the path once held: a destroy removes the directory with its lock,
   * and a waiter must not then hold a lock nobody else can see.
   */
  async lock(id: string): Promise<Disposable> {
    const path = join(this.dir(id), "lock");
    for (let round = 0; round < 100; round++) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(path, { create: true, write: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new ContainerError("ContainerNotFound", `container "${id}" does not exist`);
        }
        throw e;
      }
      try {
        await file.lock(true);
        const held = file.statSync();
        const now = statOrNull(path);
        if (now !== null && now.ino === held.ino && now.dev === held.dev) {
          const locked = file;
          return { [Symbol.dispose]: () => locked.close() };
        }
      } catch (e) {
        file.close();
        throw e;
      }
      file.close(); // the directory was removed (or replaced) while we waited: look again
    }
    throw new ContainerError("SystemError", `cannot lock ${path}: it keeps being replaced`, {
      path,
    });
  }

  /**
   * Removes a container's directory. Idempotent. It is renamed first, so it vanishes at
   * once (a process waiting for its lock finds it gone) and a removal cut short leaves
   * only a hidden directory, which {@linkcode removeTombs} clears.
   */
  remove(id: string): void {
    const tomb = join(this.root, `${TOMB_PREFIX}${id}.${Deno.pid}.${++tombs}`);
    try {
      Deno.renameSync(this.dir(id), tomb);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    faultPoint("destroy:renamed");
    Deno.removeSync(tomb, { recursive: true });
  }

  /** Removes what a removal of `id` cut short left (hidden directories). */
  removeTombs(id: string): void {
    const prefix = `${TOMB_PREFIX}${id}.`;
    try {
      for (const entry of Deno.readDirSync(this.root)) {
        if (!entry.name.startsWith(prefix)) continue;
        // The rest must be "<pid>.<n>": another id may start with this one and a dot.
        if (!/^\d+\.\d+$/.test(entry.name.slice(prefix.length))) continue;
        Deno.removeSync(join(this.root, entry.name), { recursive: true });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
