/**
 * Types for the part of the OCI runtime-spec `config.json` (versions 1.0 to 1.2) that cell
 * supports. Fields the spec defines but cell does not implement yet are not typed here; the
 * validator rejects them instead of ignoring them.
 *
 * After `validateConfig` the optional arrays that callers iterate over are always
 * present (possibly empty); each such field says so.
 *
 * @module
 */

import type { Seccomp } from "../seccomp/compile.ts";

/** The namespace kinds the spec defines, in the order cell creates them. */
export const NAMESPACE_TYPES = [
  "pid",
  "network",
  "mount",
  "ipc",
  "uts",
  "user",
  "cgroup",
  "time",
] as const;

/** A namespace kind. */
export type NamespaceType = typeof NAMESPACE_TYPES[number];

/** The resource limits a process may set, as `setrlimit(2)` names them. */
export const RLIMIT_TYPES = [
  "RLIMIT_AS",
  "RLIMIT_CORE",
  "RLIMIT_CPU",
  "RLIMIT_DATA",
  "RLIMIT_FSIZE",
  "RLIMIT_LOCKS",
  "RLIMIT_MEMLOCK",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_NOFILE",
  "RLIMIT_NPROC",
  "RLIMIT_RSS",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
  "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
] as const;

/** The name of a resource limit, e.g. `"RLIMIT_NOFILE"`. */
export type RlimitType = typeof RLIMIT_TYPES[number];

/** The mount propagation modes `linux.rootfsPropagation` accepts. */
export const PROPAGATION_MODES = [
  "private",
  "rprivate",
  "slave",
  "rslave",
  "shared",
  "rshared",
  "unbindable",
  "runbindable",
] as const;

/** A mount propagation mode for the container's root filesystem. */
export type Propagation = typeof PROPAGATION_MODES[number];

/**
 * The hook lists of the spec, in the order a container's lifecycle runs them (`prestart` is
 * deprecated and runs just before `createRuntime`).
 */
export const HOOK_KINDS = [
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
] as const;

/** The name of a hook list, e.g. `"poststart"`. */
export type HookKind = typeof HOOK_KINDS[number];

/** The container's root filesystem. */
export interface Root {
  /** Path to the root filesystem; relative paths are relative to the bundle. */
  path: string;
  /** Whether the root filesystem is mounted read-only. */
  readonly?: boolean;
}

/** One mount to perform inside the container, in order. */
export interface Mount {
  /** Absolute path inside the container. */
  destination: string;
  /** Filesystem type passed to the kernel, e.g. `"proc"`, `"tmpfs"`, `"bind"`. */
  type?: string;
  /** Device name, or for bind mounts the file or directory to bind. */
  source?: string;
  /** Mount flags such as `"ro"` and filesystem data such as `"mode=755"`. Always present after validation. */
  options?: string[];
  /**
   * An id-mapped bind (`idmap`, `ridmap`): how the source's uids appear at the target
   * (`hostID` as on the source, `containerID` as seen through the mount). With `gidMappings`.
   */
  uidMappings?: IdMapping[];
  /** The gid side of an id-mapped bind; with `uidMappings`. */
  gidMappings?: IdMapping[];
}

/** The identity the container process runs as. */
export interface User {
  /** User id inside the container. */
  uid: number;
  /** Group id inside the container. */
  gid: number;
  /** File mode creation mask (0 to 0o777). */
  umask?: number;
  /** Supplementary group ids. Always present after validation. */
  additionalGids?: number[];
}

/** Capability sets of the container process; each entry is a name like `"CAP_KILL"`. */
export interface Capabilities {
  /** The bounding set. */
  bounding?: string[];
  /** The effective set. */
  effective?: string[];
  /** The permitted set. */
  permitted?: string[];
  /** The inheritable set. */
  inheritable?: string[];
  /** The ambient set. */
  ambient?: string[];
}

/** One resource limit. */
export interface Rlimit {
  /** Which limit. */
  type: RlimitType;
  /** The hard limit. */
  hard: number;
  /** The soft limit; never above `hard`. */
  soft: number;
}

