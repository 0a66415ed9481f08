/**
 * Stdio for a new process: the fds the child gets, and for piped streams the parent's
 * end as a Deno.FsFile (Web streams with backpressure, reads off the event loop).
 *
 * @module
 */

import { close, O, open, pipe } from "../syscalls.ts";
import type { StdioMode } from "./options.ts";

/** Prepared stdio: child fds for the plan, parent files for the handle. */
export interface PreparedStdio {
  /** fds 0..2 for the child (-1: inherit ours). */
  childFds: [number, number, number];
  /** The parent's end of each piped stream. */
  files: [Deno.FsFile | null, Deno.FsFile | null, Deno.FsFile | null];
  /** Closes the child's ends in this process (after the spawn), or everything (on failure). */
  release(all: boolean): void;
}

/** Opens pipes or /dev/null as asked. */
export function prepareStdio(modes: [StdioMode, StdioMode, StdioMode]): PreparedStdio {
  const childFds: [number, number, number] = [-1, -1, -1];
  const files: PreparedStdio["files"] = [null, null, null];
  const toClose: number[] = [];
  try {
    modes.forEach((mode, i) => {
      if (mode === "null") {
        childFds[i] = open("/dev/null", O.RDWR);
        toClose.push(childFds[i]);
      } else if (mode === "piped") {
        const [r, w] = pipe();
        toClose.push(r, w);
        const ours = i === 0 ? w : r;
        childFds[i] = i === 0 ? r : w;
        // A new open file description of our end; the raw fd is closed after the spawn.
        files[i] = Deno.openSync(`/proc/self/fd/${ours}`, { read: i !== 0, write: i === 0 });
      }
    });
  } catch (e) {
    toClose.forEach(close);
    files.forEach((f) => f?.close());
    throw e;
  }
  return {
    childFds,
    files,
    release(all: boolean) {
      toClose.forEach(close);
      if (all) files.forEach((f) => f?.close());
    },
  };
}
