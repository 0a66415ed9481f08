//! libcell: the C ABI that ffi/symbols.ts loads with Deno.dlopen. Every function
//! returns its error as a value (-errno, or a status in a result buffer); none aborts.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const spawn_mod = @import("spawn.zig");
const bpf = @import("bpf.zig");
const frame = @import("frame.zig");
const unix_socket = @import("unix_socket.zig");
const netlink = @import("netlink.zig");

/// A raw syscall result as returned to TypeScript: the value, or -errno. Every value
/// cell returns this way (fds, pids, counts) fits in an i32.
fn abiResult(rc: usize) i32 {
    const v = sys.toAbi(rc);
    std.debug.assert(v >= std.math.minInt(i32) and v <= std.math.maxInt(i32));
    return @intCast(v);
}

export fn cell_abi_version() u32 {
    return abi.version;
}

/// Makes a container process from a plan; fills `result` (an abi.SpawnResult).
export fn cell_spawn(plan_ptr: [*]const u8, plan_len: usize, result: *abi.SpawnResult) void {
    spawn_mod.spawn(plan_ptr[0..plan_len], result);
}

export fn cell_open(path: [*:0]const u8, flags: u32, mode: u32) i32 {
    return abiResult(sys.openat(sys.AT_FDCWD, path, flags | sys.O_CLOEXEC, mode));
}

/// write(2) of `len` bytes to an fd: bytes written, or -errno.
export fn cell_write(fd: i32, data: [*]const u8, len: usize) i32 {
    return abiResult(sys.write(fd, data[0..len]));
}

export fn cell_close(fd: i32) i32 {
    return abiResult(sys.close(fd));
}

/// A CLOEXEC pipe: fds[0] reads, fds[1] writes.
export fn cell_pipe(fds: *[2]i32) i32 {
    return abiResult(sys.pipe2(fds, sys.O_CLOEXEC));
}

export fn cell_pidfd_open(pid: i32) i32 {
    return abiResult(sys.pidfdOpen(pid));
}

export fn cell_pidfd_signal(pidfd: i32, sig: u32) i32 {
    return abiResult(sys.pidfdSendSignal(pidfd, sig));
}

export fn cell_kill(pid: i32, sig: u32) i32 {
    return abiResult(sys.kill(pid, sig));
}

/// Reaps an exited child through its pidfd without blocking. out[0] = 1 exited
/// (out[1] = code) or 2 killed (out[1] = signal). Returns 1 if reaped, 0 if still
/// running, or -errno.
export fn cell_reap(pidfd: i32, out: *[2]i32) i32 {
    var info = std.mem.zeroes(sys.Siginfo);
    const rc = sys.waitidPidfd(pidfd, &info, sys.WEXITED | sys.WNOHANG);
    if (sys.errnoOf(rc) != null) return abiResult(rc);
    if (info.pid == 0) return 0;
    out[0] = if (info.code == sys.CLD_EXITED) 1 else 2; // else killed or dumped
    out[1] = info.status;
    return 1;
}

export fn cell_epoll_create() i32 {
    return abiResult(sys.epollCreate());
}

/// Watches a pidfd; it turns readable when the process exits.
export fn cell_epoll_add(epfd: i32, fd: i32) i32 {
    var ev = sys.EpollEvent{ .events = sys.EPOLLIN, .data = .{ .fd = fd } };
    return abiResult(sys.epollCtl(epfd, sys.EPOLL_CTL_ADD, fd, &ev));
}

export fn cell_epoll_del(epfd: i32, fd: i32) i32 {
    return abiResult(sys.epollCtl(epfd, sys.EPOLL_CTL_DEL, fd, null));
}

/// Blocks (run it as a nonblocking FFI call) until watched fds are ready; writes up
/// to `cap` ready fds to `out` and returns how many, or -errno.
export fn cell_epoll_wait(epfd: i32, out: [*]i32, cap: u32, timeout_ms: i32) i32 {
    var events: [64]sys.EpollEvent = undefined;
    const n = @min(cap, events.len);
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 1000) : (tries += 1) {
        rc = sys.epollWait(epfd, events[0..n], timeout_ms);
        // A signal handled by the runtime interrupts the wait; that is not an error.
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc) != null) return abiResult(rc);
    for (0..rc) |i| out[i] = events[i].data.fd;
    return @intCast(rc);
}

