/**
 * `process.terminal`: with `--console-socket`, the container makes a pseudo-terminal
 * inside and sends its master to that socket (as runc does). Without one, a foreground
 * `run`/`exec` receives the master itself and proxies this process's stdin and stdout
 * through it, with our terminal in raw mode.
 *
 * @module
 */

import { type Container, ContainerError, type ProcessOptions, TerminalProxy } from "../../mod.ts";
import { connectConsoleSocket } from "../../oci.ts";
import { callerPath, type CliIo } from "./io.ts";

/** What a command adds to its process options, and what it does once it started. */
export interface ConsoleSetup extends Disposable {
  /** `terminal` and `consoleSocket` when the process has a terminal. */
  options: Pick<ProcessOptions, "consoleSocket" | "terminal">;
  /** After the start: take the master and begin proxying (foreground without a socket). */
  attach(): void;
  /** Resolves when the proxied output has been written out. */
  done(): Promise<void>;
}

const NONE: ConsoleSetup = {
  options: {},
  attach() {},
  done: () => Promise.resolve(),
  [Symbol.dispose]() {},
};

/** The console of a process of `container` (`terminal` overrides the config's). */
export function consoleFor(
  io: CliIo,
  container: Container,
  socket: string | undefined,
  options: { detached: boolean; terminal?: boolean },
): ConsoleSetup {
  const terminal = options.terminal ?? container.config.process?.terminal ?? false;
  if (!terminal) {
    if (socket !== undefined) {
      throw new ContainerError(
        "ConfigInvalid",
        "--console-socket was given but the process has no terminal (process.terminal is false)",
      );
    }
    // An explicit "no" (exec without --tty) overrides the config's process.terminal.
    return options.terminal === false ? { ...NONE, options: { terminal: false } } : NONE;
  }
  if (socket !== undefined) {
    const connection = connectConsoleSocket(callerPath(io, socket));
    return {
      options: { terminal: true, consoleSocket: connection.fd },
      attach() {},
      done: () => Promise.resolve(),
      [Symbol.dispose]: () => connection[Symbol.dispose](),
    };
  }
  if (options.detached) {
    throw new ContainerError(
      "ConfigInvalid",
      "cannot allocate a terminal for a detached process without --console-socket",
    );
  }
  io.inProcessOnly("a terminal proxied through the caller's own stdin and stdout");
  return new TerminalProxy();
}
