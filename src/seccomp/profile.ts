/**
 * The seccomp profile: the OCI `linux.seccomp` object as a config gives it, and the checked
 * form the compiler works on (see `check_profile.ts`, which makes one from the other).
 *
 * @module
 */

import { syscallNumber } from "./kernel.ts";

/** Where the profile sits in a config: the start of every JSON path in the messages. */
export const PROFILE_PATH = "linux.seccomp";

/** A seccomp action name of the OCI spec (libseccomp's spelling). */
export type SeccompAction =
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_TRACE"
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_LOG"
  | "SCMP_ACT_NOTIFY";

/** An argument comparison operator of the OCI spec. */
export type SeccompOperator =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

/** A libseccomp architecture name, as `linux.seccomp.architectures` lists them. */
export type SeccompArchitecture =
  | "SCMP_ARCH_NATIVE"
  | "SCMP_ARCH_X86"
  | "SCMP_ARCH_X86_64"
  | "SCMP_ARCH_X32"
  | "SCMP_ARCH_ARM"
  | "SCMP_ARCH_AARCH64"
  | "SCMP_ARCH_LOONGARCH64"
  | "SCMP_ARCH_M68K"
  | "SCMP_ARCH_MIPS"
  | "SCMP_ARCH_MIPS64"
  | "SCMP_ARCH_MIPS64N32"
  | "SCMP_ARCH_MIPSEL"
  | "SCMP_ARCH_MIPSEL64"
  | "SCMP_ARCH_MIPSEL64N32"
  | "SCMP_ARCH_PPC"
  | "SCMP_ARCH_PPC64"
  | "SCMP_ARCH_PPC64LE"
  | "SCMP_ARCH_S390"
  | "SCMP_ARCH_S390X"
  | "SCMP_ARCH_PARISC"
  | "SCMP_ARCH_PARISC64"
  | "SCMP_ARCH_RISCV64"
  | "SCMP_ARCH_SH"
  | "SCMP_ARCH_SHEB";

/** A `seccomp(2)` filter flag name of the OCI spec. */
export type SeccompFlag =
  | "SECCOMP_FILTER_FLAG_TSYNC"
  | "SECCOMP_FILTER_FLAG_LOG"
  | "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
  | "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";

/** One argument condition of a syscall rule. Values are uint64: a number or a bigint. */
export interface SeccompArg {
  /** The argument index, 0 to 5. */
  index: number;
  /** The value compared with, or the mask for `SCMP_CMP_MASKED_EQ`. */
  value: number | bigint;
  /** The value compared with the masked argument for `SCMP_CMP_MASKED_EQ`; default 0. */
  valueTwo?: number | bigint;
  /** The comparison. */
  op: SeccompOperator;
}

/** One entry of `linux.seccomp.syscalls`. */
export interface SeccompSyscall {
  /** The syscall names the rule applies to (at least one). */
  names: string[];
  /** What happens when the rule matches. */
  action: SeccompAction;
  /** The errno (or the tracer's data) for `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE`; default EPERM. */
  errnoRet?: number;
  /** Conditions on the arguments, ANDed. */
  args?: SeccompArg[];
}

/** The OCI `linux.seccomp` object. */
export interface Seccomp {
  /** The action for syscalls no rule matches. */
  defaultAction: SeccompAction;
  /** The errno for a default `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE`; default EPERM. */
  defaultErrnoRet?: number;
  /** Architectures; only the target one is compiled (see the compiler's module doc). */
  architectures?: SeccompArchitecture[];
  /** `seccomp(2)` flags, see `seccompFlags`. */
  flags?: SeccompFlag[];
  /**
   * The unix socket of the seccomp agent that gets the notify listener (with the
   * container process state) when a rule uses `SCMP_ACT_NOTIFY`; ignored otherwise.
   */
  listenerPath?: string;
  /** Opaque text passed to the agent in the state's `metadata`. */
  listenerMetadata?: string;
  /** The rules. */
  syscalls?: SeccompSyscall[];
}

/** A comparison operator without its `SCMP_CMP_` prefix. */
export type Op = "NE" | "LT" | "LE" | "EQ" | "GE" | "GT" | "MASKED_EQ";

/** A condition in libseccomp's terms: the argument compared as `(arg & mask) op datum`. */
export interface Cond {
  /** The argument index, 0 to 5. */
  arg: number;
  /** The comparison. */
  op: Op;
  /** All ones, except for `MASKED_EQ`. */
  mask: bigint;
  /** The datum as given (unmasked). */
  datum: bigint;
}

/** One checked rule of the profile, ready to add to each of its syscalls. */
export interface Rule {
  /** The JSON path of its `syscalls[]` entry, for messages. */
  path: string;
  /** The 32-bit `SECCOMP_RET_*` value, with its errno or data. */
  action: number;
  /** The syscall names as given (some may have no number on the target). */
  names: string[];
  /** The condition lists: one for a plain rule, several when runc's split applies. */
  alternatives: Cond[][];
}

/** A checked profile: what the decision tree and the code generator read. */
export interface Profile {
  /** The 32-bit `SECCOMP_RET_*` value for syscalls no rule decides. */
  defaultAction: number;
  /** The rules that do something other than the default, in profile order. */
  rules: Rule[];
  /** The architectures listed (none: the list was left out). */
  architectures: string[];
  /** Every syscall name of every rule, those equal to the default included. */
  names: string[];
}

/** Whether a rule of the profile uses `SCMP_ACT_NOTIFY` (the filter then has a listener). */
export function usesNotify(profile: Seccomp): boolean {
  const entries: unknown = profile?.syscalls;
  return Array.isArray(entries) && entries.some((e) => e?.action === "SCMP_ACT_NOTIFY");
}

/**
 * The syscall names of the profile that exist on neither x86_64 nor aarch64, in order,
 * without repeats: they are skipped silently by the compiler (as by runc); a caller may
 * warn about them. Many belong to other architectures (`_llseek`, `socketcall`, ...).
 */
export function unknownSyscallNames(profile: Seccomp): string[] {
  const out = new Set<string>();
  const entries: unknown = profile?.syscalls;
  if (!Array.isArray(entries)) return [];
  for (const entry of entries) {
    const names: unknown = entry?.names;
    if (!Array.isArray(names)) continue;
    for (const name of names) {
      if (typeof name !== "string") continue;
      if (
        syscallNumber("x86_64", name) === undefined && syscallNumber("aarch64", name) === undefined
      ) out.add(name);
    }
  }
  return [...out];
}