/** The process started in the container. */
export interface Process {
  /** The I/O scheduling class and level of the process (ioprio_set). */
  ioPriority?: IoPriority;
  /** The CPU scheduling policy and its parameters (sched_setattr). */
  scheduler?: Scheduler;
  /** The CPUs a process joining the container runs on (not the init). */
  execCPUAffinity?: ExecCPUAffinity;
  /**
   * Whether the process gets a terminal: a pseudo-terminal made inside the container,
   * whose master goes to the console socket given at start (`consoleSocket`).
   */
  terminal?: boolean;
  /** The terminal's size in characters, set when the terminal is made. */
  consoleSize?: ConsoleSize;
  /** Who the process runs as. */
  user: User;
  /** The program and its arguments; never empty. */
  args: string[];
  /** Environment as `KEY=value` strings. Always present after validation. */
  env?: string[];
  /** Absolute working directory inside the container. */
  cwd: string;
  /** Capability sets; when given, missing sets are empty after validation. */
  capabilities?: Capabilities;
  /** Resource limits. Always present after validation. */
  rlimits?: Rlimit[];
  /** Whether to set `PR_SET_NO_NEW_PRIVS`. */
  noNewPrivileges?: boolean;
  /** Value for `/proc/self/oom_score_adj` (-1000 to 1000). */
  oomScoreAdj?: number;
  /** The AppArmor profile the process runs under (the host must have AppArmor). */
  apparmorProfile?: string;
  /** The SELinux label the process runs with (the host must have SELinux). */
  selinuxLabel?: string;
}

