/**
 * The plans the native core runs: one for a container's init (new namespaces, rootfs,
 * then the process), one for a process joining a running container (exec). Pure: what
 * they need of the host comes in {@linkcode HostFacts}, and they return the ops as values
 * (`ffi/plan_encoder.ts` makes the bytes).
 *
 * @module
 */

import { CAPABILITIES } from "../config/capabilities.ts";
import {
  type Capabilities,
  type ConsoleSize,
  IOPRIO_CLASSES,
  MEMORY_POLICY_FLAGS,
  MEMORY_POLICY_MODES,
  type NamespaceType,
  PERSONALITY_DOMAINS,
  SCHED_FLAGS,
  SCHED_POLICIES,
  type Spec,
  TIME_NAMESPACE_CLOCKS,
  type TimeOffsets,
} from "../config/types.ts";
import { parseCpuList } from "../config/cpu_list.ts";
import { validateProcess } from "../config/validate_process.ts";
import { ContainerError } from "../errors.ts";
import type { HostFacts } from "../plan/host_facts.ts";
import type { PlanOp } from "../plan/ops.ts";
import { planMaskedPaths, planRootfs } from "../rootfs/plan.ts";
import type { MapWriter } from "../userns/id_maps.ts";
import type { ProcessOptions } from "./options.ts";
import { type InitHooks, planBeforeRootChange, planStartHooks } from "./plan_hooks.ts";

/** clone/unshare/setns flags by OCI namespace type. */
const NS_FLAGS = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
} as const;

/** The /proc/<pid>/ns/<name> file of each namespace type. */
const NS_FILES = {
  mount: "mnt",
  cgroup: "cgroup",
  uts: "uts",
  ipc: "ipc",
  user: "user",
  pid: "pid",
  network: "net",
  time: "time",
} as const;

const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/**
 * The order namespaces are joined: user first (it grants the rights for the rest), but
 * time before it: joining a time namespace needs CAP_SYS_ADMIN in our own user namespace
 * too, which a container's user namespace does not give over one the host made.
 */
const JOIN_ORDER: NamespaceType[] = [
  "time",
  "user",
  "ipc",
  "uts",
  "network",
  "pid",
  "cgroup",
  "mount",
];

function capMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) mask |= 1n << BigInt(CAPABILITIES.indexOf(name));
  return mask;
}

/** The process as it will run: options over the config's process. */
export interface ResolvedProcess {
  /** argv. */
  args: string[];
  /** env. */
  env: string[];
  /** cwd. */
  cwd: string;
  /** uid, gid, extra gids. */
  user: { uid: number; gid: number; additionalGids: number[] };
  /** umask. */
  umask: number;
  /** capability sets, or undefined to leave them as they are. */
  capabilities?: Capabilities;
  /** no_new_privs. */
  noNewPrivileges: boolean;
  /** rlimits. */
  rlimits: { type: string; soft: number; hard: number }[];
  /** The AppArmor profile to exec into. */
  apparmorProfile?: string;
  /** The SELinux label to exec into. */
  selinuxLabel?: string;
  /** Whether the process gets a terminal (then `consoleSocket` is set). */
  terminal: boolean;
  /** The socket the terminal's master is sent to. */
  consoleSocket?: number;
  /** The terminal's size. */
  consoleSize?: ConsoleSize;
}

/**
 * Merges start options with the config's process and validates the result with the
 * config's own rules (a start option is as untrusted as a config field).
 * @throws ContainerError ConfigInvalid naming each bad field.
 */
export function resolveProcess(spec: Spec, options: ProcessOptions): ResolvedProcess {
  const merged = mergeProcess(spec, options);
  const problems: string[] = [];
  validateProcess(problems, {
    terminal: merged.terminal,
    consoleSize: merged.consoleSize,
    user: { ...merged.user, umask: merged.umask },
    args: merged.args,
    env: merged.env,
    cwd: merged.cwd,
    capabilities: merged.capabilities,
    rlimits: merged.rlimits,
    noNewPrivileges: merged.noNewPrivileges,
    apparmorProfile: merged.apparmorProfile,
    selinuxLabel: merged.selinuxLabel,
  });
  checkStdio(problems, options);
  checkTerminal(problems, options, merged);
  if (problems.length > 0) {
    throw new ContainerError("ConfigInvalid", `invalid process:\n${problems.join("\n")}`);
  }
  return merged;
}

