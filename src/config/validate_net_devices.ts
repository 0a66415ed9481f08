/**
 * Validation of `linux.netDevices` (runtime-spec 1.3): host network devices moved into the
 * container's network namespace, keyed by their host name, each with an optional new name.
 * Internal to `src/config/`.
 *
 * @module
 */

import {
  addProblem,
  expectObject,
  expectString,
  field,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import type { Namespace, NetDevice } from "./types.ts";

/** IFNAMSIZ less the terminating NUL: the longest interface name the kernel takes. */
const MAX_NAME_BYTES = 15;

/**
 * Checks `linux.netDevices` against the namespaces it moves devices into: a network namespace
 * of the container's own (a joined one outlives the container and would keep the devices).
 */
export function validateNetDevices(
  problems: Problems,
  value: unknown,
  namespaces: readonly Namespace[],
): Record<string, NetDevice> | undefined {
  const path = "linux.netDevices";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const entries = Object.entries(object);
  if (entries.length === 0) return {};
  const network = namespaces.find((ns) => ns.type === "network");
  if (network === undefined) {
    addProblem(
      problems,
      path,
      "needs a network namespace of the container's own (linux.namespaces)",
    );
  } else if (network.path !== undefined) {
    addProblem(
      problems,
      path,
      `needs a new network namespace, not the joined ${network.path} (the devices would stay there)`,
    );
  }
  const devices: [string, NetDevice][] = [];
  // Names inside the container, to find two devices given the same one (templates excepted).
  const inside = new Map<string, string>([["lo", "the loopback every new namespace has"]]);
  for (const [host, item] of entries) {
    const itemPath = keyPath(path, host);
    const hostProblem = nameProblem(host, false);
    if (hostProblem) addProblem(problems, itemPath, `host device name ${hostProblem}`);
    const entry = expectObject(problems, itemPath, item);
    if (entry === undefined) continue;
    const namePath = keyPath(itemPath, "name");
    const name = optional(field(entry, "name"), (v) => expectString(problems, namePath, v));
    const nameProblemText = name === undefined ? undefined : nameProblem(name, true);
    if (nameProblemText) addProblem(problems, namePath, nameProblemText);
    if (hostProblem || nameProblemText) continue;
    const target = name ?? host;
    if (!target.includes("%d")) {
      const other = inside.get(target);
      if (other !== undefined) {
        addProblem(problems, name === undefined ? itemPath : namePath, `"${target}" is ${other}`);
        continue;
      }
      inside.set(target, `also the name of linux.netDevices["${host}"] inside the container`);
    }
    devices.push([host, name === undefined ? {} : { name }]);
  }
  return Object.fromEntries(devices);
}

/**
 * What is wrong with an interface name, or undefined: the kernel's rules (dev_valid_name),
 * and for a new name at most one `%`, as `%d` (the kernel numbers the device).
 */
function nameProblem(name: string, template: boolean): string | undefined {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0) return "must not be empty";
  if (bytes > MAX_NAME_BYTES) {
    return `"${name}" is longer than ${MAX_NAME_BYTES} bytes`;
  }
  if (name === "." || name === "..") return `"${name}" is not a name`;
  if (/[/:\s]/.test(name)) return `"${name}" has a "/", ":" or white space`;
  if (!name.includes("%")) return undefined;
  if (!template) return `"${name}" has a "%" (a template is for the name inside only)`;
  if (name.split("%").length !== 2 || !name.includes("%d")) {
    return `"${name}": a template has exactly one "%", as "%d"`;
  }
  return undefined;
}
