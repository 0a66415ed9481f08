/**
 * The handle of a started process: pid, exit status, and piped stdio as Web streams.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { close, type Exit, pidfdSignal } from "../syscalls.ts";
import { signalNumber, SIGNALS } from "./signals.ts";

/** How a process ended: an exit code, or the signal that killed it. */
export interface ProcessStatus {
  /** True when the exit code is 0. */
  success: boolean;
  /** The exit code, or null when killed by a signal. */
  code: number | null;
  /** The signal that killed it, by name ("SIGKILL"; "SIG34" for one without a name), or null. */
  signal: string | null;
}

/** A process running in a container. */
export class ContainerProcess {
  /** Host pid (in the host's pid namespace). */
  readonly pid: number;
  /** Resolves when the process ends. */
  readonly status: Promise<ProcessStatus>;
  /** The process's stdin, when started with stdin "piped". */
  readonly stdin: WritableStream<Uint8Array> | null;
  /** The process's stdout, when started with stdout "piped". */
  readonly stdout: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  /** The process's stderr, when started with stderr "piped". */
  readonly stderr: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  #pidfd: number;
  #done = false;

  /** Made by Container.start. */
  constructor(
    pid: number,
    pidfd: number,
    exit: Promise<Exit>,
    files: [Deno.FsFile | null, Deno.FsFile | null, Deno.FsFile | null],
  ) {
    this.pid = pid;
    this.#pidfd = pidfd;
    this.stdin = files[0]?.writable ?? null;
    this.stdout = files[1]?.readable ?? null;
    this.stderr = files[2]?.readable ?? null;
    this.status = exit.then((e) => {
      this.#done = true;
      close(pidfd);
      return {
        success: e.code === 0,
        code: e.code,
        signal: e.signal === null ? null : signalName(e.signal),
      };
    });
  }

  /** Sends a signal to this process (by pidfd, so never to a reused pid). */
  kill(signal: Deno.Signal | number = "SIGTERM"): void {
    if (this.#done) {
      throw new ContainerError("ContainerNotRunning", `process ${this.pid} has exited`);
    }
    pidfdSignal(this.#pidfd, signalNumber(signal));
  }

  /** Collects piped stdout and stderr and waits for the exit. */
  async output(): Promise<ProcessStatus & { stdout: Uint8Array; stderr: Uint8Array }> {
    const [stdout, stderr, status] = await Promise.all([
      collect(this.stdout),
      collect(this.stderr),
      this.status,
    ]);
    return { ...status, stdout, stderr };
  }
}

async function collect(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (!stream) return new Uint8Array();
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function signalName(n: number): string {
  return Object.entries(SIGNALS).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
}
