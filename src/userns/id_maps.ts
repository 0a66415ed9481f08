/**
 * How a new user namespace gets its uid and gid maps. Root writes
 * `/proc/<pid>/uid_map` itself. Anyone else may write a map of just their own id, and
 * for the gid map only after `setgroups` is set to `deny`; any other map needs the
 * setuid helpers `newuidmap`/`newgidmap` (Debian package `uidmap`), which check
 * `/etc/subuid` and `/etc/subgid`.
 *
 * @module
 */

import type { IdMapping, Spec } from "../config/types.ts";
import { mapContent } from "../config/id_mappings.ts";
import { ContainerError } from "../errors.ts";
import { isExecutable } from "../executable.ts";

/** Who writes one map. */
export type MapWriter =
  | { kind: "direct"; content: string }
  | { kind: "helper"; helper: string; ranges: string };

/** The writers of a container's maps, and whether setgroups ends up denied. */
export interface IdMapPlan {
  /** The uid map. */
  uid: MapWriter;
  /** The gid map. */
  gid: MapWriter;
  /** `deny` goes to /proc/<pid>/setgroups before the gid map (unprivileged gid map). */
  denySetgroups: boolean;
}

/** The caller's ids, as the kernel sees them for map writes. */
export interface Caller {
  /** Effective uid. */
  uid: number;
  /** Effective gid. */
  gid: number;
}

/** The calling process. */
export function currentCaller(): Caller {
  return { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
}

/** Where the setuid helpers are looked for, besides `$PATH`. */
const HELPER_DIRS = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"];

/** The absolute path of a map helper, or null when it is not installed. */
export function findHelper(name: "newuidmap" | "newgidmap"): string | null {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), ...HELPER_DIRS];
  const found = dirs.find((dir) => dir.startsWith("/") && isExecutable(`${dir}/${name}`));
  return found === undefined ? null : `${found}/${name}`;
}

/**
 * Decides who writes each map. ConfigInvalid (naming the field) when a helper is
 * needed and missing, or when supplementary groups are asked for in a namespace whose
 * setgroups will be denied.
 */
export function planIdMaps(spec: Spec, caller: Caller = currentCaller()): IdMapPlan {
  const uidMappings = spec.linux?.uidMappings ?? [];
  const gidMappings = spec.linux?.gidMappings ?? [];
  const privileged = caller.uid === 0;
  const uid = writer("uid", uidMappings, privileged || ownIdOnly(uidMappings, caller.uid));
  const gid = writer("gid", gidMappings, privileged || ownIdOnly(gidMappings, caller.gid));
  const denySetgroups = !privileged && gid.kind === "direct";
  if (denySetgroups && (spec.process?.user?.additionalGids?.length ?? 0) > 0) {
    throw new ContainerError(
      "ConfigInvalid",
      "process.user.additionalGids: a gid map of only your own gid denies setgroups; " +
        "map a range from /etc/subgid (written by newgidmap) to use supplementary groups",
    );
  }
  return { uid, gid, denySetgroups };
}

function ownIdOnly(mappings: readonly IdMapping[], id: number): boolean {
  return mappings.length === 1 && mappings[0].hostID === id && mappings[0].size === 1;
}

/**
 * Id-mapped mounts (a mount's `uidMappings`) need the host's root: the parent makes a
 * user namespace with any mapping and clones the source's mounts, which only
 * `CAP_SYS_ADMIN` over the source's filesystem allows (runc refuses them rootless too).
 * ConfigInvalid naming the first such mount otherwise.
 */
export function checkIdMappedMounts(spec: Spec, caller: Caller = currentCaller()): void {
  if (caller.uid === 0) return;
  const index = (spec.mounts ?? []).findIndex((m) => m.uidMappings !== undefined);
  if (index < 0) return;
  throw new ContainerError(
    "ConfigInvalid",
    `mounts[${index}]: an id-mapped mount needs the host's root (CAP_SYS_ADMIN over the ` +
      "source's filesystem); rootless containers cannot have one",
  );
}

function writer(kind: "uid" | "gid", mappings: readonly IdMapping[], direct: boolean): MapWriter {
  if (direct) return { kind: "direct", content: mapContent(mappings) };
  const name = kind === "uid" ? "newuidmap" : "newgidmap";
  const helper = findHelper(name);
  if (!helper) {
    throw new ContainerError(
      "ConfigInvalid",
      `linux.${kind}Mappings: mapping more than your own ${kind} as a non-root user needs ` +
        `${name}, which is not installed (Debian: apt-get install uidmap)`,
    );
  }
  const ranges = mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join(" ");
  return { kind: "helper", helper, ranges };
}

/** Whether the user namespace of `pid` denies setgroups (its execs must not call it). */
export function setgroupsDenied(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/setgroups`).trim() === "deny";
  } catch {
    return false;
  }
}
