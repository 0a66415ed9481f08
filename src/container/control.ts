/**
 * Control of a living container: pause and resume (the v1 freezer or v2 cgroup.freeze) and
 * signals to the init or to every process in its cgroup.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { signalNumber } from "../process/signals.ts";
import { kill } from "../syscalls.ts";
import type { ContainerCore } from "./core.ts";
import { signalVerified } from "./leftovers.ts";
import { check } from "./status.ts";

const SIGKILL = 9;

/** Options of {@linkcode Container.signal}. */
export interface SignalOptions {
  /** Send to every process of the container, not just the init. */
  all?: boolean;
}

/** Freezes every process of the container (status pausing, then paused). */
export async function pause(core: ContainerCore): Promise<void> {
  using entry = await core.enter("pause");
  if (entry.phase === "paused") return;
  await entry.cgroup().freeze();
}

/** Thaws a paused container. */
export async function resume(core: ContainerCore): Promise<void> {
  using entry = await core.enter("resume");
  await entry.cgroup().thaw();
}

/**
 * Sends a signal to the init, or with `all` to every process still in the container's
 * cgroup, as runc does: `all` is no error when nothing is left (engines send it after the
 * init exited), a paused container is signalled too (the signal waits for the thaw, but
 * SIGKILL thaws it), and SIGKILL to an init without a pid namespace of its own kills every
 * process of the container (nothing else would). Not under the lock, so a signal never
 * waits behind a start or an exec another process is making.
 */
export async function signal(
  core: ContainerCore,
  signal: Deno.Signal | number,
  options: SignalOptions,
): Promise<void> {
  const number = signalNumber(signal);
  const entry = core.look("signalAll");
  const { state, phase } = entry;
  const cgroup = entry.cgroup();
  if (options.all || (number === SIGKILL && !ownsPidNamespace(state.config))) {
    for (const pid of cgroup.pids()) kill(pid, number);
  }
  if (!options.all) {
    check(core.id, "signal", phase);
    signalVerified(state.init!, number);
  }
  if (number === SIGKILL && (phase === "paused" || phase === "pausing")) await cgroup.thaw();
}

/** Whether the container has a pid namespace of its own (not the host's, not joined). */
function ownsPidNamespace(config: Spec): boolean {
  return config.linux?.namespaces?.some((n) => n.type === "pid" && !n.path) === true;
}
