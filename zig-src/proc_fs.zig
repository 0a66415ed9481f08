//! The runtime's own procfs. Whatever the child writes to /proc (sysctls, LSM labels) and
//! every fd it names as a mount source or target (`self/fd/N`) goes through a procfs
//! instance that no mount namespace holds: made fresh with fsopen/fsmount, else a
//! non-recursive clone of a checked /proc (open_tree), attached nowhere. A mount in the
//! container, or a racing one propagated into it from a shared volume, can cover a file
//! of the container's /proc, but not of this one (CVE-2025-52881 class). Lookups in it
//! stay beneath its root and on its own mount (RESOLVE_BENEATH | RESOLVE_NO_XDEV). Only
//! where neither can be made (a user namespace without a pid namespace of its own, before
//! the root change, when /proc is still the host's locked mount) is that /proc used.

const std = @import("std");
const sys = @import("sys.zig");
const Context = @import("child.zig").Context;

/// Our procfs root (an fd), made on first use and kept until `release`.
pub fn root(ctx: *Context) sys.fd_t {
    if (ctx.proc_fd >= 0) return ctx.proc_fd;
    var rc = fresh();
    if (sys.errnoOf(rc) != null) rc = cloned();
    if (sys.errnoOf(rc) != null) rc = openProc();
    const fd: sys.fd_t = @intCast(ctx.check(rc, "fsmount", "a private procfs"));
    if (!isProcRoot(fd)) {
        _ = sys.close(fd);
        ctx.fail("fstatfs", sys.EINVAL, "a private procfs: not the root of a procfs");
    }
    ctx.proc_fd = fd;
    return fd;
}

/// Closes our procfs (before the fds are placed for the exec; `root` makes a new one).
pub fn release(ctx: *Context) void {
    if (ctx.proc_fd >= 0) _ = sys.close(ctx.proc_fd);
    ctx.proc_fd = -1;
}

/// A new procfs instance of our pid namespace, mounted nowhere.
fn fresh() usize {
    const fs = sys.fsopen("proc", sys.FSOPEN_CLOEXEC);
    if (sys.errnoOf(fs) != null) return fs;
    const fs_fd: sys.fd_t = @intCast(fs);
    defer _ = sys.close(fs_fd);
    const created = sys.fsconfig(fs_fd, sys.FSCONFIG_CMD_CREATE);
    if (sys.errnoOf(created) != null) return created;
    const attrs = sys.MOUNT_ATTR_NOSUID | sys.MOUNT_ATTR_NODEV | sys.MOUNT_ATTR_NOEXEC;
    return sys.fsmount(fs_fd, sys.FSMOUNT_CLOEXEC, attrs);
}

/// Where a new procfs may not be made (a pid namespace whose user namespace is not
/// ours): a detached copy of the mount at /proc, without what is mounted on top of it.
fn cloned() usize {
    const rc = openProc();
    if (sys.errnoOf(rc) != null) return rc;
    const fd: sys.fd_t = @intCast(rc);
    defer _ = sys.close(fd);
    if (!isProcRoot(fd)) return @bitCast(-@as(isize, sys.EINVAL));
    return sys.openTree(fd, "", sys.OPEN_TREE_CLONE | sys.O_CLOEXEC | sys.AT_EMPTY_PATH);
}

/// /proc of our root, no symlink followed (checked by the caller).
fn openProc() usize {
    return sys.openat2(sys.AT_FDCWD, "/proc", &.{
        .flags = sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC,
        .mode = 0,
        .resolve = sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_MAGICLINKS,
    });
}

fn isProcRoot(fd: sys.fd_t) bool {
    var fs: sys.Statfs = undefined;
    if (sys.errnoOf(sys.fstatfs(fd, &fs)) != null or fs.f_type != sys.PROC_SUPER_MAGIC) return false;
    var st: sys.Statx = undefined;
    if (sys.errnoOf(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st)) != null) return false;
    return st.ino == sys.PROC_ROOT_INO and st.mode & sys.S_IFMT == sys.S_IFDIR;
}

