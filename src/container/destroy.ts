/**
 * `destroy`: every process killed and waited for, the cgroups and the network's host side
 * (veths, bridges cell made and no port holds) removed, the state directory
 * renamed away and removed, then the poststop hooks. Whatever the state no longer says (a
 * damaged file, a directory removed behind the handle) is found from what is left.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import { isUnloadable } from "../state/parse.ts";
import type { ContainerState } from "../state/store.ts";
import type { ContainerCore } from "./core.ts";
import { destroyLeftovers, killContainer } from "./leftovers.ts";
import { runPoststop } from "./lifecycle_hooks.ts";
import { removeContainerResctrl } from "../resctrl/mod.ts";
import { teardownNetwork } from "../network/teardown.ts";
import { moveBackBeforeKill } from "../network/net_devices_undo.ts";

/**
 * Kills every process of the container, waits for them, removes its cgroups and its
 * state. Idempotent. When the state is gone or unreadable, what is still known is
 * destroyed all the same: the init and cgroups this handle last saw or the file still
 * shows, else the cgroups at the id's default path.
 */
export async function destroy(core: ContainerCore): Promise<void> {
  if (core.destroyed) return;
  let lock: Disposable;
  try {
    lock = await core.store.lock(core.id);
  } catch (e) {
    if (!(e instanceof ContainerError && e.code === "ContainerNotFound")) throw e;
    await destroyLeftovers(core.store, core.id, core.remnants());
    core.ended();
    return;
  }
  using _lock = lock;
  let state: ContainerState;
  try {
    state = core.store.read(core.id);
  } catch (e) {
    if (!isUnloadable(e)) throw e;
    await destroyLeftovers(core.store, core.id, core.remnants());
    core.ended();
    return;
  }
  core.remember(state);
  const cgroup = core.cgroupOf(state);
  // A start cut short with linux.netDevices moved: back to the host while the paused init
  // (and so its network namespace) lives, before the kill ends it.
  moveBackBeforeKill(state.networkMade, state.init);
  await killContainer(cgroup, state.init);
  faultPoint("destroy:killed");
  for (const stream of core.streams) stream.close();
  core.streams.clear();
  await cgroup.remove();
  // A group still in use keeps the state, so destroy can try again.
  removeContainerResctrl(state.id, state.resctrl?.remove ?? []);
  faultPoint("destroy:cgroups");
  // The veths' host ends (the pairs go with them) and the bridges cell made that no port
  // holds any more; a failure keeps the state, so destroy can be tried again.
  teardownNetwork(state.networkMade);
  core.store.remove(core.id);
  for (const warning of await runPoststop(state)) console.warn(`cell: ${warning}`);
  core.destroyed = true;
}
