/**
 * The state directory: `<root>/<id>/state.json`, mode 0700, written atomically (temp
 * file + rename), with a lock file so two processes cannot race on one container.
 *
 * @module
 */

import { join } from "../path.ts";
import type { CgroupState } from "../cgroups/manager.ts";
import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import type { ProcessIdentity } from "./identity.ts";

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
  /** The exec fifo an init made by `createInit` waits on; gone once it is started. */
  execFifo?: string;
  /** The container's cgroup. */
  cgroup: CgroupState;
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

/** The on-disk store under one root directory. */
export class StateStore {
  /** The root directory, e.g. /run/cell. */
  readonly root: string;

  /** A store rooted at `root` (made on first use, mode 0700). */
  constructor(root: string) {
    this.root = root;
  }

  /** The directory of one container. */
  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  /** Claims a new id by making its directory; IdInUse if it exists. */
  claim(id: string): string {
    const dir = this.dir(id);
    Deno.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      Deno.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new ContainerError("IdInUse", `container "${id}" already exists in ${this.root}`);
      }
      throw e;
    }
    return dir;
  }

  /** Writes the state atomically. */
  write(state: ContainerState): void {
    const dir = this.dir(state.id);
    const tmp = join(dir, `.state.json.${Deno.pid}`);
    Deno.writeTextFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    Deno.renameSync(tmp, join(dir, "state.json"));
  }

  /** Reads a container's state; ContainerNotFound when there is none. */
  read(id: string): ContainerState {
    const file = join(this.dir(id), "state.json");
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new ContainerError("ContainerNotFound", `container "${id}" does not exist`);
      }
      throw e;
    }
    return JSON.parse(text) as ContainerState;
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

  /** Ids with a state file, sorted. */
  list(): string[] {
    const ids: string[] = [];
    try {
      for (const entry of Deno.readDirSync(this.root)) {
        if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
        try {
          Deno.statSync(join(this.root, entry.name, "state.json"));
          ids.push(entry.name);
        } catch { /* being created or destroyed */ }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return ids.sort();
  }

  /**
   * Takes the container's exclusive lock (flock on `<dir>/lock`), waiting for another
   * process that holds it. Dispose the result to release it.
   */
  async lock(id: string): Promise<Disposable> {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(join(this.dir(id), "lock"), { create: true, write: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new ContainerError("ContainerNotFound", `container "${id}" does not exist`);
      }
      throw e;
    }
    await file.lock(true);
    return { [Symbol.dispose]: () => file.close() };
  }

  /** Removes a container's directory. Idempotent. */
  remove(id: string): void {
    try {
      Deno.removeSync(this.dir(id), { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
