/**
 * Validation of the `process` section of a container config. Internal to `src/config/`.
 *
 * @module
 */

import { CPU_LIST, parseCpuList } from "./cpu_list.ts";
import { CAPABILITIES } from "./capabilities.ts";
import {
  addProblem,
  assignDefined,
  expectAbsolutePath,
  expectArray,
  expectBoolean,
  expectEnvList,
  expectInteger,
  expectObject,
  expectOneOf,
  expectString,
  expectStringArray,
  field,
  indexPath,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
  rejectFields,
} from "./problems.ts";
import {
  type Capabilities,
  type ConsoleSize,
  type ExecCPUAffinity,
  IOPRIO_CLASSES,
  type IoPriority,
  type Process,
  type Rlimit,
  RLIMIT_TYPES,
  type RlimitType,
  SCHED_FLAGS,
  SCHED_POLICIES,
  type Scheduler,
  type User,
} from "./types.ts";

/** The largest user or group id a process may run as (2^32 - 2; 2^32 - 1 means "none"). */
export const MAX_ID = 2 ** 32 - 2;

/** Resource limits are 64-bit; 2^64 - 1 (as a JSON number) means unlimited. */
const MAX_RLIMIT = 2 ** 64;

/** Process fields of the spec that cell does not implement yet. */
const UNSUPPORTED_FIELDS = [
  "commandLine",
];

const CAPABILITY_SETS = ["bounding", "effective", "permitted", "inheritable", "ambient"] as const;

/**
 * Checks `process` (required by cell) and returns a normalized copy, recording every
 * problem. Returns `undefined` when the section is unusable.
 */
export function validateProcess(problems: Problems, value: unknown): Process | undefined {
  const path = "process";
  if (value === undefined) {
    addProblem(problems, path, "required");
    return undefined;
  }
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  rejectFields(problems, object, path, UNSUPPORTED_FIELDS, "not supported");
  const apparmorProfile = checkLsm(problems, object, "apparmorProfile", "AppArmor");
  const selinuxLabel = checkLsm(problems, object, "selinuxLabel", "SELinux");

  // A terminal needs a console socket (or the CLI's own pty) when the process starts.
  const terminal = optional(
    field(object, "terminal"),
    (v) => expectBoolean(problems, "process.terminal", v),
  );
  const consoleSize = optional(
    field(object, "consoleSize"),
    (v) => checkConsoleSize(problems, v),
  );
  const user = checkUser(problems, field(object, "user"));
  const args = checkArgs(problems, field(object, "args"));
  const env = optional(field(object, "env"), (v) => checkEnv(problems, v)) ?? [];
  const cwd = checkCwd(problems, field(object, "cwd"));
  const capabilities = optional(
    field(object, "capabilities"),
    (v) => checkCapabilities(problems, v),
  );
  const rlimits = optional(field(object, "rlimits"), (v) => checkRlimits(problems, v)) ?? [];
  const noNewPrivileges = optional(
    field(object, "noNewPrivileges"),
    (v) => expectBoolean(problems, "process.noNewPrivileges", v),
  );
  const oomScoreAdj = optional(
    field(object, "oomScoreAdj"),
    (v) => expectInteger(problems, "process.oomScoreAdj", v, -1000, 1000),
  );
  const ioPriority = optional(field(object, "ioPriority"), (v) => checkIoPriority(problems, v));
  const scheduler = optional(field(object, "scheduler"), (v) => checkScheduler(problems, v));
  const execCPUAffinity = optional(
    field(object, "execCPUAffinity"),
    (v) => checkExecCpuAffinity(problems, v),
  );

  if (user === undefined || args === undefined || cwd === undefined) return undefined;
  const process = assignDefined<Process>({ user, args, env, cwd }, { terminal, consoleSize });
  return assignDefined(process, {
    capabilities,
    rlimits,
    noNewPrivileges,
    oomScoreAdj,
    ioPriority,
    scheduler,
    execCPUAffinity,
    apparmorProfile,
    selinuxLabel,
  });
}

/** `ioPriority`: one of the three classes and a level 0 to 7. */
function checkIoPriority(problems: Problems, value: unknown): IoPriority | undefined {
  const path = "process.ioPriority";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const klass = expectOneOf(
    problems,
    keyPath(path, "class"),
    field(object, "class"),
    Object.keys(IOPRIO_CLASSES) as (keyof typeof IOPRIO_CLASSES)[],
  );
  const priority = expectInteger(
    problems,
    keyPath(path, "priority"),
    field(object, "priority"),
    0,
    7,
  );
  if (klass === undefined || priority === undefined) return undefined;
  return { class: klass, priority };
}

/** The most CPUs a list may name (the native core's mask). */
const MAX_CPUS = 1024;

/**
 * Checks a CPU or node list ("0-3,7"; spaces after commas allowed) whose numbers are all
 * below {@linkcode MAX_CPUS}, the native core's mask; returns the numbers.
 */
