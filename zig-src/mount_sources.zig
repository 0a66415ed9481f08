//! Bind-mount sources opened by the parent, as runc's mount source fds: in a new user
//! namespace the child's root cannot reach a source below a directory only the host's
//! root may enter, so the parent (the host's root, all its capabilities) opens each one
//! through /proc/<child>/root (so the fd belongs to the child's mount namespace, which a
//! bind requires) and sends them all in one SCM_RIGHTS message before go. The child takes
//! them in plan order and mounts from /proc/self/fd/N.

const std = @import("std");
const sys = @import("sys.zig");
const plan = @import("plan.zig");
const payload = @import("payload.zig");
const resolve = @import("resolve.zig");
const idmap_tree = @import("idmap_tree.zig");
const Context = @import("child.zig").Context;

/// Sources per plan: one message carries them all (the kernel allows 253).
pub const max = plan.mount_sources_max;

/// A control message with room for `max` fds.
const CmsgFds = sys.CmsgFds(max);
const cmsgLen = sys.cmsgLen;

pub const Failure = struct { syscall: []const u8, errno: u16, op_index: i32, path: []const u8 };

/// Parent side: opens the `mount_source` paths under /proc/<pid>/root, makes the
/// `idmap_source` trees (idmap_tree.zig), and sends the fds in plan order.
pub fn send(buf: []const u8, pid: []const u8, socket: sys.fd_t, count: usize) ?Failure {
    std.debug.assert(count > 0 and count <= max);
    var cmsg = CmsgFds{ .len = cmsgLen(count), .fds = undefined };
    var opened: usize = 0;
    defer for (cmsg.fds[0..opened]) |fd| {
        _ = sys.close(fd);
    };
    // One user namespace per distinct mapping; the maps' slices point into `buf`.
    var userns = idmap_tree.UsernsCache{};
    defer userns.closeAll();
    var ops = payload.Checked.init(buf);
    while (ops.next()) |op| {
        const path = switch (op.payload) {
            .mount_source => |p| p,
            .idmap_source => |s| {
                std.debug.assert(opened < count);
                switch (idmap_tree.open(s, &userns)) {
                    .fd => |fd| cmsg.fds[opened] = fd,
                    .failed => |f| return .{ .syscall = f.syscall, .errno = f.errno, .op_index = @intCast(op.index), .path = s.source },
                }
                opened += 1;
                continue;
            },
            else => continue,
        };
        std.debug.assert(opened < count);
        var full: [64 + resolve.max_path]u8 = undefined;
        const where = rootPath(&full, pid, path) orelse
            return .{ .syscall = "open", .errno = sys.ENAMETOOLONG, .op_index = @intCast(op.index), .path = path };
        const rc = sys.openat(sys.AT_FDCWD, where, sys.O_PATH | sys.O_CLOEXEC, 0);
        if (sys.errnoOf(rc)) |e| return .{ .syscall = "open", .errno = e, .op_index = @intCast(op.index), .path = path };
        cmsg.fds[opened] = @intCast(rc);
        opened += 1;
    }
    std.debug.assert(opened == count);
    var byte = [1]u8{'s'};
    const iov = sys.Iovec{ .base = @intFromPtr(&byte), .len = 1 };
    const msg = sys.Msghdr{ .iov = @intFromPtr(&iov), .iovlen = 1, .control = @intFromPtr(&cmsg), .controllen = sys.cmsgSpace(count) };
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const rc = sys.sendmsg(socket, &msg, sys.MSG_NOSIGNAL);
        const e = sys.errnoOf(rc) orelse return null;
        if (e != sys.EINTR) return .{ .syscall = "sendmsg", .errno = e, .op_index = -1, .path = "mount sources" };
    }
    return .{ .syscall = "sendmsg", .errno = sys.EINTR, .op_index = -1, .path = "mount sources" };
}

/// "/proc/<pid>/root<path>" with a NUL, or null when it does not fit.
fn rootPath(buf: []u8, pid: []const u8, path: []const u8) ?[*:0]const u8 {
    const prefix = "/proc/";
    const middle = "/root";
    const len = prefix.len + pid.len + middle.len + path.len;
    if (len + 1 > buf.len or path.len == 0 or path[0] != '/') return null;
    var at: usize = 0;
    for ([_][]const u8{ prefix, pid, middle, path }) |part| {
        @memcpy(buf[at..][0..part.len], part);
        at += part.len;
    }
    buf[at] = 0;
    return buf[0..at :0];
}

/// Child side: receives the `count` fds the parent sent (close-on-exec) into `out`.
pub fn receive(ctx: *const Context, socket: sys.fd_t, out: []sys.fd_t) void {
    std.debug.assert(out.len > 0 and out.len <= max);
    var cmsg = std.mem.zeroes(CmsgFds);
    var byte: [1]u8 = undefined;
    const iov = sys.Iovec{ .base = @intFromPtr(&byte), .len = 1 };
    var msg = sys.Msghdr{ .iov = @intFromPtr(&iov), .iovlen = 1, .control = @intFromPtr(&cmsg), .controllen = @sizeOf(CmsgFds) };
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        rc = sys.recvmsg(socket, &msg, sys.MSG_CMSG_CLOEXEC);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc)) |e| ctx.fail("recvmsg", e, "mount sources");
    if (rc == 0) sys.exitGroup(1); // the parent went away
    const got = if (cmsg.level == sys.SOL_SOCKET and cmsg.kind == sys.SCM_RIGHTS and cmsg.len >= cmsgLen(0))
        (cmsg.len - cmsgLen(0)) / 4
    else
        0;
    if (got != out.len) ctx.fail("recvmsg", sys.EBADMSG, "mount sources");
    @memcpy(out, cmsg.fds[0..out.len]);
}

test "rootPath" {
    var buf: [64]u8 = undefined;
    try std.testing.expectEqualStrings("/proc/42/root/srv/a", std.mem.span(rootPath(&buf, "42", "/srv/a").?));
    try std.testing.expect(rootPath(&buf, "42", "relative") == null);
}
