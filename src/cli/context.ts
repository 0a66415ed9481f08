/**
 * What every command gets: the factory on `--root`, the logger, and the global flags.
 *
 * @module
 */

import type { Factory } from "../container/factory.ts";
import type { Logger } from "./log.ts";

/** The CLI's shared state for one invocation. */
export interface CliContext {
  /** The factory on the state root. */
  factory: Factory;
  /** The log (`--log`, `--log-format`). */
  logger: Logger;
  /** `--debug`. */
  debug: boolean;
}

/** A command: its arguments after the command name; resolves to the exit code. */
export type Command = (ctx: CliContext, args: string[]) => Promise<number>;

/**
 * A failure that ends the CLI with `exitCode` rather than 1: runc's `exec` exits 255 when
 * the process cannot be started (its own exit codes are the process's).
 */
export class ExitCodeError extends Error {
  /** The CLI's exit code. */
  readonly exitCode: number;

  /** Wraps `cause`, keeping its message. */
  constructor(cause: unknown, exitCode: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.exitCode = exitCode;
  }
}
