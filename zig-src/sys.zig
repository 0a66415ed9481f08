//! Raw Linux syscalls and the kernel constants cell uses. Every wrapper returns the
//! raw result; `errnoOf` turns it into an errno or null. No libc, no allocation: these
//! are safe to call in a child forked from a multi-threaded process.

const std = @import("std");
const linux = std.os.linux;

pub const fd_t = i32;
pub const pid_t = i32;

pub const AT_FDCWD: fd_t = -100;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_RECURSIVE: u32 = 0x8000;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;

pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

pub const MS_RDONLY: u32 = 1;
pub const MS_NOSUID: u32 = 2;
pub const MS_NODEV: u32 = 4;
pub const MS_NOEXEC: u32 = 8;
pub const MS_SYNCHRONOUS: u32 = 16;
pub const MS_REMOUNT: u32 = 32;
pub const MS_MANDLOCK: u32 = 64;
pub const MS_NOATIME: u32 = 1024;
pub const MS_NODIRATIME: u32 = 2048;
pub const MS_BIND: u32 = 4096;
pub const MS_MOVE: u32 = 8192;
pub const MS_REC: u32 = 16384;
pub const MS_PRIVATE: u32 = 1 << 18;
pub const MS_SLAVE: u32 = 1 << 19;
pub const MS_RELATIME: u32 = 1 << 21;
pub const MNT_DETACH: u32 = 2;
pub const MOUNT_ATTR_RDONLY: u64 = 1;

pub const CLONE_NEWNS: u64 = 0x00020000;
pub const CLONE_NEWCGROUP: u64 = 0x02000000;
pub const CLONE_NEWUTS: u64 = 0x04000000;
pub const CLONE_NEWIPC: u64 = 0x08000000;
pub const CLONE_NEWUSER: u64 = 0x10000000;
pub const CLONE_NEWPID: u64 = 0x20000000;
pub const CLONE_NEWNET: u64 = 0x40000000;
/// unshare/setns only: as a clone flag it is the exit signal's byte.
pub const CLONE_NEWTIME: u64 = 0x00000080;
pub const CLONE_VM: u64 = 0x00000100;
pub const CLONE_PIDFD: u64 = 0x00001000;
pub const CLONE_PARENT: u64 = 0x00008000;
/// clone3 only: the child starts in the cgroup v2 directory `CloneArgs.cgroup` names.
pub const CLONE_INTO_CGROUP: u64 = 0x200000000;
pub const SIGCHLD: u64 = 17;
pub const SIGKILL: u32 = 9;
pub const SIGPIPE: u32 = 13;
pub const SIGSTOP: u32 = 19;
// The signals a front door forwards to the process it waits for.
pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGUSR1: u32 = 10;
pub const SIGUSR2: u32 = 12;
pub const SIGTERM: u32 = 15;
pub const SIGCONT: u32 = 18;
/// A sigset_t of the kernel's size (8 bytes) with `sig` in it.
pub fn sigBit(sig: u32) u64 {
    std.debug.assert(sig >= 1 and sig <= NSIG);
    return @as(u64, 1) << @intCast(sig - 1);
}
/// The highest signal number (the realtime ones included).
pub const NSIG: u32 = 64;

pub const PR_GET_DUMPABLE: usize = 3;
pub const PR_SET_DUMPABLE: usize = 4;
pub const PR_SET_KEEPCAPS: usize = 8;
pub const PR_CAPBSET_DROP: usize = 24;
pub const PR_SET_NO_NEW_PRIVS: usize = 38;
pub const PR_CAP_AMBIENT: usize = 47;
pub const PR_CAP_AMBIENT_RAISE: usize = 2;
pub const PR_CAP_AMBIENT_CLEAR_ALL: usize = 4;
pub const LINUX_CAPABILITY_VERSION_3: u32 = 0x20080522;

pub const P_PIDFD: usize = 3;
pub const WNOHANG: usize = 1;
pub const WEXITED: usize = 4;
/// siginfo_t.code of a child that exited (else it was killed or dumped core).
pub const CLD_EXITED: i32 = 1;
pub const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;
pub const F_DUPFD_CLOEXEC: usize = 1030;
pub const F_SETFD: usize = 2;
pub const F_SETFL: usize = 4;
pub const O_NONBLOCK: usize = 0o4000;
pub const X_OK: u32 = 1;
pub const STATX_BASIC_STATS: u32 = 0x7ff;

pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_STACK: usize = 0x20000;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFIFO: u32 = 0o010000;

