//! rtnetlink transport: a NETLINK_ROUTE socket made inside a network namespace, and one
//! request/replies exchange on it. TypeScript builds every message and parses every
//! reply (src/network/); this file only moves bytes and bounds the waiting.

const std = @import("std");
const sys = @import("sys.zig");

/// Every read waits at most this long for the kernel (it answers at once; a stuck
/// socket must not hold a runtime thread forever).
const receive_timeout_s: i64 = 10;
/// At most this many reads for one request (each brings one or more messages).
const max_reads: u32 = 4096;
/// Stack of the short-lived task that enters the namespace.
const task_stack_bytes: usize = 64 * 1024;

const nlmsg_header_bytes: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// A NETLINK_ROUTE socket (close-on-exec) in the network namespace `netns_fd`, or in the
/// caller's own for -1, with extended acks on: the fd, or -errno as a raw result.
pub fn open(netns_fd: i32) usize {
    if (netns_fd < 0) return openHere();
    return openInNamespace(netns_fd);
}

fn openHere() usize {
    const rc = sys.socket(sys.AF_NETLINK, sys.SOCK_RAW | sys.O_CLOEXEC, sys.NETLINK_ROUTE);
    if (sys.errnoOf(rc) != null) return rc;
    const fd: sys.fd_t = @intCast(rc);
    const on = std.mem.toBytes(@as(u32, 1));
    const timeout = std.mem.toBytes(sys.Timeval{ .sec = receive_timeout_s, .usec = 0 });
    for ([_]usize{
        sys.setsockopt(fd, sys.SOL_NETLINK, sys.NETLINK_EXT_ACK, &on),
        // Errors quote only the header of the request, not the whole of it.
        sys.setsockopt(fd, sys.SOL_NETLINK, sys.NETLINK_CAP_ACK, &on),
        sys.setsockopt(fd, @intCast(sys.SOL_SOCKET), sys.SO_RCVTIMEO, &timeout),
        sys.setsockopt(fd, @intCast(sys.SOL_SOCKET), sys.SO_SNDTIMEO, &timeout),
    }) |step| {
        if (sys.errnoOf(step) != null) {
            _ = sys.close(fd);
            return step;
        }
    }
    return rc;
}

const Task = struct { netns_fd: i32, result: usize };

/// Runs in the short-lived task: it shares our memory and fd table, so the socket it
/// makes is ours, but it enters the namespace alone (a socket keeps the namespace it
/// was made in; no thread of the caller ever changes namespace).
fn taskEntry(arg: usize) callconv(.c) u8 {
    const task: *Task = @ptrFromInt(arg);
    const entered = sys.setns(task.netns_fd, sys.CLONE_NEWNET);
    task.result = if (sys.errnoOf(entered) != null) entered else openHere();
    return 0;
}

fn openInNamespace(netns_fd: i32) usize {
    const prot = sys.PROT_READ | sys.PROT_WRITE;
    const mapped = sys.mmap(task_stack_bytes, prot, sys.MAP_PRIVATE | sys.MAP_ANONYMOUS | sys.MAP_STACK);
    if (sys.errnoOf(mapped) != null) return mapped;
    const stack = @as([*]u8, @ptrFromInt(mapped))[0..task_stack_bytes];
    defer _ = sys.munmap(stack);

    var task = Task{ .netns_fd = netns_fd, .result = errnoResult(sys.EPROTO) };
    // The task runs with every signal blocked: the runtime's handlers are not meant
    // to run on its stack. CLONE_VFORK: we resume once it has exited.
    const all: u64 = ~@as(u64, 0);
    var old: u64 = 0;
    _ = sys.sigprocmask(sys.SIG_SETMASK, &all, &old);
    const flags = sys.CLONE_VM | sys.CLONE_FILES | sys.CLONE_VFORK; // exit signal 0
    const top = @intFromPtr(stack.ptr) + stack.len;
    const pid = sys.cloneOnStack(&taskEntry, top, flags, @intFromPtr(&task), null);
    _ = sys.sigprocmask(sys.SIG_SETMASK, &old, null);
    if (sys.errnoOf(pid) != null) return pid;

    var status: i32 = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const w = sys.wait4(@intCast(pid), &status, sys.WALL);
        if (sys.errnoOf(w) != sys.EINTR) break;
    }
    return task.result;
}

fn errnoResult(errno: u16) usize {
    return @bitCast(-@as(isize, errno));
}

fn readU32(bytes: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, bytes[at..][0..4], .little);
}

fn readU16(bytes: []const u8, at: usize) u16 {
    return std.mem.readInt(u16, bytes[at..][0..2], .little);
}

