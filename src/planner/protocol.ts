/**
 * The planner protocol's words (docs/architecture.md, "The resident planner"): frame kinds,
 * the strlist encoding, the socket's name. Frames themselves (header, SCM_RIGHTS) are sent
 * and received by the native core (`sendFrame`, `recvFrame`).
 *
 * @module
 */

/** What a door says first; a planner that speaks anything else answers FALLBACK. */
export const PROTOCOL = "cell-planner/1";

/** The planner's socket in the state root. */
export const SOCKET_NAME = "planner.sock";

/** A state root holding this file is served in-process only (the off switch). */
export const OFF_SWITCH_NAME = "planner.off";

/** Frame kinds (u32), door to planner and planner to door. */
export const Kind = {
  hello: 1,
  fdNumbers: 2,
  spawned: 3,
  exited: 4,
  accepted: 10,
  fds: 11,
  spawn: 12,
  wait: 13,
  exit: 14,
  fallback: 15,
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes lists of strings one after another: u32 count, then u32 length + bytes each. */
export function encodeStrLists(...lists: readonly (readonly string[])[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    parts.push(b);
    size += 4;
  };
  for (const list of lists) {
    u32(list.length);
    for (const s of list) {
      const bytes = encoder.encode(s);
      u32(bytes.length);
      parts.push(bytes);
      size += bytes.length;
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes `count` strlists from the start of `body`.
 * @throws Error when the body is shorter than its counts say.
 */
export function decodeStrLists(body: Uint8Array, count: number): string[][] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const u32 = () => {
    if (at + 4 > body.length) throw new Error("truncated strlist");
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const lists: string[][] = [];
  for (let l = 0; l < count; l++) {
    const n = u32();
    if (n > 1 << 16) throw new Error(`strlist of ${n} strings`);
    const list: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = u32();
      if (at + len > body.length) throw new Error("truncated string");
      list.push(decoder.decode(body.subarray(at, at + len)));
      at += len;
    }
    lists.push(list);
  }
  return lists;
}

/** A little-endian i32 array as bytes. */
export function i32Bytes(values: readonly number[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setInt32(4 * i, v, true));
  return out;
}

/** The i32 at `index` of a body; throws when the body is too short. */
export function i32At(body: Uint8Array, index: number): number {
  if (body.length < 4 * (index + 1)) throw new Error("frame body too short");
  return new DataView(body.buffer, body.byteOffset, body.byteLength).getInt32(4 * index, true);
}