const STDIO_MODES = ["inherit", "null", "piped"];

function checkStdio(problems: string[], options: ProcessOptions): void {
  for (const name of ["stdin", "stdout", "stderr"] as const) {
    const mode = options[name];
    if (mode !== undefined && !STDIO_MODES.includes(mode)) {
      problems.push(`${name}: must be one of ${STDIO_MODES.join(", ")}`);
    }
  }
  for (const [i, fd] of (options.extraFds ?? []).entries()) {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      problems.push(`extraFds[${i}]: must be an open fd number`);
    }
  }
}

/**
 * A terminal comes with a console socket and is the process's whole stdio; a console
 * socket asks for a terminal unless `terminal: false` says otherwise.
 */
function checkTerminal(problems: string[], options: ProcessOptions, proc: ResolvedProcess): void {
  const socket = options.consoleSocket;
  if (socket !== undefined && (!Number.isInteger(socket) || socket < 0 || socket > 0x7fffffff)) {
    problems.push("consoleSocket: must be an open fd number");
  }
  if (!proc.terminal) {
    if (socket !== undefined) {
      problems.push("consoleSocket: the process has no terminal (terminal is false)");
    }
    return;
  }
  if (socket === undefined) problems.push("process.terminal needs a console socket");
  for (const name of ["stdin", "stdout", "stderr"] as const) {
    if (options[name] !== undefined && options[name] !== "inherit") {
      problems.push(`${name}: the process's terminal is its ${name}; leave it out`);
    }
  }
}

function mergeProcess(spec: Spec, options: ProcessOptions): ResolvedProcess {
  const base = spec.process;
  return {
    args: options.args ?? base?.args ?? [],
    env: options.env ?? base?.env ?? [],
    cwd: options.cwd ?? base?.cwd ?? "/",
    user: {
      uid: options.user?.uid ?? base?.user.uid ?? 0,
      gid: options.user?.gid ?? base?.user.gid ?? 0,
      additionalGids: options.user?.additionalGids ?? base?.user.additionalGids ?? [],
    },
    umask: options.umask ?? base?.user.umask ?? 0o022,
    capabilities: options.capabilities ?? base?.capabilities,
    noNewPrivileges: options.noNewPrivileges ?? base?.noNewPrivileges ?? false,
    rlimits: options.rlimits ?? base?.rlimits ?? [],
    apparmorProfile: options.apparmorProfile ?? base?.apparmorProfile,
    selinuxLabel: options.selinuxLabel ?? base?.selinuxLabel,
    terminal: options.terminal ?? (options.consoleSocket !== undefined || base?.terminal === true),
    consoleSocket: options.consoleSocket,
    consoleSize: options.consoleSize ?? base?.consoleSize,
  };
}

/** The seccomp agent a notify listener goes to: its socket and the state in pieces. */
export interface ListenerPlan {
  /** A connected socket of the caller. */
  socket: number;
  /** The state's text, split where the process's host pid goes. */
  pieces: string[];
}

