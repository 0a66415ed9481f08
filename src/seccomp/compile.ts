/**
 * Compiles the OCI `linux.seccomp` section to a classic BPF program, the kind
 * `seccomp(SECCOMP_SET_MODE_FILTER)` loads: 8-byte `struct sock_filter` entries (u16 code,
 * u8 jt, u8 jf, u32 k, little-endian).
 *
 * The filter decides what libseccomp (as driven by runc) decides for the same profile:
 *
 * - **Architecture.** Only the target architecture (`x86_64` or `aarch64`) is compiled. A
 *   syscall made under any other audit architecture gets libseccomp's "bad arch" action,
 *   `SECCOMP_RET_KILL_THREAD`, even when `architectures` lists it (runc would filter
 *   i386/x32/arm calls with their own tables; cell refuses them). On x86_64 a syscall
 *   number with the x32 bit (0x40000000) set gets the same bad-arch action, except
 *   `nr == -1` (what a tracer uses to skip a call), which takes the normal path.
 * - **Names.** A name that has no number on the target architecture is skipped, as runc
 *   and libseccomp do; profiles routinely name calls of other architectures (`_llseek`,
 *   `arm_fadvise64_64`, `open` on aarch64). That holds for names unknown everywhere too:
 *   {@linkcode unknownSyscallNames} lists them for a warning.
 * - **Rules equal to the default.** A rule whose action (with its errno) equals the
 *   default action is skipped, as runc does (libseccomp refuses such rules).
 * - **Arguments.** Each comparison is on the full 64-bit argument, high word then low
 *   word. `SCMP_CMP_MASKED_EQ` tests `(arg & value) == (valueTwo & value)`; a mask of 0
 *   makes the comparison always true (libseccomp drops it). The conditions of one rule
 *   are ANDed. When one rule has two conditions on the same argument index it is split
 *   into one single-condition rule per condition (ORed), which is what runc does.
 * - **Several rules for one syscall** (libseccomp's rule database, not profile order):
 *   the first unconditional rule for a syscall decides it, and every conditional rule for
 *   that syscall, before or after, is dropped. Conditional rules are merged into a
 *   decision tree whose every level is ordered the way libseccomp orders it: comparisons
 *   on a higher argument index first (a rule's first comparison is on its lowest index),
 *   then `EQ`/`NE`/`MASKED_EQ` before `LT`/`LE` before `GT`/`GE`, then by value
 *   (descending; ascending for `LT`/`LE`), then in the order the rules were added
 *   (profile order, then `names` order). Identical comparisons are shared. The first
 *   rule found along that order whose conditions all hold decides; when none does, the
 *   default action. A rule that extends a shorter rule with the same prefix is absorbed
 *   by it. Two rules that libseccomp cannot merge (the same comparison leading to
 *   different actions) make the profile invalid, as they make runc fail. A 64-bit
 *   comparison is a small tree of 32-bit tests (high word `>`, high word `==`, low word),
 *   and two rules sharing a high-word test with different actions follow libseccomp's
 *   tie-break (the larger value for GT/GE, the smaller for LT/LE).
 * - **Where libseccomp's output is wrong, cell follows the rules instead.** Two defects
 *   of libseccomp (2.5.4 and 2.6.1) are not reproduced: its code can compare a stale
 *   accumulator when a failed subtree falls through to the next test of a level (no
 *   reload of the argument word), and after a range comparison (GT/GE/LT/LE) it shares
 *   one subtree between the two accepting branches, so a later rule merged into one
 *   branch leaks into the other (a call no rule allows can be allowed). Both only arise
 *   with several conditional rules of two or more conditions on one syscall. Apart from
 *   those, a differential run against libseccomp 2.6.1 (with the reload fixed) agreed on
 *   every one of thousands of random profiles, refusals included.
 * - **Newer syscalls.** As runc's patched filter: when the default action refuses (not
 *   allow, log or trace) and `architectures` lists the target (or `SCMP_ARCH_NATIVE`), a
 *   syscall numbered above every syscall the profile names (rules equal to the default
 *   included) gets ENOSYS instead of the default, so programs fall back from calls the
 *   profile predates. On x86_64 `nr == -1` keeps the default.
 * - **Actions.** `SCMP_ACT_KILL` is `KILL_THREAD`. `errnoRet`/`defaultErrnoRet` (default
 *   EPERM) go with `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` only. `SCMP_ACT_NOTIFY` is
 *   `USER_NOTIF`: the filter is loaded with a listener that goes to the agent at
 *   `listenerPath` (required then). As runc, it is refused as the default action and
 *   for `write` (and for `sendmsg`, which hands the listener over).
 *
 * The program layout: check the arch, (x86_64) refuse x32, load `nr`, a balanced binary
 * search over the syscall numbers (runs of numbers with one unconditional action share a
 * leaf), per-syscall argument trees, and a shared pool of return instructions. Conditional
 * jumps are 8-bit: a jump that would be longer goes through a nearby copy of the return
 * or a `ja` island. A program over the kernel's 4096 instructions is a ConfigInvalid error.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { SYSCALLS_AARCH64 } from "./syscalls_aarch64.ts";
import { SYSCALLS_X86_64 } from "./syscalls_x86_64.ts";

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

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
  /** Architectures; only the target one is compiled (see the module doc). */
  architectures?: SeccompArchitecture[];
  /** `seccomp(2)` flags, see {@linkcode seccompFlags}. */
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

