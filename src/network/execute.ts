/**
 * Carrying out a network plan (./plan.ts) through two NETLINK_ROUTE sockets, one in the
 * host's namespace and one in the container's. What is made on the host is recorded (through
 * `onRecord`, before the next step) so that destroy, or the undo of a failed start, finds it.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { CELL_BRIDGE_ALIAS, findLink } from "./links.ts";
import { netlinkError, type NetlinkSocket } from "./netlink_socket.ts";
import type { NetworkRecord } from "./options.ts";
import type { BridgeStep, NetworkStep, VethStep } from "./plan.ts";
import {
  newAddressRequest,
  newLinkRequest,
  newRouteRequest,
  newVethRequest,
  setLinkRequest,
} from "./rtnetlink.ts";
import { formatIp } from "./ip.ts";
import { faultPoint } from "../fault_point.ts";

const EEXIST = 17;

/** Where the steps go. */
export interface NetworkTarget {
  /** A socket in the host's (the caller's) network namespace. */
  host: NetlinkSocket;
  /** A socket in the container's network namespace. */
  container: NetlinkSocket;
  /** An fd of the container's network namespace (the veth's container end is made there). */
  containerNetnsFd: number;
}

/**
 * Runs the steps in order. `record` grows with what is made on the host and is handed to
 * `onRecord` each time, before anything else is made; the first failure throws (a
 * SystemError naming the option's field and carrying the kernel's message).
 */
export function executeNetworkPlan(
  steps: NetworkStep[],
  target: NetworkTarget,
  record: NetworkRecord,
  onRecord: (record: NetworkRecord) => void,
): void {
  const indexIn = (socket: NetlinkSocket, field: string, name: string): number => {
    const link = findLink(socket, name);
    if (!link) throw new ContainerError("SystemError", `${field}: link "${name}" is gone`);
    return link.index;
  };
  for (const step of steps) {
    switch (step.step) {
      case "bridge":
        ensureBridge(step, target.host, record, onRecord);
        break;
      case "veth":
        makeVeth(step, target, record, onRecord);
        break;
      case "address": {
        const index = indexIn(target.container, step.field, step.link);
        const text = `${formatIp(step.address.address)}/${step.address.prefix}`;
        target.container.mustRequest(
          newAddressRequest(index, step.address),
          `${step.field}: cannot add ${text} to "${step.link}"`,
        );
        break;
      }
      case "up":
        target.container.mustRequest(
          setLinkRequest({ name: step.link }, { up: true }),
          `${step.field}: cannot bring "${step.link}" up`,
        );
        break;
      case "route": {
        const index = indexIn(target.container, step.field, step.link);
        const to = `${formatIp(step.destination.address)}/${step.destination.prefix}`;
        const via = step.gateway ? ` via ${formatIp(step.gateway)}` : "";
        target.container.mustRequest(
          newRouteRequest({ destination: step.destination, gateway: step.gateway, index }),
          `${step.field}: cannot add the route to ${to}${via}`,
        );
        break;
      }
    }
  }
}