/** The ops of the process itself, the same for an init and an exec. */
function planProcess(
  spec: Spec,
  options: {
    process: ResolvedProcess;
    stdio: [number, number, number];
    extraFds: readonly number[];
    seccompListener?: ListenerPlan;
  },
  host: Pick<HostFacts, "lastCap" | "seccomp">,
  userns: { setgroupsDenied: boolean },
): PlanOp[] {
  const { process: proc, stdio, extraFds, seccompListener: listener } = options;
  const seccomp = spec.linux?.seccomp ? host.seccomp : undefined;
  if (spec.linux?.seccomp && !seccomp) {
    throw new Error("planProcess: the host facts lack the compiled seccomp filter");
  }
  const plan: PlanOp[] = [];
  for (const r of proc.rlimits) {
    const { soft, hard } = r;
    plan.push({ op: "rlimit", what: `set ${r.type}`, resource: RLIMITS[r.type], soft, hard });
  }
  plan.push({ op: "args", what: "args", args: proc.args });
  plan.push({ op: "env", what: "env", env: proc.env });
  plan.push({ op: "cwd", what: "cwd", path: proc.cwd });
  const { uid, gid, additionalGids } = proc.user;
  plan.push({ op: "user", what: "user", uid, gid, additionalGids });
  if (userns.setgroupsDenied) {
    if (additionalGids.length > 0) {
      throw new ContainerError(
        "ConfigInvalid",
        "process.user.additionalGids: the container's user namespace denies setgroups",
      );
    }
    plan.push({ op: "noSetgroups", what: "keep the groups (setgroups is denied)" });
  }
  if (proc.apparmorProfile) {
    const profile = proc.apparmorProfile;
    const what = `set the AppArmor profile "${profile}"`;
    plan.push({ op: "execLabel", what, lsm: "apparmor", content: `exec ${profile}` });
  }
  if (proc.selinuxLabel) {
    const label = proc.selinuxLabel;
    const what = `set the SELinux label "${label}"`;
    plan.push({ op: "execLabel", what, lsm: "selinux", content: label });
  }
  plan.push({ op: "umask", what: "umask", mask: proc.umask });
  // The config's, for the init and every exec (an exec's process starts from it, as runc's).
  const io = spec.process?.ioPriority;
  if (io) {
    const what = `set the I/O priority to ${io.class} ${io.priority}`;
    plan.push({ op: "ioPriority", what, ioClass: IOPRIO_CLASSES[io.class], level: io.priority });
  }
  const sched = spec.process?.scheduler;
  if (sched) {
    plan.push({
      op: "scheduler",
      what: `set the scheduling policy ${sched.policy}`,
      policy: SCHED_POLICIES[sched.policy],
      nice: sched.nice ?? 0,
      priority: sched.priority ?? 0,
      flags: BigInt((sched.flags ?? []).reduce((bits, f) => bits | SCHED_FLAGS[f], 0)),
      runtime: BigInt(sched.runtime ?? 0),
      deadline: BigInt(sched.deadline ?? 0),
      period: BigInt(sched.period ?? 0),
    });
  }
  const policy = spec.linux?.memoryPolicy;
  if (policy) {
    const flags = (policy.flags ?? []).reduce((bits, f) => bits | MEMORY_POLICY_FLAGS[f], 0);
    const nodes = policy.nodes === undefined ? [] : [...new Set(parseCpuList(policy.nodes))];
    plan.push({
      op: "memoryPolicy",
      what: `set the memory policy ${policy.mode}${
        policy.nodes ? ` on nodes ${policy.nodes}` : ""
      }`,
      mode: MEMORY_POLICY_MODES[policy.mode] | flags,
      nodes,
    });
  }
  const personality = spec.linux?.personality;
  if (personality) {
    const what = `set the personality ${personality.domain}`;
    plan.push({ op: "personality", what, persona: PERSONALITY_DOMAINS[personality.domain] });
  }
  plan.push({ op: "stdio", what: "stdio", fds: stdio });
  if (proc.terminal && proc.consoleSocket !== undefined) {
    // Made in the child after the root change; it replaces the stdio above.
    const socket = proc.consoleSocket;
    const what = `make a terminal and send it to the console socket (fd ${socket})`;
    plan.push({ op: "consoleSocket", what, socket });
    const size = proc.consoleSize;
    if (size) {
      const what = `set the terminal's size to ${size.height}x${size.width}`;
      plan.push({ op: "consoleSize", what, rows: size.height, columns: size.width });
    }
  }
  if (extraFds.length > 0) plan.push({ op: "fds", what: "fds", fds: extraFds });
  const caps = proc.capabilities;
  if (caps) {
    const permitted = capMask(caps.permitted);
    const inheritable = capMask(caps.inheritable);
    // The kernel only raises an ambient capability that is also permitted and
    // inheritable; `runc spec` lists ambient ones without inheritable, and runc skips
    // them the same way, so such bundles run unchanged.
    const ambient = capMask(caps.ambient) & permitted & inheritable;
    plan.push({
      op: "caps",
      what: "capabilities",
      lastCap: host.lastCap,
      bounding: capMask(caps.bounding),
      effective: capMask(caps.effective),
      permitted,
      inheritable,
      ambient,
    });
  }
  if (proc.noNewPrivileges) plan.push({ op: "noNewPrivs", what: "no_new_privs" });
  if (seccomp) {
    const { flags, program } = seccomp;
    plan.push({ op: "seccomp", what: "load the seccomp filter", flags, program });
    if (listener) {
      plan.push({
        op: "seccompListener",
        what: `send the seccomp notify listener to the agent (fd ${listener.socket})`,
        socket: listener.socket,
        pieces: listener.pieces,
      });
    }
  }
  return plan;
}