/// Sends `request` (one whole nlmsghdr-framed message) and copies every reply carrying
/// its sequence number into `reply`, up to and including the NLMSG_ERROR (the ack) or
/// NLMSG_DONE (the end of a dump) that ends it; messages of other sequences are dropped.
/// Returns the bytes copied, or -errno as a raw result (-ENOBUFS: the replies do not fit
/// in `reply`; -EBADMSG: the kernel's framing is broken; -EAGAIN: no answer in time).
/// Replies that do not fit are still read to their end (into `reply` as scratch), so the
/// socket is left clean for the next request (a dump left half-read would make the
/// kernel refuse the next dump with EBUSY); a single datagram larger than all of `reply`
/// (it would be read cut, its ack perhaps with it) ends the call at once with -ENOBUFS
/// after what is pending is drained. Datagrams not from the kernel (nl_pid 0) are dropped.
pub fn call(fd: i32, request: []const u8, reply: []u8) usize {
    if (request.len < nlmsg_header_bytes) return errnoResult(sys.EINVAL);
    if (readU32(request, 0) != request.len) return errnoResult(sys.EINVAL);
    const seq = readU32(request, 8);
    const kernel = sys.SockaddrNl{ .family = @intCast(sys.AF_NETLINK) };

    const sent = retryIntr(sys.sendtoNl(fd, request, &kernel), fd, request, &kernel);
    if (sys.errnoOf(sent) != null) return sent;

    var used: usize = 0;
    var overflow = false;
    var reads: u32 = 0;
    while (reads < max_reads) : (reads += 1) {
        // The next datagram's whole length (MSG_TRUNC), without taking it (MSG_PEEK).
        var from = sys.SockaddrNl{ .family = 0 };
        const size = receive(fd, reply[used..][0..0], sys.MSG_PEEK | sys.MSG_TRUNC, &from);
        if (sys.errnoOf(size) != null) return size;
        if (size > reply.len) return drainTooBig(fd);
        if (!overflow and size > reply.len - used) overflow = true;
        const into = if (overflow) reply[0..size] else reply[used..][0..size];
        const got = receive(fd, into, sys.MSG_TRUNC, &from);
        if (sys.errnoOf(got) != null) return got;
        // The datagram peeked is the one read (one reader); a longer one is not cut anyway.
        if (got > into.len) return drainTooBig(fd);
        // Only the kernel answers (a process can send to our port too).
        if (from.pid != 0) continue;
        const step = keepOwn(into[0..got], seq);
        if (overflow) {
            if (step.done) return errnoResult(sys.ENOBUFS);
            continue;
        }
        if (step.bad) return errnoResult(sys.EBADMSG);
        used += step.kept;
        std.debug.assert(used <= reply.len);
        if (step.done) return used;
    }
    return errnoResult(sys.EPROTO);
}

fn retryIntr(first: usize, fd: i32, request: []const u8, kernel: *const sys.SockaddrNl) usize {
    var rc = first;
    var tries: u32 = 0;
    while (sys.errnoOf(rc) == sys.EINTR and tries < 64) : (tries += 1) {
        rc = sys.sendtoNl(fd, request, kernel);
    }
    return rc;
}

/// recvfrom(2) retried on EINTR: the bytes (the whole datagram's length with MSG_TRUNC),
/// the sender in `from`.
fn receive(fd: i32, buf: []u8, flags: u32, from: *sys.SockaddrNl) usize {
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        rc = sys.recvfromNl(fd, buf, flags, from);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    return rc;
}

/// Takes every datagram pending (a dump's next parts are made as they are read) without
/// waiting, so the socket is clean for the next request; then -ENOBUFS.
fn drainTooBig(fd: i32) usize {
    var none: [0]u8 = .{};
    var from = sys.SockaddrNl{ .family = 0 };
    var reads: u32 = 0;
    while (reads < max_reads) : (reads += 1) {
        const rc = receive(fd, &none, sys.MSG_DONTWAIT | sys.MSG_TRUNC, &from);
        if (sys.errnoOf(rc) != null) break;
    }
    return errnoResult(sys.ENOBUFS);
}

const Kept = struct { kept: usize, done: bool, bad: bool };

/// Walks the messages of one datagram in place, moving those of `seq` to its front.
/// Bounded by the datagram: each message is at least a header long.
fn keepOwn(data: []u8, seq: u32) Kept {
    var at: usize = 0;
    var kept: usize = 0;
    while (at + nlmsg_header_bytes <= data.len) {
        const len = readU32(data, at);
        if (len < nlmsg_header_bytes or len > data.len - at) return .{ .kept = kept, .done = false, .bad = true };
        const kind = readU16(data, at + 4);
        const own = readU32(data, at + 8) == seq;
        const step = @min(std.mem.alignForward(usize, len, 4), data.len - at);
        if (own) {
            std.mem.copyForwards(u8, data[kept..][0..step], data[at..][0..step]);
            kept += step;
            if (kind == NLMSG_ERROR or kind == NLMSG_DONE) return .{ .kept = kept, .done = true, .bad = false };
        }
        at += step;
    }
    return .{ .kept = kept, .done = false, .bad = false };
}

