/**
 * The container's status machine, declared once: the phases a container goes through, the
 * status the API shows for each, which verb each phase allows, and the error (code and
 * words) for a verb a phase refuses.
 *
 * @module
 */

import { ContainerError, type ErrorCode } from "../errors.ts";

/** Where a container is in its life. */
export type Status = "created" | "running" | "pausing" | "paused" | "stopped" | "destroyed";

/**
 * The status with `created` told apart: `new` has no init yet (created, or a config without
 * a process), `ready` has an init stopped before its exec, waiting for `startInit`.
 */
export type Phase = "new" | "ready" | "running" | "pausing" | "paused" | "stopped" | "destroyed";

/** The status the API shows for a phase. */
export function statusOfPhase(phase: Phase): Status {
  return phase === "new" || phase === "ready" ? "created" : phase;
}

const LIVE: readonly Phase[] = ["ready", "running", "pausing", "paused"];
const ANY_STATE: readonly Phase[] = ["new", ...LIVE, "stopped"];

/** One verb: the words of its errors and the phases that allow it. */
interface VerbRule {
  /** "cannot <action> container ...". */
  action: string;
  allowed: readonly Phase[];
}

/**
 * Which verb each phase allows. `start` is the first start in `new` (it makes the init) and
 * an exec otherwise; `pause` of a paused container does nothing; `signalAll` (kill --all)
 * takes whatever is left in the cgroup, even of a stopped container, as runc does.
 */
export const VERBS = {
  start: { action: "start a process in", allowed: ["new", "ready", "running"] },
  createInit: { action: "create the init of", allowed: ["new"] },
  startInit: { action: "start", allowed: ["ready"] },
  pause: { action: "pause", allowed: ["running", "pausing", "paused"] },
  resume: { action: "resume", allowed: ["paused", "pausing"] },
  update: { action: "update", allowed: ["new", ...LIVE] },
  signal: { action: "signal", allowed: LIVE },
  signalAll: { action: "signal", allowed: ANY_STATE },
  processes: { action: "list processes of", allowed: ANY_STATE },
  stats: { action: "read stats of", allowed: ANY_STATE },
  oom: { action: "watch OOM kills of", allowed: ANY_STATE },
  ociState: { action: "read the state of", allowed: ANY_STATE },
} as const satisfies Record<string, VerbRule>;

/** A verb of {@linkcode VERBS}. */
export type Verb = keyof typeof VERBS;

/** Whether `phase` allows `verb`. */
export function allows(verb: Verb, phase: Phase): boolean {
  return (VERBS[verb].allowed as readonly Phase[]).includes(phase);
}

/** Throws unless `phase` allows `verb`. */
export function check(id: string, verb: Verb, phase: Phase): void {
  if (!allows(verb, phase)) refuse(id, verb, phase);
}

/** The error for `verb` in a phase that does not allow it. */
export function refuse(id: string, verb: Verb, phase: Phase): never {
  const [code, why] = refusal(verb, phase);
  throw new ContainerError(code, `cannot ${VERBS[verb].action} container "${id}": ${why}`);
}

/** The code and the reason: what is wrong, in the words engines look for. */
function refusal(verb: Verb, phase: Phase): [ErrorCode, string] {
  switch (phase) {
    case "destroyed":
      return ["ContainerDestroyed", "it has been destroyed"];
    case "paused":
    case "pausing":
      return verb === "startInit" && phase === "paused"
        ? ["ContainerNotRunning", "it is already paused"]
        : ["ContainerPaused", "it is paused"];
    case "stopped":
      // runc's words: containerd's shim reads "container not running" as "already gone".
      return ["ContainerNotRunning", "container not running (it is stopped)"];
    case "running":
      if (verb === "resume") return ["ContainerNotRunning", "it is not paused"];
      return ["ContainerNotRunning", "it is already running"];
    case "ready":
      if (verb === "createInit") return ["ContainerNotRunning", "its init exists already"];
      return ["ContainerNotRunning", "it is created: its init waits to be started"];
    case "new":
      if (verb === "startInit") {
        return ["ContainerNotRunning", "it is created without an init (createInit makes it)"];
      }
      return ["ContainerNotRunning", "it is created: it has no init yet"];
  }
}
