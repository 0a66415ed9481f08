//! OCI hooks the container's init runs itself, as runc does: `createContainer` in the
//! container's namespaces before the root change (the host's paths still reachable), and
//! `startContainer` just before the exec, under the container's seccomp filter, as its
//! user. Each hook is forked from the init, gets its state (the plan's pieces joined by
//! the init's host pid) on stdin and exactly its env, runs in a process group of its own
//! (a timeout kills the group), and its output's end is kept for the error record.
//! Raw syscalls and stack buffers only.

const std = @import("std");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const report = @import("report.zig");
const abi = @import("abi.zig");

/// The state a hook reads (the kernel's default pipe holds it whole).
pub const max_state = 60 * 1024;
/// Bytes of a hook's output kept for the error record.
const tail_bytes = 200;

/// How a hook ended, as the error record carries it (docs/abi.md).
pub const Outcome = struct {
    /// The errno that kept it from running, or 0.
    errno: u16 = 0,
    /// The exit status, 256 + the signal that killed it, or minus the timeout in seconds
    /// when it ran past it.
    status: i32 = 0,
    tail: [tail_bytes]u8 = undefined,
    tail_len: usize = 0,

    pub fn ok(self: *const Outcome) bool {
        return self.errno == 0 and self.status == 0;
    }

    /// The error record: syscall "hook", errno, the outcome in `pid`, the output's end.
    pub fn record(self: *const Outcome, op_index: i32) abi.Record {
        return report.make(.err, self.errno, self.status, op_index, "hook", self.tail[0..self.tail_len]);
    }
};

/// Runs one hook to its end (or its timeout) and says how it went; it starts in the
/// directory of `cwd_fd` when that is not -1 (createContainer: the rootfs, as runc).
pub fn run(hook: *const payload.Hook, host_pid: i32, cwd_fd: sys.fd_t) Outcome {
    var out = Outcome{};
    var argv_buf: [payload.hook_max_args + 1]?[*:0]const u8 = undefined;
    var envp_buf: [payload.hook_max_env + 1]?[*:0]const u8 = undefined;
    var state_buf: [max_state]u8 = undefined;
    const argv = list(hook.args, &argv_buf);
    const envp = list(hook.env, &envp_buf);
    if (argv_buf[0] == null) { // no args: argv[0] is the path
        argv_buf[0] = hook.path.ptr;
        argv_buf[1] = null;
    }
    const state = joinState(hook.pieces, host_pid, &state_buf) orelse {
        out.errno = sys.E2BIG;
        return out;
    };
    // A hook that does not read its stdin must not kill us with SIGPIPE.
    _ = sys.sigaction(sys.SIGPIPE, sys.SIG_IGN);
    defer _ = sys.sigactionDefault(sys.SIGPIPE);
    var p: Pipes = .{};
    defer p.closeAll();
    if (!p.open()) {
        out.errno = sys.EMFILE;
        return out;
    }
    var pidfd: i32 = -1;
    const rc = sys.clone(sys.SIGCHLD | sys.CLONE_PIDFD, &pidfd);
    if (sys.errnoOf(rc)) |e| {
        out.errno = e;
        return out;
    }
    if (rc == 0) child(hook, &p, argv, envp, cwd_fd);
    const pid: sys.pid_t = @intCast(rc);
    defer _ = sys.close(pidfd);
    p.closeChildEnds();
    var exec_errno: [2]u8 = .{ 0, 0 };
    // EOF: the exec happened (the pipe is close-on-exec); two bytes: it failed.
    if (sys.read(p.exec_r, &exec_errno) == 2) {
        out.errno = std.mem.readInt(u16, &exec_errno, .little);
        reap(pidfd);
        return out;
    }
    out.status = supervise(hook, &p, pid, pidfd, state, &out);
    return out;
}

fn list(strings: payload.StrList, buf: []?[*:0]const u8) [*:null]?[*:0]const u8 {
    _ = strings.fillPointers(buf);
    return @ptrCast(buf.ptr);
}

/// The state pieces joined by the host pid, or null when it does not fit.
fn joinState(pieces: payload.StrList, host_pid: i32, buf: []u8) ?[]const u8 {
    var digits: [12]u8 = undefined;
    const pid = digits[0..sys.formatDecimal(&digits, @intCast(host_pid))];
    var it = pieces.iterator();
    var len: usize = 0;
    var first = true;
    while (it.next()) |piece| : (first = false) {
        const parts = [_][]const u8{ if (first) "" else pid, piece };
        for (parts) |part| {
            if (len + part.len > buf.len) return null;
            @memcpy(buf[len..][0..part.len], part);
            len += part.len;
        }
    }
    return buf[0..len];
}

