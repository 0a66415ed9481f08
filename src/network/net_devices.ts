/**
 * OCI `linux.netDevices`, done while the init waits in its pause: every host device is looked
 * up first (a missing one fails before anything moves), its kept addresses read, then it is
 * moved and renamed into the init's network namespace, its addresses added back and it is
 * brought up there. What is about to move is recorded first (MovedDevices): until the start
 * has succeeded, a failure moves the devices back (./net_devices_undo.ts); after it nothing
 * does: when the namespace goes, the kernel returns physical devices to the host and destroys
 * virtual ones (runtime-spec 1.3).
 *
 * @module
 */

import type { NetDevice } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { encodeHex } from "./hex.ts";
import { copyAddressRequest } from "./address_copy.ts";
import { type NetDeviceMove, planNetDeviceMoves } from "./net_devices_plan.ts";
import { netlinkError, NetlinkSocket } from "./netlink_socket.ts";
import type { MovedDevice } from "./options.ts";
import {
  type AddressInfo,
  AF,
  dumpAddressesRequest,
  dumpLinksRequest,
  getLinkRequest,
  IFF,
  type LinkInfo,
  parseAddress,
  parseLink,
  setLinkRequest,
} from "./rtnetlink.ts";

const ENODEV = 19;

/** A device as it ended up inside the container. */
export interface MovedNetDevice {
  /** Its name on the host. */
  host: string;
  /** Its name inside (a template numbered by the kernel). */
  name: string;
  /** The addresses added back, as text. */
  addresses: string[];
}

/**
 * Moves `devices` (validated `linux.netDevices`) into the network namespace of `netnsFd` (the
 * paused init's, held by the caller until the start is over), renamed, with their permanent
 * global addresses, up. `onPlanned` gets every device as it is on the host before the first
 * move (to be recorded, so a failure can move them back). Throws a ConfigInvalid naming every
 * missing device before moving any; a kernel refusal is a SystemError naming the device and
 * the kernel's message.
 */
export function moveNetDevices(
  devices: Readonly<Record<string, NetDevice>>,
  netnsFd: number,
  onPlanned: (devices: MovedDevice[]) => void,
): MovedNetDevice[] {
  using host = NetlinkSocket.open();
  const hostLinks = new Map<string, LinkInfo>();
  for (const name of Object.keys(devices)) {
    const reply = host.request(getLinkRequest(name));
    if (reply.ack.errno === ENODEV) continue;
    if (reply.ack.errno !== 0) {
      throw netlinkError(`linux.netDevices: cannot look up "${name}" on the host`, reply.ack);
    }
    hostLinks.set(name, parseLink(reply.messages[0]));
  }
  const listed = host.mustRequest(
    dumpAddressesRequest(),
    "linux.netDevices: cannot list the host's addresses",
  ).map((message) => ({ payload: message.payload, info: parseAddress(message) }));
  const moves = planNetDeviceMoves(devices, hostLinks, listed.map((a) => a.info), netnsFd);
  onPlanned(moves.map((move) => ({
    host: move.host,
    index: move.index,
    target: move.target,
    up: (hostLinks.get(move.host)!.flags & IFF.UP) !== 0,
    addresses: listed.filter((a) => move.addresses.includes(a.info)).map((a) =>
      encodeHex(a.payload)
    ),
  })));
  for (const move of moves) {
    host.mustRequest(
      move.move,
      `linux.netDevices: cannot move "${move.host}" into the container as "${move.target}"`,
    );
  }
  using inside = NetlinkSocket.openInFd(netnsFd);
  return moves.map((move) => configureInside(inside, move));
}

/** Finds a moved device inside, adds its addresses back and brings it up. */
function configureInside(inside: NetlinkSocket, move: NetDeviceMove): MovedNetDevice {
  const links = inside.mustRequest(
    dumpLinksRequest(),
    "linux.netDevices: cannot list the container's links",
  ).map(parseLink);
  // The kernel keeps the ifindex when it is free there (a new namespace has lo only).
  const link = links.find((l) => l.index === move.index) ??
    links.find((l) => l.name === move.target);
  if (!link) {
    throw new ContainerError(
      "SystemError",
      `linux.netDevices: "${move.host}" was moved but is not found in the container`,
    );
  }
  for (const address of move.addresses) {
    inside.mustRequest(
      copyAddressRequest(link.index, address),
      `linux.netDevices: cannot add ${addressText(address)} to "${link.name}" (from ` +
        `"${move.host}")`,
    );
  }
  inside.mustRequest(
    setLinkRequest({ index: link.index }, { up: true }),
    `linux.netDevices: cannot bring "${link.name}" (from "${move.host}") up`,
  );
  return { host: move.host, name: link.name, addresses: move.addresses.map(addressText) };
}
/** An address with its prefix, for messages (IPv6 groups unshortened). */
function addressText(ip: AddressInfo): string {
  const bytes = ip.address ?? new Uint8Array();
  if (ip.family === AF.INET) return `${[...bytes].join(".")}/${ip.prefix}`;
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return `${groups.join(":")}/${ip.prefix}`;
}