/** The architectures the compiler has syscall tables for. */
export type SeccompTarget = "x86_64" | "aarch64";

// ---------------------------------------------------------------------------------------
// Kernel constants
// ---------------------------------------------------------------------------------------

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

/** `seccomp_data` offsets. */
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARGS = 16;

const EPERM = 1;
const ENOSYS = 38;

const SYSCALL_TABLES: Readonly<Record<SeccompTarget, Readonly<Record<string, number>>>> = {
  x86_64: SYSCALLS_X86_64,
  aarch64: SYSCALLS_AARCH64,
};

/** The syscall number of `name` on `arch`, or undefined when the call does not exist there. */
export function syscallNumber(arch: SeccompTarget, name: string): number | undefined {
  const table = SYSCALL_TABLES[arch];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

const ROOT_PATH = "linux.seccomp";
const U64_MAX = (1n << 64n) - 1n;
const U32 = 0xffffffff;

const ACTIONS: ReadonlySet<string> = new Set<SeccompAction>([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
]);

const OPERATORS: ReadonlySet<string> = new Set<SeccompOperator>([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);

const ARCHITECTURES: ReadonlySet<string> = new Set<SeccompArchitecture>([
  "SCMP_ARCH_NATIVE",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
]);

const FLAG_BITS: Readonly<Record<SeccompFlag, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  // Only meaningful with a notify listener (the kernel refuses it without one, and
  // libseccomp passes it only with one): see seccompFlags.
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 0,
};

function invalid(path: string, message: string): ContainerError {
  return new ContainerError("ConfigInvalid", `${path}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

/** An optional field: absent and null are the same. */
function field(obj: Record<string, unknown>, key: string): unknown {
  const v = obj[key];
  return v === null ? undefined : v;
}

function readU64(v: unknown, path: string): bigint {
  if (typeof v === "bigint") {
    if (v < 0n || v > U64_MAX) throw invalid(path, `${v} is not a uint64`);
    return v;
  }
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) throw invalid(path, `${describe(v)} is not a uint64`);
    if (!Number.isSafeInteger(v)) {
      throw invalid(
        path,
        `${v} is above 2^53 and may not be the value written in the JSON; pass it as a bigint`,
      );
    }
    return BigInt(v);
  }
  throw invalid(path, `expected a uint64, got ${describe(v)}`);
}

function readErrno(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw invalid(path, `expected an errno from 0 to 65535, got ${describe(v)}`);
  }
  return v;
}

/** The 32-bit `SECCOMP_RET_*` value of an action, with its errno/data. */
function actionValue(
  action: unknown,
  errnoRet: unknown,
  actionPath: string,
  errnoPath: string,
): number {
  if (typeof action !== "string") {
    throw invalid(actionPath, `expected an action, got ${describe(action)}`);
  }
  if (!ACTIONS.has(action)) throw invalid(actionPath, `unknown action ${JSON.stringify(action)}`);
  const takesErrno = action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE";
  if (errnoRet !== undefined && !takesErrno) {
    throw invalid(errnoPath, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not ${action}`);
  }
  const data = errnoRet === undefined ? EPERM : readErrno(errnoRet, errnoPath);
  switch (action as SeccompAction) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET.TRAP;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET.ERRNO | data) >>> 0;
    case "SCMP_ACT_TRACE":
      return (SECCOMP_RET.TRACE | data) >>> 0;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET.ALLOW;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET.LOG;
    case "SCMP_ACT_NOTIFY":
      return SECCOMP_RET.USER_NOTIF;
  }
}

/** Syscalls the runtime itself makes between loading the filter and handing the listener on. */
const NEVER_NOTIFIED = ["write", "sendmsg"];

type Op = "NE" | "LT" | "LE" | "EQ" | "GE" | "GT" | "MASKED_EQ";

/** A condition in libseccomp's terms: the argument compared as `(arg & mask) op datum`. */
interface Cond {
  arg: number;
  op: Op;
  mask: bigint;
  /** The datum as given (unmasked). */
  datum: bigint;
}

