/**
 * One waiter for every child cell starts: pidfds in one epoll set, waited on by a
 * single nonblocking native call (one worker thread in all, not one per process).
 * The wait runs only while something is watched, so it never keeps Deno alive
 * on its own.
 *
 * @module
 */

import { epollAdd, epollCreate, epollDel, epollWait, type Exit, reap } from "../syscalls.ts";

type Settle = (exit: Exit) => void;

let epfd = -1;
const watched = new Map<number, Settle>();
let looping = false;

/** Resolves with the exit of the child behind `pidfd`. The caller closes the pidfd. */
export function watchExit(pidfd: number): Promise<Exit> {
  if (epfd < 0) epfd = epollCreate();
  const { promise, resolve } = Promise.withResolvers<Exit>();
  watched.set(pidfd, resolve);
  epollAdd(epfd, pidfd);
  if (!looping) void loop();
  return promise;
}

/** How many processes are being waited for (for tests of leaks). */
export function watchedCount(): number {
  return watched.size;
}

async function loop(): Promise<void> {
  looping = true;
  try {
    while (watched.size > 0) {
      const ready = await epollWait(epfd, -1);
      for (const fd of ready) settle(fd);
    }
  } finally {
    looping = false;
  }
}

function settle(pidfd: number): void {
  const resolve = watched.get(pidfd);
  if (!resolve) return;
  const exit = reap(pidfd);
  if (!exit) return;
  watched.delete(pidfd);
  epollDel(epfd, pidfd);
  resolve(exit);
}