/** One id map, written by us or (not root, more than our own id) by newuidmap/newgidmap. */
function writeMap(file: "uid_map" | "gid_map", writer: MapWriter): PlanOp {
  if (writer.kind === "direct") {
    return { op: "procWrite", what: `write ${file}`, file, content: writer.content };
  }
  const { helper, ranges } = writer;
  return { op: "idMapHelper", what: `write ${file} with ${helper} ${ranges}`, helper, ranges };
}

/** Inputs of {@linkcode planInit} besides the spec. */
export interface InitPlanOptions {
  /** The process to run. */
  process: ResolvedProcess;
  /** Child stdio fds. */
  stdio: [number, number, number];
  /** Extra fds (become 3, 4, ...). */
  extraFds: readonly number[];
  /** cgroup.procs files the parent writes the pid to. */
  cgroupProcs: readonly string[];
  /** resctrl `tasks` files the parent writes the pid to after the cgroups (intelRdt). */
  resctrlTasks?: readonly string[];
  /** An fd the parent reads "1" from before placing the child (cgroup made meanwhile). */
  awaitFd?: number;
  /** A cgroup v2 directory to clone the process into (clone3 CLONE_INTO_CGROUP). */
  cloneIntoCgroup?: string;
  /** The child must be forked: it waits in a memory cgroup that may OOM-kill it. */
  ownMemory?: boolean;
  /** The container's cgroup directories, for cgroup mounts. */
  cgroupPaths: Record<string, string>;
  /** "v1" or "v2". */
  cgroupMode: "v1" | "v2";
  /** create/start split: an O_PATH fd of the fifo the init waits on before exec. */
  execFifo?: number;
  /** Use MS_MOVE + chroot instead of pivot_root. */
  noPivotRoot?: boolean;
  /** The seccomp agent, when the profile has notify rules. */
  seccompListener?: ListenerPlan;
  /** Hooks the init runs itself, and its pause for the runtime's. */
  hooks?: InitHooks;
}

/** The namespaces a container's init makes (those the spec lists without a path). */
export function newNamespaces(spec: Spec): Set<NamespaceType> {
  return new Set((spec.linux?.namespaces ?? []).filter((n) => !n.path).map((n) => n.type));
}

