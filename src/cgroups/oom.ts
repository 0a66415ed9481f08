/**
 * OOM notifications as an async iterable: one value per OOM kill in the container's
 * cgroup. v1 registers an eventfd on memory.oom_control through cgroup.event_control;
 * v2 watches memory.events with inotify. Either fd sits in the one shared epoll set, so
 * no thread waits per container. The stream ends when the cgroup goes away.
 *
 * @module
 */

import {
  close,
  eventfd,
  inotifyAddWatch,
  inotifyInit,
  O,
  open,
  readFd,
  writeFile,
} from "../syscalls.ts";
import { unwatchFd, watchFd } from "../process/waiter.ts";
import { present } from "./host.ts";
import type { OomSource } from "./manager.ts";

/** One OOM kill. */
export interface OomEvent {
  /** OOM kills in the container's cgroup so far, this one included. */
  kills: number;
}

const IN_MODIFY = 0x2, IN_IGNORED = 0x8000, IN_DELETE_SELF = 0x400;

/** A live stream of OOM events; `close()` ends it. */
export class OomStream implements AsyncIterableIterator<OomEvent> {
  #source: OomSource | null;
  #fds: number[] = [];
  #notify = -1;
  #seen: number;
  #pending: OomEvent[] = [];
  #waiting: ((r: IteratorResult<OomEvent>) => void)[] = [];
  #done = false;

  /** Starts watching (null source: the stream is empty and done). */
  constructor(source: OomSource | null) {
    this.#source = source;
    this.#seen = source?.kills() ?? 0;
    if (!source) {
      this.#done = true;
      return;
    }
    try {
      this.#notify = source.kind === "eventfd"
        ? registerEventfd(source, this.#fds)
        : registerInotify(source);
      this.#fds.push(this.#notify);
      watchFd(this.#notify, () => this.#onReadable());
    } catch (e) {
      this.#fds.forEach(close);
      throw e;
    }
  }

  #onReadable(): boolean {
    const source = this.#source!;
    let gone = false;
    for (let i = 0; i < 64; i++) {
      const bytes = readFd(this.#notify, 4096);
      if (bytes === null) break;
      if (source.kind === "inotify") gone ||= inotifyGone(bytes);
    }
    // v1 signals the eventfd when the cgroup is removed; v2 sends IN_IGNORED.
    if (gone || !present(source.file)) {
      this.#catchUp();
      this.#finish(false);
      return false;
    }
    // The notification comes when the OOM starts; the kill is counted a moment later.
    if (!this.#catchUp()) this.#recheck(0);
    return true;
  }

  /** Emits one event per kill counted since the last look; false if there was none. */
  #catchUp(): boolean {
    const kills = this.#source!.kills();
    const before = this.#seen;
    for (; this.#seen < kills; this.#seen++) this.#push({ kills: this.#seen + 1 });
    return this.#seen > before;
  }

  #recheck(attempt: number): void {
    if (this.#done || attempt >= 40) return;
    setTimeout(() => {
      if (!this.#done && !this.#catchUp()) this.#recheck(attempt + 1);
    }, 5);
  }

  #push(event: OomEvent): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: event, done: false });
    else this.#pending.push(event);
  }

  #finish(unwatch: boolean): void {
    if (this.#done) return;
    this.#done = true;
    if (unwatch) unwatchFd(this.#notify);
    this.#fds.forEach(close);
    this.#fds = [];
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  /** The next OOM kill, or done when the container is gone or the stream closed. */
  next(): Promise<IteratorResult<OomEvent>> {
    const event = this.#pending.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops watching (a `break` out of `for await` calls this). */
  return(): Promise<IteratorResult<OomEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the stream and frees its fds. */
  close(): void {
    this.#finish(true);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<OomEvent> {
    return this;
  }
}

function registerEventfd(source: OomSource, fds: number[]): number {
  const efd = eventfd();
  fds.push(efd);
  const control = open(source.file, O.RDONLY);
  fds.push(control);
  writeFile(source.eventControl!, `${efd} ${control}`);
  fds.splice(fds.indexOf(efd), 1);
  return efd;
}

function registerInotify(source: OomSource): number {
  const fd = inotifyInit();
  try {
    inotifyAddWatch(fd, source.file, IN_MODIFY | IN_DELETE_SELF);
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}

/** Whether a batch of inotify events says the watched file is gone. */
function inotifyGone(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 16 <= bytes.length;) {
    const mask = view.getUint32(at + 4, true);
    if (mask & (IN_IGNORED | IN_DELETE_SELF)) return true;
    at += 16 + view.getUint32(at + 12, true);
  }
  return false;
}
