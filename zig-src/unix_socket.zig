//! AF_UNIX stream sockets by path, for libcell's exports and the front door.

const std = @import("std");
const sys = @import("sys.zig");

/// The address of a socket path, or the errno (ENAMETOOLONG past 107 bytes).
pub fn address(path: []const u8, addr: *sys.SockaddrUn) ?u16 {
    addr.* = .{ .family = @intCast(sys.AF_UNIX), .path = std.mem.zeroes([108]u8) };
    if (path.len == 0) return sys.ENOENT;
    if (path.len >= addr.path.len) return sys.ENAMETOOLONG;
    @memcpy(addr.path[0..path.len], path);
    return null;
}

/// A new close-on-exec stream socket connected to `path`: the fd, or -errno as a raw result.
pub fn connect(path: []const u8) usize {
    var addr: sys.SockaddrUn = undefined;
    if (address(path, &addr)) |e| return @bitCast(-@as(isize, e));
    const fd = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(fd) != null) return fd;
    var rc: usize = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        rc = sys.connect(@intCast(fd), &addr);
        if (sys.errnoOf(rc) != sys.EINTR) break;
    }
    if (sys.errnoOf(rc) != null) {
        _ = sys.close(@intCast(fd));
        return rc;
    }
    return fd;
}

/// A new close-on-exec stream socket bound to `path`, chmod 0600, listening: the fd,
/// or -errno as a raw result.
pub fn listen(path: [:0]const u8) usize {
    var addr: sys.SockaddrUn = undefined;
    if (address(path, &addr)) |e| return @bitCast(-@as(isize, e));
    const rc = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(rc) != null) return rc;
    const fd: sys.fd_t = @intCast(rc);
    for ([_]usize{
        sys.bind(fd, &addr),
        sys.fchmodat(sys.AT_FDCWD, path, 0o600),
        sys.listen(fd, 128),
    }) |step| {
        if (sys.errnoOf(step) != null) {
            _ = sys.close(fd);
            return step;
        }
    }
    return rc;
}