/** A terminal's window size (`TIOCSWINSZ`). */
export interface ConsoleSize {
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/** A namespace to create (no `path`) or join (`path` to an nsfs file). */
export interface Namespace {
  /** The namespace kind. */
  type: NamespaceType;
  /** Absolute path of an existing namespace to join. */
  path?: string;
}

/** One contiguous range of a user or group id mapping. */
export interface IdMapping {
  /** First id inside the container. */
  containerID: number;
  /** First id on the host. */
  hostID: number;
  /** How many ids the range covers (at least 1). */
  size: number;
}

/** A device node to create inside the container. */
export interface Device {
  /** `c` (character), `b` (block), `u` (unbuffered character) or `p` (FIFO). */
  type: "c" | "b" | "u" | "p";
  /** Absolute path inside the container. */
  path: string;
  /** Major number; present for `c`, `b` and `u`. */
  major?: number;
  /** Minor number; present for `c`, `b` and `u`. */
  minor?: number;
  /** Permission bits of the node. */
  fileMode?: number;
  /** Owner of the node. */
  uid?: number;
  /** Group of the node. */
  gid?: number;
}

/**
 * One rule of the device cgroup. After validation a missing `major` or `minor` means
 * "any" (the spec's `-1` and `null` are normalized to absent).
 */
export interface DeviceRule {
  /** Whether the rule allows (`true`) or denies (`false`). */
  allow: boolean;
  /** `a` (all), `c` (character) or `b` (block); absent means all. */
  type?: "a" | "c" | "b";
  /** Major number, absent for any. */
  major?: number;
  /** Minor number, absent for any. */
  minor?: number;
  /** Any of `r`, `w`, `m`; absent means all three. */
  access?: string;
}

/** Cgroup resource settings. Only the device rules are supported for now. */
export interface Resources {
  /** Device cgroup rules, applied in order. Always present after validation. */
  devices?: DeviceRule[];
  /** Memory limits, in bytes; -1 means unlimited. */
  memory?: MemoryResources;
  /** CPU shares, quota and placement. */
  cpu?: CpuResources;
  /** Task count limit. */
  pids?: { limit?: number };
  /** Block I/O weight and throttles. */
  blockIO?: BlockIOResources;
  /** Huge page limits per page size. */
  hugepageLimits?: { pageSize: string; limit: number }[];
  /** cgroup v2 files to write as they are (`{"memory.high": "50M"}`); v2 only. */
  unified?: Record<string, string>;
  /** net_cls class id and net_prio interface priorities (v1, where those are mounted). */
  network?: NetworkResources;
  /** RDMA limits per device name (`{"mlx5_1": {"hcaHandles": 3}}`), rdma.max. */
  rdma?: Record<string, RdmaLimit>;
}

/** One device's entry of `linux.resources.rdma`: at least one of the two is set. */
export interface RdmaLimit {
  /** Most HCA handles the cgroup may hold (hca_handle in rdma.max). */
  hcaHandles?: number;
  /** Most HCA objects the cgroup may hold (hca_object in rdma.max). */
  hcaObjects?: number;
}

/** `linux.resources.network`. */
export interface NetworkResources {
  /** The class id tagged on the container's packets (net_cls.classid). */
  classID?: number;
  /** Priorities of the container's traffic per interface (net_prio.ifpriomap). */
  priorities?: { name: string; priority: number }[];
}

/** `linux.resources.memory`. */
export interface MemoryResources {
  /** Hard limit in bytes (-1: unlimited). */
  limit?: number;
  /** Soft limit in bytes (-1: unlimited). */
  reservation?: number;
  /** Memory plus swap limit in bytes (-1: unlimited), at least `limit`. */
  swap?: number;
  /** 0 to 100 (v1 only). */
  swappiness?: number;
  /** Do not OOM-kill; processes wait for memory instead (v1 only). */
  disableOOMKiller?: boolean;
  /** Limit of kernel TCP buffer memory in bytes (-1: unlimited; v1 only). */
  kernelTCP?: number;
}

/** `linux.resources.cpu`. */
export interface CpuResources {
  /** Relative weight, 2 to 262144 (v2: converted to cpu.weight). */
  shares?: number;
  /** Microseconds of CPU time per period (-1: unlimited). */
  quota?: number;
  /** Period in microseconds, 1000 to 1000000. */
  period?: number;
  /** CPUs the container may run on, e.g. "0-1,3". */
  cpus?: string;
  /** Memory nodes, e.g. "0". */
  mems?: string;
  /** 1 makes the cgroup SCHED_IDLE. */
  idle?: number;
  /** Real-time runtime in microseconds per real-time period (-1: unlimited; v1 only). */
  realtimeRuntime?: number;
  /** Real-time period in microseconds (v1 only). */
  realtimePeriod?: number;
}

/** A per-device weight. */
export interface WeightDevice {
  /** Device major number. */
  major: number;
  /** Device minor number. */
  minor: number;
  /** Weight 10 to 1000. */
  weight?: number;
  /** Leaf weight 10 to 1000 (v1 only). */
  leafWeight?: number;
}

/** A per-device rate limit. */
export interface ThrottleDevice {
  /** Device major number. */
  major: number;
  /** Device minor number. */
  minor: number;
  /** Bytes or operations per second. */
  rate: number;
}

/** `linux.resources.blockIO`. */
export interface BlockIOResources {
  /** Weight 10 to 1000. */
  weight?: number;
  /** Leaf weight 10 to 1000 (v1 only). */
  leafWeight?: number;
  /** Per-device weights. */
  weightDevice?: WeightDevice[];
  /** Read bytes per second per device. */
  throttleReadBpsDevice?: ThrottleDevice[];
  /** Write bytes per second per device. */
  throttleWriteBpsDevice?: ThrottleDevice[];
  /** Read operations per second per device. */
  throttleReadIOPSDevice?: ThrottleDevice[];
  /** Write operations per second per device. */
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

/** Linux-specific configuration. */
export interface Linux {
  /** The execution domain the process runs in (personality(2)). */
  personality?: Personality;
  /** The NUMA memory policy of the container's processes (set_mempolicy(2)). */
  memoryPolicy?: MemoryPolicy;
  /** Clock offsets of the new time namespace, by clock (needs a new time namespace). */
  timeOffsets?: TimeOffsets;
  /** The seccomp profile (see src/seccomp/compile.ts for its fields). */
  seccomp?: Seccomp;
  /** Namespaces to create or join. Always present after validation. */
  namespaces?: Namespace[];
  /** User id mappings for a new user namespace. Always present after validation. */
  uidMappings?: IdMapping[];
  /** Group id mappings for a new user namespace. Always present after validation. */
  gidMappings?: IdMapping[];
  /** Namespaced kernel parameters to set, e.g. `{"net.ipv4.ip_forward": "1"}`. */
  sysctl?: Record<string, string>;
  /** Paths hidden from the container. Always present after validation. */
  maskedPaths?: string[];
  /** Paths made read-only inside the container. Always present after validation. */
  readonlyPaths?: string[];
  /** Propagation mode of the root filesystem mount. */
  rootfsPropagation?: Propagation;
  /** Cgroup path; absolute, or relative to the runtime's cgroup root. */
  cgroupsPath?: string;
  /** Device nodes to create. Always present after validation. */
  devices?: Device[];
  /** Cgroup resource settings. */
  resources?: Resources;
  /** The resctrl group (Intel RDT / AMD PQoS) of the container's processes. */
  intelRdt?: IntelRdt;
  /** Host network devices moved into the container's new network namespace, by host name. */
  netDevices?: Record<string, NetDevice>;
}

/**
 * `linux.intelRdt`: the resctrl group the container's processes join and what is written to
 * its `schemata` (see src/resctrl/).
 */
export interface IntelRdt {
  /** The group's directory under the resctrl mount ("/" is the default group); default the id. */
  closID?: string;
  /** An "L3:..." schemata line, written first. */
  l3CacheSchema?: string;
  /** An "MB:..." schemata line, written after `l3CacheSchema`. */
  memBwSchema?: string;
  /** More schemata lines, written last. */
  schemata?: string[];
  /** A monitoring group `mon_groups/<id>` of the container's own. */
  enableMonitoring?: boolean;
}

/** `linux.netDevices` entry: a host network device moved into the container. */
export interface NetDevice {
  /** Its name inside the container (the host name if unset); a `%d` lets the kernel number it. */
  name?: string;
}

/** One program run at a point of the container's lifecycle (an entry of a hook list). */
export interface Hook {
  /** Absolute path of the program, resolved on the host. */
  path: string;
  /** The argument vector as `execv` takes it: `args[0]` is the program's `argv[0]`. */
  args?: string[];
  /** The complete environment as `KEY=value` strings; nothing else is inherited. */
  env?: string[];
  /** Seconds the hook may run before it is killed and counts as failed (at least 1). */
  timeout?: number;
}

/**
 * Programs to run at points of the container's lifecycle; each list runs in order and
 * receives the container's state as JSON on stdin. Only the lists the config gave are set.
 */
export interface Hooks {
  /** Deprecated: run during create, before `createRuntime`, in the runtime's namespaces. */
  prestart?: Hook[];
  /** Run during create, after the namespaces exist and before `pivot_root`, on the host. */
  createRuntime?: Hook[];
  /** Run during create, after `createRuntime`, in the container's namespaces. */
  createContainer?: Hook[];
  /** Run during start, just before the user's program, in the container's namespaces. */
  startContainer?: Hook[];
  /** Run after the user's program has started, before start returns, on the host. */
  poststart?: Hook[];
  /** Run after the container is deleted, before delete returns, on the host. */
  poststop?: Hook[];
}

/** A container configuration: the supported subset of an OCI `config.json`. */
export interface Spec {
  /** The runtime-spec version the config follows, e.g. `"1.0.2"`. */
  ociVersion: string;
  /** The root filesystem. */
  root: Root;
  /** Mounts, in order. Always present after validation. */
  mounts?: Mount[];
  /** The container process. Optional: without one, start must fail (the spec says so). */
  process?: Process;
  /** Host name inside the container; needs a new uts namespace. */
  hostname?: string;
  /** NIS domain name inside the container; needs a new uts namespace. */
  domainname?: string;
  /** Arbitrary metadata; kept but not interpreted. */
  annotations?: Record<string, string>;
  /** Linux-specific configuration. Always present after validation. */
  linux?: Linux;
  /** Lifecycle hooks (see {@linkcode Hooks}). */
  hooks?: Hooks;
}

/** `process.ioPriority`: an I/O scheduling class and its level. */
export interface IoPriority {
  /** The class: real-time (needs CAP_SYS_ADMIN), best-effort or idle. */
  class: keyof typeof IOPRIO_CLASSES;
  /** The level within the class, 0 (highest) to 7. */
  priority: number;
}

/** The clocks a time namespace offsets (time_namespaces(7)). */
export const TIME_NAMESPACE_CLOCKS = ["monotonic", "boottime"] as const;

/** One clock's offset in a new time namespace. */
export interface TimeOffset {
  /** Whole seconds (negative moves the clock back; the kernel refuses a clock below 0). */
  secs: number;
  /** Nanoseconds added to `secs`, 0 to 999999999. */
  nanosecs: number;
}

/** `linux.timeOffsets`: the offsets of the clocks named, from the host's. */
export type TimeOffsets = Partial<Record<typeof TIME_NAMESPACE_CLOCKS[number], TimeOffset>>;

/** `linux.personality`: the execution domain. */
export interface Personality {
  /** `LINUX`, or `LINUX32` (a 32-bit `uname -m`). */
  domain: keyof typeof PERSONALITY_DOMAINS;
  /** Additional flags; the spec defines none, so any is refused. */
  flags?: string[];
}

/** The CPU scheduling policies of `process.scheduler`, by their sched(7) numbers (Linux has no SCHED_ISO). */
export const SCHED_POLICIES = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
} as const;

/** The flags of `process.scheduler`, by their sched_setattr(2) bits. */
export const SCHED_FLAGS = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
} as const;

