/**
 * Test-only fault injection: with `CELL_FAULT=<step>` in its environment, a process running
 * cell SIGKILLs itself when it reaches that step. The tests use it to show that a runtime
 * killed at any step of create, start, exec or destroy leaves nothing another process
 * cannot find and remove. Without the variable (or without permission to read it) this
 * is one comparison.
 *
 * @module
 */

/** The steps a process can be killed at, in the order a container's life reaches them. */
export const FAULT_STEPS = [
  "create:claimed",
  "createInit:fifo",
  "start:intent",
  "start:cgroup",
  "start:bridgeMade",
  "start:bridgeUnmarked",
  "start:bridge",
  "start:veth",
  "start:netDevices",
  "start:spawned",
  "start:recorded",
  "startInit:released",
  "exec:spawned",
  "destroy:killed",
  "destroy:cgroups",
  "destroy:renamed",
] as const;

/** One of {@linkcode FAULT_STEPS}. */
export type FaultStep = typeof FAULT_STEPS[number];

const wanted = readWanted();

function readWanted(): string | undefined {
  try {
    const status = Deno.permissions.querySync({ name: "env", variable: "CELL_FAULT" });
    return status.state === "granted" ? Deno.env.get("CELL_FAULT") || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs this process if `CELL_FAULT` names `step`. */
export function faultPoint(step: FaultStep): void {
  if (wanted === step) Deno.kill(Deno.pid, "SIGKILL");
}
