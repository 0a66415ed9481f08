/**
 * The fifos of the create/start split: the exec fifo an init made by `createInit` blocks on
 * before its exec (one byte written by `startInit` lets it go), and the hooks fifo its
 * startContainer hooks report through.
 *
 * @module
 */

import { join } from "../path.ts";
import { ContainerError } from "../errors.ts";
import type { ProcessIdentity } from "../state/identity.ts";
import { close, mkfifo, open, writeFd } from "../syscalls.ts";

/** open(2) flags used here. */
export const OPEN = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
} as const;

/**
 * Makes a fifo `name` in `dir` and opens it read-write (recording the path and the fd for
 * the caller to undo). Writable by anyone: a user namespace's root is not the host's; the
 * directory is private, and the init reaches the fifo only through the fd passed to it.
 */
export function openFifo(dir: string, name: string, paths: string[], fds: number[]): number {
  const path = join(dir, name);
  mkfifo(path, 0o600);
  paths.push(path);
  Deno.chmodSync(path, 0o622);
  const fd = open(path, OPEN.RDWR | OPEN.CLOEXEC);
  fds.push(fd);
  return fd;
}

/**
 * Writes the byte the init waits for on the exec fifo. The init holds the fifo open, so
 * a writer can open it only while the init lives (else ENXIO).
 */
export function releaseInit(fifo: string, init: ProcessIdentity): void {
  let fd: number;
  try {
    fd = open(fifo, OPEN.WRONLY | OPEN.NONBLOCK | OPEN.CLOEXEC);
  } catch (e) {
    if (e instanceof ContainerError && e.errnoName === "ENXIO") {
      throw new ContainerError("ContainerNotRunning", `the init ${init.pid} exited before start`, {
        path: fifo,
      });
    }
    throw e;
  }
  try {
    writeFd(fd, "0");
  } finally {
    close(fd);
  }
}

/** Whether an init still waits on its exec fifo (holds it open): it was not released. */
export function waitsOnFifo(fifo: string): boolean {
  let fd: number;
  try {
    fd = open(fifo, OPEN.WRONLY | OPEN.NONBLOCK | OPEN.CLOEXEC);
  } catch {
    return false; // ENXIO: no reader; ENOENT: the fifo is gone
  }
  close(fd);
  return true;
}

/** Removes a file that may be gone already. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}
