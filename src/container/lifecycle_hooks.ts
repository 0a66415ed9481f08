/**
 * When a container's OCI hooks run, and with what state: `prestart` and `createRuntime`
 * (runtime namespaces) and `createContainer` (the container's namespaces) once the init
 * is set up and waiting; `startContainer` (container namespaces) just before it execs;
 * `poststart` after; `poststop` when the container is deleted.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { type HookKind, type HookState, runHooks, runHooksWarnOnly } from "../hooks/run.ts";
import type { ContainerState } from "../state/store.ts";

/** Whether the config has hooks that need the init to wait before its exec. */
export function hasStartHooks(spec: Spec): boolean {
  const h = spec.hooks;
  return [h?.prestart, h?.createRuntime, h?.createContainer, h?.startContainer]
    .some((list) => (list?.length ?? 0) > 0);
}

/** The state a hook reads on stdin. */
function hookState(state: ContainerState, status: string, pid: number | undefined): HookState {
  return {
    ociVersion: state.config.ociVersion,
    id: state.id,
    status,
    pid,
    bundle: state.bundle ?? "",
    annotations: state.config.annotations ?? {},
  };
}

/** Runs one kind of hook; throws SystemError on the first failure. */
export async function runLifecycleHooks(
  kind: Exclude<HookKind, "poststop" | "poststart">,
  state: ContainerState,
  initPid: number,
): Promise<void> {
  const list = state.config.hooks?.[kind];
  if (!list?.length) return;
  // The init exists and waits before its exec: the "created" state, for every such hook.
  const status = "created";
  const inContainer = kind === "createContainer" || kind === "startContainer";
  // createContainer: the container's namespaces but the host's mounts (the spec has it run
  // before pivot_root, its path resolved on the host); startContainer: fully inside.
  await runHooks(kind, list, hookState(state, status, initPid), {
    namespacesOf: inContainer ? initPid : undefined,
    hostMounts: kind === "createContainer",
  });
}

/**
 * Runs the poststart hooks; as runtime-spec 1.2 (and the validation suite) say, a failure
 * is only reported and the container goes on.
 */
export async function runPoststart(state: ContainerState, initPid: number): Promise<string[]> {
  const list = state.config.hooks?.poststart;
  if (!list?.length) return [];
  return await runHooksWarnOnly("poststart", list, hookState(state, "running", initPid));
}

/** Runs the poststop hooks; failures are only reported (the container is gone anyway). */
export async function runPoststop(state: ContainerState): Promise<string[]> {
  const list = state.config.hooks?.poststop;
  if (!list?.length) return [];
  return await runHooksWarnOnly("poststop", list, hookState(state, "stopped", undefined));
}
