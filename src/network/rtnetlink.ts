/**
 * rtnetlink (NETLINK_ROUTE) messages: the numbers of links, addresses and routes, builders of
 * the requests cell sends, and readers of the links and addresses the kernel lists. Pure data:
 * no I/O here (./netlink_socket.ts sends).
 *
 * @module
 */

import {
  type Attribute,
  AttributeWriter,
  attrString,
  attrU32,
  findAttribute,
  parseAttributes,
} from "./attributes.ts";
import { type NetlinkMessage, type NetlinkRequest, NLM_F } from "./netlink_message.ts";

/** rtnetlink message types. */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** Address families. */
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const;

/** Link attributes (`IFLA_*`). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_PID: 19,
  IFALIAS: 20,
  STATS64: 23,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  PERM_ADDRESS: 54,
} as const;

/** Attributes inside IFLA_LINKINFO. */
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
/** Attributes inside a veth's IFLA_INFO_DATA. */
export const VETH_INFO = { PEER: 1 } as const;

/** Link flags (`ifi_flags`). */
export const IFF = { UP: 0x1, LOOPBACK: 0x8, LOWER_UP: 0x10000 } as const;

/** Address attributes (`IFA_*`). */
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
/** Address flags. */
export const IFA_F = { NODAD: 0x02, PERMANENT: 0x80 } as const;

/** Route attributes (`RTA_*`). */
export const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, TABLE: 15 } as const;
/** Route scopes, tables, protocols and types. */
export const RT = {
  SCOPE_UNIVERSE: 0,
  SCOPE_LINK: 253,
  SCOPE_HOST: 254,
  TABLE_MAIN: 254,
  PROT_BOOT: 3,
  PROT_STATIC: 4,
  TYPE_UNICAST: 1,
} as const;

/** Sizes of the family headers. */
const IFINFOMSG_SIZE = 16;
const IFADDRMSG_SIZE = 8;
const RTMSG_SIZE = 12;

/** The fields of `struct ifinfomsg`. */
export interface IfInfo {
  /** `ifi_family` (AF_UNSPEC unless said). */
  family?: number;
  /** `ifi_index` (0: by name, or a new link). */
  index?: number;
  /** `ifi_flags`. */
  flags?: number;
  /** `ifi_change`: which flags to change. */
  change?: number;
}

/** `struct ifinfomsg`. */
export function ifinfomsg(info: IfInfo = {}): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(IFINFOMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, info.family ?? AF.UNSPEC);
  v.setInt32(4, info.index ?? 0, true);
  v.setUint32(8, info.flags ?? 0, true);
  v.setUint32(12, info.change ?? 0, true);
  return b;
}

