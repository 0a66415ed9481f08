/**
 * Checks an OCI `linux.seccomp` object and turns it into the compiler's checked
 * {@linkcode Profile}. Like the rest of the config validator, every problem is recorded in a
 * `Problems` list under its JSON path (`linux.seccomp.syscalls[3].action: ...`), and a
 * profile with any problem gives no checked profile.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import {
  addProblem,
  expectInteger,
  field,
  indexPath,
  isObject,
  type JsonObject,
  keyPath,
  ownField,
  type Problems,
} from "../config/problems.ts";
import { EPERM, SECCOMP_FILTER_FLAG, SECCOMP_RET } from "./kernel.ts";
import {
  type Cond,
  type Op,
  type Profile,
  PROFILE_PATH,
  type Rule,
  type Seccomp,
  type SeccompAction,
  type SeccompArchitecture,
  type SeccompFlag,
  type SeccompOperator,
  usesNotify,
} from "./profile.ts";

const U64_MAX = (1n << 64n) - 1n;

/** Each action's `SECCOMP_RET_*` value; ERRNO and TRACE get their errno in the low bits. */
const ACTION_VALUES: Readonly<Record<SeccompAction, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET.USER_NOTIF,
};

/** Each operator of the spec as the compiler names it. */
const OPERATORS: Readonly<Record<SeccompOperator, Op>> = {
  SCMP_CMP_NE: "NE",
  SCMP_CMP_LT: "LT",
  SCMP_CMP_LE: "LE",
  SCMP_CMP_EQ: "EQ",
  SCMP_CMP_GE: "GE",
  SCMP_CMP_GT: "GT",
  SCMP_CMP_MASKED_EQ: "MASKED_EQ",
};

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

const FLAGS: ReadonlySet<string> = new Set(Object.keys(FLAG_BITS));

/** The filter flags a profile may name, with the kernel release that brought each. */
export const SECCOMP_FLAG_SINCE: Readonly<Record<SeccompFlag, [number, number]>> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17],
  SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17],
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

/** Syscalls the runtime itself makes between loading the filter and handing the listener on. */
const NEVER_NOTIFIED = ["write", "sendmsg"];

/** A value as the messages show it: strings quoted, bigints with their `n`. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

/** The ConfigInvalid error for a profile's problems, one a line. */
export function profileError(problems: Problems): ContainerError {
  return new ContainerError("ConfigInvalid", problems.join("\n"));
}

/** Records a problem and gives `undefined`, for `return reject(...)`. */
function reject(problems: Problems, path: string, message: string): undefined {
  addProblem(problems, path, message);
  return undefined;
}

