/**
 * The network option as an ordered list of steps: pure data, no I/O (./execute.ts sends
 * them). Per interface, in order: the bridge (found, or made), the veth pair (its container
 * end made directly in the container's namespace, with its name, MTU and MAC), the host end
 * on the bridge and up; inside: the addresses, the link up, then the routes.
 *
 * @module
 */

import { parseCidr, parseIp, parseMac } from "./ip.ts";
import type { NetworkOptions } from "./options.ts";
import type { IpPrefix } from "./rtnetlink.ts";
import { DEFAULT_VETH_NAME } from "./validate.ts";

/** One step of a network plan; `field` is the option it comes from, for errors. */
export type NetworkStep =
  | BridgeStep
  | VethStep
  | { step: "address"; field: string; link: string; address: IpPrefix }
  | { step: "up"; field: string; link: string }
  | { step: "route"; field: string; link: string; destination: IpPrefix; gateway?: Uint8Array };

/** Find the host bridge `name`, or make it (up, with addresses, marked) when `create`. */
export interface BridgeStep {
  /** The kind of step. */
  step: "bridge";
  /** The option it comes from. */
  field: string;
  /** The bridge's name. */
  name: string;
  /** Make it when missing. */
  create: boolean;
  /** Its addresses when cell makes it. */
  addresses: IpPrefix[];
}

/** Make a veth pair, the container end inside; the host end onto `bridge` and up. */
export interface VethStep {
  /** The kind of step. */
  step: "veth";
  /** The option it comes from. */
  field: string;
  /** The host end's name. */
  hostName: string;
  /** The container end's name. */
  name: string;
  /** Both ends' MTU. */
  mtu?: number;
  /** The container end's MAC. */
  mac?: Uint8Array;
  /** The bridge the host end joins. */
  bridge?: string;
}

function defaultRoute(family: number): IpPrefix {
  return { family, address: new Uint8Array(family === 2 ? 4 : 16), prefix: 0 };
}

/** The steps of a validated network option. */
export function planNetwork(network: NetworkOptions): NetworkStep[] {
  const steps: NetworkStep[] = [];
  network.interfaces.forEach((item, i) => {
    const field = `network.interfaces[${i}]`;
    if (item.type === "loopback") {
      steps.push({ step: "up", field, link: "lo" });
      return;
    }
    const name = item.name ?? DEFAULT_VETH_NAME;
    if (item.bridge) {
      steps.push({
        step: "bridge",
        field: `${field}.bridge`,
        name: item.bridge.name,
        create: item.bridge.create === true,
        addresses: (item.bridge.addresses ?? []).map((c) => parseCidr(c)!),
      });
    }
    steps.push({
      step: "veth",
      field,
      hostName: item.hostName,
      name,
      mtu: item.mtu,
      mac: item.mac === undefined ? undefined : parseMac(item.mac),
      bridge: item.bridge?.name,
    });
    (item.addresses ?? []).forEach((cidr, j) => {
      const address = parseCidr(cidr)!;
      steps.push({ step: "address", field: `${field}.addresses[${j}]`, link: name, address });
    });
    steps.push({ step: "up", field, link: name });
    (item.routes ?? []).forEach((route, j) => {
      const gateway = route.gateway === undefined ? undefined : parseIp(route.gateway)!;
      const destination = route.destination === undefined
        ? defaultRoute(gateway!.family)
        : parseCidr(route.destination)!;
      steps.push({
        step: "route",
        field: `${field}.routes[${j}]`,
        link: name,
        destination,
        gateway: gateway?.address,
      });
    });
  });
  return steps;
}
