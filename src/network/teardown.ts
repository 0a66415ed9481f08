/**
 * Undoing a container's network on the host: the host end of each veth cell made (only the
 * link with the recorded ifindex; the pair goes with it), then each bridge the container used
 * with `create` that bears cell's mark and has no port left. Run by destroy (any process, from
 * the state) and by a failed start.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { CELL_BRIDGE_ALIAS, findLink, listLinks } from "./links.ts";
import { netlinkError, NetlinkSocket } from "./netlink_socket.ts";
import type { NetworkRecord } from "./options.ts";
import { deleteLinkRequest } from "./rtnetlink.ts";

const ENODEV = 19;

/**
 * Removes what `record` names, from the caller's network namespace. What is already gone is
 * no error; every item is tried before the first failure is thrown.
 */
export function teardownNetwork(record: NetworkRecord | undefined): void {
  if (!record || (record.veths.length === 0 && record.bridges.length === 0)) return;
  using host = NetlinkSocket.open();
  const failures: ContainerError[] = [];
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ContainerError) failures.push(e);
      else throw e;
    }
  };
  for (const veth of record.veths) {
    attempt(() => deleteIfSame(host, veth.hostName, veth.index, `veth "${veth.hostName}"`));
  }
  for (const name of record.bridges) attempt(() => removeBridgeIfUnused(host, name));
  if (failures.length > 0) throw failures[0];
}

function deleteIfSame(host: NetlinkSocket, name: string, index: number, what: string): void {
  const link = findLink(host, name);
  if (!link || link.index !== index) return;
  const { ack } = host.request(deleteLinkRequest({ index }));
  if (ack.errno !== 0 && ack.errno !== ENODEV) {
    throw netlinkError(`cannot delete ${what}`, ack);
  }
}

/** Deletes the bridge when cell made it (its alias) and no link has it as master. */
function removeBridgeIfUnused(host: NetlinkSocket, name: string): void {
  const links = listLinks(host);
  const bridge = links.find((l) => l.name === name);
  if (!bridge || bridge.kind !== "bridge" || bridge.alias !== CELL_BRIDGE_ALIAS) return;
  if (links.some((l) => l.masterIndex === bridge.index)) return;
  deleteIfSame(host, name, bridge.index, `bridge "${name}"`);
}
