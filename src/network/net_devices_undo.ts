/**
 * The undo of `linux.netDevices` for a start that failed (or was cut short): each device the
 * record names that is still in the container's network namespace is moved back into the
 * runtime's own one under its host name, its kept addresses added again and its up/down
 * state restored. Only while that namespace lives (an fd held, or the paused init): once it
 * is gone the kernel has destroyed virtual devices and returned physical ones itself.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { isAlive } from "../state/identity.ts";
import { close, O, open } from "../syscalls.ts";
import { copyAddressRequest } from "./address_copy.ts";
import { decodeHex } from "./hex.ts";
import { findLink, listLinks } from "./links.ts";
import { netlinkError, NetlinkSocket } from "./netlink_socket.ts";
import type { MovedDevice, MovedDevices, NetnsIdentity, NetworkRecord } from "./options.ts";
import { checkHostNetns } from "./teardown.ts";
import { type LinkInfo, parseAddress, RTM, setLinkRequest } from "./rtnetlink.ts";

const EEXIST = 17;

/**
 * Moves `devices` back from the network namespace of `netnsFd` into the caller's own, which
 * must be `hostNetns` (the one they came from, when recorded; else a SystemError saying so,
 * nothing moved). Every device is tried; the first failure is thrown after.
 */
export function moveNetDevicesBack(
  devices: readonly MovedDevice[],
  netnsFd: number,
  hostNetns: NetnsIdentity | undefined,
): void {
  if (devices.length === 0) return;
  checkHostNetns(hostNetns, "its netDevices are not moved back into this one");
  const hostFd = open("/proc/self/ns/net", O.RDONLY);
  try {
    using inside = NetlinkSocket.openInFd(netnsFd);
    using host = NetlinkSocket.open();
    const failures: unknown[] = [];
    for (const device of devices) {
      try {
        moveBack(inside, host, hostFd, device);
      } catch (e) {
        failures.push(e);
      }
    }
    if (failures.length > 0) throw failures[0];
  } finally {
    close(hostFd);
  }
}

/**
 * For destroy after a start cut short: moves the record's devices back while its init (still
 * paused) lives; returns false when it is gone (the kernel's rules applied). From another
 * network namespace than `hostNetns` it throws before looking, so the caller keeps its state.
 */
export function moveNetDevicesBackFromInit(
  moved: MovedDevices,
  hostNetns: NetnsIdentity | undefined,
): boolean {
  checkHostNetns(hostNetns, "its netDevices are not moved back into this one");
  if (!isAlive(moved.init)) return false;
  let fd: number;
  try {
    fd = open(`/proc/${moved.init.pid}/ns/net`, O.RDONLY);
  } catch {
    return false; // exited meanwhile
  }
  try {
    // Checked again with the namespace held: the pid was not reused before the open.
    if (!isAlive(moved.init)) return false;
    moveNetDevicesBack(moved.devices, fd, hostNetns);
    return true;
  } finally {
    close(fd);
  }
}

/**
 * For destroy (and the destroy of a damaged state's remnants) before its kill: a start cut
 * short with `linux.netDevices` moved (a record, no init recorded) gets its devices back
 * while the paused init lives. From another network namespace than the record's it throws
 * (the caller keeps the state); any other failure is a warning (the kill goes on).
 */
export function moveBackBeforeKill(
  record: NetworkRecord | undefined,
  init: unknown,
): void {
  const moved = record?.movedDevices;
  if (!moved || init) return;
  checkHostNetns(record.hostNetns, "its netDevices are not moved back into this one");
  try {
    moveNetDevicesBackFromInit(moved, record.hostNetns);
  } catch (e) {
    console.warn(`cell: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The link inside that is `device` moved in, by what was recorded: its inside ifindex (known
 * once it was found under its temporary name) with one of its recorded names, else its
 * temporary name (moved, not yet renamed). Never by its host ifindex or its asked name alone:
 * the namespace's own links (a veth of the `network` option) may bear those. A record from
 * before the temporary names (no `temp`) is found as it was then.
 */
export function findMovedLink(
  links: readonly LinkInfo[],
  device: MovedDevice,
): LinkInfo | undefined {
  if (device.temp === undefined) return findMovedLinkUntemped(links, device);
  if (device.insideIndex !== undefined) {
    const names = [device.temp, device.final ?? undefined].filter((n) => n !== undefined);
    const byIndex = links.find((l) => l.index === device.insideIndex);
    if (byIndex && (names.includes(byIndex.name) || targetPattern(device).test(byIndex.name))) {
      return byIndex;
    }
  }
  return links.find((l) => l.name === device.temp);
}

function targetPattern(device: MovedDevice): RegExp {
  const escaped = device.target.replace(/[.*+?^$()|[\]{}\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace("%d", "[0-9]+")}$`);
}

function findMovedLinkUntemped(
  links: readonly LinkInfo[],
  device: MovedDevice,
): LinkInfo | undefined {
  const template = device.target.includes("%");
  return links.find((l) => l.index === device.index && targetPattern(device).test(l.name)) ??
    (template ? undefined : links.find((l) => l.name === device.target));
}

function moveBack(
  inside: NetlinkSocket,
  host: NetlinkSocket,
  hostFd: number,
  device: MovedDevice,
): void {
  const link = findMovedLink(listLinks(inside), device);
  if (!link) return; // never moved (an earlier move failed), or gone with its kind's rules
  if (findLink(host, device.host)) {
    throw new ContainerError(
      "SystemError",
      `linux.netDevices: cannot move "${link.name}" back: the name "${device.host}" is taken ` +
        `on the host`,
    );
  }
  inside.mustRequest(
    setLinkRequest({ index: link.index }, { rename: device.host, netnsFd: hostFd }),
    `linux.netDevices: cannot move "${link.name}" back to the host as "${device.host}"`,
  );
  const back = findLink(host, device.host);
  if (!back) {
    throw new ContainerError(
      "SystemError",
      `linux.netDevices: "${device.host}" was moved back but is not found on the host`,
    );
  }
  for (const hex of device.addresses) {
    const payload = decodeHex(hex);
    const address = parseAddress({ type: RTM.NEWADDR, flags: 0, seq: 0, pid: 0, payload });
    const { ack } = host.request(copyAddressRequest(back.index, address));
    if (ack.errno !== 0 && ack.errno !== EEXIST) {
      throw netlinkError(`linux.netDevices: cannot give "${device.host}" its address back`, ack);
    }
  }
  if (device.up) {
    host.mustRequest(
      setLinkRequest({ index: back.index }, { up: true }),
      `linux.netDevices: cannot bring "${device.host}" up again`,
    );
  }
}
