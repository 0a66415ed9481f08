/**
 * Checking the `network` option before anything is made: every field by its path
 * (`network.interfaces[0].addresses[1]`), and that the config gives the container a network
 * namespace of its own for the interfaces to go into.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { parseCidr, parseIp, parseMac } from "./ip.ts";
import type { NetworkInterface, NetworkOptions, VethInterface } from "./options.ts";

/** The longest interface name (IFNAMSIZ - 1). */
export const MAX_IFNAME_BYTES = 15;
/** The MTU range cell accepts (IPv4's minimum; a veth's maximum). */
export const MTU_RANGE = { min: 68, max: 65535 } as const;
/** The container end's name when none is given. */
export const DEFAULT_VETH_NAME = "eth0";

type Problems = string[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Why `name` cannot name an interface, or undefined when it can. */
export function interfaceNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "must be a non-empty string";
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_IFNAME_BYTES) {
    return `"${name}" is too long: an interface name has at most ${MAX_IFNAME_BYTES} bytes`;
  }
  // The kernel refuses these (dev_valid_name): "." and "..", "/", ":" and white space.
  if (name === "." || name === ".." || /[/:\s]/.test(name) || name.includes("\0")) {
    return `"${name}" is not a valid interface name (no "/", ":", white space, "." or "..")`;
  }
  return undefined;
}

function checkName(problems: Problems, path: string, name: unknown): void {
  const problem = interfaceNameProblem(name);
  if (problem) problems.push(`${path}: ${problem}`);
}

function checkCidrs(problems: Problems, path: string, list: unknown): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    problems.push(`${path}: must be an array of CIDRs`);
    return;
  }
  list.forEach((cidr, i) => {
    if (!parseCidr(cidr)) {
      problems.push(
        `${path}[${i}]: ${JSON.stringify(cidr)} is not an IPv4 or IPv6 address with a prefix ` +
          `length (e.g. "10.213.1.2/24")`,
      );
    }
  });
}

function checkRoutes(problems: Problems, path: string, routes: unknown): void {
  if (routes === undefined) return;
  if (!Array.isArray(routes)) {
    problems.push(`${path}: must be an array of { destination?, gateway? }`);
    return;
  }
  routes.forEach((route, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(route) || (route.destination === undefined && route.gateway === undefined)) {
      problems.push(`${at}: must be an object with a destination, a gateway or both`);
      return;
    }
    const destination = route.destination === undefined ? undefined : parseCidr(
      route.destination as string,
    );
    if (route.destination !== undefined && !destination) {
      problems.push(`${at}.destination: ${JSON.stringify(route.destination)} is not a CIDR`);
    }
    const gateway = route.gateway === undefined ? undefined : parseIp(route.gateway as string);
    if (route.gateway !== undefined && !gateway) {
      problems.push(`${at}.gateway: ${JSON.stringify(route.gateway)} is not an IP address`);
    }
    if (destination && gateway && destination.family !== gateway.family) {
      problems.push(`${at}.gateway: not of the destination's family`);
    }
  });
}

function checkVeth(problems: Problems, path: string, veth: Record<string, unknown>): void {
  checkName(problems, `${path}.hostName`, veth.hostName);
  if (veth.name !== undefined) checkName(problems, `${path}.name`, veth.name);
  if (veth.name === "lo") problems.push(`${path}.name: "lo" is the loopback's`);
  const mtu = veth.mtu;
  if (
    mtu !== undefined &&
    (!Number.isInteger(mtu) || (mtu as number) < MTU_RANGE.min || (mtu as number) > MTU_RANGE.max)
  ) {
    problems.push(
      `${path}.mtu: ${JSON.stringify(mtu)} is not an MTU (an integer from ${MTU_RANGE.min} to ` +
        `${MTU_RANGE.max})`,
    );
  }
  if (veth.mac !== undefined && !parseMac(veth.mac as string)) {
    problems.push(
      `${path}.mac: ${JSON.stringify(veth.mac)} is not a unicast MAC address ` +
        `(aa:bb:cc:dd:ee:ff, the first byte even)`,
    );
  }
  checkCidrs(problems, `${path}.addresses`, veth.addresses);
  checkRoutes(problems, `${path}.routes`, veth.routes);
  const bridge = veth.bridge;
  if (bridge === undefined) return;
  if (!isObject(bridge)) {
    problems.push(`${path}.bridge: must be an object { name, create?, addresses? }`);
    return;
  }
  checkName(problems, `${path}.bridge.name`, bridge.name);
  if (bridge.name === veth.hostName) {
    problems.push(`${path}.bridge.name: the same as the host end's name`);
  }
  if (bridge.create !== undefined && typeof bridge.create !== "boolean") {
    problems.push(`${path}.bridge.create: must be a boolean`);
  }
  checkCidrs(problems, `${path}.bridge.addresses`, bridge.addresses);
  if (Array.isArray(bridge.addresses) && bridge.addresses.length > 0 && bridge.create !== true) {
    problems.push(`${path}.bridge.addresses: only a bridge cell creates takes addresses`);
  }
}

