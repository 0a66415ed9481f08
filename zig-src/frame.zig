//! Frames of the planner protocol (docs/planner.md), shared by libcell's exports and the
//! front door: an 8-byte header (u32 LE body length, u32 LE kind), then the body, sent
//! by one sendmsg with any fds attached as SCM_RIGHTS. Raw syscalls and caller buffers
//! only: no allocation.

const std = @import("std");
const sys = @import("sys.zig");

pub const header_len = 8;
/// A header announcing more is a protocol error.
pub const max_body: usize = 16 * 1024 * 1024;
/// Fds one frame carries at most (one SCM_RIGHTS message).
pub const max_fds = sys.SCM_MAX_FD;

const Cmsg = sys.CmsgFds(max_fds);

/// Retries of a call interrupted by a signal before giving up with EINTR.
const max_interrupts = 1 << 16;

/// Sends one frame: null, or the errno (EMSGSIZE for a body over `max_body`). A stream
/// socket may take a large body in parts; the fds go with the first part.
pub fn send(fd: sys.fd_t, kind: u32, body: []const u8, fds: []const sys.fd_t) ?u16 {
    std.debug.assert(fds.len <= max_fds);
    if (body.len > max_body) return sys.EMSGSIZE;
    var header: [header_len]u8 = undefined;
    std.mem.writeInt(u32, header[0..4], @intCast(body.len), .little);
    std.mem.writeInt(u32, header[4..8], kind, .little);
    var cmsg: Cmsg = .{ .len = sys.cmsgLen(fds.len), .fds = undefined };
    @memcpy(cmsg.fds[0..fds.len], fds);
    var iov: [2]sys.Iovec = undefined;
    var msg = sys.Msghdr{ .iov = @intFromPtr(&iov), .iovlen = 0, .control = 0, .controllen = 0 };
    if (fds.len > 0) {
        msg.control = @intFromPtr(&cmsg);
        msg.controllen = sys.cmsgSpace(fds.len);
    }
    const total = header_len + body.len;
    var sent: usize = 0;
    var tries: u32 = 0;
    while (sent < total) : (tries += 1) {
        if (tries == max_interrupts) return sys.EINTR;
        msg.iovlen = unsent(&iov, &header, body, sent);
        const rc = sys.sendmsg(fd, &msg, sys.MSG_NOSIGNAL);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            return e;
        }
        std.debug.assert(rc > 0 and rc <= total - sent);
        sent += rc;
        msg.control = 0;
        msg.controllen = 0;
    }
    return null;
}

/// Points `iov` at what is left to send after `sent` bytes; returns how many are used.
fn unsent(iov: *[2]sys.Iovec, header: *const [header_len]u8, body: []const u8, sent: usize) usize {
    if (sent < header_len) {
        iov[0] = .{ .base = @intFromPtr(header) + sent, .len = header_len - sent };
        iov[1] = .{ .base = @intFromPtr(body.ptr), .len = body.len };
        return if (body.len > 0) 2 else 1;
    }
    const done = sent - header_len;
    iov[0] = .{ .base = @intFromPtr(body.ptr) + done, .len = body.len - done };
    return 1;
}

pub const Frame = struct { kind: u32, body: []u8, fds: []sys.fd_t };

pub const Received = union(enum) {
    frame: Frame,
    /// The peer closed before the first byte of a header: not an error.
    closed,
    /// An errno: EMSGSIZE (the body is over the limit or the buffer), ECONNRESET (EOF
    /// inside a frame), EPROTO (control data cut), or the syscall's own. Every fd that
    /// came with the frame is closed; the stream is out of step after EMSGSIZE.
    failed: u16,
};

/// Receives one frame into `buf` (its body) and `fds_out` (the fds, close-on-exec).
pub fn receive(fd: sys.fd_t, buf: []u8, fds_out: *[max_fds]sys.fd_t) Received {
    var header: [header_len]u8 = undefined;
    var nfds: usize = 0;
    const got = recvHeader(fd, &header, fds_out, &nfds);
    if (got == .failed or got == .closed) return got;
    const length = std.mem.readInt(u32, header[0..4], .little);
    const kind = std.mem.readInt(u32, header[4..8], .little);
    const fds = fds_out[0..nfds];
    if (length > max_body or length > buf.len) return fail(fds, sys.EMSGSIZE);
    if (readFully(fd, buf[0..length])) |e| return fail(fds, e);
    return .{ .frame = .{ .kind = kind, .body = buf[0..length], .fds = fds } };
}

fn fail(fds: []const sys.fd_t, errno: u16) Received {
    closeAll(fds);
    return .{ .failed = errno };
}

/// Closes each fd of a list (fds received and not wanted).
pub fn closeAll(fds: []const sys.fd_t) void {
    for (fds) |fd| _ = sys.close(fd);
}

