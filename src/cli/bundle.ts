/**
 * Reading an OCI bundle's config.json and writing runc-style pid files.
 *
 * @module
 */

import { join, resolve } from "../path.ts";
import { ContainerError } from "../errors.ts";

/** The bundle directory made absolute, and its parsed config.json. */
export function readBundle(dir: string): { bundle: string; config: unknown } {
  const bundle = resolve(dir);
  const file = join(bundle, "config.json");
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

/** `--preserve-fds N`: the fds 3 .. 3+N-1 of this process. */
export function preservedFds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 + i);
}