/** The classes of `process.ioPriority`, by their ioprio(7) numbers. */
export const IOPRIO_CLASSES = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
} as const;

/** The domains of `linux.personality`, by their personality(2) numbers. */
export const PERSONALITY_DOMAINS = { LINUX: 0, LINUX32: 8 } as const;

/** `process.scheduler`: a policy and its parameters, as sched_setattr(2) takes them. */
export interface Scheduler {
  /** The policy. */
  policy: keyof typeof SCHED_POLICIES;
  /** The nice value, -20 to 19 (SCHED_OTHER, SCHED_BATCH). */
  nice?: number;
  /** The static priority, 1 to 99 for SCHED_FIFO and SCHED_RR, else 0. */
  priority?: number;
  /** Flags. */
  flags?: (keyof typeof SCHED_FLAGS)[];
  /** SCHED_DEADLINE's runtime, in nanoseconds. */
  runtime?: number;
  /** SCHED_DEADLINE's deadline, in nanoseconds. */
  deadline?: number;
  /** SCHED_DEADLINE's period, in nanoseconds. */
  period?: number;
}

/** `process.execCPUAffinity`: CPU lists ("0-3,7") for a process joining the container. */
export interface ExecCPUAffinity {
  /** From its start until it is placed in the container's cgroups. */
  initial?: string;
  /** From its placement on (before its exec). */
  final?: string;
}

/** The modes of `linux.memoryPolicy`, by their set_mempolicy(2) numbers. */
export const MEMORY_POLICY_MODES = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
} as const;

/** The flags of `linux.memoryPolicy`, by their bits in the mode. */
export const MEMORY_POLICY_FLAGS = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
} as const;

/** `linux.memoryPolicy`: a NUMA policy for every process of the container. */
export interface MemoryPolicy {
  /** The mode. */
  mode: keyof typeof MEMORY_POLICY_MODES;
  /** The nodes, as a list ("0-3,7"); none for MPOL_DEFAULT and MPOL_LOCAL. */
  nodes?: string;
  /** Mode flags. */
  flags?: (keyof typeof MEMORY_POLICY_FLAGS)[];
}
