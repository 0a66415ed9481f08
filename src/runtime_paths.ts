/**
 * The runtime's own paths: the files it runs from, which a sandbox should not show (the
 * deno binary and the loaded libcell), and where its state lives by default.
 *
 * @module
 */

import { libraryPath, loadLibrary } from "../ffi/library.ts";
import { defaultStateRoot as stateRootOf } from "./userns/rootless.ts";

/**
 * The default state root for this process: `/run/cell` for root,
 * `$XDG_RUNTIME_DIR/cell` for anyone else (as runc does).
 * @throws ContainerError SystemError for a non-root user without XDG_RUNTIME_DIR.
 */
export function defaultStateRoot(): string {
  return stateRootOf();
}

/**
 * The deno executable and the libcell this process loaded (loading it if it was not
 * yet), for `SandboxConfigOptions.hide`.
 * @throws Error naming the paths tried when libcell cannot be loaded.
 */
export function runtimePaths(): string[] {
  loadLibrary();
  return [Deno.execPath(), libraryPath()].filter((p): p is string => !!p);
}