/// mkdir(2): 0, or -errno (-EEXIST when it is there already).
export fn cell_mkdir(path: [*:0]const u8, mode: u32) i32 {
    return abiResult(sys.mkdirat(sys.AT_FDCWD, path, mode));
}

/// rmdir(2): 0, or -errno.
export fn cell_rmdir(path: [*:0]const u8) i32 {
    return abiResult(sys.unlinkat(sys.AT_FDCWD, path, sys.AT_REMOVEDIR));
}

/// Writes `len` bytes to an existing file in one write(2) (cgroup and /proc files
/// take a value per write). Returns bytes written, or -errno.
export fn cell_write_file(path: [*:0]const u8, data: [*]const u8, len: usize) i32 {
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O_WRONLY | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(fd) != null) return abiResult(fd);
    const rc = sys.write(@intCast(fd), data[0..len]);
    _ = sys.close(@intCast(fd));
    return abiResult(rc);
}

/// Loads a cgroup device-filter program (`count` 8-byte instructions) and attaches it
/// to the cgroup v2 directory `path`. 0, or -errno; a verifier refusal leaves its log
/// in `log` (NUL-terminated).
export fn cell_bpf_device_filter(insns: [*]const u8, count: u32, path: [*:0]const u8, log: [*]u8, log_len: u32) i32 {
    return bpf.attachDeviceFilter(insns, count, path, log[0..log_len]);
}

/// An eventfd (close-on-exec, non-blocking): the v1 OOM notification channel.
export fn cell_eventfd() i32 {
    return abiResult(sys.eventfd(0, sys.EFD_CLOEXEC | sys.EFD_NONBLOCK));
}

/// An inotify instance (close-on-exec, non-blocking): the v2 OOM notification channel.
export fn cell_inotify_init() i32 {
    return abiResult(sys.inotifyInit(sys.IN_CLOEXEC | sys.IN_NONBLOCK));
}

/// inotify_add_watch(2): a watch descriptor, or -errno.
export fn cell_inotify_add_watch(fd: i32, path: [*:0]const u8, mask: u32) i32 {
    return abiResult(sys.inotifyAddWatch(fd, path, mask));
}

/// read(2) into `buf`: bytes read (0 at EOF), or -errno (-EAGAIN when nothing is there).
export fn cell_read(fd: i32, buf: [*]u8, len: usize) i32 {
    return abiResult(sys.read(fd, buf[0..len]));
}

/// mkfifo(2): 0 or -errno.
export fn cell_mkfifo(path: [*:0]const u8, mode: u32) i32 {
    return abiResult(sys.mknodat(sys.AT_FDCWD, path, sys.S_IFIFO | (mode & 0o777), 0));
}

/// A connected pair of close-on-exec AF_UNIX stream sockets: 0, or -errno.
export fn cell_socketpair(fds: *[2]i32) i32 {
    return abiResult(sys.socketpair(sys.AF_UNIX, sys.SOCK_STREAM | sys.O_CLOEXEC, 0, fds));
}

/// Connects a new close-on-exec AF_UNIX stream socket to `path` (runc's
/// --console-socket): the fd, or -errno (-ENAMETOOLONG past 107 bytes).
export fn cell_unix_connect(path: [*:0]const u8) i32 {
    return abiResult(unix_socket.connect(std.mem.span(path)));
}

/// A close-on-exec AF_UNIX stream socket bound to `path` (mode 0600) and listening: the
/// fd, or -errno (-EADDRINUSE when the path exists: the caller removes a stale one).
export fn cell_listen_unix(path: [*:0]const u8) i32 {
    return abiResult(unix_socket.listen(std.mem.span(path)));
}

/// Takes the next connection (blocking: a nonblocking FFI call) and its peer's uid
/// (SO_PEERCRED) into `out_uid`: the connection's fd (close-on-exec), or -errno
/// (-EINVAL once the listener was shut down with cell_shutdown).
export fn cell_accept_peer(fd: i32, out: *[2]u32) i32 {
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        rc = sys.accept4(fd, sys.O_CLOEXEC);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc) != null) return abiResult(rc);
    const conn: sys.fd_t = @intCast(rc);
    var cred = std.mem.zeroes(sys.Ucred);
    const got = sys.peerCred(conn, &cred);
    if (sys.errnoOf(got) != null) {
        _ = sys.close(conn);
        return abiResult(got);
    }
    out[0] = cred.uid;
    out[1] = @bitCast(cred.pid);
    return conn;
}

