/**
 * An OCI bundle's config.json, runc-style pid files and preserved fds: the inputs an
 * OCI runtime's `create` and `run` carry into the library.
 *
 * @module
 */

import { join, resolve } from "../path.ts";
import { ContainerError } from "../errors.ts";

/** Where a bundle is: its directory made absolute and the path of its config.json. */
export interface BundlePaths {
  /** The bundle directory, absolute. */
  bundle: string;
  /** `config.json` in it. */
  configPath: string;
}

/** A bundle directory's absolute path and its config.json's path (nothing is read). */
export function bundlePaths(dir: string): BundlePaths {
  const bundle = resolve(dir);
  return { bundle, configPath: join(bundle, "config.json") };
}

/** A bundle's directory and its parsed config.json (not yet validated). */
export interface Bundle {
  /** The bundle directory, absolute. */
  bundle: string;
  /** config.json parsed; `Factory.create` validates it. */
  config: unknown;
}

/**
 * The bundle directory made absolute, and its parsed config.json.
 * @throws ContainerError ConfigInvalid when config.json is missing or not JSON.
 */
export function readBundle(dir: string): Bundle {
  const { bundle, configPath: file } = bundlePaths(dir);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ContainerError("ConfigInvalid", `no config.json in the bundle ${bundle}`, {
        path: file,
      });
    }
    throw e;
  }
  try {
    return { bundle, config: JSON.parse(text) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ContainerError("ConfigInvalid", `${file}: not valid JSON: ${why}`, { path: file });
  }
}

/** Writes a pid file atomically (temp file, then rename), as engines expect. */
export function writePidFile(path: string, pid: number): void {
  const target = resolve(path);
  const tmp = `${target}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, String(pid));
  Deno.renameSync(tmp, target);
}

/**
 * `--preserve-fds N`: the fds 3 .. 3+N-1 of this process, for
 * `ProcessOptions.extraFds`.
 */
export function preservedFds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 + i);
}