/** The bridge is there (a bridge), or made now when the option says so. */
function ensureBridge(
  step: BridgeStep,
  host: NetlinkSocket,
  record: NetworkRecord,
  onRecord: (record: NetworkRecord) => void,
): void {
  const found = findLink(host, step.name);
  if (found) {
    checkIsBridge(step, found.kind);
    if (step.create) remember(record.bridges, step.name, record, onRecord);
    return;
  }
  if (!step.create) {
    throw new ContainerError(
      "ConfigInvalid",
      `${step.field}.name: there is no bridge "${step.name}" on the host (create: true makes it)`,
    );
  }
  // Recorded first: removal is guarded by cell's mark and by no port being left; until the
  // mark is set, by being recorded as one this start is creating.
  if (!record.bridges.includes(step.name)) record.bridges.push(step.name);
  record.unmarkedBridges = [...(record.unmarkedBridges ?? []), step.name];
  onRecord(record);
  const reply = host.request(
    newLinkRequest("bridge", { name: step.name }),
  );
  if (reply.ack.errno === EEXIST) {
    // Another start made it meanwhile: use it as found; its addresses are that start's.
    forgetUnmarked(record, step.name, onRecord);
    checkIsBridge(step, findLink(host, step.name)?.kind);
    return;
  }
  if (reply.ack.errno !== 0) {
    throw netlinkError(`${step.field}: cannot create bridge "${step.name}"`, reply.ack);
  }
  faultPoint("start:bridgeMade");
  const index = findLink(host, step.name)?.index;
  if (index === undefined) throw new ContainerError("SystemError", `bridge "${step.name}" is gone`);
  // Its ifindex at once: unmarked, it is removed only when name and index both match.
  record.unmarkedBridgeIndexes = { ...record.unmarkedBridgeIndexes, [step.name]: index };
  onRecord(record);
  faultPoint("start:bridgeUnmarked");
  // The mark first (an alias is not taken at creation): it makes the bridge cell's to remove.
  host.mustRequest(
    setLinkRequest({ index }, { alias: CELL_BRIDGE_ALIAS }),
    `${step.field}: cannot mark bridge "${step.name}"`,
  );
  forgetUnmarked(record, step.name, onRecord);
  for (const address of step.addresses) {
    host.mustRequest(
      newAddressRequest(index, address),
      `${step.field}.addresses: cannot add ${formatIp(address.address)}/${address.prefix}`,
    );
  }
  host.mustRequest(
    setLinkRequest({ index }, { up: true }),
    `${step.field}: cannot bring bridge "${step.name}" up`,
  );
  faultPoint("start:bridge");
}

function checkIsBridge(step: BridgeStep, kind: string | undefined): void {
  if (kind === "bridge") return;
  throw new ContainerError(
    "ConfigInvalid",
    `${step.field}.name: "${step.name}" on the host is ${
      kind ? `a ${kind} link` : "a link"
    }, not a bridge`,
  );
}

function forgetUnmarked(
  record: NetworkRecord,
  name: string,
  onRecord: (record: NetworkRecord) => void,
): void {
  const left = (record.unmarkedBridges ?? []).filter((n) => n !== name);
  record.unmarkedBridges = left.length > 0 ? left : undefined;
  const indexes = Object.entries(record.unmarkedBridgeIndexes ?? {}).filter(([n]) => n !== name);
  record.unmarkedBridgeIndexes = indexes.length > 0 ? Object.fromEntries(indexes) : undefined;
  onRecord(record);
}

function remember(
  list: string[],
  name: string,
  record: NetworkRecord,
  onRecord: (record: NetworkRecord) => void,
): void {
  if (list.includes(name)) return;
  list.push(name);
  onRecord(record);
}

/** The pair, its container end made in the container's namespace; the host end joined and up. */
function makeVeth(
  step: VethStep,
  target: NetworkTarget,
  record: NetworkRecord,
  onRecord: (record: NetworkRecord) => void,
): void {
  const { host } = target;
  host.mustRequest(
    newVethRequest(
      { name: step.hostName, mtu: step.mtu },
      { name: step.name, mtu: step.mtu, mac: step.mac, netnsFd: target.containerNetnsFd },
    ),
    `${step.field}.hostName: cannot create veth "${step.hostName}" (peer "${step.name}")`,
  );
  // Until recorded, the pair is the container namespace's: it goes when the init dies.
  const made = findLink(host, step.hostName);
  if (!made) throw new ContainerError("SystemError", `veth "${step.hostName}" is gone`);
  record.veths.push({ hostName: step.hostName, index: made.index, name: step.name });
  onRecord(record);
  faultPoint("start:veth");
  let masterIndex: number | undefined;
  if (step.bridge !== undefined) {
    const bridge = findLink(host, step.bridge);
    if (!bridge) {
      throw new ContainerError("SystemError", `${step.field}.bridge: "${step.bridge}" is gone`);
    }
    masterIndex = bridge.index;
  }
  host.mustRequest(
    setLinkRequest({ index: made.index }, { up: true, masterIndex }),
    `${step.field}: cannot ${
      step.bridge
        ? `attach "${step.hostName}" to bridge "${step.bridge}" and bring it up`
        : `bring "${step.hostName}" up`
    }`,
  );
}