/** The plan of a container's init. */
export function planInit(spec: Spec, options: InitPlanOptions, host: HostFacts): PlanOp[] {
  const plan: PlanOp[] = [];
  const namespaces = spec.linux?.namespaces ?? [];
  const fresh = newNamespaces(spec);
  // In a new or a joined user namespace our host ids are unmapped until we switch.
  const joinsUser = namespaces.some((n) => n.type === "user" && n.path);
  let cloneFlags = 0;
  // cgroup: unshared later; time: made by a first child (see timeNamespace).
  for (const t of fresh) if (t !== "cgroup" && t !== "time") cloneFlags |= NS_FLAGS[t];
  plan.push({ op: "cloneFlags", what: "clone", flags: cloneFlags >>> 0 });
  for (const type of JOIN_ORDER) {
    const path = namespaces.find((n) => n.type === type && n.path)?.path;
    if (path) {
      const what = `join the ${type} namespace ${path}`;
      plan.push({ op: "joinNs", what, nsType: NS_FLAGS[type], path });
    }
  }
  if (fresh.has("time")) {
    // The first child makes it in our user namespace, which needs CAP_SYS_ADMIN there.
    if (!host.root) {
      throw new ContainerError(
        "ConfigInvalid",
        "linux.namespaces: a new time namespace needs cell to run as root",
      );
    }
    plan.push(planTimeNamespace(spec.linux?.timeOffsets ?? {}));
  }
  const maps = fresh.has("user") ? host.idMaps : undefined;
  if (fresh.has("user") && !maps) throw new Error("planInit: the host facts lack the id maps");
  if (maps) {
    plan.push(writeMap("uid_map", maps.uid));
    if (maps.denySetgroups) {
      plan.push({ op: "procWrite", what: "deny setgroups", file: "setgroups", content: "deny" });
    }
    plan.push(writeMap("gid_map", maps.gid));
  }
  const oomScoreAdj = spec.process?.oomScoreAdj;
  if (oomScoreAdj !== undefined) {
    const content = String(oomScoreAdj);
    plan.push({ op: "procWrite", what: "write oom_score_adj", file: "oom_score_adj", content });
  }
  plan.push(...planCgroupPlacement(options));
  if (fresh.has("user") || joinsUser) {
    plan.push({ op: "becomeRoot", what: "become root in the user namespace" });
  }
  // Unshared after the cgroup placement, so the namespace is rooted at our cgroup.
  if (fresh.has("cgroup")) {
    plan.push({ op: "unshare", what: "unshare the cgroup namespace", flags: NS_FLAGS.cgroup });
  }
  if (fresh.has("network")) plan.push({ op: "loopbackUp", what: "bring up loopback" });
  if (spec.hostname !== undefined) {
    const name = spec.hostname;
    plan.push({ op: "sethostname", what: `set hostname "${name}"`, name });
  }
  if (spec.domainname !== undefined) {
    const name = spec.domainname;
    plan.push({ op: "setdomainname", what: `set domainname "${name}"`, name });
  }
  if (options.execFifo !== undefined) {
    plan.push({ op: "execFifo", what: "keep the exec fifo", fd: options.execFifo });
  }
  if (fresh.has("mount")) {
    plan.push(...planRootfs(spec, {
      userns: fresh.has("user") || joinsUser,
      cgroupns: fresh.has("cgroup"),
      cgroupPaths: options.cgroupPaths,
      cgroupMode: options.cgroupMode,
      noPivotRoot: options.noPivotRoot,
      sourcesByParent: (fresh.has("user") || joinsUser) && host.root,
      beforeRootChange: planBeforeRootChange(options.hooks),
    }, host));
  } else if (spec.root.path !== "/") {
    // A mount namespace not our own (joined, or the host's): mounting there would change
    // it for everyone, so the rootfs is only the root directory.
    plan.push(...planBeforeRootChange(options.hooks));
    const root = spec.root.path;
    plan.push({ op: "chroot", what: `chroot to ${root}`, path: root });
  } else {
    plan.push(...planBeforeRootChange(options.hooks));
  }
  for (const [key, content] of Object.entries(spec.linux?.sysctl ?? {})) {
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    plan.push({ op: "writeFile", what: `set sysctl ${key}=${content}`, path, content });
  }
  if (fresh.has("mount")) plan.push(...planMaskedPaths(spec));
  plan.push(...planProcess(spec, options, host, {
    setgroupsDenied: maps?.denySetgroups ?? false,
  }));
  plan.push(...planStartHooks(options.hooks));
  return plan;
}

/**
 * A new time namespace with its offsets, as `/proc/<pid>/timens_offsets` takes them: one
 * "<clock> <secs> <nanosecs>" line per clock the config names.
 */