function join(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const NEW = NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL;
const CHANGE = NLM_F.REQUEST | NLM_F.ACK;

/** Where a new link's end goes and what it is set to. */
export interface LinkSettings {
  /** Its name (at most 15 bytes). */
  name: string;
  /** Its MTU. */
  mtu?: number;
  /** Its MAC address as 6 bytes. */
  mac?: Uint8Array;
  /** An fd of the network namespace it is made in (IFLA_NET_NS_FD), else the socket's own. */
  netnsFd?: number;
}

function linkAttributes(w: AttributeWriter, link: LinkSettings): void {
  w.string(IFLA.IFNAME, link.name);
  if (link.mtu !== undefined) w.u32(IFLA.MTU, link.mtu);
  if (link.mac) w.raw(IFLA.ADDRESS, link.mac);
  if (link.netnsFd !== undefined) w.u32(IFLA.NET_NS_FD, link.netnsFd);
}

/** RTM_NEWLINK of a link of a kind (`bridge`, `dummy`...) with no kind data. */
export function newLinkRequest(
  kind: string,
  link: LinkSettings,
  extra?: (w: AttributeWriter) => void,
): NetlinkRequest {
  const w = new AttributeWriter();
  linkAttributes(w, link);
  extra?.(w);
  w.nested(IFLA.LINKINFO, (info) => info.string(IFLA_INFO.KIND, kind));
  return { type: RTM.NEWLINK, flags: NEW, body: join(ifinfomsg(), w.bytes()) };
}

/**
 * RTM_NEWLINK of a veth pair: `host` in the socket's namespace, `peer` in its own (its
 * `netnsFd`), each with its name, MTU and MAC.
 */
export function newVethRequest(host: LinkSettings, peer: LinkSettings): NetlinkRequest {
  const w = new AttributeWriter();
  linkAttributes(w, host);
  w.nested(IFLA.LINKINFO, (info) => {
    info.string(IFLA_INFO.KIND, "veth");
    info.nested(IFLA_INFO.DATA, (data) => {
      // The peer's value is an ifinfomsg followed by its attributes.
      const attrs = new AttributeWriter();
      linkAttributes(attrs, peer);
      data.raw(VETH_INFO.PEER, join(ifinfomsg(), attrs.bytes()));
    });
  });
  return { type: RTM.NEWLINK, flags: NEW, body: join(ifinfomsg(), w.bytes()) };
}

/** What RTM_SETLINK changes on a link named `name`. */
export interface LinkChange {
  /** Bring it up. */
  up?: boolean;
  /** The ifindex of the bridge it joins (IFLA_MASTER). */
  masterIndex?: number;
  /** A new MTU. */
  mtu?: number;
  /** A new name (IFLA_IFNAME; the link is then found by `index`). */
  rename?: string;
  /** A network namespace fd to move it into. */
  netnsFd?: number;
  /** The interface alias (IFLA_IFALIAS). */
  alias?: string;
}

/** RTM_SETLINK (as RTM_NEWLINK without CREATE, which takes the same attributes) of a link. */
export function setLinkRequest(
  link: { index?: number; name?: string },
  change: LinkChange,
): NetlinkRequest {
  const w = new AttributeWriter();
  if (change.rename !== undefined) w.string(IFLA.IFNAME, change.rename);
  else if (link.name !== undefined) w.string(IFLA.IFNAME, link.name);
  if (change.mtu !== undefined) w.u32(IFLA.MTU, change.mtu);
  if (change.masterIndex !== undefined) w.u32(IFLA.MASTER, change.masterIndex);
  if (change.netnsFd !== undefined) w.u32(IFLA.NET_NS_FD, change.netnsFd);
  if (change.alias !== undefined) w.string(IFLA.IFALIAS, change.alias);
  const header = ifinfomsg({
    index: link.index ?? 0,
    flags: change.up ? IFF.UP : 0,
    change: change.up === undefined ? 0 : IFF.UP,
  });
  return { type: RTM.NEWLINK, flags: CHANGE, body: join(header, w.bytes()) };
}

/** RTM_DELLINK of a link by index (or by name when the index is 0). */
export function deleteLinkRequest(link: { index?: number; name?: string }): NetlinkRequest {
  const w = new AttributeWriter();
  if (!link.index && link.name !== undefined) w.string(IFLA.IFNAME, link.name);
  return {
    type: RTM.DELLINK,
    flags: CHANGE,
    body: join(ifinfomsg({ index: link.index }), w.bytes()),
  };
}

/** RTM_GETLINK of one link by name: answered by the link and an ack, or ENODEV. */
export function getLinkRequest(name: string): NetlinkRequest {
  const w = new AttributeWriter().string(IFLA.IFNAME, name);
  return { type: RTM.GETLINK, flags: CHANGE, body: join(ifinfomsg(), w.bytes()) };
}

/** RTM_GETLINK dump of every link of the namespace. */
export function dumpLinksRequest(): NetlinkRequest {
  return { type: RTM.GETLINK, flags: NLM_F.REQUEST | NLM_F.DUMP, body: ifinfomsg() };
}

/** An address: its family, bytes and prefix length. */
export interface IpPrefix {
  /** AF_INET or AF_INET6. */
  family: number;
  /** 4 or 16 bytes. */
  address: Uint8Array;
  /** The prefix length. */
  prefix: number;
}

function ifaddrmsg(family: number, prefix: number, flags: number, scope: number, index: number) {
  const b = new Uint8Array(IFADDRMSG_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, family);
  v.setUint8(1, prefix);
  v.setUint8(2, flags);
  v.setUint8(3, scope);
  v.setUint32(4, index, true);
  return b;
}

/**
 * RTM_NEWADDR of an address on link `index`. IPv6 addresses skip duplicate address detection
 * (the namespace is new: no one else can hold them), so they are usable at once.
 */
export function newAddressRequest(index: number, ip: IpPrefix): NetlinkRequest {
  const flags = ip.family === AF.INET6 ? IFA_F.NODAD : 0;
  const w = new AttributeWriter().raw(IFA.LOCAL, ip.address).raw(IFA.ADDRESS, ip.address);
  if (ip.family === AF.INET6) w.u32(IFA.FLAGS, flags);
  const header = ifaddrmsg(ip.family, ip.prefix, flags, RT.SCOPE_UNIVERSE, index);
  return { type: RTM.NEWADDR, flags: NEW, body: join(header, w.bytes()) };
}

/** RTM_GETADDR dump of every address (of a family, or all). */
export function dumpAddressesRequest(family: number = AF.UNSPEC): NetlinkRequest {
  return {
    type: RTM.GETADDR,
    flags: NLM_F.REQUEST | NLM_F.DUMP,
    body: ifaddrmsg(family, 0, 0, 0, 0),
  };
}

/** A route: where to, through which gateway, out of which link. */
export interface RouteSpec {
  /** The destination (prefix 0: the default route). */
  destination: IpPrefix;
  /** The next hop, of the destination's family. */
  gateway?: Uint8Array;
  /** The ifindex of the link it leaves by. */
  index: number;
}

/** RTM_NEWROUTE in the main table. */
export function newRouteRequest(route: RouteSpec): NetlinkRequest {
  const header = new Uint8Array(RTMSG_SIZE);
  const v = new DataView(header.buffer);
  v.setUint8(0, route.destination.family);
  v.setUint8(1, route.destination.prefix);
  v.setUint8(4, RT.TABLE_MAIN);
  v.setUint8(5, RT.PROT_BOOT);
  v.setUint8(6, route.gateway ? RT.SCOPE_UNIVERSE : RT.SCOPE_LINK);
  v.setUint8(7, RT.TYPE_UNICAST);
  const w = new AttributeWriter();
  if (route.destination.prefix > 0) w.raw(RTA.DST, route.destination.address);
  if (route.gateway) w.raw(RTA.GATEWAY, route.gateway);
  w.u32(RTA.OIF, route.index);
  return { type: RTM.NEWROUTE, flags: NEW, body: join(header, w.bytes()) };
}

/** A link as RTM_NEWLINK (a GETLINK answer) describes it. */
export interface LinkInfo {
  /** Its ifindex. */
  index: number;
  /** Its name. */
  name: string;
  /** `ifi_flags` (IFF_UP...). */
  flags: number;
  /** Its MTU. */
  mtu?: number;
  /** The ifindex of its master (a bridge), when it has one. */
  masterIndex?: number;
  /** Its kind (`veth`, `bridge`...), when it has one. */
  kind?: string;
  /** Its alias (IFLA_IFALIAS), when set. */
  alias?: string;
  /** Its MAC address, when it has one. */
  mac?: Uint8Array;
  /** Its 64-bit counters (`struct rtnl_link_stats64`), when listed. */
  stats64?: Uint8Array;
  /** Every attribute, for readers that need more. */
  attributes: Attribute[];
}

/** Reads an RTM_NEWLINK message. */
export function parseLink(message: NetlinkMessage): LinkInfo {
  const p = message.payload;
  if (p.length < IFINFOMSG_SIZE) throw new RangeError("ifinfomsg is truncated");
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const attributes = parseAttributes(p.subarray(IFINFOMSG_SIZE));
  const linkinfo = findAttribute(attributes, IFLA.LINKINFO);
  return {
    index: v.getInt32(4, true),
    flags: v.getUint32(8, true),
    name: attrString(findAttribute(attributes, IFLA.IFNAME)) ?? "",
    mtu: attrU32(findAttribute(attributes, IFLA.MTU)),
    masterIndex: attrU32(findAttribute(attributes, IFLA.MASTER)),
    kind: linkinfo
      ? attrString(findAttribute(parseAttributes(linkinfo), IFLA_INFO.KIND))
      : undefined,
    alias: attrString(findAttribute(attributes, IFLA.IFALIAS)),
    mac: findAttribute(attributes, IFLA.ADDRESS),
    stats64: findAttribute(attributes, IFLA.STATS64),
    attributes,
  };
}

/** An address as RTM_NEWADDR (a GETADDR answer) describes it. */
export interface AddressInfo {
  /** AF_INET or AF_INET6. */
  family: number;
  /** The prefix length. */
  prefix: number;
  /** `ifa_flags` (the low 8 bits; IFA_FLAGS has all of them). */
  flags: number;
  /** `ifa_scope`. */
  scope: number;
  /** The ifindex of its link. */
  index: number;
  /** IFA_LOCAL (else IFA_ADDRESS): the address itself. */
  address?: Uint8Array;
  /** Every attribute. */
  attributes: Attribute[];
}

/** Reads an RTM_NEWADDR message. */
export function parseAddress(message: NetlinkMessage): AddressInfo {
  const p = message.payload;
  if (p.length < IFADDRMSG_SIZE) throw new RangeError("ifaddrmsg is truncated");
  const attributes = parseAttributes(p.subarray(IFADDRMSG_SIZE));
  const full = attrU32(findAttribute(attributes, IFA.FLAGS));
  return {
    family: p[0],
    prefix: p[1],
    flags: full ?? p[2],
    scope: p[3],
    index: new DataView(p.buffer, p.byteOffset + 4, 4).getUint32(0, true),
    address: findAttribute(attributes, IFA.LOCAL) ?? findAttribute(attributes, IFA.ADDRESS),
    attributes,
  };
}
