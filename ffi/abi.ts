/**
 * The ABI shared with zig-src/abi.zig, written down in docs/abi.md: the plan header,
 * op codes, the one table of mount opflags and the other numbers plans carry, and the
 * spawn result layout. `plan_encoder.ts` writes plans with them. Change all three
 * together and bump {@linkcode ABI_VERSION}.
 *
 * @module
 */

/** The ABI version this TypeScript speaks; the loader refuses any other. */
export const ABI_VERSION = 6;

/** "CELL", the first word of a plan. */
export const PLAN_MAGIC = 0x4C4C4543;

/** Plan op codes (see docs/abi.md for each payload). */
export const Op = {
  cloneFlags: 1,
  joinNs: 2,
  procWrite: 3,
  cgroupProcs: 4,
  awaitFd: 5,
  cloneIntoCgroup: 6,
  idMapHelper: 7,
  unshare: 10,
  mount: 11,
  rootfs: 12,
  mknod: 13,
  symlink: 14,
  pivotRoot: 15,
  moveRoot: 16,
  sethostname: 17,
  setdomainname: 18,
  writeFile: 19,
  rlimit: 20,
  maskPath: 21,
  readonlyPath: 22,
  loopbackUp: 23,
  rootReadonly: 24,
  execFifo: 25,
  mkdir: 26,
  becomeRoot: 27,
  chroot: 28,
  args: 40,
  env: 41,
  cwd: 42,
  user: 43,
  umask: 44,
  stdio: 45,
  fds: 46,
  caps: 47,
  noNewPrivs: 48,
  seccomp: 49,
  noSetgroups: 50,
  execLabel: 51,
  consoleSocket: 52,
  consoleSize: 53,
  ownMemory: 61,
  ioPriority: 62,
  personality: 63,
  scheduler: 64,
  cpuAffinity: 65,
  memoryPolicy: 66,
  timeNamespace: 67,
  mountSetattr: 54,
  hideMount: 55,
  mountSource: 56,
  seccompListener: 57,
  hooksPause: 58,
  hook: 59,
  hookReport: 60,
  tmpfsCopyup: 70,
  idmapSource: 71,
} as const;

/** The opflags of a `mount` or `mount_setattr` op, the one table of them. */
export const MountOpFlags = {
  inRoot: 1,
  mkdir: 2,
  mkfile: 4,
  noSymlinks: 8,
  sourceInRoot: 16,
  keepLocked: 32,
  sourceFd: 64,
  replaceLink: 128,
  moveTree: 256,
} as const;

/** The LSM of an `exec_label` op. */
export const ExecLabelLsm = { apparmor: 1, selinux: 2 } as const;

/** The kind of a `hook` op: when the init runs it. */
export const HookKind = { createContainer: 1, startContainer: 2 } as const;

/** Status of a spawn. */
export const SpawnStatus = { ok: 0, childError: 1, parentError: 2 } as const;

/** Size of the SpawnResult buffer. */
export const SPAWN_RESULT_SIZE = 272;

/** A failure record from the native side. */
export interface NativeFailure {
  /** errno number. */
  errno: number;
  /** Index of the plan op that failed, or -1. */
  opIndex: number;
  /** The syscall, e.g. "mount". */
  syscall: string;
  /** The path the syscall was given, possibly truncated. */
  path: string;
  /** The record's pid field: for a failed hook (syscall "hook"), how it ended. */
  value: number;
}

/** What cell_spawn wrote. */
export interface SpawnResult {
  /** One of {@linkcode SpawnStatus}. */
  status: number;
  /** Host pid of the process, -1 on failure. */
  pid: number;
  /** A pidfd of the process, -1 on failure. */
  pidfd: number;
  /** The failure, when status is not ok. */
  failure?: NativeFailure;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Decodes a 256-byte record (docs/abi.md), e.g. a hook's failure read from a fifo. */
export function decodeRecord(buf: Uint8Array): NativeFailure & { kind: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    kind: view.getUint32(0, true),
    errno: view.getInt32(4, true),
    value: view.getInt32(8, true),
    opIndex: view.getInt32(12, true),
    syscall: cString(buf.subarray(16, 48)),
    path: cString(buf.subarray(48, 256)),
  };
}

/** Decodes a SpawnResult buffer. */
export function decodeSpawnResult(buf: Uint8Array): SpawnResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const status = view.getUint32(0, true);
  const result: SpawnResult = {
    status,
    pid: view.getInt32(4, true),
    pidfd: view.getInt32(8, true),
  };
  if (status !== SpawnStatus.ok) {
    const rec = 16;
    result.failure = {
      errno: view.getInt32(rec + 4, true),
      opIndex: view.getInt32(rec + 12, true),
      syscall: cString(buf.subarray(rec + 16, rec + 48)),
      path: cString(buf.subarray(rec + 48, rec + 256)),
      value: view.getInt32(rec + 8, true),
    };
  }
  return result;
}
