//! One call served by a planner (docs/planner.md): after HELLO, the door answers the
//! planner's frames (FDS, SPAWN, WAIT) until EXIT, FALLBACK, or the end of the socket.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const spawn = @import("spawn.zig");
const report = @import("door_report.zig");

/// Frame kinds (docs/planner.md).
pub const Kind = struct {
    pub const hello: u32 = 1;
    pub const fd_numbers: u32 = 2;
    pub const spawned: u32 = 3;
    pub const exited: u32 = 4;
    pub const accepted: u32 = 10;
    pub const fds: u32 = 11;
    pub const spawn: u32 = 12;
    pub const wait: u32 = 13;
    pub const exit: u32 = 14;
    pub const fallback: u32 = 15;
};

/// The signals the door blocks from its start and forwards to the process it waits for.
pub const forwarded = [_]u32{ sys.SIGINT, sys.SIGTERM, sys.SIGHUP, sys.SIGQUIT, sys.SIGUSR1, sys.SIGUSR2, sys.SIGCONT };

pub fn forwardedMask() u64 {
    var mask: u64 = 0;
    for (forwarded) |sig| mask |= sys.sigBit(sig);
    return mask;
}

/// How a call ends.
pub const Outcome = union(enum) {
    /// EXIT: the door exits with this code.
    exit: u8,
    /// No planner took the call (FALLBACK, EOF or a protocol error before ACCEPTED).
    in_process,
    /// FALLBACK whose reason starts with "stale": start a new planner, then in-process.
    stale,
};

/// Frames one call may take; a planner that sends more is broken.
const max_frames = 1 << 20;
/// Processes spawned in one call (a run spawns one; hooks and retries a few more).
const max_children = 64;
/// Fds held from FDS frames until the next SPAWN.
const max_pending = 4 * frame.max_fds;

const Child = struct { pid: sys.pid_t, pidfd: sys.fd_t };