/** One rule of the profile, ready to add to each of its syscalls. */
interface Rule {
  /** The JSON path of its `syscalls[]` entry, for messages. */
  path: string;
  action: number;
  names: string[];
  /** The condition lists: one for a plain rule, several when runc's split applies. */
  alternatives: Cond[][];
}

interface Profile {
  defaultAction: number;
  rules: Rule[];
  /** The architectures listed (none: the list was left out). */
  architectures: string[];
  /** Every syscall name of every rule, those equal to the default included. */
  names: string[];
}

function readStringArray(v: unknown, path: string, allowed?: ReadonlySet<string>): string[] {
  if (!Array.isArray(v)) throw invalid(path, `expected an array of strings, got ${describe(v)}`);
  return v.map((item, i) => {
    if (typeof item !== "string") {
      throw invalid(`${path}[${i}]`, `expected a string, got ${describe(item)}`);
    }
    if (allowed && !allowed.has(item)) {
      throw invalid(`${path}[${i}]`, `unknown value ${JSON.stringify(item)}`);
    }
    return item;
  });
}

function readCond(v: unknown, path: string): Cond {
  if (!isObject(v)) throw invalid(path, `expected an object, got ${describe(v)}`);
  const index = v.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 5) {
    throw invalid(
      `${path}.index`,
      `expected an argument index from 0 to 5, got ${describe(index)}`,
    );
  }
  const op = v.op;
  if (typeof op !== "string") {
    throw invalid(`${path}.op`, `expected an operator, got ${describe(op)}`);
  }
  if (!OPERATORS.has(op)) throw invalid(`${path}.op`, `unknown operator ${JSON.stringify(op)}`);
  const value = readU64(v.value, `${path}.value`);
  const two = field(v, "valueTwo");
  const valueTwo = two === undefined ? 0n : readU64(two, `${path}.valueTwo`);
  const shortOp = op.slice("SCMP_CMP_".length) as Op;
  return shortOp === "MASKED_EQ"
    ? { arg: index, op: shortOp, mask: value, datum: valueTwo }
    : { arg: index, op: shortOp, mask: U64_MAX, datum: value };
}

function readProfile(input: unknown): Profile {
  if (!isObject(input)) throw invalid(ROOT_PATH, `expected an object, got ${describe(input)}`);
  const defaultAction = actionValue(
    input.defaultAction,
    field(input, "defaultErrnoRet"),
    `${ROOT_PATH}.defaultAction`,
    `${ROOT_PATH}.defaultErrnoRet`,
  );
  if (defaultAction === SECCOMP_RET.USER_NOTIF) {
    throw invalid(`${ROOT_PATH}.defaultAction`, "SCMP_ACT_NOTIFY cannot be used as default action");
  }
  const arches = field(input, "architectures");
  const architectures = arches === undefined
    ? []
    : readStringArray(arches, `${ROOT_PATH}.architectures`, ARCHITECTURES);
  const allNames: string[] = [];
  readFlags(input);
  for (const key of ["listenerPath", "listenerMetadata"]) {
    const v = field(input, key);
    if (v !== undefined && typeof v !== "string") {
      throw invalid(`${ROOT_PATH}.${key}`, `expected a string, got ${describe(v)}`);
    }
  }
  const syscalls = field(input, "syscalls");
  const rules: Rule[] = [];
  if (syscalls === undefined) return { defaultAction, rules, architectures, names: allNames };
  if (!Array.isArray(syscalls)) {
    throw invalid(`${ROOT_PATH}.syscalls`, `expected an array, got ${describe(syscalls)}`);
  }
  syscalls.forEach((entry, i) => {
    const path = `${ROOT_PATH}.syscalls[${i}]`;
    if (!isObject(entry)) throw invalid(path, `expected an object, got ${describe(entry)}`);
    const names = readStringArray(entry.names, `${path}.names`);
    if (names.length === 0) throw invalid(`${path}.names`, "must name at least one syscall");
    names.forEach((name, j) => {
      if (name === "") throw invalid(`${path}.names[${j}]`, "empty syscall name");
    });
    allNames.push(...names);
    const action = actionValue(
      entry.action,
      field(entry, "errnoRet"),
      `${path}.action`,
      `${path}.errnoRet`,
    );
    if (action === SECCOMP_RET.USER_NOTIF) {
      const listener = field(input, "listenerPath");
      if (typeof listener !== "string" || listener === "") {
        throw invalid(`${ROOT_PATH}.listenerPath`, `required by SCMP_ACT_NOTIFY (${path})`);
      }
      names.forEach((name, j) => {
        if (NEVER_NOTIFIED.includes(name)) {
          throw invalid(
            `${path}.names[${j}]`,
            `SCMP_ACT_NOTIFY cannot be used for the ${name} syscall`,
          );
        }
      });
    }
    const rawArgs = field(entry, "args");
    let conds: Cond[] = [];
    if (rawArgs !== undefined) {
      if (!Array.isArray(rawArgs)) {
        throw invalid(`${path}.args`, `expected an array, got ${describe(rawArgs)}`);
      }
      conds = rawArgs.map((a, j) => readCond(a, `${path}.args[${j}]`));
    }
    // runc: a rule with two conditions on one argument becomes one rule per condition.
    const seen = new Set<number>();
    const repeated = conds.some((c) => seen.size === seen.add(c.arg).size);
    const alternatives = repeated ? conds.map((c) => [c]) : [conds];
    // runc skips a rule that would do what the default does (libseccomp refuses it).
    if (action === defaultAction) return;
    rules.push({ path, action, names, alternatives });
  });
  return { defaultAction, rules, architectures, names: allNames };
}

