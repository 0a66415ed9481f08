/**
 * The rootless form of a config, as `runc spec --rootless` makes it: a user namespace
 * mapping the caller's uid and gid to root, no network namespace (an unprivileged user
 * cannot give it an interface), the host's `/sys` bound read-only (sysfs cannot be
 * mounted without a network namespace of one's own), no `uid=`/`gid=` mount options
 * (those ids are not mapped) and no resource limits.
 *
 * @module
 */

import type { Mount, Spec } from "./types.ts";

/** The ids to map to root inside. */
export interface RootlessIds {
  /** The host uid that becomes root. */
  uid: number;
  /** The host gid that becomes root's group. */
  gid: number;
}

/** A copy of `spec` that a non-root user can run. */
export function toRootless(spec: Spec, ids: RootlessIds): Spec {
  const out = structuredClone(spec);
  const linux = out.linux ?? {};
  linux.namespaces = [
    ...(linux.namespaces ?? []).filter((n) => n.type !== "network" && n.type !== "user"),
    { type: "user" },
  ];
  linux.uidMappings = [{ containerID: 0, hostID: ids.uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: ids.gid, size: 1 }];
  delete linux.resources;
  out.linux = linux;
  out.mounts = (out.mounts ?? []).map(rootlessMount);
  return out;
}

function rootlessMount(mount: Mount): Mount {
  if (mount.destination.replace(/\/+$/, "") === "/sys") {
    return {
      destination: "/sys",
      type: "none",
      source: "/sys",
      options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
    };
  }
  if (!mount.options) return mount;
  const options = mount.options.filter((o) => !o.startsWith("uid=") && !o.startsWith("gid="));
  return { ...mount, options };
}
