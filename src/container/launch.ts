/**
 * Making one process of a container, init or exec: the stdio, the plan, the spawn on a
 * worker thread (with work done meanwhile, and the pause for hooks), the failure record
 * turned into an error, and the process recorded before anyone can lose it.
 *
 * @module
 */

import type { Capabilities, Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { faultPoint, type FaultStep } from "../fault_point.ts";
import { spawnError } from "../process/failure.ts";
import { ContainerProcess } from "../process/handle.ts";
import type { ProcessHost } from "../process/host.ts";
import type { ProcessOptions } from "../process/options.ts";
import type { PlanOp } from "../plan/ops.ts";
import { prepareStdio } from "../process/stdio.ts";
import { identify, type ProcessIdentity } from "../state/identity.ts";
import { close, pidfdSignal, readWait, writeFd } from "../syscalls.ts";
import { explainFailure } from "./failure_hint.ts";

/** How {@linkcode launch} makes a process: the plan, work done during the spawn, bookkeeping. */
export interface LaunchSteps {
  /** Where the process is cloned and waited for. */
  host: ProcessHost;
  plan: (stdio: [number, number, number]) => PlanOp[];
  /** The fault step between the spawn and the record of the process. */
  spawned: FaultStep;
  whileSpawning?: () => void;
  /** The child stops for hooks run here: the pause's pipes and the hooks. */
  paused?: PauseSteps;
  started?: (process: ProcessIdentity) => void;
}

/** The runtime's side of the init's pause for hooks (op hooks_pause). */
export interface PauseSteps {
  /** [read, write]: the native parent writes the child's host pid to the write end. */
  notify: [number, number];
  /** Where "1" (go on) or "0" (the hooks failed) is written. */
  resume: number;
  /** Runs the hooks; a throw stops the child and fails the spawn with it. */
  run: (pid: number) => Promise<void>;
}

/** Spawns the process `steps` plan, for a container of `config`. */
export async function launch(
  config: Spec,
  proc: { args: string[]; cwd: string; capabilities?: Capabilities },
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
    const spawning = steps.host.spawn(plan); // runs on a worker thread (or in the caller) from here
    let during: unknown;
    try {
      steps.whileSpawning?.();
    } catch (e) {
      during = e;
    }
    const hooksFailed = steps.paused ? await duringPause(steps.paused, spawning) : undefined;
    const result = await spawning;
    if (during !== undefined) throw during;
    if (hooksFailed !== undefined) throw hooksFailed;
    if (result.failure) {
      const descriptions = plan.map((op) => op.what);
      throw explainFailure(spawnError(result.failure, descriptions, proc), config);
    }
    faultPoint(steps.spawned);
    // Nothing reaps the child before its identity is read and recorded (an exited child
    // stays a zombie until then), so the pid read here is still the child's.
    try {
      const identity = identify(result.pid);
      if (!identity) throw new ContainerError("SystemError", `process ${result.pid} vanished`);
      steps.started?.(identity);
    } catch (e) {
      // Not recorded, so nobody could find it: it must not outlive this error.
      pidfdSignal(result.pidfd, 9);
      if (!options.detached) await steps.host.wait(result.pid, result.pidfd);
      close(result.pidfd);
      throw e;
    }
    // A detached process is not reaped here: its parent-to-be (a subreaper) gets it.
    const exit = options.detached
      ? new Promise<never>(() => {})
      : steps.host.wait(result.pid, result.pidfd);
    ok = true;
    return new ContainerProcess(result.pid, result.pidfd, exit, stdio.files);
  } finally {
    stdio.release(!ok);
  }
}

/**
 * While the spawn runs: when the child stops for hooks, runs them and lets it go on (or,
 * when they fail, has the native parent kill it); returns the hooks' error. A spawn that
 * ends before the pause (the child failed earlier) ends the wait.
 */
async function duringPause(
  pause: PauseSteps,
  spawning: Promise<unknown>,
): Promise<unknown> {
  const [notifyRead, notifyWrite] = pause.notify;
  const reading = readWait(notifyRead, 32);
  const first = await Promise.race([reading, spawning.then(() => "ended" as const)]);
  if (first === "ended" || first === null) {
    // No pause came: end the read (every write end closed) before its fd is closed.
    close(notifyWrite);
    pause.notify[1] = -1;
    await reading;
    return undefined;
  }
  const pid = Number(new TextDecoder().decode(first).trim());
  try {
    await pause.run(pid);
  } catch (e) {
    writeFd(pause.resume, "0");
    return e;
  }
  writeFd(pause.resume, "1");
  return undefined;
}