pub const Session = struct {
    socket: sys.fd_t,
    /// The body buffer (max_body bytes).
    buf: []u8,
    accepted: bool = false,
    /// A SPAWN came: from here the call can no longer go in-process.
    spawned: bool = false,
    pending: [max_pending]sys.fd_t = undefined,
    pending_len: usize = 0,
    children: [max_children]Child = undefined,
    children_len: usize = 0,
    signal_fd: sys.fd_t = -1,

    /// Serves frames until the call ends. After ACCEPTED, a broken planner ends the door
    /// here (its children killed, exit 1).
    pub fn run(self: *Session) Outcome {
        var fds: [frame.max_fds]sys.fd_t = undefined;
        var count: u32 = 0;
        while (count < max_frames) : (count += 1) {
            const got = switch (frame.receive(self.socket, self.buf, &fds)) {
                .closed => return self.broken("the socket closed", 0),
                .failed => |e| return self.broken("recvmsg", e),
                .frame => |f| f,
            };
            if (!self.accepted) {
                frame.closeAll(got.fds);
                switch (got.kind) {
                    Kind.accepted => self.accepted = true,
                    Kind.fallback => return if (std.mem.startsWith(u8, got.body, "stale")) .stale else .in_process,
                    else => return .in_process,
                }
                continue;
            }
            // A planner may still hand the call back after ACCEPTED while it has done
            // nothing for it (it found it needs the caller's own terminal, say).
            if (got.kind == Kind.fallback and !self.spawned) {
                frame.closeAll(got.fds);
                return if (std.mem.startsWith(u8, got.body, "stale")) .stale else .in_process;
            }
            if (self.serve(got)) |code| return .{ .exit = code };
        }
        return self.broken("too many frames", 0);
    }

    /// Handles one frame after ACCEPTED: the EXIT code, or null to go on.
    fn serve(self: *Session, f: frame.Frame) ?u8 {
        if (f.kind != Kind.fds and f.fds.len > 0) {
            frame.closeAll(f.fds);
            self.died("fds came with a frame that takes none", 0);
        }
        switch (f.kind) {
            Kind.fds => self.takeFds(f),
            Kind.spawn => self.spawnChild(f.body),
            Kind.wait => self.waitChild(f.body),
            Kind.exit => {
                if (f.body.len != 4) self.died("an EXIT frame of the wrong size", 0);
                const code = std.mem.readInt(i32, f.body[0..4], .little);
                return @truncate(@as(u32, @bitCast(code)));
            },
            else => self.died("a frame of an unknown kind", 0),
        }
        return null;
    }

    /// FDS: keep the fds until the next SPAWN and tell the planner their numbers here.
    fn takeFds(self: *Session, f: frame.Frame) void {
        const fits = self.pending_len + f.fds.len <= max_pending;
        if (f.body.len != 4 or std.mem.readInt(u32, f.body[0..4], .little) != f.fds.len or !fits) {
            frame.closeAll(f.fds);
            self.died("an FDS frame whose count is not the fds attached", 0);
        }
        @memcpy(self.pending[self.pending_len..][0..f.fds.len], f.fds);
        self.pending_len += f.fds.len;
        var body: [4 + 4 * frame.max_fds]u8 = undefined;
        std.mem.writeInt(u32, body[0..4], @intCast(f.fds.len), .little);
        for (f.fds, 0..) |fd, i| std.mem.writeInt(i32, body[4 + 4 * i ..][0..4], fd, .little);
        self.send(Kind.fd_numbers, body[0 .. 4 + 4 * f.fds.len], &.{});
    }

    /// SPAWN: the same spawn as libcell's cell_spawn; the fds of FDS are closed after it.
    fn spawnChild(self: *Session, plan: []const u8) void {
        if (self.children_len == max_children) self.died("too many processes in one call", 0);
        var result: abi.SpawnResult = undefined;
        self.spawned = true;
        spawn.spawn(plan, &result);
        frame.closeAll(self.pending[0..self.pending_len]);
        self.pending_len = 0;
        const has_child = result.pid > 0 and result.pidfd >= 0;
        if (has_child) {
            self.children[self.children_len] = .{ .pid = result.pid, .pidfd = result.pidfd };
            self.children_len += 1;
        }
        const pidfd = [_]sys.fd_t{result.pidfd};
        self.send(Kind.spawned, std.mem.asBytes(&result), if (has_child) &pidfd else &.{});
    }

    /// WAIT: forward the blocked signals to the child until it exits, reap it, reply
    /// EXITED (code, signal): (status, 0) when it exited, (0, signal) when killed.
    fn waitChild(self: *Session, body: []const u8) void {
        if (body.len != 4) self.died("a WAIT frame of the wrong size", 0);
        const pid = std.mem.readInt(i32, body[0..4], .little);
        const index = for (self.children[0..self.children_len], 0..) |c, i| {
            if (c.pid == pid) break i;
        } else self.died("WAIT for a process this door did not spawn", 0);
        const pidfd = self.children[index].pidfd;
        if (self.signal_fd < 0) {
            const mask = forwardedMask();
            const rc = sys.signalfd(&mask, sys.SFD_CLOEXEC);
            if (sys.errnoOf(rc)) |e| self.died("signalfd", e);
            self.signal_fd = @intCast(rc);
        }
        var info = std.mem.zeroes(sys.Siginfo);
        var rounds: u32 = 0;
        while (true) : (rounds += 1) {
            if (rounds == max_frames) self.died("too many signals while waiting", 0);
            // The socket too: a planner that dies while its call waits ends the call here
            // (the planner sends nothing during a WAIT, so anything readable is its end).
            var polled = [_]sys.PollFd{
                .{ .fd = pidfd, .events = sys.POLLIN },
                .{ .fd = self.signal_fd, .events = sys.POLLIN },
                .{ .fd = self.socket, .events = sys.POLLIN },
            };
            const rc = sys.ppoll(&polled, null);
            if (sys.errnoOf(rc)) |e| {
                if (e == sys.EINTR) continue;
                self.died("ppoll", e);
            }
            if (polled[1].revents != 0) self.forwardSignal(pidfd);
            if (polled[0].revents == 0) {
                if (polled[2].revents != 0) self.died("the socket closed while the process ran", 0);
                continue;
            }
            const waited = sys.waitidPidfd(pidfd, &info, sys.WEXITED);
            if (sys.errnoOf(waited)) |e| {
                if (e == sys.EINTR) continue;
                self.died("waitid", e);
            }
            break;
        }
        _ = sys.close(pidfd);
        self.children[index] = self.children[self.children_len - 1];
        self.children_len -= 1;
        const exited = info.code == sys.CLD_EXITED;
        var out: [8]u8 = undefined;
        std.mem.writeInt(i32, out[0..4], if (exited) info.status else 0, .little);
        std.mem.writeInt(i32, out[4..8], if (exited) 0 else info.status, .little);
        self.send(Kind.exited, &out, &.{});
    }

    fn forwardSignal(self: *Session, pidfd: sys.fd_t) void {
        var si: sys.SignalfdSiginfo = undefined;
        const rc = sys.read(self.signal_fd, std.mem.asBytes(&si));
        if (sys.errnoOf(rc) != null or rc != @sizeOf(sys.SignalfdSiginfo)) return;
        // The child may be gone already (ESRCH): its exit comes next.
        _ = sys.pidfdSendSignal(pidfd, si.signo);
    }

    fn send(self: *Session, kind: u32, body: []const u8, fds: []const sys.fd_t) void {
        if (frame.send(self.socket, kind, body, fds)) |e| self.died("sendmsg", e);
    }

    /// A failure of the socket or the protocol: before ACCEPTED the call goes in-process;
    /// after it the door gives up.
    fn broken(self: *Session, what: []const u8, errno: u16) Outcome {
        if (!self.accepted) return .in_process;
        self.died(what, errno);
    }

    /// The planner failed mid-call: kill what this door spawned and holds, say so, exit 1.
    fn died(self: *Session, what: []const u8, errno: u16) noreturn {
        for (self.children[0..self.children_len]) |c| _ = sys.pidfdSendSignal(c.pidfd, sys.SIGKILL);
        var name: [16]u8 = undefined;
        var buf: [256]u8 = undefined;
        const detail = if (errno == 0) what else std.fmt.bufPrint(&buf, "{s}: {s}", .{ what, report.errnoText(&name, errno) }) catch what;
        var line: [512]u8 = undefined;
        report.say(std.fmt.bufPrint(&line, "the planner ended during this call ({s}); nothing more was done", .{detail}) catch "the planner ended during this call; nothing more was done");
        sys.exitGroup(1);
    }
};

test "the forwarded signals' mask" {
    const mask = forwardedMask();
    try std.testing.expectEqual(@as(u64, (1 << 1) | (1 << 0) | (1 << 2) | (1 << 14) | (1 << 9) | (1 << 11) | (1 << 17)), mask);
}
