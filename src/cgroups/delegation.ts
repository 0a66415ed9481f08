/**
 * Whether a non-root user may make a container's cgroup: every hierarchy's target
 * directory, or its nearest existing ancestor below the hierarchy root, must be the
 * user's to write (delegated to them, as systemd or an admin's chown does).
 *
 * @module
 */

import { dirname } from "../path.ts";
import type { Resources } from "../config/types.ts";
import { present } from "./host.ts";
import type { CgroupState } from "./manager.ts";

/** The directories of `state` the user `uid` may not create or write into. */
export function undelegated(state: CgroupState, uid: number): string[] {
  const refused: string[] = [];
  for (const [key, target] of Object.entries(state.paths)) {
    const root = state.roots[key] ?? "/";
    let dir = target;
    for (let depth = 0; depth < 64 && !present(dir) && dir !== root && dir !== "/"; depth++) {
      dir = dirname(dir);
    }
    if (!writableBy(dir, uid)) refused.push(dir);
  }
  return refused;
}

/** Whether the resources ask for anything only a cgroup gives (device rules do not). */
export function needsCgroup(resources: Resources | undefined): boolean {
  return Object.entries(resources ?? {}).some(([key, value]) =>
    key !== "devices" && value !== undefined
  );
}

function writableBy(dir: string, uid: number): boolean {
  try {
    const info = Deno.statSync(dir);
    const mode = info.mode ?? 0;
    if (info.uid === uid) return (mode & 0o300) === 0o300;
    return (mode & 0o003) === 0o003;
  } catch {
    return false;
  }
}
