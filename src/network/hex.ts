/**
 * Bytes as lowercase hex and back, for netlink payloads kept in a container's state (JSON).
 *
 * @module
 */

/** `bytes` as lowercase hex, two digits a byte. */
export function encodeHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bytes of `text` (as `encodeHex` writes it); throws a RangeError on anything else. */
export function decodeHex(text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) {
    throw new RangeError("not an even number of lowercase hex digits");
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
