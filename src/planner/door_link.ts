/**
 * The planner's side of one call: the connection to the calling `cell` (the door), with
 * one exchange (a frame out, its reply in) at a time.
 *
 * @module
 */

import { close, recvFrame, sendFrame } from "../syscalls.ts";
import { Kind } from "./protocol.ts";

/** One frame as received: its kind, body and the fds that came with it. */
export interface Frame {
  kind: number;
  body: Uint8Array;
  fds: number[];
}

const KIND_NAMES = Object.fromEntries(Object.entries(Kind).map(([k, v]) => [v, k]));

/** The connection to a door, for the frames of one call. */
export class DoorLink {
  readonly fd: number;
  /** A SPAWN was sent: from here the call cannot fall back to the door's in-process run. */
  spawned = false;
  #turn: Promise<unknown> = Promise.resolve();

  /** Wraps a connected socket (the caller closes it). */
  constructor(fd: number) {
    this.fd = fd;
  }

  /** Sends one frame. */
  send(kind: number, body: Uint8Array = new Uint8Array(0), fds: readonly number[] = []): void {
    sendFrame(this.fd, kind, body, fds);
  }

  /**
   * Sends a frame and resolves with the reply, which must be of kind `reply`; exchanges
   * wait for the one before to end. A door that went away or answered out of turn rejects.
   */
  exchange(
    kind: number,
    body: Uint8Array,
    fds: readonly number[],
    reply: number,
  ): Promise<Frame> {
    const run = async () => {
      if (kind === Kind.spawn) this.spawned = true;
      this.send(kind, body, fds);
      const frame = await recvFrame(this.fd);
      if (!frame) throw new Error("the calling cell went away");
      if (frame.kind !== reply) {
        frame.fds.forEach(close);
        throw new Error(
          `the calling cell answered ${KIND_NAMES[frame.kind] ?? frame.kind} to ` +
            `${KIND_NAMES[kind]}`,
        );
      }
      return frame;
    };
    const next = this.#turn.then(run, run);
    this.#turn = next.catch(() => {});
    return next;
  }
}
