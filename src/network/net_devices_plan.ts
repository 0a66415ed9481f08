/**
 * OCI `linux.netDevices` as netlink requests, planned from what the host's namespace holds:
 * per device, the move into the container's network namespace under a unique temporary
 * name (the kernel moves first and renames after, so a clash with the asked name would leave
 * the device inside under its old name, unrecorded), the rename to the asked name being a
 * second request inside, and the addresses to add back inside (the kernel drops them on the move). Pure data: the executor
 * (./net_devices.ts) sends.
 *
 * @module
 */

import type { NetDevice } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { type AddressInfo, IFA_F, type LinkInfo, RT, setLinkRequest } from "./rtnetlink.ts";
import type { NetlinkRequest } from "./netlink_message.ts";

/** One host device's way into the container. */
export interface NetDeviceMove {
  /** Its name on the host (the `netDevices` key). */
  host: string;
  /** Its ifindex on the host (inside it may get another one: never looked up by it). */
  index: number;
  /** Its name inside, as asked (a `%d` template is numbered by the kernel). */
  target: string;
  /** The unique name it is moved under (`cmv`, 4 random hex digits, its host ifindex in hex). */
  temp: string;
  /** RTM_NEWLINK: into the namespace of the fd, under `temp`. */
  move: NetlinkRequest;
  /** Its permanent addresses of global scope as listed, to add back inside (runtime-spec 1.3). */
  addresses: AddressInfo[];
}

/**
 * Plans the moves of `devices` into the network namespace of `netnsFd`, from the host's links
 * (by name) and addresses (a dump). A device missing on the host fails the whole plan,
 * naming its field, before anything is moved.
 */
export function planNetDeviceMoves(
  devices: Readonly<Record<string, NetDevice>>,
  hostLinks: ReadonlyMap<string, LinkInfo>,
  hostAddresses: readonly AddressInfo[],
  netnsFd: number,
): NetDeviceMove[] {
  const missing = Object.keys(devices).filter((name) => !hostLinks.has(name));
  if (missing.length > 0) {
    throw new ContainerError(
      "ConfigInvalid",
      missing.map((name) =>
        `linux.netDevices[${JSON.stringify(name)}]: no network device ` +
        `"${name}" on the host`
      ).join("\n"),
    );
  }
  const salt = randomHex4();
  return Object.entries(devices).map(([host, device]) => {
    const link = hostLinks.get(host)!;
    const target = device.name ?? host;
    // The ifindex in hex (at most 8 digits): 15 bytes at most, unique among the moves.
    const temp = `cmv${salt}${link.index.toString(16)}`;
    return {
      host,
      index: link.index,
      target,
      temp,
      move: setLinkRequest({ index: link.index }, { rename: temp, netnsFd }),
      addresses: keptAddresses(hostAddresses, link.index),
    };
  });
}

/**
 * The addresses of link `index` the spec says to keep: permanent (not from autoconfiguration
 * or DHCP lifetimes) and of global scope (not link-local or host addresses).
 */
export function keptAddresses(addresses: readonly AddressInfo[], index: number): AddressInfo[] {
  return addresses.filter((a) =>
    a.index === index && (a.flags & IFA_F.PERMANENT) !== 0 &&
    a.scope === RT.SCOPE_UNIVERSE && a.address !== undefined
  );
}

function randomHex4(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
