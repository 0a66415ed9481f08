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
