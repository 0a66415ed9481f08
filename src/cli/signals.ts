/**
 * Signals the CLI gets in the foreground go on to the container's process, as runc passes
 * them. Listening starts before the process does, so a signal that comes while it starts
 * is held and delivered once there is a process, instead of killing the CLI.
 *
 * @module
 */

import type { ContainerProcess } from "../../mod.ts";
import { SIGNALS } from "../../oci.ts";

/** The signals passed on. */
const FORWARDED: Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGCONT",
];

/** Listens from construction; forwards to the process given to {@linkcode wait}. */
export class SignalForwarder implements Disposable {
  #target: ContainerProcess | null = null;
  #held: Deno.Signal[] = [];
  #handlers: [Deno.Signal, () => void][];

  /**
   * Starts listening; with `listen: false` (the planner, whose caller passes its own
   * signals on) only waits.
   */
  constructor(options: { listen: boolean } = { listen: true }) {
    this.#handlers = !options.listen ? [] : FORWARDED.map((signal) => {
      const handler = () => {
        if (this.#target) send(this.#target, signal);
        else if (this.#held.length < 64) this.#held.push(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler];
    });
  }

  /** Delivers held signals to `proc`, forwards new ones, and resolves to its exit code. */
  async wait(proc: ContainerProcess): Promise<number> {
    this.#target = proc;
    for (const signal of this.#held.splice(0)) send(proc, signal);
    const status = await proc.status;
    return status.code ?? 128 + (status.signal ? SIGNALS[status.signal] ?? 0 : 0);
  }

  /** Stops listening. */
  [Symbol.dispose](): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
    this.#handlers = [];
  }
}

function send(proc: ContainerProcess, signal: Deno.Signal): void {
  try {
    proc.kill(signal);
  } catch {
    // already gone
  }
}