/// The first header bytes with recvmsg (the fds arrive with them), then the rest of
/// the header if the first read was short. `.frame` here only means "a header".
fn recvHeader(fd: sys.fd_t, header: *[header_len]u8, fds_out: *[max_fds]sys.fd_t, nfds: *usize) Received {
    var cmsg = std.mem.zeroes(Cmsg);
    const iov = sys.Iovec{ .base = @intFromPtr(header), .len = header_len };
    var msg = sys.Msghdr{ .iov = @intFromPtr(&iov), .iovlen = 1, .control = @intFromPtr(&cmsg), .controllen = @sizeOf(Cmsg) };
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < max_interrupts) : (tries += 1) {
        msg.controllen = @sizeOf(Cmsg);
        rc = sys.recvmsg(fd, &msg, sys.MSG_CMSG_CLOEXEC);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc)) |e| return .{ .failed = e };
    nfds.* = takeFds(&cmsg, msg.controllen, fds_out);
    const fds = fds_out[0..nfds.*];
    if (msg.flags & sys.MSG_CTRUNC != 0) return fail(fds, sys.EPROTO);
    if (rc == 0) {
        // Fds without a byte cannot come on a stream socket; should they, they go.
        closeAll(fds);
        return .closed;
    }
    std.debug.assert(rc <= header_len);
    if (readFully(fd, header[rc..])) |e| return fail(fds, e);
    return .{ .frame = .{ .kind = 0, .body = &.{}, .fds = fds } };
}

/// The fds of the control message recvmsg filled (`len` bytes of it).
fn takeFds(cmsg: *const Cmsg, len: usize, out: *[max_fds]sys.fd_t) usize {
    if (len < sys.cmsgLen(0) or cmsg.len < sys.cmsgLen(0)) return 0;
    if (cmsg.level != sys.SOL_SOCKET or cmsg.kind != sys.SCM_RIGHTS) return 0;
    const n = @min((cmsg.len - sys.cmsgLen(0)) / 4, max_fds);
    @memcpy(out[0..n], cmsg.fds[0..n]);
    return n;
}

/// Reads exactly `buf.len` bytes: null, or the errno (ECONNRESET at EOF).
fn readFully(fd: sys.fd_t, buf: []u8) ?u16 {
    var done: usize = 0;
    var interrupts: u32 = 0;
    // Each read brings at least one byte or is an interruption: both bounded.
    while (done < buf.len) {
        const rc = sys.read(fd, buf[done..]);
        if (sys.errnoOf(rc)) |e| {
            if (e != sys.EINTR) return e;
            interrupts += 1;
            if (interrupts == max_interrupts) return sys.EINTR;
            continue;
        }
        if (rc == 0) return sys.ECONNRESET;
        done += rc;
    }
    return null;
}

/// Builds a body into a caller's buffer: u32 LE words, strings and strlists (u32 count,
/// then per string u32 length and the bytes, no NUL). Past the end it only counts:
/// `overflowed()` then says the buffer was too small and `len` how much was needed.
pub const Writer = struct {
    buf: []u8,
    len: usize = 0,

    pub fn overflowed(w: *const Writer) bool {
        return w.len > w.buf.len;
    }

    pub fn written(w: *const Writer) []u8 {
        std.debug.assert(!w.overflowed());
        return w.buf[0..w.len];
    }

    pub fn bytes(w: *Writer, data: []const u8) void {
        if (!w.overflowed() and w.len + data.len <= w.buf.len) @memcpy(w.buf[w.len..][0..data.len], data);
        w.len += data.len;
    }

    pub fn word(w: *Writer, v: u32) void {
        var b: [4]u8 = undefined;
        std.mem.writeInt(u32, &b, v, .little);
        w.bytes(&b);
    }

    pub fn str(w: *Writer, s: []const u8) void {
        w.word(@intCast(s.len));
        w.bytes(s);
    }

    pub fn strlist(w: *Writer, items: []const []const u8) void {
        w.word(@intCast(items.len));
        for (items) |s| w.str(s);
    }

    /// A strlist of NUL-terminated strings (argv, environ).
    pub fn strlistZ(w: *Writer, items: []const ?[*:0]const u8) void {
        w.word(@intCast(items.len));
        for (items) |s| w.str(std.mem.span(s.?));
    }
};

/// Reads what `Writer` wrote; null when the body ends early.
pub const Reader = struct {
    buf: []const u8,
    at: usize = 0,

    pub fn word(r: *Reader) ?u32 {
        if (r.buf.len - r.at < 4) return null;
        defer r.at += 4;
        return std.mem.readInt(u32, r.buf[r.at..][0..4], .little);
    }

    pub fn str(r: *Reader) ?[]const u8 {
        const n = r.word() orelse return null;
        if (r.buf.len - r.at < n) return null;
        defer r.at += n;
        return r.buf[r.at..][0..n];
    }

    pub fn done(r: *const Reader) bool {
        return r.at == r.buf.len;
    }
};
