/**
 * Turns a native spawn failure (syscall, errno, op index) into a ContainerError a
 * person can act on, using the description of the plan op that failed.
 *
 * @module
 */

import type { NativeFailure } from "../../ffi/abi.ts";
import { ContainerError } from "../errors.ts";
import { errnoName } from "../syscalls.ts";

const ENOENT = 2, EACCES = 13, ELOOP = 40;

/** The error for a failed spawn. */
export function spawnError(
  failure: NativeFailure,
  descriptions: readonly string[],
  process: { args: readonly string[]; cwd: string },
): ContainerError {
  const name = errnoName(failure.errno);
  const details = {
    syscall: failure.syscall,
    errno: failure.errno,
    errnoName: name,
    path: failure.path || undefined,
  };
  if (failure.syscall === "exec" || failure.syscall === "execve") {
    const exe = process.args[0];
    const why = failure.errno === ENOENT
      ? "not found in the container"
      : failure.errno === EACCES
      ? "is not executable in the container (permission denied)"
      : `cannot be executed: ${name}`;
    return new ContainerError("SystemError", `executable "${exe}" ${why}`, details);
  }
  if (failure.syscall === "chdir" || failure.syscall === "getcwd") {
    const why = failure.errno === ENOENT
      ? "does not exist in the container"
      : failure.syscall === "getcwd"
      ? "is outside the container's root"
      : `cannot be entered: ${name}`;
    return new ContainerError("SystemError", `cwd "${process.cwd}" ${why}`, details);
  }
  if (failure.syscall === "fcntl" && failure.path.startsWith("extra fd")) {
    return new ContainerError("SystemError", `${failure.path} is not open: ${name}`, details);
  }
  const what = failure.opIndex >= 0 ? descriptions[failure.opIndex] : undefined;
  const path = failure.path ? ` "${failure.path}"` : "";
  // A mount target resolved with no symlinks allowed (/proc, /sys, /dev) met one: say so in
  // the words runc uses.
  const hint = failure.errno === ELOOP && what?.startsWith("mount") && failure.path
    ? ` (${failure.path} must be mounted on ordinary directory, not a symlink)`
    : "";
  const message = what
    ? `cannot ${what}: ${failure.syscall}${path}: ${name}${hint}`
    : `${failure.syscall}${path}: ${name}${hint}`;
  return new ContainerError("SystemError", message, details);
}
