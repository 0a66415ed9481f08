/**
 * Destroying what is left of a container whose state is gone or unreadable: its processes
 * and cgroups are found from whatever is still known (a damaged state file's remnants, a
 * handle's last view), else from the cgroup path the id alone gives (`/cell/<id>`, the
 * default), as runc derives a cgroup from the id.
 *
 * @module
 */

import { cgroupManager, restoreCgroupManager } from "../cgroups/mod.ts";
import { defaultCgroupLeftovers } from "../cgroups/intent.ts";
import type { CgroupManager, CgroupState } from "../cgroups/manager.ts";
import { isAlive, type ProcessIdentity } from "../state/identity.ts";
import { isUnloadable, type Remnants } from "../state/parse.ts";
import { removeContainerResctrl, type ResctrlRemoveOptions } from "../resctrl/mod.ts";
import { ContainerError } from "../errors.ts";
import { teardownNetwork } from "../network/teardown.ts";
import { moveBackBeforeKill } from "../network/net_devices_undo.ts";
import type { StateStore } from "../state/store.ts";
import { close, pidfdOpen, pidfdSignal } from "../syscalls.ts";

/** The default cgroup path of a container without `linux.cgroupsPath`. */
export function defaultCgroupPath(id: string): string {
  return `/cell/${id}`;
}

/** How leftovers are found on the host (the host's own by default). */
export interface LeftoversOptions {
  /** Where resctrl is mounted (default: this process's resctrl mount). */
  resctrl?: ResctrlRemoveOptions;
}

/**
 * Kills every process the remnants lead to (the init, everything in the cgroups) and
 * removes the cgroups, the resctrl groups and what was made on the host for the network.
 * With no cgroup known, the id's default path is used. A resctrl group that cannot be
 * removed is a SystemError (as in destroy), so the caller keeps the record of it.
 */
export async function destroyRemnants(
  id: string,
  remnants: Remnants,
  options: LeftoversOptions = {},
): Promise<void> {
  // The leaves at the known paths count too: a start may have made them and died before it
  // recorded them (a state written by a version that recorded no intent, or a handle's
  // view from before the start).
  const cgroup = remnants.cgroup ? withLeaves(remnants.cgroup) : defaultCgroupOf(id);
  const init = remnants.init && isAlive(remnants.init) ? remnants.init : undefined;
  // A start cut short with netDevices moved: back while the paused init lives (as destroy).
  moveBackBeforeKill(remnants.networkMade, remnants.init);
  const manager = restoreCgroupManager(cgroup, undefined, init?.pid ?? null);
  await manager.killAll();
  if (init) {
    signalVerified(init, 9);
    await waitGone(init);
  }
  await manager.remove();
  removeContainerResctrl(id, remnants.resctrl?.remove ?? [], options.resctrl);
  teardownNetwork(remnants.networkMade);
}

function withLeaves(state: CgroupState): CgroupState {
  const leaves = defaultCgroupLeftovers(state).created;
  return { ...state, created: [...new Set([...state.created, ...leaves])] };
}

/** The id's default cgroup, its existing leaves taken as the container's. */
function defaultCgroupOf(id: string): CgroupState {
  const planned = cgroupManager({
    path: defaultCgroupPath(id),
    rootlessUid: Deno.uid() ?? 0,
  }).state();
  return defaultCgroupLeftovers(planned);
}

/**
 * Removes a container whose state is missing or unreadable, with its lock held (or with no
 * directory at all): its remnants (salvaged from the file, else `known`, else the id's
 * default cgroup), then its directory and any removal cut short before. What cannot be
 * removed is an error, and the directory stays for a later destroy.
 */
export async function destroyLeftovers(
  store: StateStore,
  id: string,
  known?: Remnants,
  options: LeftoversOptions = {},
): Promise<void> {
  const salvaged = store.salvage(id);
  const remnants: Remnants = {
    init: salvaged.init ?? known?.init,
    starting: salvaged.starting ?? known?.starting,
    cgroup: salvaged.cgroup ?? known?.cgroup,
    resctrl: salvaged.resctrl ?? known?.resctrl,
    networkMade: salvaged.networkMade ?? known?.networkMade,
  };
  // Throws before the record goes when something (a resctrl group) is still there.
  await destroyRemnants(id, remnants, options);
  store.remove(id);
  store.removeTombs(id);
}

/**
 * Destroys what is left of a container that cannot be loaded (no state file, or an
 * unreadable one), under its lock when its directory exists. A state that became readable
 * meanwhile (a create of the same id won the race) is left alone: returns false.
 */
export async function destroyUnloadable(store: StateStore, id: string): Promise<boolean> {
  let lock: Disposable | undefined;
  try {
    lock = await store.lock(id);
  } catch (e) {
    if (!(e instanceof ContainerError && e.code === "ContainerNotFound")) throw e;
  }
  using _lock = lock;
  if (lock) {
    try {
      store.read(id);
      return false;
    } catch (e) {
      if (!isUnloadable(e)) throw e;
    }
  }
  await destroyLeftovers(store, id);
  return true;
}

/** Signals a process through a pidfd opened and then checked, so a reused pid is safe. */
export function signalVerified(process: ProcessIdentity, signal: number): void {
  let pidfd: number;
  try {
    pidfd = pidfdOpen(process.pid);
  } catch {
    return; // already gone
  }
  try {
    if (isAlive(process)) pidfdSignal(pidfd, signal);
  } finally {
    close(pidfd);
  }
}

/**
 * Kills every process of a container: its cgroup's, then its init (checked by identity),
 * and waits until the init is gone. Used by destroy and by a failed poststart.
 */
export async function killContainer(
  cgroup: CgroupManager,
  init: ProcessIdentity | null,
): Promise<void> {
  await cgroup.killAll();
  if (init && isAlive(init)) signalVerified(init, 9);
  await waitGone(init);
}

/** Waits (bounded, about 10 s) until the process is no longer alive. */
export async function waitGone(process: ProcessIdentity | null): Promise<void> {
  if (!process) return;
  for (let i = 0; i < 1000 && isAlive(process); i++) {
    await new Promise((r) => setTimeout(r, i < 10 ? 1 : 10));
  }
}
