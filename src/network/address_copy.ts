/**
 * RTM_NEWADDR that puts an address the kernel listed (an RTM_GETADDR dump) on another link as
 * it was: its local address, its peer or prefix address, its broadcast, its prefix length and
 * the flags a user sets. For `linux.netDevices`, whose addresses the move drops. Pure data, in
 * the style of ./rtnetlink.ts (which builds addresses from an IpPrefix and has no broadcast
 * or peer).
 *
 * @module
 */

import { AttributeWriter, findAttribute } from "./attributes.ts";
import { type NetlinkRequest, NLM_F } from "./netlink_message.ts";
import { type AddressInfo, AF, IFA, IFA_F, RT, RTM } from "./rtnetlink.ts";

/**
 * The address flags that are settings rather than states (not tentative, deprecated or
 * secondary, which the kernel decides): nodad, homeaddress, mngtmpaddr, noprefixroute,
 * autojoin.
 */
const SETTING_FLAGS = 0x02 | 0x10 | 0x100 | 0x200 | 0x400;

const IFADDRMSG_SIZE = 8;

/**
 * RTM_NEWADDR (create, exclusive) of `address` on link `index`, scope universe. IPv6 skips
 * duplicate address detection, as the network option's addresses do: the namespace is new.
 */
export function copyAddressRequest(index: number, address: AddressInfo): NetlinkRequest {
  const attrs = address.attributes;
  let flags = address.flags & SETTING_FLAGS;
  if (address.family === AF.INET6) flags |= IFA_F.NODAD;
  const w = new AttributeWriter();
  for (const type of [IFA.LOCAL, IFA.ADDRESS, IFA.BROADCAST]) {
    const value = findAttribute(attrs, type);
    if (value) w.raw(type, value);
  }
  w.u32(IFA.FLAGS, flags);
  const attributes = w.bytes();
  const body = new Uint8Array(IFADDRMSG_SIZE + attributes.length);
  const view = new DataView(body.buffer);
  view.setUint8(0, address.family);
  view.setUint8(1, address.prefix);
  view.setUint8(2, flags & 0xff);
  view.setUint8(3, RT.SCOPE_UNIVERSE);
  view.setUint32(4, index, true);
  body.set(attributes, IFADDRMSG_SIZE);
  return {
    type: RTM.NEWADDR,
    flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL,
    body,
  };
}
