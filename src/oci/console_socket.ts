/**
 * `--console-socket`: an AF_UNIX socket an engine listens on; the container makes its
 * pseudo-terminal inside and sends the master there (as runc does).
 *
 * @module
 */

import { close, unixConnect } from "../syscalls.ts";

/** A connection to a console socket; its fd goes to `ProcessOptions.consoleSocket`. */
export interface ConsoleSocket extends Disposable {
  /** The connected socket: pass it as `consoleSocket` with `terminal: true`. */
  readonly fd: number;
}

/**
 * Connects to the console socket at `path`; dispose it once the process started.
 * @throws ContainerError SystemError when the socket cannot be connected.
 */
export function connectConsoleSocket(path: string): ConsoleSocket {
  const fd = unixConnect(path);
  return { fd, [Symbol.dispose]: () => close(fd) };
}
