/**
 * Running as a non-root user ("rootless"): where state lives and what a config must
 * have for an unprivileged user to create it.
 *
 * @module
 */

import { join } from "../path.ts";
import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { type Caller, currentCaller, planIdMaps } from "./id_maps.ts";

/** Whether this process is not root. */
export function isRootless(caller: Caller = currentCaller()): boolean {
  return caller.uid !== 0;
}

/**
 * The default state root: `/run/cell` for root, `$XDG_RUNTIME_DIR/cell` for anyone
 * else (their private runtime directory, as runc does).
 */
export function defaultStateRoot(caller: Caller = currentCaller()): string {
  if (!isRootless(caller)) return "/run/cell";
  const runtimeDir = Deno.env.get("XDG_RUNTIME_DIR");
  if (runtimeDir && runtimeDir.startsWith("/")) return join(runtimeDir, "cell");
  throw new ContainerError(
    "SystemError",
    `cannot pick a state root for uid ${caller.uid}: XDG_RUNTIME_DIR is not set; set it ` +
      `(to a directory only you can write) or pass a root`,
    { path: "XDG_RUNTIME_DIR" },
  );
}

/**
 * ConfigInvalid unless a non-root caller can create this container: it needs a user
 * namespace (new or joined) and id maps it may write (its own id, or ranges through
 * newuidmap/newgidmap).
 */
export function checkRootless(spec: Spec, caller: Caller = currentCaller()): void {
  if (!isRootless(caller)) return;
  const user = spec.linux?.namespaces?.find((n) => n.type === "user");
  if (!user) {
    throw new ContainerError(
      "ConfigInvalid",
      `linux.namespaces: uid ${caller.uid} is not root, so the container needs a user ` +
        `namespace (add {"type": "user"} with uidMappings and gidMappings; ` +
        "`cell spec --rootless` writes such a config)",
    );
  }
  if (!user.path) planIdMaps(spec, caller);
}
