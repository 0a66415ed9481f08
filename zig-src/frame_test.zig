//! Frames over a real socketpair: a round trip with fds, EOF, short and oversized frames.
const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");

fn pair() ![2]sys.fd_t {
    var fds: [2]i32 = undefined;
    if (sys.errnoOf(sys.socketpair(sys.AF_UNIX, sys.SOCK_STREAM | sys.O_CLOEXEC, 0, &fds)) != null) return error.Socketpair;
    return fds;
}

fn closePair(fds: [2]sys.fd_t) void {
    _ = sys.close(fds[0]);
    _ = sys.close(fds[1]);
}

test "a frame and its fds make the round trip; the fds are new, close-on-exec and the same files" {
    const s = try pair();
    defer closePair(s);
    var pipe: [2]i32 = undefined;
    try std.testing.expect(sys.errnoOf(sys.pipe2(&pipe, sys.O_CLOEXEC)) == null);
    defer frame.closeAll(&pipe);
    try std.testing.expectEqual(@as(?u16, null), frame.send(s[0], 12, "plan bytes", &pipe));
    var buf: [64]u8 = undefined;
    var fds: [frame.max_fds]sys.fd_t = undefined;
    const got = frame.receive(s[1], &buf, &fds).frame;
    defer frame.closeAll(got.fds);
    try std.testing.expectEqual(@as(u32, 12), got.kind);
    try std.testing.expectEqualStrings("plan bytes", got.body);
    try std.testing.expectEqual(@as(usize, 2), got.fds.len);
    try std.testing.expect(got.fds[0] != pipe[0] and got.fds[1] != pipe[1]);
    try std.testing.expectEqual(@as(usize, 1), sys.fcntl(got.fds[0], sys.F_GETFD, 0)); // FD_CLOEXEC
    // The received write end feeds the original read end.
    try std.testing.expectEqual(@as(usize, 1), sys.write(got.fds[1], "x"));
    var one: [1]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), sys.read(pipe[0], &one));
}

test "253 fds and a body larger than the socket buffer go in one frame" {
    const s = try pair();
    defer closePair(s);
    var many: [frame.max_fds]sys.fd_t = undefined;
    for (&many) |*fd| fd.* = @intCast(sys.fcntl(s[0], sys.F_DUPFD_CLOEXEC, 0));
    defer frame.closeAll(&many);
    const big = try std.testing.allocator.alloc(u8, 1 << 20);
    defer std.testing.allocator.free(big);
    for (big, 0..) |*b, i| b.* = @truncate(i *% 7);
    const buf = try std.testing.allocator.alloc(u8, 1 << 20);
    defer std.testing.allocator.free(buf);
    // The sender blocks until the receiver drains: send from a thread.
    const Sender = struct {
        fn run(fd: sys.fd_t, body: []const u8, fds: []const sys.fd_t, out: *?u16) void {
            out.* = frame.send(fd, 3, body, fds);
        }
    };
    var sent: ?u16 = 99;
    const thread = try std.Thread.spawn(.{}, Sender.run, .{ s[0], big, &many, &sent });
    var fds: [frame.max_fds]sys.fd_t = undefined;
    const got = frame.receive(s[1], buf, &fds);
    thread.join();
    try std.testing.expectEqual(@as(?u16, null), sent);
    defer frame.closeAll(got.frame.fds);
    try std.testing.expectEqual(@as(usize, frame.max_fds), got.frame.fds.len);
    try std.testing.expectEqualSlices(u8, big, got.frame.body);
}

