/**
 * The plans the native core runs: one for a container's init (new namespaces, rootfs,
 * then the process), one for a process joining a running container (exec).
 *
 * @module
 */

import { CAPABILITIES } from "../config/capabilities.ts";
import type { Capabilities, ConsoleSize, NamespaceType, Spec } from "../config/types.ts";
import { validateProcess } from "../config/validate_process.ts";
import { hostSeccompArch } from "../config/validate_seccomp.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import { type Seccomp, seccompFlags } from "../seccomp/compile.ts";
import { ContainerError } from "../errors.ts";
import { planMaskedPaths, planRootfs } from "../rootfs/plan.ts";
import { type MapWriter, planIdMaps } from "../userns/id_maps.ts";
import type { ProcessOptions } from "./options.ts";
import { NS_FILES, NS_FLAGS, Op, PlanBuilder } from "./plan_builder.ts";
import { type InitHooks, planBeforeRootChange, planStartHooks } from "./plan_hooks.ts";

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

/** The order namespaces are joined: user first (it grants the rights for the rest). */
const JOIN_ORDER: NamespaceType[] = ["user", "ipc", "uts", "network", "pid", "cgroup", "mount"];

let lastCap: number | undefined;
function capLast(): number {
  lastCap ??= Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  return lastCap;
}

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

function planProcess(
  plan: PlanBuilder,
  proc: ResolvedProcess,
  stdio: [number, number, number],
  extraFds: readonly number[],
  seccomp: Seccomp | undefined,
  userns: { setgroupsDenied: boolean },
  listener: ListenerPlan | undefined,
): void {
  for (const r of proc.rlimits) {
    plan.op(Op.rlimit, `set ${r.type}`, (w) => w.u32(RLIMITS[r.type]).u64(r.soft).u64(r.hard));
  }
  plan.op(Op.args, "args", (w) => w.strList(proc.args));
  plan.op(Op.env, "env", (w) => w.strList(proc.env));
  plan.op(Op.cwd, "cwd", (w) => w.str(proc.cwd));
  const { uid, gid, additionalGids } = proc.user;
  plan.op(Op.user, "user", (w) => {
    w.u32(uid).u32(gid).u32(additionalGids.length);
    for (const g of additionalGids) w.u32(g);
  });
  if (userns.setgroupsDenied) {
    if (additionalGids.length > 0) {
      throw new ContainerError(
        "ConfigInvalid",
        "process.user.additionalGids: the container's user namespace denies setgroups",
      );
    }
    plan.op(Op.noSetgroups, "keep the groups (setgroups is denied)");
  }
  if (proc.apparmorProfile) {
    const profile = proc.apparmorProfile;
    plan.op(
      Op.execLabel,
      `set the AppArmor profile "${profile}"`,
      (w) => w.u32(1).str(`exec ${profile}`),
    );
  }
  if (proc.selinuxLabel) {
    const label = proc.selinuxLabel;
    plan.op(Op.execLabel, `set the SELinux label "${label}"`, (w) => w.u32(2).str(label));
  }
  plan.op(Op.umask, "umask", (w) => w.u32(proc.umask));
  plan.op(Op.stdio, "stdio", (w) => w.i32(stdio[0]).i32(stdio[1]).i32(stdio[2]));
  if (proc.terminal && proc.consoleSocket !== undefined) {
    // Made in the child after the root change; it replaces the stdio above.
    const socket = proc.consoleSocket;
    plan.op(
      Op.consoleSocket,
      `make a terminal and send it to the console socket (fd ${socket})`,
      (w) => w.i32(socket),
    );
    const size = proc.consoleSize;
    if (size) {
      plan.op(
        Op.consoleSize,
        `set the terminal's size to ${size.height}x${size.width}`,
        (w) => w.u32(size.height).u32(size.width),
      );
    }
  }
  if (extraFds.length > 0) {
    plan.op(Op.fds, "fds", (w) => {
      w.u32(extraFds.length);
      for (const fd of extraFds) w.i32(fd);
    });
  }
  const caps = proc.capabilities;
  if (caps) {
    const permitted = capMask(caps.permitted);
    const inheritable = capMask(caps.inheritable);
    // The kernel only raises an ambient capability that is also permitted and
    // inheritable; `runc spec` lists ambient ones without inheritable, and runc skips
    // them the same way, so such bundles run unchanged.
    const ambient = capMask(caps.ambient) & permitted & inheritable;
    plan.op(
      Op.caps,
      "capabilities",
      (w) =>
        w.u32(capLast()).u64(capMask(caps.bounding)).u64(capMask(caps.effective))
          .u64(permitted).u64(inheritable).u64(ambient),
    );
  }
  if (proc.noNewPrivileges) plan.op(Op.noNewPrivs, "no_new_privs");
  if (seccomp) {
    const program = compileSeccompCached(seccomp, hostSeccompArch());
    plan.op(
      Op.seccomp,
      "load the seccomp filter",
      (w) => w.u32(seccompFlags(seccomp)).u32(program.length / 8).bytes(program),
    );
    if (listener) {
      plan.op(
        Op.seccompListener,
        `send the seccomp notify listener to the agent (fd ${listener.socket})`,
        (w) => w.i32(listener.socket).strList(listener.pieces),
      );
    }
  }
}

