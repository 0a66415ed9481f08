/**
 * When a container's OCI hooks run, and with what state, as runc 1.1 runs them:
 * `prestart` and `createRuntime` in the runtime's namespaces while the init is stopped after
 * its mounts, before its root change (status `creating`); `createContainer` by the init
 * itself right after, in the container's namespaces with the host's paths still reachable
 * and the rootfs as its cwd (`creating`); `startContainer` by the init just before its exec,
 * after the start, under the container's seccomp filter and as its user (`created`);
 * `poststart` after; `poststop` when the container is deleted. The pid in every state is
 * the init's, as the host sees it.
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

/** Whether the runtime itself runs hooks while the init is stopped (prestart, createRuntime). */
export function hasRuntimeHooks(spec: Spec): boolean {
  return (spec.hooks?.prestart?.length ?? 0) + (spec.hooks?.createRuntime?.length ?? 0) > 0;
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

/**
 * Runs the prestart, then the createRuntime hooks, while the init is stopped before its
 * root change; throws SystemError on the first failure.
 */
export async function runRuntimeHooks(state: ContainerState, initPid: number): Promise<void> {
  for (const kind of ["prestart", "createRuntime"] as const) {
    const list = state.config.hooks?.[kind];
    if (!list?.length) continue;
    // "created", as the spec's validation suite checks (and crun gives); runc says "creating".
    await runHooks(kind, list, hookState(state, "created", initPid));
  }
}

/**
 * Runs the poststart hooks; throws SystemError on the first failure (runtime-spec 1.3: the
 * runtime then stops the container).
 */
export async function runPoststart(state: ContainerState, initPid: number): Promise<void> {
  await runHooks("poststart", state.config.hooks?.poststart, hookState(state, "running", initPid));
}

/** Runs the poststop hooks; failures are only reported (the container is gone anyway). */
export async function runPoststop(state: ContainerState): Promise<string[]> {
  const list = state.config.hooks?.poststop;
  if (!list?.length) return [];
  return await runHooksWarnOnly("poststop", list, hookState(state, "stopped", undefined));
}

export type { HookKind };