// statfs: f_type of some filesystems, and f_flags bits (ST_*) a remount must keep.
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
/// The inode number of the root directory of every procfs instance.
pub const PROC_ROOT_INO: u64 = 1;
pub const TMPFS_MAGIC: u64 = 0x01021994;
pub const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;
pub const ST_NOSUID: u64 = 2;
pub const ST_NODEV: u64 = 4;
pub const ST_NOEXEC: u64 = 8;
pub const ST_NOATIME: u64 = 1024;
pub const ST_NODIRATIME: u64 = 2048;
pub const ST_RELATIME: u64 = 4096;

// Device numbers (Documentation/admin-guide/devices.txt).
pub const NULL_MAJOR: u32 = 1;
pub const NULL_MINOR: u32 = 3;
pub const PTMX_MAJOR: u32 = 5;
pub const PTMX_MINOR: u32 = 2;
/// Unix98 pty slaves: majors 136 to 143.
pub const PTS_MAJOR_FIRST: u32 = 136;
pub const PTS_MAJOR_LAST: u32 = 143;

// The new mount API (fsopen, fsmount, open_tree, mount_setattr).
pub const FSOPEN_CLOEXEC: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;
pub const FSMOUNT_CLOEXEC: u32 = 1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

// seccomp(2).
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;
/// seccomp() returns a notify fd.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;

pub const EPERM: u16 = 1;
pub const ENOENT: u16 = 2;
pub const EIO: u16 = 5;
pub const E2BIG: u16 = 7;
pub const ENOMEM: u16 = 12;
pub const ENOSYS: u16 = 38;
pub const EAGAIN: u16 = 11;
pub const EINTR: u16 = 4;
pub const EACCES: u16 = 13;
pub const EEXIST: u16 = 17;
pub const EINVAL: u16 = 22;
pub const ENAMETOOLONG: u16 = 36;
pub const ELOOP: u16 = 40;
pub const EXDEV: u16 = 18;
pub const ENOTTY: u16 = 25;
pub const ENOMSG: u16 = 42;
pub const EBADMSG: u16 = 74;
pub const EMFILE: u16 = 24;
pub const EMSGSIZE: u16 = 90;
pub const ECANCELED: u16 = 125;
pub const EBADF: u16 = 9;
pub const ESRCH: u16 = 3;
pub const EPIPE: u16 = 32;
pub const ECONNRESET: u16 = 104;
pub const ECONNREFUSED: u16 = 111;
pub const EPROTO: u16 = 71;

// Terminals (the same numbers on x86_64 and aarch64).
pub const TIOCGPTN: usize = 0x80045430; // the pts number of a master
pub const TIOCSPTLCK: usize = 0x40045431; // lock (1) or unlock (0) the slave
pub const TIOCGPTPEER: usize = 0x5441; // open the slave of a master (Linux 4.13)
pub const TIOCSCTTY: usize = 0x540E; // make a tty the controlling terminal
pub const TIOCSWINSZ: usize = 0x5414; // set the window size
pub const Winsize = extern struct { rows: u16, cols: u16, xpixel: u16 = 0, ypixel: u16 = 0 };

// Sockets, and the interface flags of the loopback device.
pub const AF_UNIX: u32 = 1;
pub const AF_INET: u32 = 2;
pub const SOCK_STREAM: u32 = 1;
pub const SOCK_DGRAM: u32 = 2;
pub const SIOCGIFFLAGS: usize = 0x8913;
pub const SIOCSIFFLAGS: usize = 0x8914;
pub const IFF_UP: u16 = 1;
/// struct ifreq with ifr_flags, as SIOCGIFFLAGS and SIOCSIFFLAGS take it.
pub const Ifreq = extern struct { name: [16]u8, flags: u16, pad: [22]u8 = std.mem.zeroes([22]u8) };
comptime {
    if (@sizeOf(Ifreq) != 40) @compileError("struct ifreq is 40 bytes on 64-bit Linux");
}
pub const SOL_SOCKET: i32 = 1;
pub const SCM_RIGHTS: i32 = 1;
pub const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_NOSIGNAL: u32 = 0x4000;
pub const MSG_CMSG_CLOEXEC: u32 = 0x40000000;
/// msghdr.flags after recvmsg: some control data did not fit.
pub const MSG_CTRUNC: i32 = 0x8;
/// The most fds one SCM_RIGHTS message carries (the kernel's SCM_MAX_FD).
pub const SCM_MAX_FD: usize = 253;
pub const SO_PEERCRED: u32 = 17;
pub const SHUT_RDWR: u32 = 2;
/// struct ucred, what SO_PEERCRED gives.
pub const Ucred = extern struct { pid: i32, uid: u32, gid: u32 };