function readFlags(input: Record<string, unknown>): number {
  const flags = field(input, "flags");
  if (flags === undefined) return 0;
  const names = readStringArray(flags, `${ROOT_PATH}.flags`, new Set(Object.keys(FLAG_BITS)));
  return names.reduce((bits, name) => bits | FLAG_BITS[name as SeccompFlag], 0);
}

/**
 * The `seccomp(2)` flags for the profile: TSYNC, LOG and SPEC_ALLOW map to their bits;
 * a profile with `SCMP_ACT_NOTIFY` rules gets NEW_LISTENER, and then
 * `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` its bit (it only applies to a listener, so it
 * adds nothing without one). Throws ConfigInvalid for an unknown flag.
 */
export function seccompFlags(profile: Seccomp): number {
  const input: unknown = profile;
  if (!isObject(input)) throw invalid(ROOT_PATH, `expected an object, got ${describe(input)}`);
  let flags = readFlags(input);
  if (usesNotify(profile)) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    if (profile.flags?.includes("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")) {
      flags |= SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV;
    }
  }
  return flags;
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

// ---------------------------------------------------------------------------------------
// The per-syscall decision tree
// ---------------------------------------------------------------------------------------

/** A 32-bit test in the tree: `(word & mask) <test> datum`. */
type Test = "EQ" | "GT" | "GE";

/** What a test's outcome leads to: nothing (try the next sibling), an action, or a level. */
type Outcome = null | { action: number } | TreeNode[];

interface TreeNode {
  arg: number;
  hi: boolean;
  test: Test;
  /** Set for the two words of a MASKED_EQ: such tests never merge with plain EQ tests. */
  masked: boolean;
  /** The operator of the profile's condition, which orders nodes on a level. */
  op: Op;
  mask: number;
  /** The 32-bit datum, already masked. */
  datum: number;
  /** The full 64-bit datum of the condition that made the node. */
  full: bigint;
  t: Outcome;
  f: Outcome;
}

/** libseccomp refuses to merge the rule: the profile is invalid under runc too. */
class MergeConflict extends Error {}

const isAction = (o: Outcome): o is { action: number } => o !== null && !Array.isArray(o);
const isLevel = (o: Outcome): o is TreeNode[] => Array.isArray(o);

function opPriority(op: Op): number {
  switch (op) {
    case "EQ":
    case "NE":
    case "MASKED_EQ":
      return 3;
    case "LT":
    case "LE":
      return 2;
    case "GT":
    case "GE":
      return 1;
  }
}

const argPriority = (n: TreeNode): number => n.arg * 2 + (n.hi ? 1 : 0);

/** True when `a` sorts after `b` on a level (levels are kept in descending order). */
function sortsBelow(a: TreeNode, b: TreeNode): boolean {
  const pa = argPriority(a), pb = argPriority(b);
  if (pa !== pb) return pa < pb;
  const oa = opPriority(a.op), ob = opPriority(b.op);
  if (oa !== ob) return oa < ob;
  return a.op === "LT" || a.op === "LE" ? a.datum > b.datum : a.datum < b.datum;
}

function sameTest(a: TreeNode, b: TreeNode): boolean {
  return argPriority(a) === argPriority(b) && a.test === b.test && a.masked === b.masked &&
    a.datum === b.datum && a.mask === b.mask;
}

const isLeaf = (n: TreeNode): boolean => !isLevel(n.t) && !isLevel(n.f);

function allActionsAre(level: TreeNode[], action: number): boolean {
  return level.every((n) =>
    [n.t, n.f].every((o) =>
      o === null || (isAction(o) ? o.action === action : allActionsAre(o, action))
    )
  );
}

