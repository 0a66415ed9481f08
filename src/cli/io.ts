/**
 * Where a CLI call reads and writes, and whose processes it makes: this process's own
 * (`deno run cli.ts`, the in-process path), or a caller's served by the resident planner
 * (`cell planner`): then output goes to the caller's fds, paths are the caller's, the caller
 * clones the processes and passes them its signals.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { createFactory, type Factory, type FactoryOptions } from "../../mod.ts";
import { type PlannerCall, PlannerFallback, preservedFds } from "../../oci.ts";

/** The world of one CLI call. */
export interface CliIo {
  /** Which path serves the call: "in-process", or "planner <pid>" (said in --debug). */
  servedBy: string;
  /** The caller's working directory (undefined: this process's). */
  cwd?: string;
  /** The caller's pid when it is another process (the planner's caller). */
  callerPid?: number;
  /** The name the program was run as (for help texts). */
  argv0?: string;
  /** One variable of the caller's environment. */
  env(name: string): string | undefined;
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Reads stdin to its end. */
  readStdin(): Promise<string>;
  /** The caller's fds 3 .. 3+count-1, as fds of this process (`--preserve-fds`). */
  preservedFds(count: number): number[];
  /** A factory whose containers' processes this call's process makes. */
  createFactory(options: FactoryOptions): Factory;
  /** Signals sent to this process go on to a foreground container process. */
  forwardsSignals: boolean;
  /** Called before a call needs to run in the calling process itself (its own terminal, criu as its child): the planner has the caller run such a call in-process. */
  inProcessOnly(what: string): void;
}

/** A path naming one of the process's own fds: `/dev/fd/N`, `/proc/self/fd/N`, `/dev/stdin`... */
const OWN_FD = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$|^\/dev\/(stdin|stdout|stderr)$/;
const STDIO = { stdin: 0, stdout: 1, stderr: 2 } as const;

/**
 * The call's path: a relative one is the caller's, from its working directory, and one of
 * the caller's own fds (`-p <(...)` gives `/dev/fd/63`) is reached through its /proc.
 */
export function callerPath(io: CliIo, path: string): string {
  const fd = io.callerPid === undefined ? null : path.match(OWN_FD);
  if (fd) {
    const n = fd[1] ?? STDIO[fd[2] as keyof typeof STDIO];
    return `/proc/${io.callerPid}/fd/${n}`;
  }
  return io.cwd && !isAbsolute(path) ? join(io.cwd, path) : path;
}

/** This process's own world (`deno run cli.ts`). */
export function localIo(): CliIo {
  return {
    servedBy: "in-process",
    argv0: Deno.env.get("CELL_ARGV0"),
    env: (name) => Deno.env.get(name),
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    readStdin: () => new Response(Deno.stdin.readable).text(),
    preservedFds,
    createFactory,
    forwardsSignals: true,
    inProcessOnly() {},
  };
}

/** The world of a call the resident planner serves. */
export function plannerIo(call: PlannerCall): CliIo {
  return {
    servedBy: `planner ${Deno.pid}`,
    cwd: call.cwd,
    callerPid: call.pid,
    argv0: call.env.CELL_ARGV0 ?? call.argv0,
    env: (name) => call.env[name],
    out: (text) => call.out(text),
    err: (text) => call.err(text),
    readStdin: () => call.readStdin(),
    preservedFds(count) {
      if (count > call.preservedFds.length) {
        throw new Error(`--preserve-fds ${count}: the caller passed ${call.preservedFds.length}`);
      }
      return call.preservedFds.slice(0, count);
    },
    createFactory: (options) => call.createFactory(options),
    forwardsSignals: false,
    inProcessOnly(what) {
      throw new PlannerFallback(what);
    },
  };
}