/// The errno carried by a raw syscall result, or null when the call succeeded.
pub fn errnoOf(rc: usize) ?u16 {
    const signed: isize = @bitCast(rc);
    if (signed < 0 and signed > -4096) return @intCast(-signed);
    return null;
}

/// A raw result as the C ABI returns it to TypeScript: the value, or -errno.
pub fn toAbi(rc: usize) i64 {
    return @bitCast(rc);
}

fn a(x: anytype) usize {
    return switch (@typeInfo(@TypeOf(x))) {
        .pointer => @intFromPtr(x),
        .optional => if (x) |p| @intFromPtr(p) else 0,
        .int, .comptime_int => blk: {
            if (@TypeOf(x) == i32 or @TypeOf(x) == i64) break :blk @bitCast(@as(isize, x));
            break :blk @intCast(x);
        },
        else => @compileError("unsupported syscall argument"),
    };
}

pub fn read(fd: fd_t, buf: []u8) usize {
    return linux.syscall3(.read, a(fd), a(buf.ptr), buf.len);
}
pub fn write(fd: fd_t, buf: []const u8) usize {
    return linux.syscall3(.write, a(fd), a(buf.ptr), buf.len);
}
pub fn close(fd: fd_t) usize {
    return linux.syscall1(.close, a(fd));
}
pub fn openat(dirfd: fd_t, path: [*:0]const u8, flags: u32, mode: u32) usize {
    return linux.syscall4(.openat, a(dirfd), a(path), flags, mode);
}
pub const OpenHow = extern struct { flags: u64, mode: u64, resolve: u64 };
pub fn openat2(dirfd: fd_t, path: [*:0]const u8, how: *const OpenHow) usize {
    return linux.syscall4(.openat2, a(dirfd), a(path), a(how), @sizeOf(OpenHow));
}
pub fn mkdirat(dirfd: fd_t, path: [*:0]const u8, mode: u32) usize {
    return linux.syscall3(.mkdirat, a(dirfd), a(path), mode);
}
pub const AT_REMOVEDIR: u32 = 0x200;
pub fn unlinkat(dirfd: fd_t, path: [*:0]const u8, flags: u32) usize {
    return linux.syscall3(.unlinkat, a(dirfd), a(path), flags);
}
pub fn mknodat(dirfd: fd_t, path: [*:0]const u8, mode: u32, dev: u32) usize {
    return linux.syscall4(.mknodat, a(dirfd), a(path), mode, dev);
}
pub fn symlinkat(target: [*:0]const u8, dirfd: fd_t, path: [*:0]const u8) usize {
    return linux.syscall3(.symlinkat, a(target), a(dirfd), a(path));
}
pub fn fchownat(dirfd: fd_t, path: [*:0]const u8, uid: u32, gid: u32, flags: u32) usize {
    return linux.syscall5(.fchownat, a(dirfd), a(path), uid, gid, flags);
}
pub fn getdents64(fd: fd_t, buf: []u8) usize {
    return linux.syscall3(.getdents64, a(fd), a(buf.ptr), buf.len);
}
pub const SEEK_SET: usize = 0;
pub fn lseek(fd: fd_t, offset: i64, whence: usize) usize {
    return linux.syscall3(.lseek, a(fd), @bitCast(offset), whence);
}
pub fn readlinkat(dirfd: fd_t, path: [*:0]const u8, buf: []u8) usize {
    return linux.syscall4(.readlinkat, a(dirfd), a(path), a(buf.ptr), buf.len);
}
pub fn fchmodat(dirfd: fd_t, path: [*:0]const u8, mode: u32) usize {
    return linux.syscall3(.fchmodat, a(dirfd), a(path), mode);
}
pub const Timespec = extern struct { sec: i64, nsec: i64 };
pub fn utimensat(dirfd: fd_t, path: [*:0]const u8, times: *const [2]Timespec, flags: u32) usize {
    return linux.syscall4(.utimensat, a(dirfd), a(path), a(times), flags);
}
pub fn mount(source: ?[*:0]const u8, target: [*:0]const u8, fstype: ?[*:0]const u8, flags: u32, data: ?[*:0]const u8) usize {
    return linux.syscall5(.mount, a(source), a(target), a(fstype), flags, a(data));
}
pub fn umount2(target: [*:0]const u8, flags: u32) usize {
    return linux.syscall2(.umount2, a(target), flags);
}
pub const MountAttr = extern struct { attr_set: u64, attr_clr: u64, propagation: u64, userns_fd: u64 };
pub fn mountSetattr(dirfd: fd_t, path: [*:0]const u8, flags: u32, attr: *const MountAttr) usize {
    return linux.syscall5(.mount_setattr, a(dirfd), a(path), flags, a(attr), @sizeOf(MountAttr));
}
pub fn pivotRoot(new_root: [*:0]const u8, put_old: [*:0]const u8) usize {
    return linux.syscall2(.pivot_root, a(new_root), a(put_old));
}
pub fn chroot(path: [*:0]const u8) usize {
    return linux.syscall1(.chroot, a(path));
}
pub fn chdir(path: [*:0]const u8) usize {
    return linux.syscall1(.chdir, a(path));
}
pub fn fchdir(fd: fd_t) usize {
    return linux.syscall1(.fchdir, a(fd));
}
pub fn getcwd(buf: []u8) usize {
    return linux.syscall2(.getcwd, a(buf.ptr), buf.len);
}
pub fn sethostname(name: []const u8) usize {
    return linux.syscall2(.sethostname, a(name.ptr), name.len);
}
pub fn setdomainname(name: []const u8) usize {
    return linux.syscall2(.setdomainname, a(name.ptr), name.len);
}
pub const Rlimit = extern struct { soft: u64, hard: u64 };
pub fn prlimit(resource: u32, limit: *const Rlimit) usize {
    return linux.syscall4(.prlimit64, 0, resource, a(limit), 0);
}
pub fn unshare(flags: u64) usize {
    return linux.syscall1(.unshare, flags);
}
pub fn setns(fd: fd_t, nstype: u64) usize {
    return linux.syscall2(.setns, a(fd), nstype);
}
pub fn setgroups(list: []const u32) usize {
    return linux.syscall2(.setgroups, list.len, a(list.ptr));
}
pub fn setresgid(gid: u32) usize {
    return linux.syscall3(.setresgid, gid, gid, gid);
}
pub fn setresuid(uid: u32) usize {
    return linux.syscall3(.setresuid, uid, uid, uid);
}
pub fn prctl(option: usize, arg2: usize, arg3: usize) usize {
    return linux.syscall5(.prctl, option, arg2, arg3, 0, 0);
}
pub const CapHeader = extern struct { version: u32, pid: i32 };
pub const CapData = extern struct { effective: u32, permitted: u32, inheritable: u32 };
pub fn capset(header: *CapHeader, data: *const [2]CapData) usize {
    return linux.syscall2(.capset, a(header), a(data));
}
pub fn umask(mask: u32) usize {
    return linux.syscall1(.umask, mask);
}
/// ioprio_set(IOPRIO_WHO_PROCESS, 0 (this thread's process), class << 13 | level).
pub fn ioprioSet(class: u32, level: u32) usize {
    const ioprio_who_process: usize = 1;
    return linux.syscall3(.ioprio_set, ioprio_who_process, 0, (class << 13) | level);
}
/// struct sched_attr, the first version (48 bytes).
pub const SchedAttr = extern struct {
    size: u32 = @sizeOf(SchedAttr),
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
};
/// set_mempolicy(mode, nodes, maxnode): the kernel reads maxnode - 1 bits; none for an empty mask.
pub fn setMempolicy(mode: u32, nodes: []const u8) usize {
    const maxnode: usize = if (nodes.len == 0) 0 else nodes.len * 8 + 1;
    const ptr: usize = if (nodes.len == 0) 0 else a(nodes.ptr);
    return linux.syscall3(.set_mempolicy, mode, ptr, maxnode);
}
/// sched_setaffinity(0 (this thread), mask).
pub fn schedSetaffinity(mask: []const u8) usize {
    return linux.syscall3(.sched_setaffinity, 0, mask.len, a(mask.ptr));
}
/// sched_setattr(0 (this thread), attr, 0).
pub fn schedSetattr(attr: *const SchedAttr) usize {
    comptime std.debug.assert(@sizeOf(SchedAttr) == 48);
    return linux.syscall3(.sched_setattr, 0, a(attr), 0);
}
pub fn personality(persona: u32) usize {
    return linux.syscall1(.personality, persona);
}
pub fn dup3(old: fd_t, new: fd_t, flags: u32) usize {
    return linux.syscall3(.dup3, a(old), a(new), flags);
}
pub fn fcntl(fd: fd_t, cmd: usize, arg: usize) usize {
    return linux.syscall3(.fcntl, a(fd), cmd, arg);
}
pub fn closeRange(first: u32, last: u32, flags: usize) usize {
    return linux.syscall3(.close_range, first, last, flags);
}
pub fn execve(path: [*:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) usize {
    return linux.syscall3(.execve, a(path), a(argv), a(envp));
}
pub fn faccessat(dirfd: fd_t, path: [*:0]const u8, mode: u32) usize {
    return linux.syscall3(.faccessat, a(dirfd), a(path), mode);
}
pub fn exitGroup(code: u8) noreturn {
    _ = linux.syscall1(.exit_group, code);
    unreachable;
}
pub const KSigaction = extern struct { handler: usize, flags: u64, restorer: usize, mask: u64 };
pub fn sigactionDefault(sig: u32) usize {
    const act = KSigaction{ .handler = 0, .flags = 0, .restorer = 0, .mask = 0 };
    return linux.syscall4(.rt_sigaction, sig, a(&act), 0, 8);
}
pub const SIG_IGN: usize = 1;
/// Sets a signal's disposition to SIG_IGN (or another handler value without flags).
pub fn sigaction(sig: u32, handler: usize) usize {
    const act = KSigaction{ .handler = handler, .flags = 0, .restorer = 0, .mask = 0 };
    return linux.syscall4(.rt_sigaction, sig, a(&act), 0, 8);
}
pub fn setpgid(pid: pid_t, pgid: pid_t) usize {
    return linux.syscall2(.setpgid, a(pid), a(pgid));
}
pub const PollFd = extern struct { fd: i32, events: i16, revents: i16 = 0 };
pub const POLLIN: i16 = 1;
pub const POLLOUT: i16 = 4;
/// ppoll with a timeout in nanoseconds (null: none).
pub fn ppoll(fds: []PollFd, timeout_ns: ?u64) usize {
    var ts: Timespec = undefined;
    var tp: usize = 0;
    if (timeout_ns) |ns| {
        ts = .{ .sec = @intCast(ns / std.time.ns_per_s), .nsec = @intCast(ns % std.time.ns_per_s) };
        tp = @intFromPtr(&ts);
    }
    return linux.syscall5(.ppoll, a(fds.ptr), fds.len, tp, 0, 8);
}
/// CLOCK_MONOTONIC in nanoseconds.
pub fn monotonicNs() u64 {
    var ts: Timespec = .{ .sec = 0, .nsec = 0 };
    const CLOCK_MONOTONIC = 1;
    _ = linux.syscall2(.clock_gettime, CLOCK_MONOTONIC, a(&ts));
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}
pub fn sigprocmask(how: usize, set: *const u64, old: ?*u64) usize {
    return linux.syscall4(.rt_sigprocmask, how, a(set), a(old), 8);
}
pub const SIG_SETMASK: usize = 2;
pub fn socket(domain: u32, kind: u32, protocol: u32) usize {
    return linux.syscall3(.socket, domain, kind, protocol);
}
pub fn socketpair(domain: u32, kind: u32, protocol: u32, fds: *[2]i32) usize {
    return linux.syscall4(.socketpair, domain, kind, protocol, a(fds));
}
pub const SockaddrUn = extern struct { family: u16, path: [108]u8 };
pub fn connect(fd: fd_t, addr: *const SockaddrUn) usize {
    return linux.syscall3(.connect, a(fd), a(addr), @sizeOf(SockaddrUn));
}
pub const Iovec = extern struct { base: usize, len: usize };
/// struct msghdr of 64-bit Linux; addresses as integers so one type serves send and recv.
pub const Msghdr = extern struct {
    name: usize = 0,
    namelen: u32 = 0,
    iov: usize,
    iovlen: usize,
    control: usize,
    controllen: usize,
    flags: i32 = 0,
};
/// One control message carrying one fd: CMSG_SPACE(sizeof(int)) bytes, cmsg_len CMSG_LEN(4).
pub const CmsgFd = extern struct {
    len: usize = @sizeOf(usize) * 2 + 4,
    level: i32 = SOL_SOCKET,
    kind: i32 = SCM_RIGHTS,
    fd: i32,
    pad: u32 = 0,
};
comptime {
    if (@sizeOf(Msghdr) != 56) @compileError("msghdr is 56 bytes on 64-bit Linux");
    if (@sizeOf(CmsgFd) != 24) @compileError("CMSG_SPACE(4) is 24 bytes on 64-bit Linux");
}
/// cmsg_len of an SCM_RIGHTS message with `n` fds: CMSG_LEN(4 * n).
pub fn cmsgLen(n: usize) usize {
    return @sizeOf(usize) + 8 + 4 * n;
}
/// The control buffer length for `n` fds: CMSG_SPACE(4 * n).
pub fn cmsgSpace(n: usize) usize {
    return std.mem.alignForward(usize, cmsgLen(n), @sizeOf(usize));
}
/// One SCM_RIGHTS control message with room for `max` fds.
pub fn CmsgFds(comptime max: usize) type {
    std.debug.assert(max > 0 and max <= SCM_MAX_FD);
    return extern struct {
        len: usize,
        level: i32 = SOL_SOCKET,
        kind: i32 = SCM_RIGHTS,
        fds: [max]i32,
        /// The padding CMSG_SPACE adds after an odd count.
        pad: u32 = 0,
    };
}
pub fn sendmsg(fd: fd_t, msg: *const Msghdr, flags: u32) usize {
    return linux.syscall3(.sendmsg, a(fd), a(msg), flags);
}
pub fn recvmsg(fd: fd_t, msg: *Msghdr, flags: u32) usize {
    return linux.syscall3(.recvmsg, a(fd), a(msg), flags);
}
pub fn bind(fd: fd_t, addr: *const SockaddrUn) usize {
    return linux.syscall3(.bind, a(fd), a(addr), @sizeOf(SockaddrUn));
}
pub fn listen(fd: fd_t, backlog: u32) usize {
    return linux.syscall2(.listen, a(fd), backlog);
}
pub fn accept4(fd: fd_t, flags: u32) usize {
    return linux.syscall4(.accept4, a(fd), 0, 0, flags);
}
pub fn shutdown(fd: fd_t, how: u32) usize {
    return linux.syscall2(.shutdown, a(fd), how);
}
pub fn peerCred(fd: fd_t, out: *Ucred) usize {
    var len: u32 = @sizeOf(Ucred);
    return linux.syscall5(.getsockopt, a(fd), @as(u32, @intCast(SOL_SOCKET)), SO_PEERCRED, a(out), a(&len));
}
pub const AF_NETLINK: u32 = 16;
pub const SOCK_RAW: u32 = 3;
pub const NETLINK_ROUTE: u32 = 0;
pub const SOL_NETLINK: u32 = 270;
pub const NETLINK_CAP_ACK: u32 = 10;
pub const NETLINK_EXT_ACK: u32 = 11;
pub const SO_RCVTIMEO: u32 = 20;
pub const SO_SNDTIMEO: u32 = 21;
pub const MSG_TRUNC: u32 = 0x20;
pub const MSG_PEEK: u32 = 0x2;
pub const ENOBUFS: u16 = 105;
pub const ETIMEDOUT: u16 = 110;
pub const CLONE_FILES: u64 = 0x00000400;
pub const CLONE_VFORK: u64 = 0x00004000;
pub const WALL: usize = 0x40000000;
/// struct sockaddr_nl: the kernel is port 0.
pub const SockaddrNl = extern struct { family: u16, pad: u16 = 0, pid: u32 = 0, groups: u32 = 0 };
/// struct timeval of 64-bit Linux (SO_RCVTIMEO).
pub const Timeval = extern struct { sec: i64, usec: i64 };
pub fn setsockopt(fd: fd_t, level: u32, name: u32, value: []const u8) usize {
    return linux.syscall5(.setsockopt, a(fd), level, name, a(value.ptr), value.len);
}
pub fn sendtoNl(fd: fd_t, buf: []const u8, addr: *const SockaddrNl) usize {
    return linux.syscall6(.sendto, a(fd), a(buf.ptr), buf.len, 0, a(addr), @sizeOf(SockaddrNl));
}
pub fn recv(fd: fd_t, buf: []u8, flags: u32) usize {
    return linux.syscall6(.recvfrom, a(fd), a(buf.ptr), buf.len, flags, 0, 0);
}
/// recvfrom(2) of a netlink socket: the bytes, and the sender's address in `from`.
pub fn recvfromNl(fd: fd_t, buf: []u8, flags: u32, from: *SockaddrNl) usize {
    var len: u32 = @sizeOf(SockaddrNl);
    return linux.syscall6(.recvfrom, a(fd), a(buf.ptr), buf.len, flags, a(from), a(&len));
}
pub const SIG_BLOCK: usize = 0;
pub const SFD_CLOEXEC: u32 = 0o2000000;
/// A signalfd for the signals in `mask` (they must be blocked to be read from it).
pub fn signalfd(mask: *const u64, flags: u32) usize {
    return linux.syscall4(.signalfd4, a(@as(i32, -1)), a(mask), 8, flags);
}
/// struct signalfd_siginfo: 128 bytes; the signal number comes first.
pub const SignalfdSiginfo = extern struct { signo: u32, rest: [124]u8 };
pub const F_GETFD: usize = 1;
pub fn setsid() usize {
    return linux.syscall0(.setsid);
}
pub fn ioctl(fd: fd_t, request: usize, arg: usize) usize {
    return linux.syscall3(.ioctl, a(fd), request, arg);
}
/// statfs for 64-bit Linux: f_type at offset 0, f_flags at offset 80.
pub const Statfs = extern struct { f_type: u64, rest: [9]u64, f_flags: u64, spare: [4]u64 };
pub fn fstatfs(fd: fd_t, buf: *Statfs) usize {
    return linux.syscall2(.fstatfs, a(fd), a(buf));
}
pub const Statx = extern struct {
    mask: u32,
    blksize: u32,
    attributes: u64,
    nlink: u32,
    uid: u32,
    gid: u32,
    mode: u16,
    pad1: u16,
    ino: u64,
    size: u64,
    blocks: u64,
    attributes_mask: u64,
    times: [8]u64,
    rdev_major: u32,
    rdev_minor: u32,
    dev_major: u32,
    dev_minor: u32,
    spare: [14]u64,
};
/// Whether a statx result is the character device major:minor.
pub fn isCharDev(st: *const Statx, major: u32, minor: u32) bool {
    return st.mode & S_IFMT == S_IFCHR and st.rdev_major == major and st.rdev_minor == minor;
}

pub fn statx(dirfd: fd_t, path: [*:0]const u8, flags: u32, buf: *Statx) usize {
    return linux.syscall5(.statx, a(dirfd), a(path), flags, STATX_BASIC_STATS, a(buf));
}
pub fn pipe2(fds: *[2]i32, flags: u32) usize {
    return linux.syscall2(.pipe2, a(fds), flags);
}
pub fn clone(flags: u64, pidfd_out: ?*i32) usize {
    // Fork-like: no new stack, the child resumes here on a copy of this stack.
    return linux.syscall5(.clone, flags, 0, a(pidfd_out), 0, 0);
}
pub const CloneEntry = *const fn (arg: usize) callconv(.c) u8;
/// clone with a stack of the child's own (CLONE_VM children): the child runs entry(arg)
/// on `stack_top` and exits with its result. Only the low 32 bits of flags are clone's.
pub fn cloneOnStack(entry: CloneEntry, stack_top: usize, flags: u64, arg: usize, pidfd_out: ?*i32) usize {
    return linux.clone(entry, stack_top, @truncate(flags), arg, pidfd_out, 0, null);
}
/// struct clone_args (CLONE_ARGS_SIZE_VER2).
pub const CloneArgs = extern struct {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
};
pub fn clone3(args: *const CloneArgs) usize {
    return linux.syscall2(.clone3, a(args), @sizeOf(CloneArgs));
}
pub fn wait4(pid: pid_t, status: *i32, options: usize) usize {
    return linux.syscall4(.wait4, a(pid), a(status), options, 0);
}
/// The siginfo_t waitid fills, for a child: how it ended, its pid, its status.
pub const Siginfo = extern struct {
    signo: i32,
    errno: i32,
    code: i32,
    pad: i32,
    pid: i32,
    uid: u32,
    status: i32,
    rest: [100]u8,
};
comptime {
    if (@sizeOf(Siginfo) != 128) @compileError("siginfo_t is 128 bytes");
}
pub fn waitidPidfd(pidfd: fd_t, info: *Siginfo, options: usize) usize {
    return linux.syscall5(.waitid, P_PIDFD, a(pidfd), a(info), options, 0);
}
pub fn pidfdOpen(pid: pid_t) usize {
    return linux.syscall2(.pidfd_open, a(pid), 0);
}
pub fn pidfdSendSignal(pidfd: fd_t, sig: u32) usize {
    return linux.syscall4(.pidfd_send_signal, a(pidfd), sig, 0, 0);
}
pub fn kill(pid: pid_t, sig: u32) usize {
    return linux.syscall2(.kill, a(pid), sig);
}
pub fn epollCreate() usize {
    return linux.syscall1(.epoll_create1, O_CLOEXEC);
}
pub const EpollEvent = linux.epoll_event;
pub const EPOLLIN: u32 = 1;
pub const EPOLL_CTL_ADD: u32 = 1;
pub const EPOLL_CTL_DEL: u32 = 2;
pub fn epollCtl(epfd: fd_t, op: u32, fd: fd_t, event: ?*EpollEvent) usize {
    return linux.syscall4(.epoll_ctl, a(epfd), op, a(fd), a(event));
}
pub fn epollWait(epfd: fd_t, events: []EpollEvent, timeout_ms: i32) usize {
    return linux.syscall6(.epoll_pwait, a(epfd), a(events.ptr), events.len, a(timeout_ms), 0, 8);
}
pub fn getpid() pid_t {
    return @intCast(linux.syscall0(.getpid));
}
pub fn geteuid() u32 {
    return @intCast(linux.syscall0(.geteuid));
}
pub fn schedYield() usize {
    return linux.syscall0(.sched_yield);
}
pub fn mmap(len: usize, prot: usize, flags: usize) usize {
    return linux.syscall6(.mmap, 0, len, prot, flags, a(@as(i32, -1)), 0);
}
pub fn munmap(mem: []u8) usize {
    return linux.syscall2(.munmap, a(mem.ptr), mem.len);
}
/// The classic BPF program seccomp(SECCOMP_SET_MODE_FILTER) takes.
pub const SockFprog = extern struct { len: u16, pad: [6]u8 = .{ 0, 0, 0, 0, 0, 0 }, filter: usize };
pub fn seccompSetFilter(flags: u32, prog: *const SockFprog) usize {
    return linux.syscall3(.seccomp, SECCOMP_SET_MODE_FILTER, flags, a(prog));
}
// bpf(2): the commands, then the program type and attach type of a cgroup device filter.
pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_PROG_ATTACH: u32 = 8;
pub const BPF_PROG_DETACH: u32 = 9;
pub const BPF_PROG_GET_FD_BY_ID: u32 = 13;
pub const BPF_PROG_QUERY: u32 = 16;
/// bpf(2) with `attr` as the command's union bpf_attr.
pub fn bpf(cmd: u32, attr: []u8) usize {
    return linux.syscall3(.bpf, cmd, a(attr.ptr), attr.len);
}
pub const BPF_F_ALLOW_MULTI: u32 = 2;
pub const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
pub const BPF_CGROUP_DEVICE: u32 = 6;
pub fn fsopen(fstype: [*:0]const u8, flags: u32) usize {
    return linux.syscall2(.fsopen, a(fstype), flags);
}
pub fn fsconfig(fs_fd: fd_t, cmd: u32) usize {
    return linux.syscall5(.fsconfig, a(fs_fd), cmd, 0, 0, 0);
}
pub fn fsmount(fs_fd: fd_t, flags: u32, attrs: u64) usize {
    return linux.syscall3(.fsmount, a(fs_fd), flags, attrs);
}
pub fn openTree(dirfd: fd_t, path: [*:0]const u8, flags: u32) usize {
    return linux.syscall3(.open_tree, a(dirfd), a(path), flags);
}
pub fn moveMount(from_dirfd: fd_t, from_path: [*:0]const u8, to_dirfd: fd_t, to_path: [*:0]const u8, flags: u32) usize {
    return linux.syscall5(.move_mount, a(from_dirfd), a(from_path), a(to_dirfd), a(to_path), flags);
}
pub const EFD_CLOEXEC: u32 = 0o2000000;
pub const EFD_NONBLOCK: u32 = 0o4000;
pub fn eventfd(initval: u32, flags: u32) usize {
    return linux.syscall2(.eventfd2, initval, flags);
}
pub const IN_CLOEXEC: u32 = 0o2000000;
pub const IN_NONBLOCK: u32 = 0o4000;
pub fn inotifyInit(flags: u32) usize {
    return linux.syscall1(.inotify_init1, flags);
}
pub fn inotifyAddWatch(fd: fd_t, path: [*:0]const u8, mask: u32) usize {
    return linux.syscall3(.inotify_add_watch, a(fd), a(path), mask);
}

/// The kernel's dev_t encoding for mknod.
pub fn makedev(major: u32, minor: u32) u32 {
    return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~@as(u32, 0xff)) << 12);
}

/// Writes n in decimal into out; returns the number of digits. No allocation.
pub fn formatDecimal(out: []u8, n: u64) usize {
    var digits: [20]u8 = undefined;
    var count: usize = 0;
    var rest = n;
    while (true) {
        digits[count] = @intCast('0' + rest % 10);
        count += 1;
        rest /= 10;
        if (rest == 0) break;
    }
    std.debug.assert(count <= out.len);
    for (0..count) |i| out[i] = digits[count - 1 - i];
    return count;
}
