/**
 * The seccomp agent of a profile with `SCMP_ACT_NOTIFY` rules (runtime-spec
 * `linux.seccomp.listenerPath`): connected before the spawn, it gets the notify listener
 * with the container process state (`ContainerProcessState`) from the process itself,
 * right after the filter is loaded. The state is built here as pieces the native core joins
 * with the process's host pid, which only the spawn knows.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { usesNotify } from "../seccomp/compile.ts";
import { unixConnect } from "../syscalls.ts";

/** A connected agent socket and the state to send it, split where the pid goes. */
export interface SeccompAgent {
  /** The connected socket (close-on-exec); the caller closes it after the spawn. */
  socket: number;
  /** The state's JSON text in pieces; the process's host pid goes between each two. */
  pieces: string[];
}

/** What the state says about the container. */
export interface AgentStateInput {
  /** The runtime-spec version the state follows. */
  ociVersion: string;
  /** The container id. */
  id: string;
  /** The bundle directory ("" when none). */
  bundle: string;
  /** "creating" for the init, "running" for a process joining it. */
  status: "creating" | "running";
  /** The init's host pid for a joining process; for the init itself its own pid. */
  initPid?: number;
}

/**
 * Connects to the profile's agent when its filter has a listener; undefined otherwise.
 * @throws ContainerError SystemError when the agent cannot be reached.
 */
export function connectSeccompAgent(
  spec: Spec,
  input: AgentStateInput,
): SeccompAgent | undefined {
  const seccomp = spec.linux?.seccomp;
  if (!seccomp || !usesNotify(seccomp)) return undefined;
  const path = seccomp.listenerPath ?? "";
  let socket: number;
  try {
    socket = unixConnect(path);
  } catch (e) {
    if (!(e instanceof ContainerError)) throw e;
    throw new ContainerError(
      "SystemError",
      `failed to connect with seccomp agent at ${path}: ${e.errnoName}`,
      { syscall: e.syscall, errno: e.errno, errnoName: e.errnoName, path, cause: e },
    );
  }
  const j = JSON.stringify;
  // The process's own pid first; the state's pid is the init's (the same for the init).
  const head = `{"ociVersion":${j(input.ociVersion)},"fds":["seccompFd"],"pid":`;
  const state = `,"metadata":${j(seccomp.listenerMetadata ?? "")},"state":{"ociVersion":${
    j(input.ociVersion)
  },"id":${j(input.id)},"status":${j(input.status)},"pid":`;
  const tail = `,"bundle":${j(input.bundle)},"annotations":${j(spec.annotations ?? {})}}}`;
  const pieces = input.initPid === undefined
    ? [head, state, tail]
    : [head, `${state}${input.initPid}${tail}`];
  return { socket, pieces };
}
