/**
 * Turns a native spawn failure (syscall, errno, op index) into a ContainerError a
 * person can act on, using the description of the plan op that failed.
 *
 * @module
 */

import type { NativeFailure } from "../../ffi/abi.ts";
import { ContainerError } from "../errors.ts";
import { errnoName } from "../syscalls.ts";

const ENOENT = 2, EACCES = 13;

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
    // runc's words: podman tells "not found" (127) from "cannot run" (126) by them.
    const exe = process.args[0];
    const why = failure.errno === ENOENT
      ? exe.includes("/")
        ? "executable file not found: no such file or directory"
        : "executable file not found in $PATH"
      : failure.errno === EACCES
      ? "permission denied"
      : `cannot be executed: ${name}`;
    return new ContainerError("SystemError", `exec: "${exe}": ${why}`, details);
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
  const message = what
    ? `cannot ${what}: ${failure.syscall}${path}: ${name}`
    : `${failure.syscall}${path}: ${name}`;
  return new ContainerError("SystemError", message, details);
}
