/**
 * Turns a native spawn failure (syscall, errno, op index) into a ContainerError a
 * person can act on, using the description of the plan op that failed.
 *
 * @module
 */

import type { NativeFailure } from "../../ffi/abi.ts";
import { CAPABILITIES } from "../config/capabilities.ts";
import type { Capabilities } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { hookFailureText } from "../hooks/message.ts";
import { errnoName } from "../syscalls.ts";
import { describeSignal, SIGNALS } from "./signals.ts";

function signalName(n: number): string {
  return Object.keys(SIGNALS).find((name) => SIGNALS[name] === n) ?? String(n);
}

const ENOENT = 2, EACCES = 13, EINVAL = 22, ELOOP = 40;

/**
 * How a hook run by the init ended, from its record: it could not be run (errno), its exit
 * status, the signal that killed it, or its timeout; then the end of its output.
 */
export function hookOutcome(record: { errno: number; value: number; path: string }): string {
  if (record.errno !== 0) return `cannot run it: ${errnoName(record.errno)}`;
  const status = record.value;
  const what = status < 0
    ? `timed out after ${-status}s`
    : status >= 256
    ? `killed by signal ${describeSignal(signalName(status - 256))}`
    : `exit status ${status}`;
  const output = record.path.trim();
  return output ? `${what}: ${output}` : what;
}

/** The capabilities this runtime itself may hand on (its permitted set), or null. */
function ownCapabilities(): Set<string> | null {
  try {
    const line = Deno.readTextFileSync("/proc/thread-self/status").split("\n")
      .find((l) => l.startsWith("CapPrm:"));
    if (!line) return null;
    const bits = BigInt(`0x${line.slice(7).trim()}`);
    return new Set(CAPABILITIES.filter((_, n) => (bits >> BigInt(n)) & 1n));
  } catch {
    return null;
  }
}

/**
 * Why capset refused: the capabilities the process asks for (by set) that this runtime
 * does not have itself, which it cannot give.
 */
function capsetWhy(caps: Capabilities | undefined): string {
  const own = ownCapabilities();
  if (!caps || !own) return "";
  const missing = new Map<string, string[]>();
  for (const set of ["effective", "permitted", "inheritable", "ambient"] as const) {
    for (const cap of caps[set] ?? []) {
      if (own.has(cap)) continue;
      missing.set(cap, [...missing.get(cap) ?? [], set]);
    }
  }
  if (missing.size === 0) return "";
  const list = [...missing].map(([cap, sets]) => `${cap} (${sets.join(", ")})`).join(", ");
  return `: this runtime does not have ${list} itself, so it cannot give ` +
    (missing.size === 1 ? "it" : "them") + " (process.capabilities)";
}

/** The error for a failed spawn. */
export function spawnError(
  failure: NativeFailure,
  descriptions: readonly string[],
  process: { args: readonly string[]; cwd: string; capabilities?: Capabilities },
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
  if (failure.syscall === "hook") {
    // The description is the hook's label (hookLabel); the record says how it ended.
    const what = failure.opIndex >= 0 ? descriptions[failure.opIndex] : "hook";
    return new ContainerError("SystemError", hookFailureText(what, hookOutcome(failure)), {
      ...details,
      path: undefined,
    });
  }
  if (failure.syscall === "capset") {
    const message = `cannot set the process's capabilities: capset: ${name}` +
      capsetWhy(process.capabilities);
    return new ContainerError("SystemError", message, details);
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
    : failure.errno === EINVAL && failure.syscall === "mount_setattr" &&
        what?.startsWith("make an id-mapped copy")
    ? " (the source's filesystem may not take id-mapped mounts on this kernel: ext4, xfs, btrfs " +
      "and tmpfs since Linux 6.3 do)"
    : "";
  const message = what
    ? `cannot ${what}: ${failure.syscall}${path}: ${name}${hint}`
    : `${failure.syscall}${path}: ${name}${hint}`;
  return new ContainerError("SystemError", message, details);
}
