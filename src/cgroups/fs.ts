/**
 * Small cgroup filesystem helpers shared by the backends. They go through the native
 * core (no exceptions on the hot path of create and destroy).
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { ERRNO, errnoName, mkdirRaw, rmdirRaw, systemError, writeFile } from "../syscalls.ts";

/** Reads the pids listed in a cgroup.procs file; [] when the cgroup is gone. */
export function readPids(file: string): number[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return text.split("\n").filter((l) => l !== "").map(Number);
}

/** Writes a cgroup file; a refusal is a SystemError naming the file and the value. */
export function writeCgroupFile(file: string, value: string): void {
  writeFile(file, value);
}

/**
 * mkdir -p below `stopAt`, returning the directories it made, shallowest first. The
 * last directory must be new: a container never adopts a cgroup that exists, which
 * would make another container's processes its own (and destroy kill them).
 */
export function mkdirTracked(dir: string, stopAt: string): string[] {
  const made: string[] = [];
  let at = stopAt.length;
  try {
    while (at < dir.length) {
      const next = dir.indexOf("/", at + 1);
      at = next < 0 ? dir.length : next;
      const path = dir.slice(0, at);
      const rc = mkdirRaw(path);
      if (rc === 0) made.push(path);
      else if (rc !== -ERRNO.EEXIST) throw systemError("mkdir", -rc, path);
      else if (at === dir.length) {
        const message = `cgroup ${path} already exists: another container uses it`;
        throw new ContainerError("IdInUse", message, { path });
      }
    }
  } catch (e) {
    for (const path of made.reverse()) rmdirRaw(path);
    throw e;
  }
  return made;
}

/**
 * Removes cgroup directories deepest first. A busy one is retried briefly (its last
 * processes may still be exiting); a parent that other containers use stays.
 */
export async function removeDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of [...dirs].reverse()) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const rc = rmdirRaw(dir);
      if (rc === 0 || rc === -ERRNO.ENOENT || rc === -ERRNO.ENOTEMPTY) break;
      if (rc !== -ERRNO.EBUSY) throw systemError("rmdir", -rc, dir);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Waits until a cgroup.procs file lists nobody, polling briefly. */
export async function waitEmpty(procsFile: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let delay = 1;
  while (readPids(procsFile).length > 0) {
    if (performance.now() > deadline) {
      throw new ContainerError("SystemError", `processes remain in ${procsFile}`, {
        path: procsFile,
        errnoName: errnoName(ERRNO.EBUSY),
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/**
 * Removes the default shared parent (`<root>/cell`) when it is left empty. Only this
 * one: a parent named in a cgroupsPath may be the user's own, and stays unless this
 * container made it.
 */
export function removeDefaultParent(dir: string, root: string): void {
  if (dir.slice(0, dir.lastIndexOf("/")) === `${root}/cell`) rmdirRaw(`${root}/cell`);
}