test "EOF before a header is a close; EOF inside a frame is ECONNRESET" {
    var buf: [16]u8 = undefined;
    var fds: [frame.max_fds]sys.fd_t = undefined;
    {
        const s = try pair();
        defer _ = sys.close(s[1]);
        _ = sys.close(s[0]);
        try std.testing.expect(frame.receive(s[1], &buf, &fds) == .closed);
    }
    {
        const s = try pair();
        defer _ = sys.close(s[1]);
        // A header announcing 10 bytes, 3 of them sent, then the end.
        _ = sys.write(s[0], &.{ 10, 0, 0, 0, 1, 0, 0, 0, 'a', 'b', 'c' });
        _ = sys.close(s[0]);
        try std.testing.expectEqual(Received{ .failed = sys.ECONNRESET }, frame.receive(s[1], &buf, &fds));
    }
    {
        const s = try pair();
        defer _ = sys.close(s[1]);
        // Half a header.
        _ = sys.write(s[0], &.{ 1, 0, 0 });
        _ = sys.close(s[0]);
        try std.testing.expectEqual(Received{ .failed = sys.ECONNRESET }, frame.receive(s[1], &buf, &fds));
    }
}

const Received = frame.Received;

test "a body over the buffer or the 16 MiB limit is EMSGSIZE and its fds are closed" {
    const s = try pair();
    defer closePair(s);
    var buf: [4]u8 = undefined;
    var fds: [frame.max_fds]sys.fd_t = undefined;
    const extra: sys.fd_t = @intCast(sys.fcntl(s[0], sys.F_DUPFD_CLOEXEC, 0));
    defer _ = sys.close(extra);
    try std.testing.expectEqual(@as(?u16, null), frame.send(s[0], 1, "too long", &.{extra}));
    try std.testing.expectEqual(Received{ .failed = sys.EMSGSIZE }, frame.receive(s[1], &buf, &fds));
    // The fd it received (the lowest free number then) is closed again.
    try std.testing.expectEqual(@as(?u16, sys.EBADF), sys.errnoOf(sys.fcntl(fds[0], sys.F_GETFD, 0)));

    const t = try pair();
    defer closePair(t);
    var big: [8]u8 = undefined;
    std.mem.writeInt(u32, big[0..4], frame.max_body + 1, .little);
    std.mem.writeInt(u32, big[4..8], 1, .little);
    _ = sys.write(t[0], &big);
    var large: [64]u8 = undefined;
    try std.testing.expectEqual(Received{ .failed = sys.EMSGSIZE }, frame.receive(t[1], &large, &fds));
}

test "an empty body, and frames back to back keep their fds apart" {
    const s = try pair();
    defer closePair(s);
    const extra: sys.fd_t = @intCast(sys.fcntl(s[0], sys.F_DUPFD_CLOEXEC, 0));
    defer _ = sys.close(extra);
    try std.testing.expectEqual(@as(?u16, null), frame.send(s[0], 10, "", &.{}));
    try std.testing.expectEqual(@as(?u16, null), frame.send(s[0], 11, "ab", &.{extra}));
    var buf: [8]u8 = undefined;
    var fds: [frame.max_fds]sys.fd_t = undefined;
    const first = frame.receive(s[1], &buf, &fds).frame;
    try std.testing.expect(first.kind == 10 and first.body.len == 0 and first.fds.len == 0);
    const second = frame.receive(s[1], &buf, &fds).frame;
    defer frame.closeAll(second.fds);
    try std.testing.expect(second.kind == 11 and second.fds.len == 1);
    try std.testing.expectEqualStrings("ab", second.body);
}

test "strlists: what the writer writes the reader reads; the writer counts past its buffer" {
    var buf: [64]u8 = undefined;
    var w = frame.Writer{ .buf = &buf };
    w.strlist(&.{ "cell-planner/1", "", "/tmp" });
    var r = frame.Reader{ .buf = w.written() };
    try std.testing.expectEqual(@as(?u32, 3), r.word());
    try std.testing.expectEqualStrings("cell-planner/1", r.str().?);
    try std.testing.expectEqualStrings("", r.str().?);
    try std.testing.expectEqualStrings("/tmp", r.str().?);
    try std.testing.expect(r.done() and r.str() == null);

    var small: [8]u8 = undefined;
    var o = frame.Writer{ .buf = &small };
    o.strlist(&.{"twelve bytes"});
    try std.testing.expect(o.overflowed());
    try std.testing.expectEqual(@as(usize, 4 + 4 + 12), o.len);
    var cut = frame.Reader{ .buf = buf[0..10] };
    _ = cut.word();
    try std.testing.expect(cut.str() == null);
}
