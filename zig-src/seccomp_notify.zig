//! A seccomp notify listener handed to the agent at `linux.seccomp.listenerPath`: the
//! runtime connected the socket before the spawn and built the container process state
//! (runtime-spec `ContainerProcessState`) as pieces around our host pid; right after the
//! filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER we send the state with the
//! listener fd (SCM_RIGHTS) in one sendmsg, and close both. Runs in the child.

const std = @import("std");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const Context = @import("child.zig").Context;

/// Sends the state and `listener` to the agent's socket, then closes both.
pub fn handOver(ctx: *Context, listener: sys.fd_t) void {
    const l = ctx.proc.listener orelse unreachable; // decode pairs the flag with the op
    std.debug.assert(listener >= 0 and ctx.listener_socket >= 0);
    ctx.op_index = @intCast(l.op_index);
    defer ctx.op_index = -1;
    var digits: [12]u8 = undefined;
    const pid = digits[0..sys.formatDecimal(&digits, @intCast(ctx.host_pid))];
    var iov: [2 * payload.max_listener_pieces]sys.Iovec = undefined;
    var n: usize = 0;
    var total: usize = 0;
    var pieces = l.listener.pieces.iterator();
    while (pieces.next()) |piece| {
        if (n > 0) {
            iov[n] = .{ .base = @intFromPtr(pid.ptr), .len = pid.len };
            n += 1;
            total += pid.len;
        }
        iov[n] = .{ .base = @intFromPtr(piece.ptr), .len = piece.len };
        n += 1;
        total += piece.len;
    }
    const cmsg = sys.CmsgFd{ .fd = listener };
    const msg = sys.Msghdr{ .iov = @intFromPtr(&iov), .iovlen = n, .control = @intFromPtr(&cmsg), .controllen = @sizeOf(sys.CmsgFd) };
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const rc = sys.sendmsg(ctx.listener_socket, &msg, sys.MSG_NOSIGNAL);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            ctx.fail("sendmsg", e, "seccomp agent");
        }
        // A blocking stream send goes whole unless a signal cut it short.
        if (rc != total) ctx.fail("sendmsg", sys.EMSGSIZE, "seccomp agent");
        break;
    }
    _ = sys.close(listener);
    _ = sys.close(ctx.listener_socket);
    ctx.listener_socket = -1;
}
