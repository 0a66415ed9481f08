/**
 * Which kernel parameters (`linux.sysctl`) a container may set: only those that belong to a
 * namespace the container has, so that a config can never change a host-wide setting.
 * Internal to `src/config/`.
 *
 * @module
 */

import type { NamespaceType } from "./types.ts";

/** Exact parameter names that belong to a namespace. */
const EXACT: ReadonlyMap<string, NamespaceType> = new Map([
  ["kernel.msgmax", "ipc"],
  ["kernel.msgmnb", "ipc"],
  ["kernel.msgmni", "ipc"],
  ["kernel.sem", "ipc"],
  ["kernel.shmall", "ipc"],
  ["kernel.shmmax", "ipc"],
  ["kernel.shmmni", "ipc"],
  ["kernel.shm_rmid_forced", "ipc"],
  ["kernel.hostname", "uts"],
  ["kernel.domainname", "uts"],
]);

/** Parameter name prefixes that belong to a namespace. */
const PREFIXES: readonly (readonly [string, NamespaceType])[] = [
  ["fs.mqueue.", "ipc"],
  ["net.", "network"],
];

/**
 * Whether `name` is well formed: components separated by `.` or `/`, none empty (which also
 * rules out `..`), no whitespace or NUL.
 */
export function isSysctlName(name: string): boolean {
  return name.split(/[./]/).every((part) => part !== "" && !/[\s\0]/.test(part));
}

/**
 * The namespace a well-formed parameter belongs to, or `undefined` when it is host-wide.
 * The `/` form (`net/ipv4/ip_forward`) is read like the `.` form.
 */
export function sysctlNamespace(name: string): NamespaceType | undefined {
  const dotted = name.replaceAll("/", ".");
  const exact = EXACT.get(dotted);
  if (exact !== undefined) return exact;
  return PREFIXES.find(([prefix]) => dotted.startsWith(prefix))?.[1];
}
