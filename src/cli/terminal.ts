/**
 * `process.terminal`: with `--console-socket`, the container makes a pseudo-terminal
 * inside and sends its master to that socket (as runc does). Without one, a foreground
 * `run`/`exec` receives the master itself and proxies this process's stdin and stdout
 * through it, with our terminal in raw mode.
 *
 * @module
 */

import type { Container } from "../container/container.ts";
import { ContainerError } from "../errors.ts";
import type { ProcessOptions } from "../process/options.ts";
import { close, readWait, recvFd, socketpair, unixConnect, writeAll } from "../syscalls.ts";

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
    const fd = unixConnect(socket);
    return {
      options: { terminal: true, consoleSocket: fd },
      attach() {},
      done: () => Promise.resolve(),
      [Symbol.dispose]: () => close(fd),
    };
  }
  if (options.detached) {
    throw new ContainerError(
      "ConfigInvalid",
      "cannot allocate a terminal for a detached process without --console-socket",
    );
  }
  return proxied();
}

/** A terminal whose master comes back to us over a socket pair, proxied to our stdio. */
function proxied(): ConsoleSetup {
  const [mine, theirs] = socketpair();
  let master = -1;
  let output: Promise<void> = Promise.resolve();
  let raw = false;
  return {
    options: { terminal: true, consoleSocket: theirs },
    attach() {
      const got = recvFd(mine);
      if (!got) throw new ContainerError("SystemError", "the container sent no terminal");
      master = got.fd;
      if (Deno.stdin.isTerminal()) {
        Deno.stdin.setRaw(true);
        raw = true;
      }
      output = pump(master);
      void feed(master);
    },
    async done() {
      await output;
      if (raw) Deno.stdin.setRaw(false);
      raw = false;
    },
    [Symbol.dispose]() {
      if (raw) Deno.stdin.setRaw(false);
      close(mine);
      close(theirs);
      close(master);
    },
  };
}

/** Master → our stdout until the terminal closes (EIO once the last slave fd is gone). */
async function pump(master: number): Promise<void> {
  for (let chunks = 0; chunks < Number.MAX_SAFE_INTEGER; chunks++) {
    const data = await readWait(master, 16384);
    if (data === null) return;
    await Deno.stdout.write(data);
  }
}

/** Our stdin → master, until our stdin ends or the master is closed. */
async function feed(master: number): Promise<void> {
  try {
    for await (const chunk of Deno.stdin.readable) writeAll(master, chunk);
  } catch {
    // The terminal went away: nothing more to feed.
  }
}
