/**
 * The hooks a container's init runs itself (createContainer before its root change,
 * startContainer just before its exec), as plan ops, and its pause for the runtime's
 * prestart and createRuntime hooks.
 *
 * @module
 */

import type { Hook } from "../config/types.ts";
import { Op, type PlanBuilder } from "./plan_builder.ts";

/** Kinds of hooks the init runs itself, as the native core numbers them (docs/abi.md). */
const NATIVE_KIND = { createContainer: 1, startContainer: 2 } as const;

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
 * Adds a `hook` op for each hook of `kind` (createContainer or startContainer), run by the
 * init: the state goes in two pieces, the init's host pid between them.
 */
export function planInitHooks(
  plan: PlanBuilder,
  kind: keyof typeof NATIVE_KIND,
  hooks: readonly Hook[] | undefined,
  state: InitHookState,
): void {
  const j = JSON.stringify;
  const status = "created"; // as the prestart and createRuntime hooks see it
  const pieces = [
    `{"ociVersion":${j(state.ociVersion)},"id":${j(state.id)},"status":${j(status)},"pid":`,
    `,"bundle":${j(state.bundle)},"annotations":${j(state.annotations)}}`,
  ];
  (hooks ?? []).forEach((hook, index) => {
    plan.op(
      Op.hook,
      `hook #${index} (${kind} ${hook.path})`,
      (w) =>
        w.u32(NATIVE_KIND[kind]).u32(index).u32(hook.timeout ?? 0).str(hook.path)
          .strList(hook.args ?? []).strList(hook.env ?? []).strList(pieces),
    );
  });
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
export function planBeforeRootChange(plan: PlanBuilder, hooks: InitHooks | undefined): void {
  if (!hooks) return;
  const pause = hooks.pause;
  if (pause) {
    plan.op(
      Op.hooksPause,
      "stop for the prestart and createRuntime hooks",
      (w) => w.i32(pause.notify).i32(pause.resume),
    );
  }
  planInitHooks(plan, "createContainer", hooks.createContainer, hooks.state);
}

/** The startContainer hooks and where their failure goes. */
export function planStartHooks(plan: PlanBuilder, hooks: InitHooks | undefined): void {
  if (!hooks?.startContainer?.length) return;
  const report = hooks.report;
  if (report !== undefined) {
    plan.op(Op.hookReport, "keep the hook report fifo", (w) => w.i32(report));
  }
  planInitHooks(plan, "startContainer", hooks.startContainer, hooks.state);
}
