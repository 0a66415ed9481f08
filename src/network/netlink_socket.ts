/**
 * A NETLINK_ROUTE socket in a network namespace, through the native core
 * (`cell_netlink_open` / `cell_netlink_call`): numbers each request, sends it, and gives back
 * its replies and the kernel's answer as values.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { close, errnoName, netlinkCall, netlinkOpen, O, open } from "../syscalls.ts";
import {
  encodeMessage,
  type NetlinkAck,
  type NetlinkMessage,
  type NetlinkRequest,
  NLM_F,
  NLMSG,
  parseAck,
  parseMessages,
} from "./netlink_message.ts";

/** What one request got back: the kernel's answer and the messages before it. */
export interface NetlinkReply {
  /** errno 0 when it was done (or the dump ended), else the refusal and its message. */
  ack: NetlinkAck;
  /** The answers (a dump's objects, or a GET's one object), without the ack. */
  messages: NetlinkMessage[];
}

const FIRST_CAPACITY = 64 * 1024;
const MAX_CAPACITY = 16 * 1024 * 1024;
const ENOBUFS = 105;

let nextSeq = (Date.now() & 0xffff) << 12;

/**
 * A NETLINK_ROUTE socket. `open()` makes it in the caller's network namespace,
 * `openIn(path)` in the namespace of a `/proc/<pid>/ns/net` (or bind-mounted) file.
 *
 * @example
 * ```ts ignore
 * using socket = NetlinkSocket.openIn(`/proc/${pid}/ns/net`);
 * const { ack, messages } = socket.request(dumpLinksRequest());
 * ```
 */
export class NetlinkSocket {
  /** The socket's fd (close-on-exec). */
  readonly fd: number;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A socket in the caller's own network namespace. */
  static open(): NetlinkSocket {
    return new NetlinkSocket(netlinkOpen(-1));
  }

  /** A socket in the network namespace of `netnsPath` (e.g. `/proc/<pid>/ns/net`). */
  static openIn(netnsPath: string): NetlinkSocket {
    const nsFd = open(netnsPath, O.RDONLY);
    try {
      return NetlinkSocket.openInFd(nsFd);
    } finally {
      close(nsFd);
    }
  }

  /** A socket in the network namespace of an open namespace fd (which stays the caller's). */
  static openInFd(netnsFd: number): NetlinkSocket {
    return new NetlinkSocket(netlinkOpen(netnsFd));
  }

  /**
   * Sends one request and returns its replies; a kernel refusal is in `ack`, not thrown. A
   * dump whose replies outgrow the buffer is asked again with a larger one (a dump changes
   * nothing); any other request is sent once.
   */
  request(request: NetlinkRequest): NetlinkReply {
    const dump = (request.flags & NLM_F.DUMP) === NLM_F.DUMP;
    // The native call reads until the ack or the dump's end: a request with neither would
    // wait for its timeout.
    if (!dump && (request.flags & NLM_F.ACK) === 0) {
      throw new TypeError("a netlink request must ask for an ack (NLM_F_ACK) or be a dump");
    }
    for (let capacity = FIRST_CAPACITY;; capacity *= 4) {
      const seq = nextSeq = (nextSeq + 1) >>> 0;
      try {
        const bytes = netlinkCall(this.fd, encodeMessage(request, seq), capacity);
        return splitReply(parseMessages(bytes));
      } catch (e) {
        const tooBig = e instanceof ContainerError && e.errno === ENOBUFS;
        if (!tooBig || !dump || capacity >= MAX_CAPACITY) throw e;
      }
    }
  }

  /**
   * Sends a request that must succeed: its replies, or a SystemError naming `what`, the errno
   * and the kernel's message (e.g. `Cannot create veth "h0": EEXIST (File exists)`).
   */
  mustRequest(request: NetlinkRequest, what: string): NetlinkMessage[] {
    const reply = this.request(request);
    if (reply.ack.errno !== 0) throw netlinkError(what, reply.ack);
    return reply.messages;
  }

  /** Closes the socket. */
  close(): void {
    close(this.fd);
  }

  /** Closes the socket (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

function splitReply(messages: NetlinkMessage[]): NetlinkReply {
  const last = messages.at(-1);
  if (!last || (last.type !== NLMSG.ERROR && last.type !== NLMSG.DONE)) {
    throw new ContainerError("SystemError", "netlink: the kernel's answer has no ack", {
      syscall: "netlink",
    });
  }
  return { ack: parseAck(last), messages: messages.slice(0, -1) };
}

/** The SystemError for a refused request: what was asked, the errno and the kernel's words. */
export function netlinkError(what: string, ack: NetlinkAck): ContainerError {
  const name = errnoName(ack.errno);
  const why = ack.message ? ` (${ack.message})` : "";
  return new ContainerError("SystemError", `${what}: ${name}${why}`, {
    syscall: "netlink",
    errno: ack.errno,
    errnoName: name,
  });
}
