/**
 * Signal names and numbers (Linux x86_64 and aarch64 share these).
 *
 * @module
 */

import { ContainerError } from "../errors.ts";

/** Linux signal numbers by name. */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** A signal given as a name ("SIGTERM", "TERM") or number, as its number. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === "number") {
    if (Number.isInteger(signal) && signal >= 1 && signal <= 64) return signal;
  } else {
    const name = signal.toUpperCase().startsWith("SIG") ? signal.toUpperCase() : `SIG${signal}`;
    const n = SIGNALS[name.toUpperCase()];
    if (n !== undefined) return n;
    if (/^\d+$/.test(signal)) return signalNumber(Number(signal));
  }
  throw new ContainerError("ConfigInvalid", `unknown signal ${JSON.stringify(signal)}`);
}

/** What the C library calls the signals that kill (strsignal), lower case as Go prints them. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  SIGHUP: "hangup",
  SIGINT: "interrupt",
  SIGQUIT: "quit",
  SIGILL: "illegal instruction",
  SIGTRAP: "trace/breakpoint trap",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGKILL: "killed",
  SIGUSR1: "user defined signal 1",
  SIGSEGV: "segmentation fault",
  SIGUSR2: "user defined signal 2",
  SIGPIPE: "broken pipe",
  SIGALRM: "alarm clock",
  SIGTERM: "terminated",
  SIGXCPU: "CPU time limit exceeded",
  SIGXFSZ: "file size limit exceeded",
  SIGSYS: "bad system call",
};

/** "SIGSYS (bad system call)": a signal's name with what it means, where that is known. */
export function describeSignal(name: string): string {
  const what = DESCRIPTIONS[name];
  return what === undefined ? name : `${name} (${what})`;
}
