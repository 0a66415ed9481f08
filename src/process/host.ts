/**
 * Where a container's processes are cloned and waited for. By default this process does it;
 * a resident planner (src/planner) has the calling `cell` do it, so the container is that
 * caller's child (conmon and containerd's shim reap it after the runtime exits).
 *
 * @module
 */

import type { PlanOp } from "../plan/ops.ts";
import type { SpawnResult } from "../../ffi/abi.ts";
import { encodePlan, type Exit, spawn } from "../syscalls.ts";
import { watchExit } from "./waiter.ts";

/** Clones the processes of plans and reports how they end. */
export interface ProcessHost {
  /**
   * Runs `plan` (the spawn blocks until the child execs, fails or is ready); the result's
   * pidfd is one this process owns.
   */
  spawn(plan: readonly PlanOp[]): Promise<SpawnResult>;
  /**
   * Resolves with the exit of a process `spawn` made, reaping it. Called only after the
   * process's identity is recorded: a host never reaps before, so its pid cannot be reused.
   */
  wait(pid: number, pidfd: number): Promise<Exit>;
}

/** This process clones (a worker thread runs the plan) and reaps through the pidfd. */
export const LOCAL_HOST: ProcessHost = {
  spawn: (plan) => spawn(encodePlan(plan)),
  wait: (_pid, pidfd) => watchExit(pidfd),
};