/// Opens `/proc/<rel>` (the path as the plan names it) in our procfs. Kernel links such
/// as `thread-self` are followed while they stay inside; magic links never.
pub fn open(ctx: *Context, path: [:0]const u8, flags: u32) usize {
    const rel = relative(path) orelse return @bitCast(-@as(isize, sys.EINVAL));
    const how = sys.OpenHow{
        .flags = flags | sys.O_CLOEXEC,
        .mode = 0,
        .resolve = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_XDEV | sys.RESOLVE_NO_MAGICLINKS,
    };
    return sys.openat2(root(ctx), rel, &how);
}

/// Opens again, with `flags`, the file an O_PATH fd names (`self/fd/N` of our procfs),
/// so a file checked through the fd is the one opened for reading or writing.
pub fn reopen(ctx: *Context, fd: sys.fd_t, flags: u32) usize {
    var buf: [32]u8 = undefined;
    return sys.openat(root(ctx), selfFd(&buf, fd), flags | sys.O_CLOEXEC, 0);
}

/// "/proc/sys/x" -> "sys/x"; null when the path is not below /proc.
fn relative(path: [:0]const u8) ?[*:0]const u8 {
    const prefix = "/proc/";
    if (!std.mem.startsWith(u8, path, prefix) or path.len == prefix.len) return null;
    return path[prefix.len.. :0].ptr;
}

/// Writes `content` to a file below /proc in one write(2), failing the child on error.
pub fn write(ctx: *Context, path: [:0]const u8, content: []const u8) void {
    const fd: sys.fd_t = @intCast(ctx.check(open(ctx, path, sys.O_WRONLY), "open", path));
    const rc = sys.write(fd, content);
    _ = sys.close(fd);
    _ = ctx.check(rc, "write", path);
}

/// A mount(2) operand: a plain path (or none), or an fd named as `self/fd/N`.
pub const Operand = union(enum) { path: ?[*:0]const u8, fd: sys.fd_t };

/// mount(2) with fd operands named through our procfs: the call runs with our cwd in it
/// and `self/fd/N` relative, so the container's /proc is never read for them.
pub fn mount(ctx: *Context, source: Operand, target: Operand, fstype: ?[*:0]const u8, flags: u32, data: ?[*:0]const u8) usize {
    var src_buf: [32]u8 = undefined;
    var dst_buf: [32]u8 = undefined;
    const src = name(&src_buf, source);
    const dst = name(&dst_buf, target) orelse unreachable;
    if (source != .fd and target != .fd) return sys.mount(src, dst, fstype, flags, data);
    const proc = root(ctx);
    const saved_rc = sys.openat(sys.AT_FDCWD, ".", sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC, 0);
    const saved: sys.fd_t = @intCast(ctx.check(saved_rc, "open", "the working directory"));
    defer _ = sys.close(saved);
    _ = ctx.check(sys.fchdir(proc), "fchdir", "a private procfs");
    const rc = sys.mount(src, dst, fstype, flags, data);
    _ = ctx.check(sys.fchdir(saved), "fchdir", "the working directory");
    return rc;
}

fn name(buf: *[32]u8, operand: Operand) ?[*:0]const u8 {
    return switch (operand) {
        .path => |p| p,
        .fd => |fd| selfFd(buf, fd),
    };
}

/// "self/fd/<fd>" with a NUL.
pub fn selfFd(buf: *[32]u8, fd: sys.fd_t) [*:0]const u8 {
    std.debug.assert(fd >= 0);
    const prefix = "self/fd/";
    @memcpy(buf[0..prefix.len], prefix);
    const n = sys.formatDecimal(buf[prefix.len..], @intCast(fd));
    buf[prefix.len + n] = 0;
    return buf[0 .. prefix.len + n :0];
}

test "selfFd and relative" {
    var buf: [32]u8 = undefined;
    try std.testing.expectEqualStrings("self/fd/17", std.mem.span(selfFd(&buf, 17)));
    try std.testing.expectEqualStrings("sys/kernel/domainname", std.mem.span(relative("/proc/sys/kernel/domainname").?));
    try std.testing.expect(relative("/procx/sys") == null);
    try std.testing.expect(relative("/proc/") == null);
    try std.testing.expect(relative("/etc/passwd") == null);
}
