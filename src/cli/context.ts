/**
 * What every command gets: the factory on `--root`, the logger, and the global flags.
 *
 * @module
 */

import type { Factory } from "../../mod.ts";
import type { CliIo } from "./io.ts";
import type { Logger } from "./log.ts";

/** The CLI's shared state for one invocation. */
export interface CliContext {
  /** The factory on the state root. */
  factory: Factory;
  /** The log (`--log`, `--log-format`). */
  logger: Logger;
  /** `--debug`. */
  debug: boolean;
  /** `--criu`: the criu binary for checkpoint and restore. */
  criu: string;
  /** Where the call reads and writes, and whose processes it makes. */
  io: CliIo;
}

/** A command: its arguments after the command name; resolves to the exit code. */
export type Command = (ctx: CliContext, args: string[]) => Promise<number>;

/** A failure that exits with a code other than 1 (`exec` that cannot start: 255, as runc). */
export class ExitCodeError extends Error {
  /** The exit code. */
  readonly code: number;

  /** Wraps `cause` (its message is what is logged) with an exit code. */
  constructor(code: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "ExitCodeError";
    this.code = code;
  }
}