export function checkCpuList(
  problems: Problems,
  path: string,
  value: unknown,
): number[] | undefined {
  const text = expectString(problems, path, value);
  if (text === undefined) return undefined;
  const numbers = CPU_LIST.test(text.replace(/\s/g, "")) ? parseCpuList(text) : [];
  // A range written backwards ("1-0") gives no number.
  if (numbers.length === 0 || numbers.some((n) => n >= MAX_CPUS)) {
    addProblem(problems, path, `"${text}" is not a CPU or range list below ${MAX_CPUS}`);
    return undefined;
  }
  return numbers;
}

/** `execCPUAffinity`: `initial` and `final` CPU lists, each optional. */
function checkExecCpuAffinity(problems: Problems, value: unknown): ExecCPUAffinity | undefined {
  const path = "process.execCPUAffinity";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const out: ExecCPUAffinity = {};
  for (const key of ["initial", "final"] as const) {
    const list = field(object, key);
    if (list === undefined) continue;
    if (checkCpuList(problems, keyPath(path, key), list) !== undefined) out[key] = list as string;
  }
  return out;
}

/** `scheduler`: a Linux policy, its nice value or priority, known flags, deadline times. */
function checkScheduler(problems: Problems, value: unknown): Scheduler | undefined {
  const path = "process.scheduler";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const policy = expectOneOf(
    problems,
    keyPath(path, "policy"),
    field(object, "policy"),
    Object.keys(SCHED_POLICIES) as (keyof typeof SCHED_POLICIES)[],
  );
  const realTime = policy === "SCHED_FIFO" || policy === "SCHED_RR";
  const nice = optional(
    field(object, "nice"),
    (v) => expectInteger(problems, keyPath(path, "nice"), v, -20, 19),
  );
  const priority = optional(
    field(object, "priority"),
    (v) =>
      expectInteger(problems, keyPath(path, "priority"), v, realTime ? 1 : 0, realTime ? 99 : 0),
  );
  if (realTime && priority === undefined) {
    addProblem(problems, keyPath(path, "priority"), `required for ${policy} (1 to 99)`);
  }
  const flags = optional(
    field(object, "flags"),
    (v) =>
      expectStringArray(problems, keyPath(path, "flags"), v, (at, flag) => {
        if (!Object.hasOwn(SCHED_FLAGS, flag)) {
          addProblem(problems, at, `unknown flag "${flag}"`);
          return false;
        }
        return true;
      }),
  );
  const times: Record<string, number | undefined> = {};
  for (const key of ["runtime", "deadline", "period"]) {
    times[key] = optional(
      field(object, key),
      (v) => expectInteger(problems, keyPath(path, key), v, 0, Number.MAX_SAFE_INTEGER),
    );
  }
  if (policy === undefined) return undefined;
  return assignDefined<Scheduler>({ policy }, {
    nice,
    priority,
    flags: flags as Scheduler["flags"],
    runtime: times.runtime,
    deadline: times.deadline,
    period: times.period,
  });
}

/** `consoleSize`: rows and columns, each a u16 as `struct winsize` holds them. */
function checkConsoleSize(problems: Problems, value: unknown): ConsoleSize | undefined {
  const path = "process.consoleSize";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const height = expectInteger(
    problems,
    keyPath(path, "height"),
    field(object, "height"),
    0,
    0xffff,
  );
  const width = expectInteger(problems, keyPath(path, "width"), field(object, "width"), 0, 0xffff);
  if (height === undefined || width === undefined) return undefined;
  return { height, width };
}

function checkUser(problems: Problems, value: unknown): User | undefined {
  const path = "process.user";
  if (value === undefined) {
    addProblem(problems, path, "required");
    return undefined;
  }
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  rejectFields(problems, object, path, ["username"], "not supported");
  const uid = checkId(problems, keyPath(path, "uid"), field(object, "uid"));
  const gid = checkId(problems, keyPath(path, "gid"), field(object, "gid"));
  const umask = optional(
    field(object, "umask"),
    (v) => expectInteger(problems, keyPath(path, "umask"), v, 0, 0o777),
  );
  const additionalGids = optional(
    field(object, "additionalGids"),
    (v) => checkIdList(problems, keyPath(path, "additionalGids"), v),
  ) ?? [];
  if (uid === undefined || gid === undefined) return undefined;
  return assignDefined<User>({ uid, gid, additionalGids }, { umask });
}

function checkId(problems: Problems, path: string, value: unknown): number | undefined {
  if (value === undefined) {
    addProblem(problems, path, "required");
    return undefined;
  }
  return expectInteger(problems, path, value, 0, MAX_ID);
}

function checkIdList(problems: Problems, path: string, value: unknown): number[] | undefined {
  const list = expectArray(problems, path, value);
  if (list === undefined) return undefined;
  const ids: number[] = [];
  list.forEach((item, i) => {
    const id = expectInteger(problems, indexPath(path, i), item, 0, MAX_ID);
    if (id !== undefined) ids.push(id);
  });
  return ids;
}

