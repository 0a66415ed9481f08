/**
 * Looking links up through a {@linkcode NetlinkSocket}: one by name, or all of a namespace.
 *
 * @module
 */

import type { NetlinkSocket } from "./netlink_socket.ts";
import { netlinkError } from "./netlink_socket.ts";
import { dumpLinksRequest, getLinkRequest, type LinkInfo, parseLink, RTM } from "./rtnetlink.ts";

const ENODEV = 19;

/**
 * The alias (IFLA_IFALIAS) of a bridge cell made: the mark that lets any container that used
 * it remove it once no port is left, and keeps cell from ever removing a bridge it did not make.
 */
export const CELL_BRIDGE_ALIAS = "cell: bridge made by cell, removed with its last port";

/** The link named `name` in the socket's namespace, or undefined when there is none. */
export function findLink(socket: NetlinkSocket, name: string): LinkInfo | undefined {
  const reply = socket.request(getLinkRequest(name));
  if (reply.ack.errno === ENODEV) return undefined;
  if (reply.ack.errno !== 0) throw netlinkError(`cannot look up link "${name}"`, reply.ack);
  const link = reply.messages.find((m) => m.type === RTM.NEWLINK);
  return link ? parseLink(link) : undefined;
}

/** Every link of the socket's namespace. */
export function listLinks(socket: NetlinkSocket): LinkInfo[] {
  return socket.mustRequest(dumpLinksRequest(), "cannot list links")
    .filter((m) => m.type === RTM.NEWLINK)
    .map(parseLink);
}
