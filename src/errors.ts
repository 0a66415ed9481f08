/**
 * The one error type of cell. Every failure the library reports is a
 * {@linkcode ContainerError} with a {@linkcode ErrorCode}; kernel failures also
 * carry the syscall, the errno (name and number) and the path involved.
 *
 * @module
 */

import { clipLines } from "./text.ts";

/** What went wrong, as a stable code a program can branch on. */
export type ErrorCode =
  | "ContainerNotFound"
  | "IdInUse"
  | "InvalidIdFormat"
  | "ConfigInvalid"
  | "ContainerPaused"
  | "ContainerNotRunning"
  | "ContainerDestroyed"
  | "SystemError";

/** The kernel-side details of a {@linkcode ContainerError} with code `SystemError`. */
export interface SystemErrorDetails {
  /** The syscall that failed, e.g. `"mount"`. */
  syscall?: string;
  /** The errno number, e.g. `1`. */
  errno?: number;
  /** The errno name, e.g. `"EPERM"`. */
  errnoName?: string;
  /** The path the syscall was given, when there was one. */
  path?: string;
}

/** Options for {@linkcode ContainerError}. */
export interface ContainerErrorOptions extends SystemErrorDetails {
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * An error raised by cell.
 *
 * @example Branch on the code
 * ```ts ignore
 * try {
 *   await factory.load("web");
 * } catch (e) {
 *   if (e instanceof ContainerError && e.code === "ContainerNotFound") console.log("gone");
 *   else throw e;
 * }
 * ```
 */
export class ContainerError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /** The syscall that failed (SystemError only). */
  readonly syscall?: string;
  /** The errno number (SystemError only). */
  readonly errno?: number;
  /** The errno name such as `"ENOENT"` (SystemError only). */
  readonly errnoName?: string;
  /** The path involved, when there is one. */
  readonly path?: string;

  /** Makes an error with a code and a message a person can act on. */
  constructor(code: ErrorCode, message: string, options: ContainerErrorOptions = {}) {
    // A backstop: whatever a call site echoed, no line of a message is huge.
    super(clipLines(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ContainerError";
    this.code = code;
    this.syscall = options.syscall;
    this.errno = options.errno;
    this.errnoName = options.errnoName;
    this.path = options.path;
  }
}
