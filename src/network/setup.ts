/**
 * The network option at a container's start: checked against the host before anything is
 * made (names in use, missing bridges), then set up in the init's network namespace while
 * the init waits in its pause.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { close, O, open } from "../syscalls.ts";
import { executeNetworkPlan } from "./execute.ts";
import { findLink } from "./links.ts";
import { NetlinkSocket } from "./netlink_socket.ts";
import type { NetworkOptions, NetworkRecord } from "./options.ts";
import { planNetwork } from "./plan.ts";
import { vethsOf } from "./validate.ts";

/**
 * Throws ConfigInvalid, naming the field, when the host cannot take the option as it is: a
 * veth's host name already in use, a bridge that is missing (without `create`) or is not a
 * bridge. Reads only; makes nothing.
 */
export function checkNetworkHost(network: NetworkOptions | undefined): void {
  const veths = vethsOf(network);
  if (veths.length === 0) return;
  using host = NetlinkSocket.open();
  for (const [veth, i] of veths) {
    const field = `network.interfaces[${i}]`;
    if (findLink(host, veth.hostName)) {
      throw new ContainerError(
        "ConfigInvalid",
        `${field}.hostName: "${veth.hostName}" is already in use on the host`,
      );
    }
    if (!veth.bridge) continue;
    const bridge = findLink(host, veth.bridge.name);
    if (!bridge && !veth.bridge.create) {
      throw new ContainerError(
        "ConfigInvalid",
        `${field}.bridge.name: there is no bridge "${veth.bridge.name}" on the host ` +
          `(create: true makes it)`,
      );
    }
    if (bridge && bridge.kind !== "bridge") {
      throw new ContainerError(
        "ConfigInvalid",
        `${field}.bridge.name: "${veth.bridge.name}" on the host is not a bridge`,
      );
    }
  }
}

/** Whether the option has anything to set up (and so needs the init's pause). */
export function hasNetworkSetup(network: NetworkOptions | undefined): boolean {
  return (network?.interfaces.length ?? 0) > 0;
}

/**
 * Sets the option up in the network namespace of process `pid` (the paused init), recording
 * what it makes on the host through `onRecord` as it goes; throws on the first failure (the
 * caller undoes the record with `teardownNetwork`).
 */
export function setupNetwork(
  network: NetworkOptions,
  pid: number,
  record: NetworkRecord,
  onRecord: (record: NetworkRecord) => void,
): void {
  const steps = planNetwork(network);
  if (steps.length === 0) return;
  const netnsFd = open(`/proc/${pid}/ns/net`, O.RDONLY);
  try {
    using host = NetlinkSocket.open();
    using container = NetlinkSocket.openInFd(netnsFd);
    executeNetworkPlan(steps, { host, container, containerNetnsFd: netnsFd }, record, onRecord);
  } finally {
    close(netnsFd);
  }
}