/** One id map, written by us or (not root, more than our own id) by newuidmap/newgidmap. */
function writeMap(plan: PlanBuilder, file: "uid_map" | "gid_map", writer: MapWriter): void {
  if (writer.kind === "direct") {
    plan.op(Op.procWrite, `write ${file}`, (w) => w.str(file).str(writer.content));
  } else {
    plan.op(
      Op.idMapHelper,
      `write ${file} with ${writer.helper} ${writer.ranges}`,
      (w) => w.str(writer.helper).str(writer.ranges),
    );
  }
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

/** The plan of a container's init. */
export function planInit(spec: Spec, options: InitPlanOptions): PlanBuilder {
  const plan = new PlanBuilder();
  const namespaces = spec.linux?.namespaces ?? [];
  const fresh = new Set(namespaces.filter((n) => !n.path).map((n) => n.type));
  // In a new or a joined user namespace our host ids are unmapped until we switch.
  const joinsUser = namespaces.some((n) => n.type === "user" && n.path);
  let cloneFlags = 0;
  for (const t of fresh) if (t !== "cgroup") cloneFlags |= NS_FLAGS[t];
  plan.op(Op.cloneFlags, "clone", (w) => w.u64(cloneFlags >>> 0));
  for (const type of JOIN_ORDER) {
    const ns = namespaces.find((n) => n.type === type && n.path);
    if (ns?.path) {
      const path = ns.path;
      plan.op(
        Op.joinNs,
        `join the ${type} namespace ${path}`,
        (w) => w.u64(NS_FLAGS[type]).str(path),
      );
    }
  }
  const maps = fresh.has("user") ? planIdMaps(spec) : undefined;
  if (maps) {
    writeMap(plan, "uid_map", maps.uid);
    if (maps.denySetgroups) {
      plan.op(Op.procWrite, "deny setgroups", (w) => w.str("setgroups").str("deny"));
    }
    writeMap(plan, "gid_map", maps.gid);
  }
  const oomScoreAdj = spec.process?.oomScoreAdj;
  if (oomScoreAdj !== undefined) {
    plan.op(
      Op.procWrite,
      "write oom_score_adj",
      (w) => w.str("oom_score_adj").str(String(oomScoreAdj)),
    );
  }
  planCgroupPlacement(plan, options);
  if (fresh.has("user") || joinsUser) {
    plan.op(Op.becomeRoot, "become root in the user namespace");
  }
  // Unshared after the cgroup placement, so the namespace is rooted at our cgroup.
  if (fresh.has("cgroup")) {
    plan.op(Op.unshare, "unshare the cgroup namespace", (w) => w.u64(NS_FLAGS.cgroup));
  }
  if (fresh.has("network")) plan.op(Op.loopbackUp, "bring up loopback");
  if (spec.hostname !== undefined) {
    const name = spec.hostname;
    plan.op(Op.sethostname, `set hostname "${name}"`, (w) => w.str(name));
  }
  if (spec.domainname !== undefined) {
    const name = spec.domainname;
    plan.op(Op.setdomainname, `set domainname "${name}"`, (w) => w.str(name));
  }
  if (options.execFifo !== undefined) {
    const fifo = options.execFifo;
    plan.op(Op.execFifo, "keep the exec fifo", (w) => w.i32(fifo));
  }
  if (fresh.has("mount")) {
    planRootfs(plan, spec, {
      userns: fresh.has("user") || joinsUser,
      cgroupns: fresh.has("cgroup"),
      cgroupPaths: options.cgroupPaths,
      cgroupMode: options.cgroupMode,
      noPivotRoot: options.noPivotRoot,
      sourcesByParent: (fresh.has("user") || joinsUser) && Deno.uid() === 0,
      beforeRootChange: () => planBeforeRootChange(plan, options.hooks),
    });
  } else if (spec.root.path !== "/") {
    // A mount namespace not our own (joined, or the host's): mounting there would change
    // it for everyone, so the rootfs is only the root directory.
    planBeforeRootChange(plan, options.hooks);
    const root = spec.root.path;
    plan.op(Op.chroot, `chroot to ${root}`, (w) => w.str(root));
  } else {
    planBeforeRootChange(plan, options.hooks);
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    const path = `/proc/sys/${key.replaceAll(".", "/")}`;
    plan.op(Op.writeFile, `set sysctl ${key}=${value}`, (w) => w.str(path).str(value));
  }
  if (fresh.has("mount")) planMaskedPaths(plan, spec);
  planProcess(plan, options.process, options.stdio, options.extraFds, spec.linux?.seccomp, {
    setgroupsDenied: maps?.denySetgroups ?? false,
  }, options.seccompListener);
  planStartHooks(plan, options.hooks);
  return plan;
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
  /** A cgroup v2 directory to clone the process into. */
  cloneIntoCgroup?: string;
  /** The child must be forked: it waits in a memory cgroup that may OOM-kill it. */
  ownMemory?: boolean;
  /** The seccomp agent, when the profile has notify rules. */
  seccompListener?: ListenerPlan;
}

/** The plan of a process joining every namespace of the running init. */
export function planExec(spec: Spec, options: ExecPlanOptions): PlanBuilder {
  const plan = new PlanBuilder();
  plan.op(Op.cloneFlags, "clone", (w) => w.u64(0));
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  for (const type of JOIN_ORDER) {
    if (!types.has(type)) continue;
    const path = `/proc/${options.initPid}/ns/${NS_FILES[type]}`;
    plan.op(
      Op.joinNs,
      `join the ${type} namespace of the init`,
      (w) => w.u64(NS_FLAGS[type]).str(path),
    );
  }
  planCgroupPlacement(plan, options);
  planProcess(plan, options.process, options.stdio, options.extraFds, spec.linux?.seccomp, {
    setgroupsDenied: options.setgroupsDenied ?? false,
  }, options.seccompListener);
  return plan;
}

/**
 * Where the child goes: cloned straight into a cgroup v2 directory when the kernel can
 * (clone3 CLONE_INTO_CGROUP; the cgroup.procs writes stay as the fallback), else written
 * into each cgroup.procs by the parent before the child runs.
 */
function planCgroupPlacement(
  plan: PlanBuilder,
  options: {
    awaitFd?: number;
    cloneIntoCgroup?: string;
    cgroupProcs: readonly string[];
    ownMemory?: boolean;
  },
): void {
  const { awaitFd, cloneIntoCgroup } = options;
  if (options.ownMemory) {
    plan.op(Op.ownMemory, "fork: the child waits in a memory cgroup that may OOM-kill it");
  }
  if (cloneIntoCgroup !== undefined) {
    plan.op(
      Op.cloneIntoCgroup,
      `clone into the cgroup ${cloneIntoCgroup}`,
      (w) => w.str(cloneIntoCgroup),
    );
  }
  if (awaitFd !== undefined) {
    plan.op(Op.awaitFd, "wait for the cgroup to be made", (w) => w.i32(awaitFd));
  }
  for (const file of options.cgroupProcs) {
    plan.op(Op.cgroupProcs, `join the cgroup ${file}`, (w) => w.str(file));
  }
}