const Pipes = struct {
    in_r: sys.fd_t = -1,
    in_w: sys.fd_t = -1,
    out_r: sys.fd_t = -1,
    out_w: sys.fd_t = -1,
    err_r: sys.fd_t = -1,
    err_w: sys.fd_t = -1,
    exec_r: sys.fd_t = -1,
    exec_w: sys.fd_t = -1,

    fn open(self: *Pipes) bool {
        const pairs = [_]struct { *sys.fd_t, *sys.fd_t }{
            .{ &self.in_r, &self.in_w },
            .{ &self.out_r, &self.out_w },
            .{ &self.err_r, &self.err_w },
            .{ &self.exec_r, &self.exec_w },
        };
        for (pairs) |pair| {
            var fds: [2]i32 = undefined;
            if (sys.errnoOf(sys.pipe2(&fds, sys.O_CLOEXEC)) != null) return false;
            pair[0].* = fds[0];
            pair[1].* = fds[1];
        }
        // Our ends only (their file descriptions are not the hook's): never block on them.
        for ([_]sys.fd_t{ self.in_w, self.out_r, self.err_r }) |fd| {
            _ = sys.fcntl(fd, sys.F_SETFL, sys.O_NONBLOCK);
        }
        return true;
    }

    fn closeChildEnds(self: *Pipes) void {
        for ([_]*sys.fd_t{ &self.in_r, &self.out_w, &self.err_w, &self.exec_w }) |fd| closeFd(fd);
    }

    fn closeAll(self: *Pipes) void {
        const all = [_]*sys.fd_t{ &self.in_r, &self.in_w, &self.out_r, &self.out_w, &self.err_r, &self.err_w, &self.exec_r, &self.exec_w };
        for (all) |fd| closeFd(fd);
    }
};

fn closeFd(fd: *sys.fd_t) void {
    if (fd.* >= 0) _ = sys.close(fd.*);
    fd.* = -1;
}

/// The hook's process: its own group, the pipes as 0, 1, 2, nothing else open, the exec.
fn child(hook: *const payload.Hook, p: *const Pipes, argv: [*:null]?[*:0]const u8, envp: [*:null]?[*:0]const u8, cwd_fd: sys.fd_t) noreturn {
    _ = sys.setpgid(0, 0);
    if (cwd_fd >= 0) {
        if (sys.errnoOf(sys.fchdir(cwd_fd))) |e| execFailed(p.exec_w, e);
    }
    _ = sys.sigactionDefault(sys.SIGPIPE);
    const ends = [_]sys.fd_t{ p.in_r, p.out_w, p.err_w };
    // Through high numbers first, so an end already at 0..2 is not overwritten.
    var high: [3]sys.fd_t = undefined;
    for (ends, 0..) |fd, i| {
        const rc = sys.fcntl(fd, sys.F_DUPFD_CLOEXEC, 10);
        if (sys.errnoOf(rc)) |e| execFailed(p.exec_w, e);
        high[i] = @intCast(rc);
    }
    for (high, 0..) |fd, i| {
        if (sys.errnoOf(sys.dup3(fd, @intCast(i), 0))) |e| execFailed(p.exec_w, e);
    }
    const exec_w = sys.fcntl(p.exec_w, sys.F_DUPFD_CLOEXEC, 3);
    if (sys.errnoOf(exec_w)) |e| execFailed(p.exec_w, e);
    // Everything but 0..2 and the exec status pipe (close-on-exec) goes.
    const w: u32 = @intCast(exec_w);
    if (w > 3) _ = sys.closeRange(3, w - 1, 0);
    _ = sys.closeRange(w + 1, std.math.maxInt(u32), 0);
    const rc = sys.execve(hook.path.ptr, argv, envp);
    execFailed(@intCast(exec_w), sys.errnoOf(rc) orelse sys.EINVAL);
}

fn execFailed(fd: sys.fd_t, errno: u16) noreturn {
    var bytes: [2]u8 = undefined;
    std.mem.writeInt(u16, &bytes, errno, .little);
    _ = sys.write(fd, &bytes);
    sys.exitGroup(127);
}

