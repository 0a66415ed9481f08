/**
 * `startInit`: the release of an init made by `createInit` (one byte on its exec fifo), the
 * startContainer hooks it runs then (their failure comes back through the hooks fifo), and
 * the poststart hooks.
 *
 * @module
 */

import { join } from "../path.ts";
import { ContainerError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import { hookFailureMessage } from "../hooks/run.ts";
import { hookOutcome } from "../process/failure.ts";
import { watchFd } from "../process/waiter.ts";
import type { ProcessIdentity } from "../state/identity.ts";
import type { ContainerState } from "../state/store.ts";
import { close, decodeRecord, open, readFd } from "../syscalls.ts";
import type { ContainerCore } from "./core.ts";
import { OPEN, releaseInit, removeQuietly } from "./exec_fifo.ts";
import { killContainer, waitGone } from "./leftovers.ts";
import { runPoststart } from "./lifecycle_hooks.ts";
import { check } from "./status.ts";

/** startInit under the lock: startContainer hooks, the release, then poststart. */
export async function startInitLocked(core: ContainerCore): Promise<void> {
  const state = core.state();
  const phase = core.phaseOf(state);
  if (state && !state.init && !state.config.process) {
    throw new ContainerError(
      "ConfigInvalid",
      `cannot start container "${core.id}": its config has no process`,
    );
  }
  check(core.id, "startInit", phase);
  // The rule allows `ready` alone: an init waiting on its exec fifo.
  const ready = state as ContainerState & { init: ProcessIdentity; execFifo: string };
  const { init, execFifo } = ready;
  // The init runs the startContainer hooks after the release; a failure comes back
  // through the hooks fifo, the end of the hooks as its end of file (exec or exit).
  const hooks = core.config.hooks?.startContainer?.length
    ? join(core.store.dir(core.id), "hooks.fifo")
    : undefined;
  const outcome = hooks ? open(hooks, OPEN.RDONLY | OPEN.NONBLOCK | OPEN.CLOEXEC) : -1;
  try {
    releaseInit(execFifo, init);
    faultPoint("startInit:released");
    removeQuietly(execFifo);
    core.write({ ...ready, execFifo: undefined });
    if (hooks) {
      removeQuietly(hooks);
      const failure = await startHooksFailure(outcome);
      if (failure) {
        await waitGone(init); // it exits right after the record
        const hook = core.config.hooks!.startContainer![failure.opIndex];
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
  await poststart(core, init.pid);
}
/**
 * poststart hooks. As runtime-spec 1.3 says (and runc does), a failure is the start's
 * error and stops the container: every process is killed and waited for; the container
 * stays, stopped, for delete to destroy (poststop then runs).
 */
export async function poststart(core: ContainerCore, pid: number): Promise<void> {
  if (!core.config.hooks?.poststart?.length) return; // the common case: no state read
  const state = core.state();
  if (!state) return;
  try {
    await runPoststart(state, pid);
  } catch (e) {
    await killContainer(core.cgroupOf(state), state.init);
    throw e;
  }
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
