/**
 * Applying resource values as a transaction: each file's current value is read first,
 * the new values are written in order, and if the kernel refuses one, the files
 * already written get their old values back, so nothing is left half-applied.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { ERRNO, errnoName, writeFileRaw } from "../syscalls.ts";

/** One value for one cgroup file. */
export interface CgroupWrite {
  /** Absolute path of the cgroup file. */
  file: string;
  /** What to write. */
  value: string;
  /** The JSON path of the config field it comes from, for errors. */
  field: string;
  /**
   * For files that hold one line per key (per-device throttles): the key ("8:0"), so the
   * old line for that key is what is restored; `reset` is written when there was none.
   */
  key?: { name: string; reset: string };
  /** For files whose read form is not their write form: the value to write back. */
  restoreFrom?: (text: string) => string;
  /** What to check when the kernel refuses the value, added to the error. */
  hint?: string;
  /**
   * The whole message when the kernel answers ENODEV: the value names a device this host
   * does not have (rdma.max). A ConfigInvalid error.
   */
  noDevice?: string;
}

function oldValue(write: CgroupWrite): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(write.file);
  } catch {
    return undefined;
  }
  if (write.restoreFrom) return write.restoreFrom(text);
  if (!write.key) return text.trim().split("\n")[0];
  const { name, reset } = write.key;
  return text.split("\n").find((line) => line.startsWith(`${name} `)) ?? reset;
}

/** Writes every value in order, or none: a refused value restores the ones written. */
export function applyWrites(writes: readonly CgroupWrite[]): void {
  const done: { file: string; old: string }[] = [];
  for (const write of writes) {
    const old = oldValue(write);
    if (old === undefined) {
      restore(done); // best effort: the config error is the one to report
      throw new ContainerError(
        "ConfigInvalid",
        `${write.field}: ${write.file} does not exist (is the controller available here?)`,
        { path: write.file },
      );
    }
    const rc = writeFileRaw(write.file, write.value);
    if (rc < 0) {
      const error = refused(write, -rc);
      const unrestored = restore(done);
      if (unrestored.length === 0) throw error;
      throw new ContainerError(
        "SystemError",
        `${error.message}; and the old values of ${unrestored.join(", ")} could not be put back`,
        { cause: error, path: write.file },
      );
    }
    done.push({ file: write.file, old });
  }
}

/** Puts old values back, newest first; returns the files that refused. */
function restore(done: { file: string; old: string }[]): string[] {
  const failed: string[] = [];
  for (const { file, old } of done.reverse()) {
    if (writeFileRaw(file, old) < 0) failed.push(file);
  }
  return failed;
}

function refused(write: CgroupWrite, errno: number): ContainerError {
  const name = errnoName(errno);
  if (write.noDevice !== undefined && errno === ERRNO.ENODEV) {
    return new ContainerError("ConfigInvalid", `${write.noDevice} (the kernel said ${name})`, {
      syscall: "write",
      errno,
      errnoName: name,
      path: write.file,
    });
  }
  const invalid = errno === ERRNO.EINVAL || errno === ERRNO.ERANGE || errno === ERRNO.EOVERFLOW;
  const hint = write.hint && invalid ? ` (${write.hint})` : "";
  const message =
    `${write.field}: the kernel refused "${write.value}" for ${write.file}: ${name}${hint}`;
  return new ContainerError(invalid ? "ConfigInvalid" : "SystemError", message, {
    syscall: "write",
    errno,
    errnoName: name,
    path: write.file,
  });
}