/// Feeds the state, keeps the output's end, waits for the exit or the timeout; returns
/// the outcome's status.
fn supervise(hook: *const payload.Hook, p: *Pipes, pid: sys.pid_t, pidfd: sys.fd_t, state: []const u8, out: *Outcome) i32 {
    var tails = [2]Tail{ .{}, .{} };
    var written: usize = 0;
    if (state.len == 0) closeFd(&p.in_w);
    const deadline_ns: ?u64 = if (hook.timeout_s == 0) null else sys.monotonicNs() + @as(u64, hook.timeout_s) * std.time.ns_per_s;
    var timed_out = false;
    var rounds: u32 = 0;
    while (rounds < 1 << 24) : (rounds += 1) {
        var fds = [_]sys.PollFd{
            .{ .fd = pidfd, .events = sys.POLLIN },
            .{ .fd = p.out_r, .events = sys.POLLIN },
            .{ .fd = p.err_r, .events = sys.POLLIN },
            .{ .fd = p.in_w, .events = sys.POLLOUT },
        };
        var wait_ns: ?u64 = null;
        if (deadline_ns) |d| {
            const now = sys.monotonicNs();
            if (now >= d) {
                timed_out = true;
                break;
            }
            wait_ns = d - now;
        }
        const rc = sys.ppoll(&fds, wait_ns);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            break; // cannot wait: kill it below
        }
        if (fds[3].revents != 0 and p.in_w >= 0) {
            const w = sys.write(p.in_w, state[written..]);
            if (sys.errnoOf(w)) |e| {
                if (e != sys.EAGAIN) closeFd(&p.in_w); // EPIPE: it did not read, fine
            } else written += w;
            if (written == state.len) closeFd(&p.in_w);
        }
        drain(p.out_r, &tails[0]);
        drain(p.err_r, &tails[1]);
        if (fds[0].revents != 0) break; // exited
    }
    if (timed_out or rounds == 1 << 24) {
        _ = sys.kill(-pid, sys.SIGKILL);
        _ = sys.kill(pid, sys.SIGKILL);
    }
    const status = reapStatus(pidfd);
    drain(p.out_r, &tails[0]);
    drain(p.err_r, &tails[1]);
    // As the runtime's own hook runner: stderr's end, else stdout's.
    const tail = if (tails[1].len() > 0) &tails[1] else &tails[0];
    out.tail_len = tail.copy(&out.tail);
    return if (timed_out) -@as(i32, @intCast(@min(hook.timeout_s, std.math.maxInt(i32)))) else status;
}

/// The last `tail_bytes` of a stream, in a ring.
const Tail = struct {
    buf: [tail_bytes]u8 = undefined,
    total: usize = 0,

    fn add(self: *Tail, bytes: []const u8) void {
        for (bytes) |b| {
            self.buf[self.total % tail_bytes] = b;
            self.total += 1;
        }
    }

    fn len(self: *const Tail) usize {
        return @min(self.total, tail_bytes);
    }

    fn copy(self: *const Tail, dest: *[tail_bytes]u8) usize {
        const n = self.len();
        const start = self.total - n;
        for (0..n) |i| dest[i] = self.buf[(start + i) % tail_bytes];
        return n;
    }
};

/// Reads what a non-blocking pipe holds now into the tail.
fn drain(fd: sys.fd_t, tail: *Tail) void {
    if (fd < 0) return;
    var chunk: [512]u8 = undefined;
    var reads: u32 = 0;
    while (reads < 4096) : (reads += 1) {
        const rc = sys.read(fd, &chunk);
        if (sys.errnoOf(rc) != null or rc == 0) return;
        tail.add(chunk[0..rc]);
    }
}

fn reap(pidfd: sys.fd_t) void {
    _ = reapStatus(pidfd);
}

/// Waits for the hook's exit: its exit status, or 256 + the signal that killed it.
fn reapStatus(pidfd: sys.fd_t) i32 {
    var info = std.mem.zeroes(sys.Siginfo);
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const rc = sys.waitidPidfd(pidfd, &info, sys.WEXITED);
        if (sys.errnoOf(rc) == sys.EINTR) continue;
        break;
    }
    return if (info.code == sys.CLD_EXITED) info.status else 256 + info.status;
}

test "Tail keeps the last bytes in order" {
    var t = Tail{};
    var i: usize = 0;
    while (i < 450) : (i += 1) t.add(&[_]u8{@intCast(i % 256)});
    var out: [tail_bytes]u8 = undefined;
    try std.testing.expectEqual(@as(usize, tail_bytes), t.copy(&out));
    try std.testing.expectEqual(@as(u8, 250), out[0]);
    try std.testing.expectEqual(@as(u8, @intCast(449 % 256)), out[tail_bytes - 1]);
}
