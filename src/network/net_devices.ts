/**
 * OCI `linux.netDevices`, done while the init waits in its pause: every host device is looked
 * up first (a missing one fails before anything moves), its kept addresses read, then it is
 * moved into the init's network namespace under a unique temporary name, found there by that
 * name (its ifindex may change, and the `network` option's veth may hold its old one), renamed
 * to the asked name, its addresses added back and it is brought up there. Each step is
 * recorded before it is taken (MovedDevices): until the start
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
 * global addresses, up. `record` gets every device as it is on the host before the first
 * move, and again before each later step (its inside index before its rename, its final name
 * after), so a failure can find and move them back. Throws a ConfigInvalid naming every
 * missing device before moving any; a kernel refusal is a SystemError naming the device and
 * the kernel's message.
 */
export function moveNetDevices(
  devices: Readonly<Record<string, NetDevice>>,
  netnsFd: number,
  record: (devices: MovedDevice[]) => void,
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
  const recorded: MovedDevice[] = moves.map((move) => ({
    host: move.host,
    index: move.index,
    target: move.target,
    temp: move.temp,
    up: (hostLinks.get(move.host)!.flags & IFF.UP) !== 0,
    addresses: listed.filter((a) => move.addresses.includes(a.info)).map((a) =>
      encodeHex(a.payload)
    ),
  }));
  record(recorded);
  for (const move of moves) {
    host.mustRequest(
      move.move,
      `linux.netDevices: cannot move "${move.host}" into the container as "${move.target}"`,
    );
  }
  using inside = NetlinkSocket.openInFd(netnsFd);
  return moves.map((move, i) => {
    const device = recorded[i];
    const found = findInside(inside, move.host, "moved", (l) => l.name === move.temp);
    device.insideIndex = found.index;
    record(recorded);
    inside.mustRequest(
      setLinkRequest({ index: found.index }, { rename: move.target }),
      `linux.netDevices: cannot rename "${move.host}" to "${move.target}" in the container`,
    );
    // Read back: a %d template is numbered by the kernel.
    const link = findInside(inside, move.host, "renamed", (l) => l.index === found.index);
    device.final = link.name;
    record(recorded);
    return configureInside(inside, move, link);
  });
}

/** The moved device's link inside, or a SystemError saying after which step it went missing. */
function findInside(
  inside: NetlinkSocket,
  host: string,
  step: string,
  match: (link: LinkInfo) => boolean,
): LinkInfo {
  const link = linksInside(inside).find(match);
  if (link) return link;
  throw new ContainerError(
    "SystemError",
    `linux.netDevices: "${host}" was ${step} but is not found in the container`,
  );
}

function linksInside(inside: NetlinkSocket): LinkInfo[] {
  return inside.mustRequest(
    dumpLinksRequest(),
    "linux.netDevices: cannot list the container's links",
  ).map(parseLink);
}

/** Adds a moved and renamed device's addresses back and brings it up. */
function configureInside(
  inside: NetlinkSocket,
  move: NetDeviceMove,
  link: LinkInfo,
): MovedNetDevice {
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
