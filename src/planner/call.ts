/**
 * One call of the calling `cell` as the planner hands it to its handler (the CLI's main):
 * the caller's arguments, directory, environment and fds, and a factory whose containers'
 * processes the caller clones.
 *
 * @module
 */

import { type Factory, factoryOnStore, type FactoryOptions } from "../container/factory.ts";
import { StateStore } from "../state/store.ts";
import { defaultStateRoot } from "../runtime_paths.ts";
import { readWait, writeAll } from "../syscalls.ts";
import { DoorHost } from "./door_host.ts";
import type { DoorLink } from "./door_link.ts";

/** A call of `cell` served by the resident planner. */
export interface PlannerCall {
  /** The arguments after the program name. */
  readonly argv: readonly string[];
  /** The name the caller ran (`cell`, or a path to it), for help texts. */
  readonly argv0: string;
  /** The calling `cell`'s pid (from the kernel: SO_PEERCRED): its `/dev/fd/N` is ours via /proc. */
  readonly pid: number;
  /** The caller's working directory: relative paths in `argv` are the caller's. */
  readonly cwd: string;
  /** The caller's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The caller's fds 3, 4, ... (`--preserve-fds`), as fds of this process. */
  readonly preservedFds: readonly number[];
  /** Writes a line to the caller's stdout. */
  out(text: string): void;
  /** Writes a line to the caller's stderr. */
  err(text: string): void;
  /** Reads the caller's stdin to its end. */
  readStdin(): Promise<string>;
  /** A factory on `options.root` whose containers' processes the caller clones. */
  createFactory(options?: FactoryOptions): Factory;
}

/** A call and what the planner does once it ended. */
export interface PlannerCallEnd {
  call: PlannerCall;
  /** Closes what the call's processes left open in the planner. */
  release(): void;
}

/**
 * Thrown by a planner's handler to have the caller run this call itself (a terminal proxied
 * through the caller's own stdin, a checkpoint). Only before anything was done for it.
 */
export class PlannerFallback extends Error {
  /** Why the planner does not serve this call. */
  constructor(reason: string) {
    super(reason);
    this.name = "PlannerFallback";
  }
}

const encoder = new TextEncoder();

/** The call a door's HELLO describes, over its link. */
export function plannerCall(
  link: DoorLink,
  hello: {
    pid: number;
    argv: string[];
    argv0: string;
    cwd: string;
    env: string[];
    fds: number[];
  },
): PlannerCallEnd {
  const [stdin, stdout, stderr, ...preserved] = hello.fds;
  const env: Record<string, string> = {};
  for (const entry of hello.env) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const host = new DoorHost(link);
  const call: PlannerCall = {
    pid: hello.pid,
    argv: hello.argv,
    argv0: hello.argv0,
    cwd: hello.cwd,
    env,
    preservedFds: preserved,
    out: (text) => writeAll(stdout, encoder.encode(text + "\n")),
    err: (text) => writeAll(stderr, encoder.encode(text + "\n")),
    async readStdin() {
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      // Bounded: 64 MiB in 64 KiB reads is more than any resources file.
      for (let i = 0; i < 1024; i++) {
        const chunk = await readWait(stdin, 65536);
        if (!chunk) break;
        chunks.push(chunk.slice());
      }
      return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
    },
    createFactory: (options = {}) =>
      factoryOnStore(new StateStore(options.root ?? defaultStateRoot(), host)),
  };
  return { call, release: () => host.release() };
}