function checkU64(problems: Problems, path: string, v: unknown): bigint | undefined {
  if (typeof v === "bigint") {
    return v < 0n || v > U64_MAX ? reject(problems, path, `${v} is not a uint64`) : v;
  }
  if (typeof v !== "number") return reject(problems, path, `expected a uint64, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < 0) {
    return reject(problems, path, `${describe(v)} is not a uint64`);
  }
  if (!Number.isSafeInteger(v)) {
    return reject(
      problems,
      path,
      `${v} is above 2^53 and may not be the value written in the JSON; pass it as a bigint`,
    );
  }
  return BigInt(v);
}

/** The action named by `object[actionKey]` with the errno of `object[errnoKey]`, as a value. */
function checkAction(
  problems: Problems,
  object: JsonObject,
  base: string,
  actionKey: string,
  errnoKey: string,
): number | undefined {
  const actionPath = keyPath(base, actionKey), errnoPath = keyPath(base, errnoKey);
  const action = ownField(object, actionKey);
  if (typeof action !== "string") {
    return reject(problems, actionPath, `expected an action, got ${describe(action)}`);
  }
  if (!Object.hasOwn(ACTION_VALUES, action)) {
    return reject(problems, actionPath, `unknown action ${JSON.stringify(action)}`);
  }
  const errnoRet = field(object, errnoKey);
  const takesErrno = action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE";
  if (errnoRet !== undefined && !takesErrno) {
    const message = `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not ${action}`;
    return reject(problems, errnoPath, message);
  }
  const data = errnoRet === undefined ? EPERM : expectInteger(
    problems,
    errnoPath,
    errnoRet,
    0,
    0xffff,
    `expected an errno from 0 to 65535, got ${describe(errnoRet)}`,
  );
  if (data === undefined) return undefined;
  const value = ACTION_VALUES[action as SeccompAction];
  return takesErrno ? (value | data) >>> 0 : value;
}

/**
 * An array of strings, each one of `allowed` when given; undefined when anything is wrong
 * (each bad element is reported at its own path).
 */
function checkStringList(
  problems: Problems,
  path: string,
  value: unknown,
  allowed?: ReadonlySet<string>,
): string[] | undefined {
  if (!Array.isArray(value)) {
    return reject(problems, path, `expected an array of strings, got ${describe(value)}`);
  }
  const before = problems.length;
  value.forEach((item, i) => {
    if (typeof item !== "string") {
      addProblem(problems, indexPath(path, i), `expected a string, got ${describe(item)}`);
    } else if (allowed && !allowed.has(item)) {
      addProblem(problems, indexPath(path, i), `unknown value ${JSON.stringify(item)}`);
    }
  });
  return problems.length === before ? value : undefined;
}

function checkOperator(problems: Problems, path: string, op: unknown): Op | undefined {
  if (typeof op !== "string") {
    return reject(problems, path, `expected an operator, got ${describe(op)}`);
  }
  if (!Object.hasOwn(OPERATORS, op)) {
    return reject(problems, path, `unknown operator ${JSON.stringify(op)}`);
  }
  return OPERATORS[op as SeccompOperator];
}

function checkCond(problems: Problems, path: string, v: unknown): Cond | undefined {
  if (!isObject(v)) return reject(problems, path, `expected an object, got ${describe(v)}`);
  const rawIndex = ownField(v, "index");
  const index = expectInteger(
    problems,
    keyPath(path, "index"),
    rawIndex,
    0,
    5,
    `expected an argument index from 0 to 5, got ${describe(rawIndex)}`,
  );
  const op = checkOperator(problems, keyPath(path, "op"), ownField(v, "op"));
  const value = checkU64(problems, keyPath(path, "value"), ownField(v, "value"));
  const two = field(v, "valueTwo");
  const valueTwo = two === undefined ? 0n : checkU64(problems, keyPath(path, "valueTwo"), two);
  if (index === undefined || op === undefined || value === undefined || valueTwo === undefined) {
    return undefined;
  }
  return op === "MASKED_EQ"
    ? { arg: index, op, mask: value, datum: valueTwo }
    : { arg: index, op, mask: U64_MAX, datum: value };
}

/** The names of a rule: a non-empty array of non-empty strings. */
function checkNames(problems: Problems, path: string, value: unknown): string[] | undefined {
  const names = checkStringList(problems, path, value);
  if (names === undefined) return undefined;
  if (names.length === 0) return reject(problems, path, "must name at least one syscall");
  const before = problems.length;
  names.forEach((name, j) => {
    if (name === "") addProblem(problems, indexPath(path, j), "empty syscall name");
  });
  return problems.length === before ? names : undefined;
}

/** As runc: a notify rule needs an agent, and never applies to the hand-over's own calls. */
function checkNotified(
  problems: Problems,
  path: string,
  names: string[] | undefined,
  listenerPath: unknown,
): void {
  // A listenerPath of the wrong type is reported where the profile's fields are checked.
  if (listenerPath === undefined || listenerPath === "") {
    addProblem(
      problems,
      keyPath(PROFILE_PATH, "listenerPath"),
      `required by SCMP_ACT_NOTIFY (${path})`,
    );
  }
  names?.forEach((name, j) => {
    if (NEVER_NOTIFIED.includes(name)) {
      addProblem(
        problems,
        indexPath(keyPath(path, "names"), j),
        `SCMP_ACT_NOTIFY cannot be used for the ${name} syscall`,
      );
    }
  });
}

function checkRule(
  problems: Problems,
  path: string,
  entry: unknown,
  listenerPath: unknown,
): Rule | undefined {
  if (!isObject(entry)) return reject(problems, path, `expected an object, got ${describe(entry)}`);
  const before = problems.length;
  const names = checkNames(problems, keyPath(path, "names"), ownField(entry, "names"));
  const action = checkAction(problems, entry, path, "action", "errnoRet");
  if (action === SECCOMP_RET.USER_NOTIF) checkNotified(problems, path, names, listenerPath);
  const argsPath = keyPath(path, "args");
  const args = field(entry, "args") ?? [];
  const conds = Array.isArray(args)
    ? args.map((a, j) => checkCond(problems, indexPath(argsPath, j), a))
    : reject(problems, argsPath, `expected an array, got ${describe(args)}`);
  if (problems.length > before || names === undefined || action === undefined || !conds) {
    return undefined;
  }
  const checked = conds.filter((c): c is Cond => c !== undefined); // all, with no problem
  // runc: a rule with two conditions on one argument becomes one rule per condition.
  const seen = new Set<number>();
  const repeated = checked.some((c) => seen.size === seen.add(c.arg).size);
  const alternatives = repeated ? checked.map((c) => [c]) : [checked];
  return { path, action, names, alternatives };
}

function checkFlags(problems: Problems, input: JsonObject): number | undefined {
  const flags = field(input, "flags");
  if (flags === undefined) return 0;
  const names = checkStringList(problems, keyPath(PROFILE_PATH, "flags"), flags, FLAGS);
  return names?.reduce((bits, name) => bits | FLAG_BITS[name as SeccompFlag], 0);
}

/**
 * Checks `input` as the OCI `linux.seccomp` object: records every problem in `problems`
 * under its JSON path and returns the checked profile, or `undefined` when there was any.
 */
export function checkProfile(problems: Problems, input: unknown): Profile | undefined {
  if (!isObject(input)) {
    return reject(problems, PROFILE_PATH, `expected an object, got ${describe(input)}`);
  }
  const before = problems.length;
  const defaultAction = checkAction(
    problems,
    input,
    PROFILE_PATH,
    "defaultAction",
    "defaultErrnoRet",
  );
  if (defaultAction === SECCOMP_RET.USER_NOTIF) {
    const message = "SCMP_ACT_NOTIFY cannot be used as default action";
    addProblem(problems, keyPath(PROFILE_PATH, "defaultAction"), message);
  }
  const arches = field(input, "architectures");
  const architectures = arches === undefined
    ? []
    : checkStringList(problems, keyPath(PROFILE_PATH, "architectures"), arches, ARCHITECTURES);
  checkFlags(problems, input);
  for (const key of ["listenerPath", "listenerMetadata"]) {
    const v = field(input, key);
    if (v !== undefined && typeof v !== "string") {
      addProblem(problems, keyPath(PROFILE_PATH, key), `expected a string, got ${describe(v)}`);
    }
  }
  const syscallsPath = keyPath(PROFILE_PATH, "syscalls");
  const syscalls = field(input, "syscalls") ?? [];
  const names: string[] = [];
  const rules: Rule[] = [];
  if (!Array.isArray(syscalls)) {
    addProblem(problems, syscallsPath, `expected an array, got ${describe(syscalls)}`);
  } else {
    syscalls.forEach((entry, i) => {
      const path = indexPath(syscallsPath, i);
      const rule = checkRule(problems, path, entry, field(input, "listenerPath"));
      if (rule === undefined) return;
      names.push(...rule.names);
      // runc skips a rule that would do what the default does (libseccomp refuses it).
      if (rule.action !== defaultAction) rules.push(rule);
    });
  }
  if (problems.length > before || defaultAction === undefined || architectures === undefined) {
    return undefined;
  }
  return { defaultAction, rules, architectures, names };
}

/**
 * The `seccomp(2)` flags for the profile: TSYNC, LOG and SPEC_ALLOW map to their bits;
 * a profile with `SCMP_ACT_NOTIFY` rules gets NEW_LISTENER, and then
 * `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` its bit (it only applies to a listener, so it
 * adds nothing without one). Throws ConfigInvalid for an unknown flag.
 */
export function seccompFlags(profile: Seccomp): number {
  const input: unknown = profile;
  const problems: Problems = [];
  let flags = isObject(input)
    ? checkFlags(problems, input)
    : reject(problems, PROFILE_PATH, `expected an object, got ${describe(input)}`);
  if (flags === undefined) throw profileError(problems);
  if (usesNotify(profile)) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    if (profile.flags?.includes("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")) {
      flags |= SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV;
    }
  }
  return flags;
}
