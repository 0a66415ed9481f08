/**
 * One waiter for every fd cell waits on: process exits (pidfds) and OOM notifications
 * (eventfds, inotify), in one epoll set, waited on by a single nonblocking native call
 * (one worker thread in all, not one per container). The wait runs only while
 * something is watched, so it never keeps Deno alive on its own.
 *
 * @module
 */

import {
  epollAdd,
  epollCreate,
  epollDel,
  epollWait,
  eventfd,
  type Exit,
  readFd,
  reap,
  writeFd,
} from "../syscalls.ts";

/** Called when the fd is readable; returns false to stop watching it. */
export type OnReadable = () => boolean;

let epfd = -1;
/** Wakes an in-flight wait when the last fd is unwatched, so it returns and ends. */
let waker = -1;
const watched = new Map<number, OnReadable>();
let looping = false;

/** Calls `onReadable` each time `fd` turns readable, until it returns false or unwatch. */
export function watchFd(fd: number, onReadable: OnReadable): void {
  if (epfd < 0) {
    epfd = epollCreate();
    waker = eventfd();
    epollAdd(epfd, waker);
  }
  watched.set(fd, onReadable);
  epollAdd(epfd, fd);
  if (!looping) void loop();
}

/** Stops watching `fd` (the caller closes it). */
export function unwatchFd(fd: number): void {
  if (!watched.delete(fd)) return;
  epollDel(epfd, fd);
  if (watched.size === 0 && looping) writeFd(waker, "\x01\0\0\0\0\0\0\0");
}

/** Resolves with the exit of the child behind `pidfd`. The caller closes the pidfd. */
export function watchExit(pidfd: number): Promise<Exit> {
  const { promise, resolve } = Promise.withResolvers<Exit>();
  watchFd(pidfd, () => {
    const exit = reap(pidfd);
    if (!exit) return true;
    resolve(exit);
    return false;
  });
  return promise;
}

/** How many fds are being waited on (for tests of leaks). */
export function watchedCount(): number {
  return watched.size;
}

async function loop(): Promise<void> {
  looping = true;
  try {
    while (watched.size > 0) {
      const ready = await epollWait(epfd, -1);
      for (const fd of ready) {
        if (fd === waker) {
          readFd(waker, 8);
          continue;
        }
        const onReadable = watched.get(fd);
        if (onReadable && !onReadable()) unwatchFd(fd);
      }
    }
  } finally {
    looping = false;
  }
}
