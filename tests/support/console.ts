/**
 * The receiving end of a console socket, as an engine holds it: the pty master the
 * container sends, read and written through the library's raw fd calls.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  close,
  epollAdd,
  epollCreate,
  epollWait,
  ERRNO,
  readFd,
  recvFd,
  socketpair,
  writeFd,
} from "../../src/syscalls.ts";

/** One end of a socket pair kept here, the other given as the console socket. */
export interface Console {
  /** The fd to pass as `consoleSocket`. */
  socket: number;
  /** Receives the terminal's master (after `start` has returned). */
  receive(): { fd: number; text: string };
  /** Reads from the master until `needle` shows, or the terminal hangs up. */
  readUntil(needle: string, ms?: number): Promise<string>;
  /** Types into the terminal. */
  type(text: string): void;
  [Symbol.dispose](): void;
}

/** A socket pair: one end for `consoleSocket`, the other kept to receive the master. */
export function openConsole(): Console {
  const [ours, theirs] = socketpair();
  const epfd = epollCreate();
  let master = -1;
  const decoder = new TextDecoder();
  return {
    socket: theirs,
    receive() {
      const got = recvFd(ours);
      assert.ok(got, "no terminal came through the console socket");
      master = got.fd;
      epollAdd(epfd, master);
      return got;
    },
    async readUntil(needle: string, ms = 10000) {
      assert.ok(master >= 0);
      let text = "";
      const deadline = performance.now() + ms;
      while (!text.includes(needle)) {
        if (performance.now() > deadline) {
          throw new Error(`no "${needle}" in ${JSON.stringify(text)}`);
        }
        if ((await epollWait(epfd, 100)).length === 0) continue;
        let chunk: Uint8Array | null;
        try {
          chunk = readFd(master, 4096);
        } catch (e) {
          // Every slave fd closed: the process is gone.
          if (e instanceof ContainerError && e.errno === ERRNO.EIO) break;
          throw e;
        }
        if (chunk === null || chunk.length === 0) break;
        text += decoder.decode(chunk, { stream: true });
      }
      return text;
    },
    type(text: string) {
      writeFd(master, text);
    },
    [Symbol.dispose]() {
      [ours, theirs, master, epfd].forEach(close);
    },
  };
}