function planTimeNamespace(offsets: TimeOffsets): PlanOp {
  const lines = TIME_NAMESPACE_CLOCKS.flatMap((clock) => {
    const offset = offsets[clock];
    return offset === undefined ? [] : [`${clock} ${offset.secs} ${offset.nanosecs}\n`];
  });
  const shown = lines.map((l) => l.trim()).join(", ");
  const what = `make the time namespace${shown ? ` (offsets: ${shown})` : ""}`;
  return { op: "timeNamespace", what, offsets: lines.join("") };
}

/** Inputs of {@linkcode planExec}. */
export interface ExecPlanOptions {
  /** Host pid of the running init whose namespaces are joined. */
  initPid: number;
  /** The init's user namespace denies setgroups. */
  setgroupsDenied?: boolean;
  /** The process to run. */
  process: ResolvedProcess;
  /** Child stdio fds. */
  stdio: [number, number, number];
  /** Extra fds. */
  extraFds: readonly number[];
  /** cgroup.procs files. */
  cgroupProcs: readonly string[];
  /** resctrl `tasks` files (intelRdt). */
  resctrlTasks?: readonly string[];
  /** A cgroup v2 directory to clone the process into. */
  cloneIntoCgroup?: string;
  /** The child must be forked: it waits in a memory cgroup that may OOM-kill it. */
  ownMemory?: boolean;
  /** The seccomp agent, when the profile has notify rules. */
  seccompListener?: ListenerPlan;
}

/** The plan of a process joining every namespace of the running init. */
export function planExec(spec: Spec, options: ExecPlanOptions, host: HostFacts): PlanOp[] {
  const plan: PlanOp[] = [{ op: "cloneFlags", what: "clone", flags: 0 }];
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const type of JOIN_ORDER) {
    if (!types.has(type)) continue;
    const path = `/proc/${options.initPid}/ns/${NS_FILES[type]}`;
    const what = `join the ${type} namespace of the init`;
    plan.push({ op: "joinNs", what, nsType: NS_FLAGS[type], path });
  }
  plan.push(...planCgroupPlacement(options));
  plan.push(...planProcess(spec, options, host, {
    setgroupsDenied: options.setgroupsDenied ?? false,
  }));
  // Only a process joining the container (the spec excludes the init).
  const affinity = spec.process?.execCPUAffinity;
  for (const stage of ["initial", "final"] as const) {
    const list = affinity?.[stage];
    if (list === undefined) continue;
    const cpus = [...new Set(parseCpuList(list))];
    const what = `run on CPUs ${list} (execCPUAffinity.${stage})`;
    plan.push({ op: "cpuAffinity", what, final: stage === "final", cpus });
  }
  return plan;
}

/**
 * Where the child goes: cloned straight into a cgroup v2 directory when the kernel can
 * (clone3 CLONE_INTO_CGROUP; the cgroup.procs writes stay as the fallback), else written
 * into each cgroup.procs by the parent before the child runs.
 */
function planCgroupPlacement(options: {
  awaitFd?: number;
  cloneIntoCgroup?: string;
  cgroupProcs: readonly string[];
  resctrlTasks?: readonly string[];
  ownMemory?: boolean;
}): PlanOp[] {
  const plan: PlanOp[] = [];
  const { awaitFd, cloneIntoCgroup: dir } = options;
  if (options.ownMemory) {
    const what = "fork: the child waits in a memory cgroup that may OOM-kill it";
    plan.push({ op: "ownMemory", what });
  }
  if (dir !== undefined) {
    plan.push({ op: "cloneIntoCgroup", what: `clone into the cgroup ${dir}`, dir });
  }
  if (awaitFd !== undefined) {
    plan.push({ op: "awaitFd", what: "wait for the cgroup to be made", fd: awaitFd });
  }
  for (const file of options.cgroupProcs) {
    plan.push({ op: "cgroupProcs", what: `join the cgroup ${file}`, file });
  }
  // The same parent-side write of the pid, into a resctrl group's tasks file.
  for (const file of options.resctrlTasks ?? []) {
    plan.push({ op: "cgroupProcs", what: `join the resctrl group of ${file}`, file });
  }
  return plan;
}