/** The chain of tests for `conds[i..]` ending in `action`; fresh objects on every call. */
function buildChain(conds: Cond[], i: number, action: number): TreeNode {
  const c = conds[i];
  const accept = (): Outcome =>
    i + 1 < conds.length ? [buildChain(conds, i + 1, action)] : { action };
  const masked = c.op === "MASKED_EQ";
  const word = (hi: boolean, test: Test): TreeNode => {
    const mask = Number(hi ? c.mask >> 32n : c.mask & 0xffffffffn);
    const datum = Number(hi ? c.datum >> 32n : c.datum & 0xffffffffn);
    return {
      arg: c.arg,
      hi,
      test,
      masked,
      op: c.op,
      mask,
      datum: (datum & mask) >>> 0,
      full: c.datum,
      t: null,
      f: null,
    };
  };
  switch (c.op) {
    case "EQ":
    case "MASKED_EQ": {
      const hi = word(true, "EQ"), lo = word(false, "EQ");
      hi.t = [lo];
      lo.t = accept();
      return hi;
    }
    case "NE": {
      const hi = word(true, "EQ"), lo = word(false, "EQ");
      hi.t = [lo];
      hi.f = accept();
      lo.f = accept();
      return hi;
    }
    case "GT":
    case "GE": {
      // hi > H, or hi == H and lo > L (lo >= L for GE)
      const above = word(true, "GT"), same = word(true, "EQ");
      const lo = word(false, c.op === "GT" ? "GT" : "GE");
      above.t = accept();
      above.f = [same];
      same.t = [lo];
      lo.t = accept();
      return above;
    }
    case "LT":
    case "LE": {
      // not (hi > H), and hi != H or not (lo >= L) (not (lo > L) for LE)
      const above = word(true, "GT"), same = word(true, "EQ");
      const lo = word(false, c.op === "LT" ? "GE" : "GT");
      above.f = [same];
      same.t = [lo];
      same.f = accept();
      lo.f = accept();
      return above;
    }
  }
}

/**
 * Puts `n` on `level`: merged into an identical test, else at its place in the order.
 * Returns how many nodes the tree gained (negative when a subtree was replaced).
 */
function addToLevel(level: TreeNode[], n: TreeNode): number {
  for (let i = 0; i < level.length; i++) {
    const x = level[i];
    if (sameTest(x, n)) return mergeNode(x, n);
    if (sortsBelow(x, n)) {
      level.splice(i, 0, n);
      return countNodes([n]);
    }
  }
  level.push(n);
  return countNodes([n]);
}

/** Merges the new chain node `n` into the identical existing node `x`, libseccomp's way. */
function mergeNode(x: TreeNode, n: TreeNode): number {
  let added = 0;
  for (const side of ["t", "f"] as const) {
    const no = n[side], xo = x[side];
    if (!isAction(no)) continue;
    if (!isAction(xo)) {
      // A shorter rule: it replaces a subtree that decides the same, else conflicts.
      if (isLevel(xo)) {
        if (!allActionsAre(xo, no.action)) throw new MergeConflict();
        added -= countNodes(xo);
      }
      x[side] = { action: no.action };
    } else if (xo.action !== no.action) {
      // Two rules whose high-word tests coincide: for GT/GE (true side) the larger
      // 64-bit value decides the "high word is above" case, for LT/LE the smaller.
      if (n.hi && (side === "t" ? n.full > x.full : n.full < x.full)) {
        x[side] = { action: no.action };
      }
      if (isLeaf(x) || isLeaf(n)) throw new MergeConflict();
    }
  }
  for (const side of ["t", "f"] as const) {
    const no = n[side], xo = x[side];
    if (!isLevel(no)) continue;
    if (isLevel(xo)) {
      for (const child of no) added += addToLevel(xo, child);
    } else if (xo === null) {
      x[side] = no;
      added += countNodes(no);
    } else {
      break; // an existing shorter rule decides this branch already (and libseccomp stops)
    }
  }
  return added;
}

function countNodes(level: TreeNode[]): number {
  let total = 0;
  for (const n of level) {
    total += 1;
    if (isLevel(n.t)) total += countNodes(n.t);
    if (isLevel(n.f)) total += countNodes(n.f);
  }
  return total;
}

/** A syscall's decision: one action, or a tree of argument tests (default when none holds). */
interface SyscallDecision {
  uncond: number | null;
  tree: TreeNode[];
  /** Tree size, to stop building absurdly large filters early. */
  nodes: number;
}

function addRule(d: SyscallDecision, conds: Cond[], action: number): void {
  if (d.uncond !== null) return; // the first unconditional rule decides
  // A MASKED_EQ with a zero mask always holds: libseccomp drops it.
  const live = conds.filter((c) => !(c.op === "MASKED_EQ" && c.mask === 0n))
    .sort((a, b) => a.arg - b.arg);
  if (live.length === 0) {
    d.uncond = action;
    d.tree = [];
    d.nodes = 0;
    return;
  }
  d.nodes += addToLevel(d.tree, buildChain(live, 0, action));
}

