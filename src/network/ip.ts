/**
 * IPv4 and IPv6 addresses, prefixes (CIDR) and MAC addresses: strict parsers (no leading
 * zeros in IPv4, at most one `::`), and the text back.
 *
 * @module
 */

import { AF, type IpPrefix } from "./rtnetlink.ts";

/** An address: its family and bytes. */
export interface IpAddress {
  /** AF_INET (2) or AF_INET6 (10). */
  family: number;
  /** 4 or 16 bytes. */
  address: Uint8Array;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    bytes[i] = Number(p);
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const g of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  const tail: number[] = [];
  // A dotted IPv4 tail (::ffff:10.0.0.1) is two groups.
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const left = parseGroups(halves[0]);
  const right = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const groups = [...left, ...new Array(8 - given).fill(0), ...right, ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** An IPv4 or IPv6 address, or undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== "string") return undefined;
  if (text.includes(":")) {
    const address = parseIpv6(text);
    return address && { family: AF.INET6, address };
  }
  const address = parseIpv4(text);
  return address && { family: AF.INET, address };
}

/** `address/prefix` (CIDR), or undefined when the text is not one. */
export function parseCidr(text: string): IpPrefix | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > ip.address.length * 8) return undefined;
  return { ...ip, prefix };
}

/** The text of an address (IPv6 with the longest run of zero groups as `::`). */
export function formatIp(address: Uint8Array): string {
  if (address.length === 4) return Array.from(address).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => (address[2 * i] << 8) | address[2 * i + 1]);
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

/** Six bytes of a unicast MAC address `aa:bb:cc:dd:ee:ff`, or undefined. */
export function parseMac(text: string): Uint8Array | undefined {
  if (typeof text !== "string" || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    return undefined;
  }
  const bytes = Uint8Array.from(text.split(":").map((h) => parseInt(h, 16)));
  // A multicast (group) address or all zeros is no address of one interface.
  if ((bytes[0] & 1) !== 0 || bytes.every((b) => b === 0)) return undefined;
  return bytes;
}
