/**
 * The ops of a plan as typed values: what the planners (`src/process/plan.ts`,
 * `src/rootfs/plan.ts`) make and `ffi/plan_encoder.ts` turns into the bytes of
 * docs/abi.md. Plain data: no numbers of the ABI itself (op codes, op flags, kinds) appear
 * here, only names; the kernel's own numbers (mount(2) flags, namespace types, rlimits)
 * do.
 *
 * @module
 */

/** A flag of a `mount` or `mountSetattr` op (docs/abi.md, "Mount opflags"). */
export type MountOpFlag =
  /** The target is resolved inside the rootfs. */
  | "inRoot"
  /** A missing target is made as a directory. */
  | "mkdir"
  /** A missing target is made as an empty file. */
  | "mkfile"
  /** No symlink may be on the way to the target. */
  | "noSymlinks"
  /** The bind source is inside the rootfs. */
  | "sourceInRoot"
  /** A remount keeps the flags the mount has (locked in a user namespace). */
  | "keepLocked"
  /** The bind source is the next fd the parent opened (op `mountSource`). */
  | "sourceFd"
  /** A symlink at the target is replaced by a file (never followed). */
  | "replaceLink"
  /** With `sourceFd`: the fd is a detached mount tree (op `idmapSource`), moved onto the target. */
  | "moveTree";

