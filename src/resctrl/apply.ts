/**
 * Carrying out a {@linkcode ResctrlPlan}: the groups made, the schemata written (one write,
 * every line: the kernel takes them together), and removal at destroy. A refused write is
 * explained with the kernel's own words from `info/last_cmd_status`.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { ERRNO, errnoName, mkdirRaw, rmdirRaw, writeFileRaw } from "../syscalls.ts";
import type { ResctrlPlan } from "./plan.ts";

/** Makes the plan's groups and writes its schemata; on failure removes what it made. */
export function applyResctrl(plan: ResctrlPlan, mount: string): void {
  const made: string[] = [];
  try {
    if (plan.makeGroup) makeDir(plan.group, mount, made);
    if (plan.schemata !== undefined) {
      const file = `${plan.group}/schemata`;
      const rc = writeFileRaw(file, plan.schemata);
      if (rc < 0) {
        throw refused(`write ${JSON.stringify(plan.schemata.trim())} to ${file}`, -rc, file, mount);
      }
    }
    if (plan.monGroup !== undefined && plan.makeMonGroup) makeDir(plan.monGroup, mount, made);
  } catch (e) {
    removeGroups(made.reverse());
    throw e;
  }
}

/** Removes the directories in order (deepest first); returns those still there. */
export function removeGroups(dirs: readonly string[]): string[] {
  return dirs.filter((dir) => {
    const rc = rmdirRaw(dir);
    return rc < 0 && rc !== -ERRNO.ENOENT;
  });
}

function makeDir(dir: string, mount: string, made: string[]): void {
  const rc = mkdirRaw(dir);
  if (rc < 0) throw refused(`mkdir ${dir}`, -rc, dir, mount);
  made.push(dir);
}

/** The error for a refused step, with what the kernel wrote to info/last_cmd_status. */
function refused(what: string, errno: number, path: string, mount: string): ContainerError {
  let status = "";
  try {
    status = Deno.readTextFileSync(`${mount}/info/last_cmd_status`).trim();
  } catch { /* older kernels have no last_cmd_status */ }
  const name = errnoName(errno);
  // ENOSPC on mkdir: every CLOSID (or RMID, for a monitoring group) is in use.
  const why = status !== "" && status !== "ok" ? ` (resctrl says: ${status})` : "";
  const code = errno === ERRNO.EINVAL ? "ConfigInvalid" : "SystemError";
  return new ContainerError(code, `linux.intelRdt: cannot ${what}: ${name}${why}`, {
    syscall: what.startsWith("mkdir") ? "mkdir" : "write",
    errno,
    errnoName: name,
    path,
  });
}