function decide(profile: Profile, arch: SeccompTarget): Map<number, SyscallDecision> {
  const decisions = new Map<number, SyscallDecision>();
  let total = 0;
  for (const rule of profile.rules) {
    for (const name of rule.names) {
      const nr = syscallNumber(arch, name);
      if (nr === undefined) continue;
      let d = decisions.get(nr);
      if (!d) decisions.set(nr, d = { uncond: null, tree: [], nodes: 0 });
      const before = d.nodes;
      for (const conds of rule.alternatives) {
        try {
          addRule(d, conds, rule.action);
        } catch (e) {
          if (!(e instanceof MergeConflict)) throw e;
          throw invalid(
            rule.path,
            `a rule for "${name}" overlaps an earlier rule for it with a different action ` +
              "in a way libseccomp cannot merge (runc refuses this profile too)",
          );
        }
      }
      total += d.nodes - before;
      // Every tree node costs at least one instruction: stop before the work grows.
      if (total > BPF_MAXINSNS) {
        throw invalid(
          ROOT_PATH,
          `the filter needs at least ${total} instructions, the kernel allows ${BPF_MAXINSNS}`,
        );
      }
    }
  }
  return decisions;
}

// ---------------------------------------------------------------------------------------
// Assembly
// ---------------------------------------------------------------------------------------

const BPF_LD = 0x00, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06;
const BPF_W = 0x00, BPF_ABS = 0x20, BPF_K = 0x00;
const BPF_AND = 0x50;
const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30;

/** Opcodes, as `struct sock_filter.code` values. */
export const BPF = Object.freeze({
  LD_W_ABS: BPF_LD | BPF_W | BPF_ABS,
  AND_K: BPF_ALU | BPF_AND | BPF_K,
  JA: BPF_JMP | BPF_JA,
  JEQ_K: BPF_JMP | BPF_JEQ | BPF_K,
  JGT_K: BPF_JMP | BPF_JGT | BPF_K,
  JGE_K: BPF_JMP | BPF_JGE | BPF_K,
  RET_K: BPF_RET | BPF_K,
});

interface Label {
  insn?: Insn;
}

interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  /** The target of a JA. */
  to?: Label;
  pos: number;
}

class Assembler {
  readonly insns: Insn[] = [];
  #pending: Label[] = [];
  /** Shared return instructions, emitted at the very end. */
  readonly #rets = new Map<number, Label>();

  label(): Label {
    return {};
  }

  /** Binds `l` to the next instruction emitted. */
  bind(l: Label): void {
    this.#pending.push(l);
  }

  emit(code: number, k: number, jt?: Label, jf?: Label, to?: Label): Insn {
    const insn: Insn = { code, k: k >>> 0, jt, jf, to, pos: -1 };
    for (const l of this.#pending) l.insn = insn;
    this.#pending = [];
    this.insns.push(insn);
    return insn;
  }

  /** A label on the shared `ret action`. */
  ret(action: number): Label {
    let l = this.#rets.get(action);
    if (!l) this.#rets.set(action, l = this.label());
    return l;
  }

  /** Emits the shared returns and resolves every jump; returns the encoded program. */
  finish(): Uint8Array {
    for (const [action, l] of this.#rets) {
      this.bind(l);
      this.emit(BPF.RET_K, action);
    }
    if (this.#pending.length) throw new Error("seccomp compiler: a label was never bound");
    this.#fitJumps();
    return this.#encode();
  }

  #renumber(from: number): void {
    for (let i = from; i < this.insns.length; i++) this.insns[i].pos = i;
  }

  /**
   * Conditional jumps reach at most 255 instructions ahead. Walking backwards, a jump that
   * is too long is sent to an "island" ahead of it and within reach: a copy of the target
   * when that is a return, else a `ja` to it. An island serves every earlier jump to the
   * same target that can reach it. Inserting shifts only later instructions, whose jumps
   * were already fitted and do not cross the insertion, so one pass suffices.
   */
  #fitJumps(): void {
    this.#renumber(0);
    // The nearest island ahead of the walk, per return value and per other target.
    const retIslands = new Map<number, Insn>();
    const jaIslands = new Map<Insn, Insn>();
    for (let i = this.insns.length - 1; i >= 0; i--) {
      const insn = this.insns[i];
      if (insn.code === BPF.RET_K) {
        retIslands.set(insn.k, insn); // a return is an island for the jumps before it
        continue;
      }
      if (insn.jt === undefined) continue; // not a conditional jump
      // An island for one side lengthens the other side's jump by one: check both again.
      for (let fitted = false; !fitted;) {
        fitted = true;
        for (const side of ["jt", "jf"] as const) {
          const target = insn[side]!.insn!;
          if (target.pos - insn.pos - 1 <= 255) continue;
          fitted = false;
          const isRet = target.code === BPF.RET_K;
          let island = isRet ? retIslands.get(target.k) : jaIslands.get(target);
          if (!island || island.pos - insn.pos - 1 > 255) {
            island = isRet
              ? { code: BPF.RET_K, k: target.k, pos: -1 }
              : { code: BPF.JA, k: 0, to: { insn: target }, pos: -1 };
            this.insns.splice(insn.pos + 1, 0, island);
            this.#renumber(insn.pos + 1);
            if (isRet) retIslands.set(target.k, island);
            else jaIslands.set(target, island);
          }
          insn[side] = { insn: island };
        }
      }
    }
  }

