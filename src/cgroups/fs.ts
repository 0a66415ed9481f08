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
 * mkdir -p below `stopAt`, returning the directories it made (or took over), shallowest
 * first. The last directory must be new or empty: a container never adopts a cgroup in
 * use, which would make another container's processes its own (and destroy kill them).
 */
export function mkdirTracked(dir: string, stopAt: string): string[] {
  const made: string[] = [];
  let at = stopAt.length;
  let restarts = 0;
  try {
    while (at < dir.length) {
      const next = dir.indexOf("/", at + 1);
      at = next < 0 ? dir.length : next;
      const path = dir.slice(0, at);
      const rc = mkdirRaw(path);
      if (rc === 0) made.push(path);
      else if (rc === -ERRNO.ENOENT && restarts < 8) {
        // A shared parent (the default /cell) was removed by another container's destroy
        // between our mkdir of it and of its child: walk down again.
        restarts++;
        at = stopAt.length;
      } else if (rc !== -ERRNO.EEXIST) throw systemError("mkdir", -rc, path);
      else if (at === dir.length) {
        // A leftover with nobody in it (an engine's crashed run) is taken over, as runc
        // does; one with processes or child cgroups belongs to someone.
        if (leafInUse(path)) {
          const message = `cgroup ${path} already exists: another container uses it`;
          throw new ContainerError("IdInUse", message, { path });
        }
        // A process placed in a frozen cgroup would never run (nor report back).
        if (isFrozen(path)) {
          const message = `container's cgroup unexpectedly frozen: ${path}`;
          throw new ContainerError("SystemError", message, { path });
        }
        made.push(path);
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
    // EBUSY while a killed process is not yet reaped (a zombie still holds the cgroup on
    // v1): wait for its parent, up to 5 s, then say so rather than leave it silently.
    let delay = 1;
    for (let waited = 0;; waited += delay) {
      const rc = rmdirRaw(dir);
      if (rc === 0 || rc === -ERRNO.ENOENT || rc === -ERRNO.ENOTEMPTY) break;
      // A cgroup with child cgroups is EBUSY too: a shared parent still in use stays.
      if (rc === -ERRNO.EBUSY && hasChildCgroups(dir)) break;
      if (rc !== -ERRNO.EBUSY || waited > 5000) throw systemError("rmdir", -rc, dir);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
}

/** Whether a cgroup has processes or child cgroups: then it belongs to someone. */
export function leafInUse(dir: string): boolean {
  return readPids(`${dir}/cgroup.procs`).length > 0 || hasChildCgroups(dir);
}

function hasChildCgroups(dir: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) if (entry.isDirectory) return true;
  } catch {
    // gone meanwhile
  }
  return false;
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

/** Whether a cgroup directory's freezer (v1 freezer.state, v2 cgroup.freeze) holds it frozen. */
function isFrozen(dir: string): boolean {
  for (const [file, frozen] of [["freezer.state", "FROZEN"], ["cgroup.freeze", "1"]]) {
    try {
      if (Deno.readTextFileSync(`${dir}/${file}`).trim() === frozen) return true;
    } catch {
      // not this hierarchy's file
    }
  }
  return false;
}
