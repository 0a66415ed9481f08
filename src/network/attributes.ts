/**
 * Netlink attributes (`struct nlattr`: u16 length, u16 type, value, padding to 4 bytes): a
 * writer for requests and a reader for replies.
 *
 * @module
 */

/** The type bit marking an attribute whose value is more attributes. */
export const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;
const NLA_HEADER_SIZE = 4;

/** One attribute of a reply: its type (flag bits cleared) and its value. */
export interface Attribute {
  /** The attribute type, without NLA_F_NESTED / NLA_F_NET_BYTEORDER. */
  type: number;
  /** The value bytes (without padding). */
  value: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Builds a run of attributes (a message's tail, or a nested attribute's value).
 *
 * @example
 * ```ts ignore
 * const attrs = new AttributeWriter().string(IFLA.IFNAME, "veth0").u32(IFLA.MTU, 1400).bytes();
 * ```
 */
export class AttributeWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Appends an attribute with raw value bytes. */
  raw(type: number, value: Uint8Array): this {
    const size = NLA_HEADER_SIZE + value.length;
    const padded = (size + 3) & ~3;
    const chunk = new Uint8Array(padded);
    const view = new DataView(chunk.buffer);
    view.setUint16(0, size, true);
    view.setUint16(2, type, true);
    chunk.set(value, NLA_HEADER_SIZE);
    this.#chunks.push(chunk);
    this.#length += padded;
    return this;
  }

  /** Appends a u8 attribute. */
  u8(type: number, value: number): this {
    return this.raw(type, Uint8Array.of(value));
  }

  /** Appends a u32 attribute (host order: little-endian). */
  u32(type: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.raw(type, b);
  }

  /** Appends a NUL-terminated string attribute. */
  string(type: number, value: string): this {
    const text = encoder.encode(value);
    const b = new Uint8Array(text.length + 1);
    b.set(text);
    return this.raw(type, b);
  }

  /** Appends a nested attribute whose value the callback writes. */
  nested(type: number, fill: (inner: AttributeWriter) => void): this {
    const inner = new AttributeWriter();
    fill(inner);
    return this.raw(type | NLA_F_NESTED, inner.bytes());
  }

  /** The attributes written so far, padded, back to back. */
  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** Reads a run of attributes; a truncated tail ends the run. */
export function parseAttributes(bytes: Uint8Array): Attribute[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Attribute[] = [];
  let at = 0;
  while (at + NLA_HEADER_SIZE <= bytes.length) {
    const size = view.getUint16(at, true);
    if (size < NLA_HEADER_SIZE || at + size > bytes.length) break;
    out.push({
      type: view.getUint16(at + 2, true) & NLA_TYPE_MASK,
      value: bytes.subarray(at + NLA_HEADER_SIZE, at + size),
    });
    at += (size + 3) & ~3;
  }
  return out;
}

/** The first attribute of a type, or undefined. */
export function findAttribute(attrs: Attribute[], type: number): Uint8Array | undefined {
  return attrs.find((a) => a.type === type)?.value;
}

/** A u32 value (little-endian), or undefined when too short. */
export function attrU32(value: Uint8Array | undefined): number | undefined {
  if (!value || value.length < 4) return undefined;
  return new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
}

/** A u64 value read at a byte offset (counters), as a number. */
export function attrU64At(value: Uint8Array, offset: number): number {
  return Number(new DataView(value.buffer, value.byteOffset).getBigUint64(offset, true));
}

/** A string value without its NUL, or undefined. */
export function attrString(value: Uint8Array | undefined): string | undefined {
  if (!value) return undefined;
  const end = value.indexOf(0);
  return new TextDecoder().decode(end < 0 ? value : value.subarray(0, end));
}