function checkInterfaces(problems: Problems, list: unknown[]): void {
  const hostNames = new Map<string, string>();
  const names = new Map<string, string>();
  let loopbacks = 0;
  list.forEach((item, i) => {
    const path = `network.interfaces[${i}]`;
    if (!isObject(item)) {
      problems.push(`${path}: must be an object`);
      return;
    }
    if (item.type === "loopback") {
      if (++loopbacks > 1) problems.push(`${path}: a second loopback`);
      return;
    }
    if (item.type !== "veth") {
      problems.push(`${path}.type: ${JSON.stringify(item.type)} is not "veth" or "loopback"`);
      return;
    }
    checkVeth(problems, path, item);
    const seen = (map: Map<string, string>, key: unknown, field: string) => {
      if (typeof key !== "string") return;
      const earlier = map.get(key);
      if (earlier) problems.push(`${path}.${field}: "${key}" is also ${earlier}`);
      else map.set(key, `${path}.${field}`);
    };
    seen(hostNames, item.hostName, "hostName");
    seen(names, item.name ?? DEFAULT_VETH_NAME, "name");
  });
}

/**
 * A `linux.netDevices` target must not be the inside name of one of the option's veths: the
 * veth is made first, so the device's rename would clash (and an undo could take the veth).
 */
function checkNetDeviceNames(problems: Problems, interfaces: unknown[], spec: Spec): void {
  const targets = new Map<string, string>();
  for (const [host, device] of Object.entries(spec.linux?.netDevices ?? {})) {
    const field = device.name === undefined ? "" : ".name";
    targets.set(device.name ?? host, `linux.netDevices[${JSON.stringify(host)}]${field}`);
  }
  interfaces.forEach((item, i) => {
    if (!isObject(item) || item.type !== "veth") return;
    const name = typeof item.name === "string" ? item.name : DEFAULT_VETH_NAME;
    const device = targets.get(name);
    if (device) {
      problems.push(`network.interfaces[${i}].name: "${name}" is also the name of ${device}`);
    }
  });
}

/**
 * Checks the `network` option against the config it is for; returns it typed, or throws
 * ConfigInvalid with one line per problem, each naming its field.
 */
export function validateNetwork(input: unknown, spec: Spec): NetworkOptions {
  const problems: Problems = [];
  if (!isObject(input) || !Array.isArray(input.interfaces)) {
    problems.push("network: must be an object { interfaces: [...] }");
  } else {
    checkInterfaces(problems, input.interfaces);
    checkNetDeviceNames(problems, input.interfaces, spec);
    const hasNetns = (spec.linux?.namespaces ?? []).some((n) => n.type === "network");
    if (input.interfaces.length > 0 && !hasNetns) {
      problems.push(
        "network: the container shares the host's network namespace " +
          "(linux.namespaces has no network namespace): there is nowhere to put interfaces",
      );
    }
  }
  if (problems.length > 0) {
    throw new ContainerError("ConfigInvalid", ["invalid network option:", ...problems].join("\n"));
  }
  return input as unknown as NetworkOptions;
}

/** The veths of a network option, with their index in `interfaces`. */
export function vethsOf(network: NetworkOptions | undefined): [VethInterface, number][] {
  return (network?.interfaces ?? []).flatMap((n: NetworkInterface, i) =>
    n.type === "veth" ? [[n, i] as [VethInterface, number]] : []
  );
}
