/**
 * What the kernel fixes for a seccomp filter: the action and flag values, the audit
 * architectures cell compiles for, the layout of `seccomp_data`, and the syscall numbers.
 *
 * @module
 */

import { SYSCALLS_AARCH64 } from "./syscalls_aarch64.ts";
import { SYSCALLS_X86_64 } from "./syscalls_x86_64.ts";

/** The architectures the compiler has syscall tables for. */
export type SeccompTarget = "x86_64" | "aarch64";

/** The kernel's limit on a classic BPF program's length (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** `SECCOMP_RET_*` action values (the high 16 bits; ERRNO and TRACE carry data). */
export const SECCOMP_RET = Object.freeze({
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
});

/** `SECCOMP_FILTER_FLAG_*` values. */
export const SECCOMP_FILTER_FLAG = Object.freeze({
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
});

/** `AUDIT_ARCH_*` of the compiled architectures, what `seccomp_data.arch` holds. */
export const AUDIT_ARCH: Readonly<Record<SeccompTarget, number>> = Object.freeze({
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
});

/** The x32 ABI's syscall number bit on x86_64. */
export const X32_SYSCALL_BIT = 0x40000000;

/** Offsets of the words of `struct seccomp_data` a filter loads. */
export const SECCOMP_DATA = Object.freeze({
  /** The syscall number. */
  NR: 0,
  /** The audit architecture. */
  ARCH: 4,
  /** The six 64-bit arguments, each low word first (both targets are little-endian). */
  ARGS: 16,
});

/** The errno of an `errnoRet` left out. */
export const EPERM = 1;

/** The errno for a syscall newer than the profile (see the compiler's module doc). */
export const ENOSYS = 38;

/** The largest 32-bit word, the mask that keeps every bit. */
export const U32_MAX = 0xffffffff;

const SYSCALL_TABLES: Readonly<Record<SeccompTarget, Readonly<Record<string, number>>>> = {
  x86_64: SYSCALLS_X86_64,
  aarch64: SYSCALLS_AARCH64,
};

/** The syscall number of `name` on `arch`, or undefined when the call does not exist there. */
export function syscallNumber(arch: SeccompTarget, name: string): number | undefined {
  const table = SYSCALL_TABLES[arch];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
