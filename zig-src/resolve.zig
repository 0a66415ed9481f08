//! Opening paths inside the container's root without following anything out of it:
//! openat2 with RESOLVE_IN_ROOT, creating missing directories one component at a time
//! from a parent that was itself resolved inside the root.

const std = @import("std");
const sys = @import("sys.zig");

pub const Create = enum { none, dir, file };

pub const max_path = 4096;
const max_components = 256;

/// Result of a failed resolution: errno and the syscall that gave it.
pub const Failure = struct { errno: u16, syscall: []const u8 };

pub const Result = union(enum) { fd: sys.fd_t, failed: Failure };

fn open(root: sys.fd_t, path: [*:0]const u8, resolve: u64) usize {
    const how = sys.OpenHow{ .flags = sys.O_PATH | sys.O_CLOEXEC, .mode = 0, .resolve = resolve };
    return sys.openat2(root, path, &how);
}

/// Opens `path` (absolute or relative, read as inside `root`) as an O_PATH fd.
pub fn inRoot(root: sys.fd_t, path: []const u8, create: Create, no_symlinks: bool) Result {
    std.debug.assert(root >= 0);
    var resolve: u64 = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS;
    if (no_symlinks) resolve |= sys.RESOLVE_NO_SYMLINKS;
    var buf: [max_path]u8 = undefined;
    if (path.len + 1 > buf.len) return .{ .failed = .{ .errno = sys.ENAMETOOLONG, .syscall = "openat2" } };
    @memcpy(buf[0..path.len], path);
    buf[path.len] = 0;
    const whole = open(root, buf[0..path.len :0], resolve);
    if (sys.errnoOf(whole)) |e| {
        if (e != sys.ENOENT or create == .none) return .{ .failed = .{ .errno = e, .syscall = "openat2" } };
        if (createLast(root, &buf, path.len, create, resolve)) |fd| return .{ .fd = fd };
        return createPath(root, &buf, path.len, create, resolve);
    }
    return .{ .fd = @intCast(whole) };
}

/// The common case: only the last component is missing. Returns null to fall back
/// to the full walk.
fn createLast(root: sys.fd_t, buf: *[max_path]u8, len: usize, create: Create, resolve: u64) ?sys.fd_t {
    var end = len;
    while (end > 0 and buf[end - 1] == '/') end -= 1;
    const slash = std.mem.lastIndexOfScalar(u8, buf[0..end], '/') orelse return null;
    if (slash == 0 or end == slash + 1) return null;
    buf[slash] = 0;
    const parent_rc = open(root, buf[0..slash :0], resolve);
    buf[slash] = '/';
    if (sys.errnoOf(parent_rc) != null) return null;
    const parent: sys.fd_t = @intCast(parent_rc);
    defer _ = sys.close(parent);
    const saved = buf[end];
    buf[end] = 0;
    defer buf[end] = saved;
    const name: [*:0]const u8 = buf[slash + 1 .. end :0];
    const made = if (create == .file) makeFile(parent, name) else sys.mkdirat(parent, name, 0o755);
    if (sys.errnoOf(made)) |e| {
        if (e != sys.EEXIST) return null;
    }
    const rc = open(root, buf[0..end :0], resolve);
    if (sys.errnoOf(rc) != null) return null;
    return @intCast(rc);
}

/// Walks the prefixes of buf[0..len], each resolved from the root (so symlinks inside
/// the rootfs work as they would for the container), creating what is missing in the
/// directory that the previous prefix resolved to.
fn createPath(root: sys.fd_t, buf: *[max_path]u8, len: usize, create: Create, resolve: u64) Result {
    const first = sys.openat(root, ".", sys.O_PATH | sys.O_CLOEXEC | sys.O_DIRECTORY, 0);
    if (sys.errnoOf(first)) |e| return .{ .failed = .{ .errno = e, .syscall = "openat" } };
    var parent: sys.fd_t = @intCast(first);
    var start: usize = 0;
    var steps: u32 = 0;
    while (start < len and steps < max_components) : (steps += 1) {
        while (start < len and buf[start] == '/') start += 1;
        if (start >= len) break;
        var end = start;
        while (end < len and buf[end] != '/') end += 1;
        var rest = end;
        while (rest < len and buf[rest] == '/') rest += 1;
        const last = rest >= len;
        const saved = buf[end];
        buf[end] = 0;
        var rc = open(root, buf[0..end :0], resolve);
        if (sys.errnoOf(rc)) |e| {
            if (e != sys.ENOENT) return closeAndFail(parent, e, "openat2", buf, end, saved);
            const name: [*:0]const u8 = buf[start..end :0];
            const as_file = last and create == .file;
            const made = if (as_file) makeFile(parent, name) else sys.mkdirat(parent, name, 0o755);
            if (sys.errnoOf(made)) |me| {
                if (me != sys.EEXIST) return closeAndFail(parent, me, if (as_file) "openat" else "mkdirat", buf, end, saved);
            }
            rc = open(root, buf[0..end :0], resolve);
            if (sys.errnoOf(rc)) |e2| return closeAndFail(parent, e2, "openat2", buf, end, saved);
        }
        buf[end] = saved;
        _ = sys.close(parent);
        parent = @intCast(rc);
        start = end;
    }
    return .{ .fd = parent };
}

fn makeFile(dir: sys.fd_t, name: [*:0]const u8) usize {
    const rc = sys.openat(dir, name, sys.O_CREAT | sys.O_EXCL | sys.O_WRONLY | sys.O_CLOEXEC | sys.O_NOFOLLOW, 0o644);
    if (sys.errnoOf(rc) == null) _ = sys.close(@intCast(rc));
    return rc;
}

fn closeAndFail(fd: sys.fd_t, errno: u16, syscall: []const u8, buf: *[max_path]u8, end: usize, saved: u8) Result {
    buf[end] = saved;
    _ = sys.close(fd);
    return .{ .failed = .{ .errno = errno, .syscall = syscall } };
}

/// Opens an absolute path of the current root, refusing symlinks on the way.
pub fn noSymlinks(path: [*:0]const u8) usize {
    return open(sys.AT_FDCWD, path, sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_MAGICLINKS);
}
