/**
 * The hooks a container's init runs itself (createContainer before its root change,
 * startContainer just before its exec), as plan ops, and its pause for the runtime's
 * prestart and createRuntime hooks.
 *
 * @module
 */

import type { Hook } from "../config/types.ts";
import type { PlanOp } from "../plan/ops.ts";
import { hookLabel } from "../hooks/message.ts";

/** What the state of a hook the init runs says about the container. */
export interface InitHookState {
  /** The config's ociVersion. */
  ociVersion: string;
  /** The container id. */
  id: string;
  /** The bundle directory ("" when none). */
  bundle: string;
  /** The config's annotations. */
  annotations: Record<string, string>;
}

/**
 * A `hook` op for each hook of `kind` (createContainer or startContainer), run by the
 * init: the state goes in two pieces, the init's host pid between them.
 */
export function planInitHooks(
  kind: "createContainer" | "startContainer",
  hooks: readonly Hook[] | undefined,
  state: InitHookState,
): PlanOp[] {
  const j = JSON.stringify;
  const status = "created"; // as the prestart and createRuntime hooks see it
  const pieces = [
    `{"ociVersion":${j(state.ociVersion)},"id":${j(state.id)},"status":${j(status)},"pid":`,
    `,"bundle":${j(state.bundle)},"annotations":${j(state.annotations)}}`,
  ];
  return (hooks ?? []).map((hook, index) => ({
    op: "hook",
    what: hookLabel(kind, index, hook.path),
    kind,
    index,
    timeout: hook.timeout ?? 0,
    path: hook.path,
    args: hook.args ?? [],
    env: hook.env ?? [],
    pieces,
  }));
}

/** Hooks the init runs, and its pause for the runtime's (see `planInit`). */
export interface InitHooks {
  /** The runtime runs prestart/createRuntime hooks: the fds of the pause (docs/abi.md). */
  pause?: { notify: number; resume: number };
  /** Run by the init before its root change. */
  createContainer?: Hook[];
  /** Run by the init just before its exec. */
  startContainer?: Hook[];
  /** Where a failed startContainer hook's record goes: an fd of a fifo, read-write. */
  report?: number;
  /** What the hooks' state says. */
  state: InitHookState;
}

/** The ops before the root change: the pause, then the createContainer hooks. */
export function planBeforeRootChange(hooks: InitHooks | undefined): PlanOp[] {
  if (!hooks) return [];
  const plan: PlanOp[] = [];
  const pause = hooks.pause;
  if (pause) {
    const what = "stop for the network setup and the prestart and createRuntime hooks";
    plan.push({ op: "hooksPause", what, notify: pause.notify, resume: pause.resume });
  }
  plan.push(...planInitHooks("createContainer", hooks.createContainer, hooks.state));
  return plan;
}

/** The startContainer hooks and where their failure goes. */
export function planStartHooks(hooks: InitHooks | undefined): PlanOp[] {
  if (!hooks?.startContainer?.length) return [];
  const plan: PlanOp[] = [];
  if (hooks.report !== undefined) {
    plan.push({ op: "hookReport", what: "keep the hook report fifo", fd: hooks.report });
  }
  plan.push(...planInitHooks("startContainer", hooks.startContainer, hooks.state));
  return plan;
}