  #encode(): Uint8Array {
    const n = this.insns.length;
    if (n > BPF_MAXINSNS) {
      throw invalid(
        ROOT_PATH,
        `the filter needs ${n} instructions, the kernel allows ${BPF_MAXINSNS}`,
      );
    }
    const out = new Uint8Array(n * 8);
    const view = new DataView(out.buffer);
    this.insns.forEach((insn, i) => {
      let jt = 0, jf = 0, k = insn.k;
      if (insn.code === BPF.JA) {
        k = insn.to!.insn!.pos - i - 1;
      } else if (insn.jt) {
        jt = insn.jt.insn!.pos - i - 1;
        jf = insn.jf!.insn!.pos - i - 1;
        if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
          throw new Error(`seccomp compiler: jump out of range at ${i}`);
        }
      }
      view.setUint16(i * 8, insn.code, true);
      view.setUint8(i * 8 + 2, jt);
      view.setUint8(i * 8 + 3, jf);
      view.setUint32(i * 8 + 4, k >>> 0, true);
    });
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Code generation
// ---------------------------------------------------------------------------------------

/** What the accumulator holds: a `seccomp_data` word, ANDed with a mask. */
interface Acc {
  off: number;
  mask: number;
}

/** Emits a level of a syscall's tree; `fail` is where to go when no node decides. */
function emitLevel(asm: Assembler, level: TreeNode[], fail: Label, accIn: Acc | null): void {
  let acc = accIn;
  level.forEach((node, i) => {
    const last = i === level.length - 1;
    const next = last ? fail : asm.label();
    const after = emitNode(asm, node, next, acc);
    // The next sibling is entered from this node's test alone when the node has no
    // subtree, so the accumulator is still what the test saw.
    acc = isLevel(node.t) || isLevel(node.f) ? null : after;
    if (!last) asm.bind(next);
  });
}

function emitNode(
  asm: Assembler,
  node: TreeNode,
  fail: Label,
  accIn: Acc | null,
): Acc | null {
  if (node.mask === 0) {
    // (word & 0) == 0 always holds (a MASKED_EQ mask with no bits in this word).
    if (isLevel(node.t)) emitLevel(asm, node.t, fail, accIn);
    else if (isAction(node.t)) asm.emit(BPF.RET_K, node.t.action);
    else asm.emit(BPF.JA, 0, undefined, undefined, fail);
    return accIn;
  }
  const off = OFF_ARGS + node.arg * 8 + (node.hi ? 4 : 0); // little-endian: low word first
  let acc = accIn;
  if (!acc || acc.off !== off || (node.mask & acc.mask) >>> 0 !== node.mask) {
    asm.emit(BPF.LD_W_ABS, off);
    acc = { off, mask: U32 };
  }
  if (node.mask !== acc.mask) {
    asm.emit(BPF.AND_K, node.mask);
    acc = { off, mask: node.mask };
  }
  const target = (o: Outcome): { label: Label; level?: TreeNode[] } => {
    if (o === null) return { label: fail };
    if (isAction(o)) return { label: asm.ret(o.action) };
    return { label: asm.label(), level: o };
  };
  const t = target(node.t), f = target(node.f);
  const code = node.test === "EQ" ? BPF.JEQ_K : node.test === "GT" ? BPF.JGT_K : BPF.JGE_K;
  asm.emit(code, node.datum, t.label, f.label);
  for (const side of [t, f]) {
    if (!side.level) continue;
    asm.bind(side.label);
    emitLevel(asm, side.level, fail, acc);
  }
  return acc;
}

/** A run of syscall numbers [start, next start) with one decision. */
interface Interval {
  start: number;
  ret?: number;
  nr?: number;
  decision?: SyscallDecision;
}

/**
 * runc's -ENOSYS stub: with a default action that refuses (not allow, log or trace), a
 * syscall numbered above every syscall the profile names is newer than the profile, and
 * gets ENOSYS (so a program falls back to an older call) instead of the default. As runc,
 * only when `architectures` lists the target (or native) architecture. Returns the first
 * such number, or undefined.
 */