/// shutdown(2) SHUT_RDWR: wakes a cell_accept_peer blocked on a listener. 0 or -errno.
export fn cell_shutdown(fd: i32) i32 {
    return abiResult(sys.shutdown(fd, sys.SHUT_RDWR));
}

/// Sends one planner-protocol frame (zig-src/frame.zig) with `nfds` fds: 0 or -errno.
export fn cell_send_frame(fd: i32, kind: u32, body: [*]const u8, len: usize, fds: [*]const i32, nfds: u32) i32 {
    if (nfds > frame.max_fds) return -@as(i32, sys.EINVAL);
    const errno = frame.send(fd, kind, body[0..len], fds[0..nfds]) orelse return 0;
    return -@as(i32, errno);
}

/// Receives one frame (blocking: a nonblocking FFI call): the body into `buf`, its fds
/// (close-on-exec) into `fds_out` (253 entries), and kind, body length, fd count into
/// `meta_out`. 0 a frame, 1 the peer closed before a header, or -errno (-EMSGSIZE:
/// the body is over `cap`; -ECONNRESET: EOF inside a frame). No fd stays open on error.
export fn cell_recv_frame(fd: i32, buf: [*]u8, cap: usize, fds_out: *[frame.max_fds]i32, meta_out: *[3]u32) i32 {
    return switch (frame.receive(fd, buf[0..cap], fds_out)) {
        .closed => 1,
        .failed => |errno| -@as(i32, errno),
        .frame => |f| blk: {
            meta_out.* = .{ f.kind, @intCast(f.body.len), @intCast(f.fds.len) };
            break :blk 0;
        },
    };
}

/// Receives one fd sent with SCM_RIGHTS (a terminal master from a console socket),
/// without blocking: the fd (close-on-exec), or -errno (-EAGAIN: nothing there yet,
/// -ENOMSG: a message without an fd, or the peer closed). The message's bytes (the pty
/// name) go to `text`, NUL-terminated and cut to fit.
export fn cell_recv_fd(socket: i32, text: [*]u8, text_len: usize) i32 {
    std.debug.assert(text_len > 0);
    var cmsg = std.mem.zeroes(sys.CmsgFd);
    const iov = sys.Iovec{ .base = @intFromPtr(text), .len = text_len - 1 };
    var msg = sys.Msghdr{
        .iov = @intFromPtr(&iov),
        .iovlen = 1,
        .control = @intFromPtr(&cmsg),
        .controllen = @sizeOf(sys.CmsgFd),
    };
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        rc = sys.recvmsg(socket, &msg, sys.MSG_DONTWAIT | sys.MSG_CMSG_CLOEXEC);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc) != null) return abiResult(rc);
    text[@min(rc, text_len - 1)] = 0;
    const header = @sizeOf(usize) * 2;
    const has_fd = msg.controllen >= header + 4 and
        cmsg.level == sys.SOL_SOCKET and cmsg.kind == sys.SCM_RIGHTS;
    if (!has_fd) return -@as(i32, sys.ENOMSG);
    // The buffer has room for two fds (CMSG_SPACE(4) is 24 bytes): a second one was
    // installed too, in the padding, and must not leak. More than fit were dropped by
    // the kernel (MSG_CTRUNC), never installed.
    if (cmsg.len >= header + 8) _ = sys.close(@bitCast(cmsg.pad));
    return cmsg.fd;
}

/// A NETLINK_ROUTE socket (close-on-exec, extended acks on) made inside the network
/// namespace `netns_fd` (-1: the caller's own) by a short-lived task that enters it:
/// no thread of the caller changes namespace. The fd, or -errno.
export fn cell_netlink_open(netns_fd: i32) i32 {
    return abiResult(netlink.open(netns_fd));
}

/// Sends one netlink request (a whole message; its seq and flags set by the caller) and
/// copies its replies, up to the ack or the end of the dump, into `reply`: the bytes
/// copied, or -errno (-ENOBUFS: they do not fit in `cap`). Bounded in reads and time.
export fn cell_netlink_call(fd: i32, request: [*]const u8, len: usize, reply: [*]u8, cap: usize) i32 {
    const room = @min(cap, @as(usize, std.math.maxInt(i32)));
    return abiResult(netlink.call(fd, request[0..len], reply[0..room]));
}
