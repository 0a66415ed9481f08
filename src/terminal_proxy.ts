/**
 * A process's terminal proxied to this process's stdio: the container makes the
 * pseudo-terminal inside and sends its master back over a socket pair; we put our own
 * terminal in raw mode and copy stdin to the master and the master to stdout.
 *
 * @module
 */

import { close, readWait, recvFd, socketpair, writeAll } from "./syscalls.ts";
import { ContainerError } from "./errors.ts";

/**
 * A terminal for one process, proxied to `Deno.stdin` and `Deno.stdout`. Spread
 * {@linkcode TerminalProxy.options} into the process options, call `attach()` once the
 * process started, and await `done()` after it exited.
 *
 * @example
 * ```ts ignore
 * using tty = new TerminalProxy();
 * const proc = await box.start({ ...tty.options });
 * tty.attach();
 * await proc.status;
 * await tty.done();
 * ```
 */
export class TerminalProxy implements Disposable {
  /** `terminal: true` and the socket end the container sends the master to. */
  readonly options: { terminal: true; consoleSocket: number };
  #mine: number;
  #theirs: number;
  #master = -1;
  #output: Promise<void> = Promise.resolve();
  #raw = false;

  /** Makes the socket pair. */
  constructor() {
    [this.#mine, this.#theirs] = socketpair();
    this.options = { terminal: true, consoleSocket: this.#theirs };
  }

  /**
   * After the start: takes the master and begins proxying (stdin in raw mode when it
   * is a terminal).
   * @throws ContainerError SystemError when the container sent no terminal.
   */
  attach(): void {
    const got = recvFd(this.#mine);
    if (!got) throw new ContainerError("SystemError", "the container sent no terminal");
    this.#master = got.fd;
    if (Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(true);
      this.#raw = true;
    }
    this.#output = pump(this.#master);
    void feed(this.#master);
  }

  /** Resolves when the proxied output has been written out; restores our terminal. */
  async done(): Promise<void> {
    await this.#output;
    if (this.#raw) Deno.stdin.setRaw(false);
    this.#raw = false;
  }

  /** Restores our terminal and closes the sockets and the master. */
  [Symbol.dispose](): void {
    if (this.#raw) Deno.stdin.setRaw(false);
    close(this.#mine);
    close(this.#theirs);
    close(this.#master);
  }
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