function enosysFrom(p: Profile, arch: SeccompTarget): number | undefined {
  const permissive = p.defaultAction === SECCOMP_RET.ALLOW ||
    p.defaultAction === SECCOMP_RET.LOG ||
    (p.defaultAction & 0xffff0000) >>> 0 === SECCOMP_RET.TRACE;
  if (permissive || p.defaultAction === ((SECCOMP_RET.ERRNO | ENOSYS) >>> 0)) return undefined;
  const own = arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";
  if (!p.architectures.some((a) => a === own || a === "SCMP_ARCH_NATIVE")) return undefined;
  let last = -1;
  for (const name of p.names) last = Math.max(last, syscallNumber(arch, name) ?? -1);
  return last > 0 ? last + 1 : undefined;
}

function intervals(
  decisions: Map<number, SyscallDecision>,
  defaultAction: number,
  enosys?: { from: number; to: number },
): Interval[] {
  const out: Interval[] = [];
  const push = (iv: Interval) => {
    const prev = out[out.length - 1];
    if (prev && iv.ret !== undefined && prev.ret === iv.ret) return; // same action: extend
    out.push(iv);
  };
  let cursor = 0;
  for (const nr of [...decisions.keys()].sort((a, b) => a - b)) {
    const d = decisions.get(nr)!;
    if (d.uncond === null && d.tree.length === 0) continue;
    if (nr > cursor) push({ start: cursor, ret: defaultAction });
    push(d.uncond !== null ? { start: nr, ret: d.uncond } : { start: nr, nr, decision: d });
    cursor = nr + 1;
  }
  if (enosys !== undefined) {
    // Every named number is below `from`, so the decided ones all are.
    if (cursor < enosys.from) push({ start: cursor, ret: defaultAction });
    push({ start: enosys.from, ret: (SECCOMP_RET.ERRNO | ENOSYS) >>> 0 });
    cursor = enosys.to + 1;
  }
  if (cursor <= U32) push({ start: cursor, ret: defaultAction });
  return out;
}

/** A balanced search over the intervals; the accumulator holds `nr` throughout. */
function emitDispatch(
  asm: Assembler,
  ivs: Interval[],
  lo: number,
  hi: number,
  defaultAction: number,
): void {
  if (lo === hi) {
    const iv = ivs[lo];
    if (iv.ret !== undefined) {
      asm.emit(BPF.RET_K, iv.ret);
    } else {
      emitLevel(asm, iv.decision!.tree, asm.ret(defaultAction), { off: OFF_NR, mask: U32 });
    }
    return;
  }
  const mid = (lo + hi + 1) >> 1;
  const below = asm.label(), above = asm.label();
  asm.emit(BPF.JGE_K, ivs[mid].start, above, below);
  asm.bind(below);
  emitDispatch(asm, ivs, lo, mid - 1, defaultAction);
  asm.bind(above);
  emitDispatch(asm, ivs, mid, hi, defaultAction);
}

/**
 * Compiles `profile` (the OCI `linux.seccomp` object) for `arch` into a classic BPF
 * program of 8-byte `struct sock_filter` entries, ready for `SECCOMP_SET_MODE_FILTER`.
 * The semantics are libseccomp's (see the module doc). Throws a ContainerError with code
 * ConfigInvalid naming the JSON path for a bad profile, and for a program longer than the
 * kernel's 4096 instructions.
 */
export function compileSeccomp(profile: Seccomp, arch: SeccompTarget): Uint8Array {
  if (!Object.hasOwn(AUDIT_ARCH, arch)) {
    throw new ContainerError(
      "ConfigInvalid",
      `seccomp: unsupported architecture ${describe(arch)}`,
    );
  }
  const p = readProfile(profile as unknown);
  const decisions = decide(p, arch);
  const asm = new Assembler();
  const badArch = asm.ret(SECCOMP_RET.KILL_THREAD);
  const dispatch = asm.label();

  asm.emit(BPF.LD_W_ABS, OFF_ARCH);
  const archOk = asm.label();
  asm.emit(BPF.JEQ_K, AUDIT_ARCH[arch], archOk, badArch);
  asm.bind(archOk);
  asm.emit(BPF.LD_W_ABS, OFF_NR);
  if (arch === "x86_64") {
    // x32 calls (bit 30) are another ABI: bad arch, except nr -1 which a tracer may set.
    const x32 = asm.label();
    asm.emit(BPF.JGE_K, X32_SYSCALL_BIT, x32, dispatch);
    asm.bind(x32);
    asm.emit(BPF.JEQ_K, U32, dispatch, badArch);
  }
  asm.bind(dispatch);
  const from = enosysFrom(p, arch);
  // On x86_64 only nr -1 reaches here from above the x32 bit: it keeps the default.
  const to = arch === "x86_64" ? X32_SYSCALL_BIT - 1 : U32;
  const ivs = intervals(decisions, p.defaultAction, from === undefined ? undefined : { from, to });
  emitDispatch(asm, ivs, 0, ivs.length - 1, p.defaultAction);
  return asm.finish();
}