test "keepOwn keeps the messages of one sequence and stops at its ack" {
    var data = std.mem.zeroes([64]u8);
    // A message of seq 7 (16 bytes), one of seq 9 (20 bytes), an ack of seq 7 (20 bytes).
    const layout = [_]struct { len: u32, kind: u16, seq: u32 }{
        .{ .len = 16, .kind = 16, .seq = 7 },
        .{ .len = 20, .kind = 16, .seq = 9 },
        .{ .len = 20, .kind = NLMSG_ERROR, .seq = 7 },
    };
    var at: usize = 0;
    for (layout) |m| {
        std.mem.writeInt(u32, data[at..][0..4], m.len, .little);
        std.mem.writeInt(u16, data[at + 4 ..][0..2], m.kind, .little);
        std.mem.writeInt(u32, data[at + 8 ..][0..4], m.seq, .little);
        at += m.len;
    }
    const kept = keepOwn(data[0..at], 7);
    try std.testing.expect(kept.done and !kept.bad);
    try std.testing.expectEqual(@as(usize, 36), kept.kept);
    try std.testing.expectEqual(NLMSG_ERROR, readU16(&data, 20));
    std.mem.writeInt(u32, data[0..4], 99, .little);
    try std.testing.expect(keepOwn(data[0..at], 7).bad);
}

test "call drops a datagram that is not from the kernel, even one shaped as its ack" {
    const linux = std.os.linux;
    const own_rc = open(-1);
    try std.testing.expect(sys.errnoOf(own_rc) == null);
    const own: i32 = @intCast(own_rc);
    defer _ = sys.close(own);
    const other_rc = open(-1);
    try std.testing.expect(sys.errnoOf(other_rc) == null);
    const other: i32 = @intCast(other_rc);
    defer _ = sys.close(other);

    // Our port: bound by the kernel (nl_pid 0 asks it to choose).
    var addr = sys.SockaddrNl{ .family = @intCast(sys.AF_NETLINK) };
    try std.testing.expectEqual(@as(usize, 0), linux.bind(own, @ptrCast(&addr), @sizeOf(sys.SockaddrNl)));
    var len: linux.socklen_t = @sizeOf(sys.SockaddrNl);
    try std.testing.expectEqual(@as(usize, 0), linux.getsockname(own, @ptrCast(&addr), &len));
    try std.testing.expect(addr.pid != 0);

    // A process sends us an ack of our coming request's sequence: errno EPERM (root may).
    const seq: u32 = 0x5eed;
    var forged = std.mem.zeroes([36]u8);
    std.mem.writeInt(u32, forged[0..4], forged.len, .little);
    std.mem.writeInt(u16, forged[4..6], NLMSG_ERROR, .little);
    std.mem.writeInt(u32, forged[8..12], seq, .little);
    std.mem.writeInt(i32, forged[16..20], -1, .little);
    const to = sys.SockaddrNl{ .family = @intCast(sys.AF_NETLINK), .pid = addr.pid };
    try std.testing.expectEqual(forged.len, sys.sendtoNl(other, &forged, &to));

    // RTM_GETLINK of lo (index 1), with an ack: the kernel's answer is the link, then 0.
    var request = std.mem.zeroes([32]u8);
    std.mem.writeInt(u32, request[0..4], request.len, .little);
    std.mem.writeInt(u16, request[4..6], 18, .little); // RTM_GETLINK
    std.mem.writeInt(u16, request[6..8], 0x1 | 0x4, .little); // NLM_F_REQUEST | NLM_F_ACK
    std.mem.writeInt(u32, request[8..12], seq, .little);
    std.mem.writeInt(i32, request[20..24], 1, .little); // ifi_index
    var reply: [16384]u8 = undefined;
    const got = call(own, &request, &reply);
    try std.testing.expect(sys.errnoOf(got) == null);
    try std.testing.expectEqual(@as(u16, 16), readU16(&reply, 4)); // RTM_NEWLINK first
    const ack_at = std.mem.alignForward(usize, readU32(&reply, 0), 4);
    try std.testing.expectEqual(NLMSG_ERROR, readU16(&reply, ack_at + 4));
    try std.testing.expectEqual(@as(u32, 0), readU32(&reply, ack_at + 16)); // the kernel's: 0
}