/** The payload of each op, by op name; docs/abi.md has the bytes and what the core does. */
export interface PlanOpPayloads {
  /** Namespaces the clone creates. */
  cloneFlags: { flags: number };
  /** A namespace to join (setns). */
  joinNs: { nsType: number; path: string };
  /** The parent writes `/proc/<pid>/<file>`. */
  procWrite: { file: string; content: string };
  /** The parent writes the child's pid into this cgroup.procs file. */
  cgroupProcs: { file: string };
  /** The parent waits for "1" on this fd before it places the child. */
  awaitFd: { fd: number };
  /** clone3 into this cgroup v2 directory. */
  cloneIntoCgroup: { dir: string };
  /** newuidmap/newgidmap run by the parent. */
  idMapHelper: { helper: string; ranges: string };
  /** unshare(2) after the cgroup placement. */
  unshare: { flags: number };
  /** mount(2), target resolved as `opFlags` say; a non-zero magic is checked with fstatfs. */
  mount: {
    opFlags: readonly MountOpFlag[];
    msFlags: number;
    magic: number;
    source: string;
    target: string;
    fstype: string;
    data: string;
  };
  /** The directory later in-root ops resolve in. */
  rootfs: { path: string };
  /** A device node. */
  mknod: { mode: number; major: number; minor: number; uid: number; gid: number; path: string };
  /** A symlink at `link` pointing to `target`. */
  symlink: { target: string; link: string };
  /** pivot_root into the rootfs. */
  pivotRoot: Record<never, never>;
  /** MS_MOVE the rootfs over / and chroot. */
  moveRoot: Record<never, never>;
  /** sethostname(2). */
  sethostname: { name: string };
  /** setdomainname(2). */
  setdomainname: { name: string };
  /** A file below /proc (a sysctl). */
  writeFile: { path: string; content: string };
  /** setrlimit of one resource (the kernel's RLIMIT_* number). */
  rlimit: { resource: number; soft: number; hard: number };
  /** A path covered. */
  maskPath: { path: string };
  /** A path made read-only. */
  readonlyPath: { path: string };
  /** lo up. */
  loopbackUp: Record<never, never>;
  /** The root made read-only: recursively before the mounts (the host view), else after. */
  rootReadonly: { recursive: boolean };
  /** The exec fifo fd. */
  execFifo: { fd: number };
  /** A directory inside the root. */
  mkdir: { mode: number; path: string };
  /** setresuid/setresgid 0 in the user namespace. */
  becomeRoot: Record<never, never>;
  /** chroot without a mount namespace. */
  chroot: { path: string };
  /** argv. */
  args: { args: readonly string[] };
  /** envp. */
  env: { env: readonly string[] };
  /** The working directory. */
  cwd: { path: string };
  /** uid, gid and supplementary groups. */
  user: { uid: number; gid: number; additionalGids: readonly number[] };
  /** The umask. */
  umask: { mask: number };
  /** Fds of the caller that become 0, 1 and 2. */
  stdio: { fds: readonly [number, number, number] };
  /** Fds of the caller that become 3, 4, ... */
  fds: { fds: readonly number[] };
  /** The capability sets, as masks. */
  caps: {
    lastCap: number;
    bounding: bigint;
    effective: bigint;
    permitted: bigint;
    inheritable: bigint;
    ambient: bigint;
  };
  /** no_new_privs. */
  noNewPrivs: Record<never, never>;
  /** A compiled seccomp filter (8-byte sock_filter instructions) and its load flags. */
  seccomp: { flags: number; program: Uint8Array };
  /** setgroups is denied: the groups are kept. */
  noSetgroups: Record<never, never>;
  /** An LSM label the exec switches to. */
  execLabel: { lsm: "apparmor" | "selinux"; content: string };
  /** A terminal made in the container, its master sent to this socket. */
  consoleSocket: { socket: number };
  /** The terminal's size. */
  consoleSize: { rows: number; columns: number };
  /** The child is forked, never cloned with CLONE_VM. */
  ownMemory: Record<never, never>;
  /** ioprio_set before the exec: class 1 (real-time), 2 (best-effort), 3 (idle), level 0-7. */
  ioPriority: { ioClass: 1 | 2 | 3; level: number };
  /** personality(2) before the exec (PER_LINUX 0, PER_LINUX32 8). */
  personality: { persona: number };
  /**
   * A new time namespace, made by a first child before it clones the process: the
   * `/proc/self/timens_offsets` lines ("<clock> <secs> <nanosecs>"), empty for none.
   */
  timeNamespace: { offsets: string };
  /** set_mempolicy(2) before the exec: the mode with its MPOL_F_* flags, and the nodes. */
  memoryPolicy: { mode: number; nodes: readonly number[] };
  /** sched_setaffinity(2): `final` just before the exec, else from the clone until the placement. */
  cpuAffinity: { final: boolean; cpus: readonly number[] };
  /** sched_setattr(2) before the exec: policy number, nice, priority, flag bits, deadline times (ns). */
  scheduler: {
    policy: number;
    nice: number;
    priority: number;
    flags: bigint;
    runtime: bigint;
    deadline: bigint;
    period: bigint;
  };
  /** mount_setattr(2) on the target, with `recursive` on every mount under it too. */
  mountSetattr: {
    opFlags: readonly MountOpFlag[];
    recursive: boolean;
    set: number;
    clear: number;
    target: string;
  };
  /** A mount of our namespace detached before the move (no pivot_root). */
  hideMount: { path: string };
  /** A bind source the parent opens. */
  mountSource: { path: string };
  /**
   * An id-mapped copy of a bind source the parent makes: the source's tree cloned (with its
   * submounts when `recursiveTree`: rbind), MOUNT_ATTR_IDMAP set with a user namespace of
   * these maps (on every cloned mount when `recursiveMap`: ridmap).
   */
  idmapSource: {
    source: string;
    recursiveTree: boolean;
    recursiveMap: boolean;
    uidMap: string;
    gidMap: string;
  };
  /** The seccomp notify listener goes to this socket with the state in pieces. */
  seccompListener: { socket: number; pieces: readonly string[] };
  /** The init's pause for the runtime's hooks. */
  hooksPause: { notify: number; resume: number };
  /** A hook the init runs itself. */
  hook: {
    kind: "createContainer" | "startContainer";
    index: number;
    timeout: number;
    path: string;
    args: readonly string[];
    env: readonly string[];
    pieces: readonly string[];
  };
  /** Where a failed startContainer hook's record goes. */
  hookReport: { fd: number };
  /** A tmpfs with a copy of what it covers. */
  tmpfsCopyup: { msFlags: number; target: string; data: string };
}

/** The name of an op. */
export type PlanOpName = keyof PlanOpPayloads;

/**
 * One op of a plan: its name, its payload, and what it does in words. The words are kept
 * on this side only: a failure the core reports by op index becomes `cannot <what>: ...`.
 */
export type PlanOp = {
  [K in PlanOpName]: { op: K; what: string } & PlanOpPayloads[K];
}[PlanOpName];
