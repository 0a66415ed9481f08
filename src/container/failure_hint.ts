/**
 * Says why a start failed when the plain record would mislead: after the root change cell
 * reaches masked and read-only paths through `/proc/self/fd` (so a swapped symlink cannot
 * redirect the mount), and sysctls through `/proc/sys`; a container without a procfs at
 * `/proc` fails those with ENOENT, which would read as if the path itself were missing.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import { ContainerError } from "../errors.ts";

/** The error itself, or one that names the real cause (details kept). */
export function explainFailure(error: ContainerError, config: Spec): ContainerError {
  if (error.errnoName !== "ENOENT" || hasProcAtProc(config)) return error;
  const throughFd = error.syscall === "mount" &&
    /^cannot (mask |make .* read-only)/.test(error.message);
  const throughProc = error.path?.startsWith("/proc/") === true;
  if (!throughFd && !throughProc) return error;
  const where = procMounts(config);
  const cause = where.length === 0
    ? "the config mounts no proc"
    : `the config mounts proc at ${where.join(", ")}`;
  const what = error.message.split(":")[0];
  return new ContainerError(
    "SystemError",
    `${what}: after the root change cell reaches it through /proc/self/fd and /proc/sys, ` +
      `which need proc mounted at /proc, and ${cause}`,
    {
      syscall: error.syscall,
      errno: error.errno,
      errnoName: error.errnoName,
      path: error.path,
      cause: error,
    },
  );
}

function procMounts(config: Spec): string[] {
  return (config.mounts ?? []).filter((m) => m.type === "proc").map((m) => m.destination);
}

function hasProcAtProc(config: Spec): boolean {
  return procMounts(config).some((d) => d.replace(/\/+$/, "") === "/proc");
}
