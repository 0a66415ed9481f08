/**
 * What the seccomp tests share: compiling with the program checked as the kernel checks it,
 * running it on the BPF interpreter, interesting 64-bit values, a deterministic PRNG and a
 * podman-like profile.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import {
  AUDIT_ARCH,
  compileSeccomp,
  type Seccomp,
  SECCOMP_RET,
  type SeccompSyscall,
  type SeccompTarget,
  syscallNumber,
} from "../../src/seccomp/compile.ts";
import { check, disassemble, run } from "./cbpf.ts";

export const ALLOW = SECCOMP_RET.ALLOW;
export const KILL_THREAD = SECCOMP_RET.KILL_THREAD;
export const ERRNO = (e: number) => (SECCOMP_RET.ERRNO | e) >>> 0;
export const EPERM = ERRNO(1);
export const ARCHES: SeccompTarget[] = ["x86_64", "aarch64"];

/** Compiles and checks the program the way the kernel would before using it. */
export function compile(profile: Seccomp, arch: SeccompTarget = "x86_64"): Uint8Array {
  const program = compileSeccomp(profile, arch);
  assert.deepEqual(check(program), [], disassemble(program));
  return program;
}

export function nr(name: string, arch: SeccompTarget = "x86_64"): number {
  const n = syscallNumber(arch, name);
  assert.notEqual(n, undefined, `${name} has no number on ${arch}`);
  return n!;
}

/** The action for `name(args...)` under the program. */
export function verdict(
  program: Uint8Array,
  name: string,
  args: (bigint | number)[] = [],
  arch: SeccompTarget = "x86_64",
): number {
  return run(program, { nr: nr(name, arch), arch: AUDIT_ARCH[arch], args: args.map(BigInt) });
}

export function assertConfigInvalid(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ContainerError, `not a ContainerError: ${e}`);
    assert.equal(e.code, "ConfigInvalid");
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

/** A deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const U64 = (1n << 64n) - 1n;
export const INTERESTING = [
  0n,
  1n,
  2n,
  0x7fn,
  0xffn,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  0x100000001n,
  0x1ffffffffn,
  0x200000000n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xffffffff00000000n,
  0xfffffffffffffffen,
  U64,
];

/** What the comparison means on 64-bit values. */
export function holds(op: string, arg: bigint, value: bigint, valueTwo = 0n): boolean {
  switch (op) {
    case "SCMP_CMP_NE":
      return arg !== value;
    case "SCMP_CMP_LT":
      return arg < value;
    case "SCMP_CMP_LE":
      return arg <= value;
    case "SCMP_CMP_EQ":
      return arg === value;
    case "SCMP_CMP_GE":
      return arg >= value;
    case "SCMP_CMP_GT":
      return arg > value;
    case "SCMP_CMP_MASKED_EQ":
      return (arg & value) === (valueTwo & value);
  }
  throw new Error(op);
}

export const OPS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
] as const;

/** podman's/docker's socket rules: refuse AF_NETLINK + NETLINK_AUDIT, allow the rest. */
export const SOCKET_RULES: SeccompSyscall[] = [
  {
    names: ["socket"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 22,
    args: [{ index: 0, value: 16, op: "SCMP_CMP_EQ" }, { index: 2, value: 9, op: "SCMP_CMP_EQ" }],
  },
  {
    names: ["socket"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: 2, value: 9, op: "SCMP_CMP_NE" }],
  },
  {
    names: ["socket"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: 0, value: 16, op: "SCMP_CMP_NE" }],
  },
];

/** Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACES = 0x7e020000;

/** A reduced, hand-written version of the well-known default profile of podman/docker. */
export const PODMAN_LIKE: Seccomp = {
  defaultAction: "SCMP_ACT_ERRNO",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [
    {
      names: [
        "_llseek",
        "_newselect",
        "accept",
        "accept4",
        "access",
        "adjtimex",
        "alarm",
        "bind",
        "brk",
        "capget",
        "capset",
        "chdir",
        "chmod",
        "chown",
        "chown32",
        "clock_getres",
        "clock_gettime",
        "clock_nanosleep",
        "close",
        "close_range",
        "connect",
        "copy_file_range",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_pwait",
        "epoll_pwait2",
        "epoll_wait",
        "eventfd",
        "eventfd2",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "faccessat",
        "faccessat2",
        "fadvise64",
        "fallocate",
        "fchdir",
        "fchmod",
        "fchmodat",
        "fchown",
        "fchownat",
        "fcntl",
        "fcntl64",
        "fdatasync",
        "fgetxattr",
        "flistxattr",
        "flock",
        "fork",
        "fstat",
        "fstat64",
        "fstatfs",
        "fsync",
        "ftruncate",
        "futex",
        "getcpu",
        "getcwd",
        "getdents",
        "getdents64",
        "getegid",
        "geteuid",
        "getgid",
        "getgroups",
        "getitimer",
        "getpeername",
        "getpgid",
        "getpgrp",
        "getpid",
        "getppid",
        "getpriority",
        "getrandom",
        "getresgid",
        "getresuid",
        "getrlimit",
        "get_robust_list",
        "getrusage",
        "getsid",
        "getsockname",
        "getsockopt",
        "gettid",
        "gettimeofday",
        "getuid",
        "getxattr",
        "inotify_add_watch",
        "inotify_init1",
        "inotify_rm_watch",
        "ioctl",
        "kill",
        "lchown",
        "link",
        "linkat",
        "listen",
        "lseek",
        "lstat",
        "madvise",
        "memfd_create",
        "mkdir",
        "mkdirat",
        "mmap",
        "mmap2",
        "mprotect",
        "mremap",
        "munmap",
        "nanosleep",
        "newfstatat",
        "open",
        "openat",
        "openat2",
        "pause",
        "pipe",
        "pipe2",
        "poll",
        "ppoll",
        "prctl",
        "pread64",
        "preadv",
        "prlimit64",
        "pselect6",
        "pwrite64",
        "pwritev",
        "read",
        "readlink",
        "readlinkat",
        "readv",
        "recvfrom",
        "recvmmsg",
        "recvmsg",
        "rename",
        "renameat",
        "renameat2",
        "restart_syscall",
        "rmdir",
        "rseq",
        "rt_sigaction",
        "rt_sigpending",
        "rt_sigprocmask",
        "rt_sigqueueinfo",
        "rt_sigreturn",
        "rt_sigsuspend",
        "rt_sigtimedwait",
        "rt_tgsigqueueinfo",
        "sched_getaffinity",
        "sched_yield",
        "select",
        "sendfile",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "set_robust_list",
        "set_tid_address",
        "setgid",
        "setgroups",
        "setitimer",
        "setpgid",
        "setresgid",
        "setresuid",
        "setsid",
        "setsockopt",
        "setuid",
        "shutdown",
        "sigaltstack",
        "signalfd4",
        "socketcall",
        "socketpair",
        "splice",
        "stat",
        "stat64",
        "statfs",
        "statx",
        "symlink",
        "symlinkat",
        "sync",
        "sysinfo",
        "tee",
        "tgkill",
        "time",
        "timer_create",
        "timer_delete",
        "timer_settime",
        "timerfd_create",
        "timerfd_settime",
        "times",
        "tkill",
        "truncate",
        "umask",
        "uname",
        "unlink",
        "unlinkat",
        "utimensat",
        "vfork",
        "wait4",
        "waitid",
        "waitpid",
        "write",
        "writev",
      ],
      action: "SCMP_ACT_ALLOW",
    },
    ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((value): SeccompSyscall => ({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value, op: "SCMP_CMP_EQ" }],
    })),
    { names: ["arch_prctl", "modify_ldt"], action: "SCMP_ACT_ALLOW" },
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: CLONE_NAMESPACES, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    },
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    ...SOCKET_RULES,
    {
      names: ["bpf", "kexec_load", "open_by_handle_at", "ptrace"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1,
    },
  ],
};

/** A random element of `xs`. */
export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}
