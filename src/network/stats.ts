/**
 * Network counters of the veths cell made, read from their host ends (as libcontainer did):
 * what the host end sent, the container end received, so receive and transmit are swapped.
 * Other interfaces keep the counters read inside the namespace (src/cgroups/net_stats.ts).
 *
 * @module
 */

import type { NetworkInterfaceStats } from "../cgroups/stats.ts";
import { attrU64At } from "./attributes.ts";
import { findLink } from "./links.ts";
import { NetlinkSocket } from "./netlink_socket.ts";
import type { NetworkRecord } from "./options.ts";

/** The counters of `struct rtnl_link_stats64` cell reports, by byte offset. */
const STATS64 = {
  rxPackets: 0,
  txPackets: 8,
  rxBytes: 16,
  txBytes: 24,
  rxErrors: 32,
  txErrors: 40,
  rxDropped: 48,
  txDropped: 56,
} as const;

/**
 * `inside` with each veth cell made (by its container end's name) counted from its host end
 * instead, receive and transmit swapped. A host end that is gone (or not the recorded link)
 * leaves the inside counters.
 */
export function withHostSideCounters(
  inside: NetworkInterfaceStats[],
  record: NetworkRecord | undefined,
): NetworkInterfaceStats[] {
  if (!record?.veths.length) return inside;
  using host = NetlinkSocket.open();
  return inside.map((entry) => {
    const veth = record.veths.find((v) => v.name === entry.name);
    if (!veth) return entry;
    const link = findLink(host, veth.hostName);
    const s = link?.stats64;
    if (!link || link.index !== veth.index || !s || s.length < 64) return entry;
    return {
      name: entry.name,
      rxBytes: attrU64At(s, STATS64.txBytes),
      rxPackets: attrU64At(s, STATS64.txPackets),
      rxErrors: attrU64At(s, STATS64.txErrors),
      rxDropped: attrU64At(s, STATS64.txDropped),
      txBytes: attrU64At(s, STATS64.rxBytes),
      txPackets: attrU64At(s, STATS64.rxPackets),
      txErrors: attrU64At(s, STATS64.rxErrors),
      txDropped: attrU64At(s, STATS64.rxDropped),
    };
  });
}
