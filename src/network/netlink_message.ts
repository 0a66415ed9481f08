/**
 * Netlink framing: the 16-byte `nlmsghdr`, whole messages out, a datagram's messages in, and
 * the kernel's answer to a request (an errno and, with extended acks, its message).
 *
 * @module
 */

import { attrString, attrU32, parseAttributes } from "./attributes.ts";

/** Message types every netlink family shares. */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** Header flags (`nlmsg_flags`). */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  /** GET requests: every object (ROOT | MATCH). */
  DUMP: 0x300,
  /** NEW requests: replace an existing object. */
  REPLACE: 0x100,
  /** NEW requests: fail when the object exists. */
  EXCL: 0x200,
  /** NEW requests: create the object when it is missing. */
  CREATE: 0x400,
  /** NLMSG_ERROR: the quoted request is its header only (NETLINK_CAP_ACK). */
  CAPPED: 0x100,
  /** NLMSG_ERROR / NLMSG_DONE: extended-ack attributes follow. */
  ACK_TLVS: 0x200,
} as const;

/** The size of `struct nlmsghdr`. */
export const NLMSG_HEADER_SIZE = 16;

/** Extended-ack attributes of an NLMSG_ERROR or NLMSG_DONE. */
const NLMSGERR_ATTR = { MSG: 1, OFFS: 2 } as const;

/** One netlink message: its header fields and what follows the header. */
export interface NetlinkMessage {
  /** `nlmsg_type`, e.g. RTM_NEWLINK or NLMSG_ERROR. */
  type: number;
  /** `nlmsg_flags`. */
  flags: number;
  /** `nlmsg_seq`: the request it answers. */
  seq: number;
  /** `nlmsg_pid`: the port of the sender (0: the kernel). */
  pid: number;
  /** The bytes after the header, up to `nlmsg_len`. */
  payload: Uint8Array;
}

/** A request before it is numbered: what the executor sends. */
export interface NetlinkRequest {
  /** `nlmsg_type`. */
  type: number;
  /** `nlmsg_flags`, NLM_F_REQUEST included. */
  flags: number;
  /** The family header and attributes. */
  body: Uint8Array;
}

/** The kernel's answer to a request: 0 or an errno, and its extended-ack message. */
export interface NetlinkAck {
  /** 0 on success, else the positive errno. */
  errno: number;
  /** The kernel's explanation (NLMSGERR_ATTR_MSG), when it gave one. */
  message?: string;
  /** The byte offset in the request of the attribute it refused (NLMSGERR_ATTR_OFFS). */
  offset?: number;
}

/** Rounds up to the 4-byte alignment of netlink messages and attributes. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One whole message: header (with `seq`, port 0) then `body`. */
export function encodeMessage(
  request: NetlinkRequest,
  seq: number,
): Uint8Array<ArrayBuffer> {
  const length = NLMSG_HEADER_SIZE + request.body.length;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, length, true);
  view.setUint16(4, request.type, true);
  view.setUint16(6, request.flags, true);
  view.setUint32(8, seq >>> 0, true);
  view.setUint32(12, 0, true);
  bytes.set(request.body, NLMSG_HEADER_SIZE);
  return bytes;
}

/** Splits bytes into messages; throws on framing the kernel would never send. */
export function parseMessages(bytes: Uint8Array): NetlinkMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: NetlinkMessage[] = [];
  let at = 0;
  while (at + NLMSG_HEADER_SIZE <= bytes.length) {
    const length = view.getUint32(at, true);
    if (length < NLMSG_HEADER_SIZE || at + length > bytes.length) {
      throw new RangeError(`netlink message at byte ${at} has a bad length ${length}`);
    }
    messages.push({
      type: view.getUint16(at + 4, true),
      flags: view.getUint16(at + 6, true),
      seq: view.getUint32(at + 8, true),
      pid: view.getUint32(at + 12, true),
      payload: bytes.subarray(at + NLMSG_HEADER_SIZE, at + length),
    });
    at += align4(length);
  }
  return messages;
}

/**
 * The answer an NLMSG_ERROR (an ack, or a refusal) or NLMSG_DONE (the end of a dump) carries:
 * its errno, and the extended-ack message and offset when the kernel gave them.
 */
export function parseAck(message: NetlinkMessage): NetlinkAck {
  const { payload } = message;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const error = payload.length >= 4 ? view.getInt32(0, true) : 0;
  const ack: NetlinkAck = { errno: error < 0 ? -error : error };
  if ((message.flags & NLM_F.ACK_TLVS) === 0) return ack;
  let tlvStart = 4;
  if (message.type === NLMSG.ERROR) {
    // The quoted request: its header only when capped, else the whole of it.
    const quoted = (message.flags & NLM_F.CAPPED) !== 0 || payload.length < 4 + NLMSG_HEADER_SIZE
      ? NLMSG_HEADER_SIZE
      : view.getUint32(4, true);
    tlvStart = 4 + align4(quoted);
  }
  for (const attr of parseAttributes(payload.subarray(tlvStart))) {
    if (attr.type === NLMSGERR_ATTR.MSG) ack.message = attrString(attr.value);
    if (attr.type === NLMSGERR_ATTR.OFFS) ack.offset = attrU32(attr.value);
  }
  return ack;
}