function checkArgs(problems: Problems, value: unknown): string[] | undefined {
  const path = "process.args";
  if (!Array.isArray(value) || value.length === 0) {
    addProblem(problems, path, "must be a non-empty array of strings");
    return undefined;
  }
  const before = problems.length;
  const args = expectStringArray(problems, path, value);
  return problems.length === before ? args : undefined;
}

function checkEnv(problems: Problems, value: unknown): string[] | undefined {
  return expectEnvList(problems, "process.env", value);
}

function checkCwd(problems: Problems, value: unknown): string | undefined {
  if (value === undefined) {
    addProblem(problems, "process.cwd", "required");
    return undefined;
  }
  return expectAbsolutePath(problems, "process.cwd", value);
}

function checkCapabilities(problems: Problems, value: unknown): Capabilities | undefined {
  const path = "process.capabilities";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const sets: Capabilities = {};
  for (const name of CAPABILITY_SETS) {
    const setPath = keyPath(path, name);
    sets[name] = optional(
      field(object, name),
      (v) =>
        expectStringArray(problems, setPath, v, (itemPath, cap) => {
          if (CAPABILITIES.includes(cap)) return true;
          addProblem(problems, itemPath, `unknown capability ${JSON.stringify(cap)}`);
          return false;
        }),
    ) ?? [];
  }
  return sets;
}

function checkRlimits(problems: Problems, value: unknown): Rlimit[] | undefined {
  const path = "process.rlimits";
  const list = expectArray(problems, path, value);
  if (list === undefined) return undefined;
  const seen = new Set<string>();
  const rlimits: Rlimit[] = [];
  list.forEach((item, i) => {
    const itemPath = indexPath(path, i);
    const object = expectObject(problems, itemPath, item);
    if (object === undefined) return;
    const rlimit = checkRlimit(problems, itemPath, object);
    if (rlimit === undefined) return;
    if (seen.has(rlimit.type)) {
      addProblem(problems, keyPath(itemPath, "type"), `duplicate limit ${rlimit.type}`);
      return;
    }
    seen.add(rlimit.type);
    rlimits.push(rlimit);
  });
  return rlimits;
}

function checkRlimit(problems: Problems, path: string, object: JsonObject): Rlimit | undefined {
  const typePath = keyPath(path, "type");
  const typeValue = field(object, "type");
  let type: RlimitType | undefined;
  if (typeValue === undefined) addProblem(problems, typePath, "required");
  else if (typeof typeValue !== "string") addProblem(problems, typePath, "must be a string");
  else if (!isRlimitType(typeValue)) {
    addProblem(problems, typePath, `unknown resource limit ${JSON.stringify(typeValue)}`);
  } else type = typeValue;
  const hard = checkLimit(problems, keyPath(path, "hard"), field(object, "hard"));
  const soft = checkLimit(problems, keyPath(path, "soft"), field(object, "soft"));
  if (type === undefined || hard === undefined || soft === undefined) return undefined;
  if (soft > hard) {
    addProblem(problems, keyPath(path, "soft"), `must not exceed hard (${soft} > ${hard})`);
    return undefined;
  }
  return { type, hard, soft };
}

function isRlimitType(name: string): name is RlimitType {
  return (RLIMIT_TYPES as readonly string[]).includes(name);
}

function checkLimit(problems: Problems, path: string, value: unknown): number | undefined {
  return expectInteger(problems, path, value, 0, MAX_RLIMIT, "must be a non-negative integer");
}

/**
 * A security label the config asks for must never be dropped silently: without the
 * module on this host it is refused as such; with it, cell cannot apply it yet.
 */
function checkLsm(
  problems: Problems,
  object: JsonObject,
  key: "apparmorProfile" | "selinuxLabel",
  module: "AppArmor" | "SELinux",
): string | undefined {
  const value = field(object, key);
  if (value === undefined || value === "") return undefined;
  const label = expectString(problems, `process.${key}`, value);
  if (label === undefined) return undefined;
  if (label.includes("\0") || label.includes("\n")) {
    addProblem(problems, `process.${key}`, "must not contain NUL or newline");
    return undefined;
  }
  if (!lsmEnabled(module)) {
    // Never dropped: a process meant to be confined must not run unconfined.
    addProblem(
      problems,
      `process.${key}`,
      `this host has no ${module}, so the process cannot be confined as asked`,
    );
    return undefined;
  }
  return label;
}

/** Whether the kernel runs the LSM (AppArmor: its module parameter; SELinux: selinuxfs). */
export function lsmEnabled(module: "AppArmor" | "SELinux"): boolean {
  try {
    if (module === "AppArmor") {
      return Deno.readTextFileSync("/sys/module/apparmor/parameters/enabled").trim() === "Y";
    }
    return Deno.statSync("/sys/fs/selinux").isDirectory;
  } catch {
    return false;
  }
}
