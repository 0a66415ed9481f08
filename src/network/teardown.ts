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
import type { NetnsIdentity, NetworkRecord } from "./options.ts";
import { deleteLinkRequest } from "./rtnetlink.ts";

const ENODEV = 19;

/**
 * Removes what `record` names, from the caller's network namespace, which must be the one it
 * was made in (else a SystemError saying so, nothing touched). What is already gone is no
 * error; every item is tried before the first failure is thrown.
 */
export function teardownNetwork(record: NetworkRecord | undefined): void {
  if (!record || (record.veths.length === 0 && record.bridges.length === 0)) return;
  checkHostNetns(record.hostNetns, "its links are not removed from here");
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
  const unmarked = record.unmarkedBridges ?? [];
  for (const name of record.bridges) {
    const index = unmarked.includes(name) ? record.unmarkedBridgeIndexes?.[name] : undefined;
    attempt(() => removeBridgeIfUnused(host, name, index));
  }
  if (failures.length > 0) throw failures[0];
}

/**
 * Throws a SystemError when `made` (the namespace a record's host side was made in) is not
 * this process's: ifindexes and names belong to one namespace, so nothing is touched from
 * another. `what` says what is refused.
 */
export function checkHostNetns(made: NetnsIdentity | undefined, what: string): void {
  const here = ownNetns();
  if (made && !sameNetns(made, here)) {
    throw new ContainerError(
      "SystemError",
      `the container's network was made in another network namespace (nsfs inode ` +
        `${made.ino}, this process is in ${here.ino}): ${what} (an ifindex names another ` +
        `link in each namespace); destroy it from that namespace`,
    );
  }
}

/** The network namespace of this process (its main thread, where netlink sockets are made). */
export function ownNetns(): NetnsIdentity {
  const { dev, ino } = Deno.statSync("/proc/self/ns/net");
  return { dev, ino: ino! };
}

function sameNetns(a: NetnsIdentity, b: NetnsIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function deleteIfSame(host: NetlinkSocket, name: string, index: number, what: string): void {
  const link = findLink(host, name);
  if (!link || link.index !== index) return;
  const { ack } = host.request(deleteLinkRequest({ index }));
  if (ack.errno !== 0 && ack.errno !== ENODEV) {
    throw netlinkError(`cannot delete ${what}`, ack);
  }
}

/**
 * Deletes the bridge when cell made it (its alias, or made by this start before its mark
 * was set: `unmarkedIndex`, its recorded ifindex, is the link's) and no link has it as
 * master. An unmarked bridge with no index recorded (the runtime was killed between its
 * RTM_NEWLINK and the record) is left: it may be someone else's.
 */
function removeBridgeIfUnused(
  host: NetlinkSocket,
  name: string,
  unmarkedIndex: number | undefined,
): void {
  const links = listLinks(host);
  const bridge = links.find((l) => l.name === name);
  if (!bridge || bridge.kind !== "bridge") return;
  if (bridge.alias !== CELL_BRIDGE_ALIAS && bridge.index !== unmarkedIndex) return;
  if (links.some((l) => l.masterIndex === bridge.index)) return;
  deleteIfSame(host, name, bridge.index, `bridge "${name}"`);
}
