/**
 * The unified (cgroup2) side of a hybrid host: v1 hierarchies for most controllers and a
 * cgroup2 mount beside them (systemd's hybrid mode, Debian's default before bookworm, and
 * this project's development VM at /sys/fs/cgroup/unified). A controller that no v1
 * hierarchy has (hugetlb on a fresh VM) lives there, and is enabled, limited and read
 * there; every container also gets a directory there, as runc gives it.
 *
 * @module
 */

import { writeCgroupFile } from "./fs.ts";

/** The key of the unified directory in a v1 `CgroupState.paths` (never a v1 controller). */
export const UNIFIED_KEY = "unified";

/** Controllers cell enables for its cgroups in a cgroup2 hierarchy when it offers them. */
export const WANTED_V2_CONTROLLERS = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma"];

let cachedRoot: string | null | undefined;

/**
 * Where a hybrid host mounts its cgroup2 hierarchy beside the v1 ones (read once per
 * process), or undefined on a pure v1 host. Only meaningful when the host is not v2.
 */
export function hybridUnifiedRoot(): string | undefined {
  if (cachedRoot !== undefined) return cachedRoot ?? undefined;
  cachedRoot = null;
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right?.startsWith("cgroup2 ")) continue;
    const mountPoint = left.split(" ")[4];
    if (mountPoint === "/sys/fs/cgroup") continue; // a unified host, not a hybrid one
    // The first one, mounted from the initial namespace's root (not a bind of a subtree).
    if (left.split(" ")[3] === "/") {
      cachedRoot = mountPoint;
      break;
    }
  }
  return cachedRoot ?? undefined;
}

/** The controllers a cgroup2 directory offers (its cgroup.controllers); [] if unreadable. */
export function controllersOf(dir: string): string[] {
  try {
    return Deno.readTextFileSync(`${dir}/cgroup.controllers`).trim().split(/\s+/).filter((c) =>
      c !== ""
    );
  } catch {
    return [];
  }
}

/**
 * Enables the wanted controllers (those offered) in cgroup.subtree_control of `root` and
 * of every existing directory on the way down to `dir`'s parent, so `dir` gets them.
 * Directories not made yet are skipped (call again after making them).
 */
export function enableControllersDown(root: string, dir: string): void {
  let at = root;
  const rest = dir.slice(root.length).split("/").filter((p) => p !== "");
  for (const part of rest) {
    const available = controllersOf(at);
    if (available.length === 0) return; // not made yet, or nothing to offer
    let enabled: string[];
    try {
      enabled = Deno.readTextFileSync(`${at}/cgroup.subtree_control`).trim().split(/\s+/);
    } catch {
      return;
    }
    const missing = WANTED_V2_CONTROLLERS.filter((c) =>
      available.includes(c) && !enabled.includes(c)
    );
    if (missing.length > 0) {
      writeCgroupFile(`${at}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(" "));
    }
    at = `${at}/${part}`;
  }
}
