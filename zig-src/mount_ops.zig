//! Mount-namespace work in the child: mounts on targets resolved inside the rootfs
//! (mounted through /proc/self/fd so a swapped symlink cannot redirect them), device
//! nodes, links, the root change, masked and read-only paths.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const plan = @import("plan.zig");
const resolve = @import("resolve.zig");
const Context = @import("child.zig").Context;

fn rootFd(ctx: *const Context) sys.fd_t {
    if (ctx.root_fd < 0) ctx.fail("plan", sys.EINVAL, "no rootfs op before an in-root op");
    return ctx.root_fd;
}

pub fn openInRoot(ctx: *const Context, path: []const u8, create: resolve.Create, no_symlinks: bool) sys.fd_t {
    return switch (resolve.inRoot(rootFd(ctx), path, create, no_symlinks)) {
        .fd => |fd| fd,
        .failed => |f| ctx.fail(f.syscall, f.errno, path),
    };
}

pub fn mount(ctx: *Context, r: *plan.Reader) plan.Error!void {
    const opflags = try r.int(u32);
    const msflags = try r.int(u32);
    const magic = try r.int(u64);
    const source = try r.str();
    const target = try r.str();
    const fstype = try r.optStr();
    const data = try r.optStr();
    const in_root = opflags & abi.mount_in_root != 0;
    const no_symlinks = opflags & abi.mount_no_symlinks != 0;
    const create: resolve.Create = if (opflags & abi.mount_mkfile != 0) .file else if (opflags & abi.mount_mkdir != 0) .dir else .none;

    var src_buf: [32]u8 = undefined;
    var src: ?[*:0]const u8 = if (source.len == 0) null else source.ptr;
    var src_fd: sys.fd_t = -1;
    if (opflags & abi.mount_source_in_root != 0) {
        src_fd = openInRoot(ctx, source, .none, false);
        src = sys.fdPath(&src_buf, src_fd);
    } else if (opflags & abi.mount_source_fd != 0) {
        // Opened by the parent (decode checked there is one for each such mount).
        std.debug.assert(ctx.next_source < ctx.proc.mount_sources);
        src_fd = ctx.source_fds[ctx.next_source];
        ctx.next_source += 1;
        src = sys.fdPath(&src_buf, src_fd);
    }
    defer if (src_fd >= 0) {
        _ = sys.close(src_fd);
    };

    if (!in_root) {
        _ = ctx.check(sys.mount(src, target, fstype, msflags, data), "mount", target);
        return;
    }
    const fd = openInRoot(ctx, target, create, no_symlinks);
    var flags = msflags;
    if (opflags & abi.mount_keep_locked != 0) flags |= lockedFlags(ctx, fd, target);
    var target_buf: [32]u8 = undefined;
    const rc = sys.mount(src, sys.fdPath(&target_buf, fd), fstype, flags, data);
    _ = sys.close(fd);
    _ = ctx.check(rc, "mount", target);
    if (magic != 0) checkMagic(ctx, target, magic);
}

/// Sets and clears mount attributes (MOUNT_ATTR_*) of the mount at a target inside the
/// root, and with `recursive` of every mount under it too.
pub fn setattr(ctx: *const Context, r: *plan.Reader) plan.Error!void {
    const opflags = try r.int(u32);
    const recursive = try r.int(u32) == 1;
    const attr = sys.MountAttr{ .attr_set = try r.int(u64), .attr_clr = try r.int(u64), .propagation = 0, .userns_fd = 0 };
    const target = try r.str();
    std.debug.assert(opflags & abi.mount_in_root != 0);
    const fd = openInRoot(ctx, target, .none, opflags & abi.mount_no_symlinks != 0);
    defer _ = sys.close(fd);
    const flags = sys.AT_EMPTY_PATH | if (recursive) sys.AT_RECURSIVE else 0;
    _ = ctx.check(sys.mountSetattr(fd, "", flags, &attr), "mount_setattr", target);
}

/// The filesystem now at `target` must be the one asked for (e.g. procfs at /proc).
fn checkMagic(ctx: *const Context, target: []const u8, magic: u64) void {
    const fd = openInRoot(ctx, target, .none, true);
    var st: sys.Statfs = undefined;
    const rc = sys.fstatfs(fd, &st);
    _ = sys.close(fd);
    _ = ctx.check(rc, "fstatfs", target);
    if (st.f_type != magic) ctx.fail("fstatfs", sys.EINVAL, target);
}

pub fn mknod(ctx: *const Context, r: *plan.Reader) plan.Error!void {
    const mode = try r.int(u32);
    const major = try r.int(u32);
    const minor = try r.int(u32);
    const uid = try r.int(u32);
    const gid = try r.int(u32);
    const path = try r.str();
    const parent = openParent(ctx, path);
    defer _ = sys.close(parent.fd);
    const rc = sys.mknodat(parent.fd, parent.name, mode, sys.makedev(major, minor));
    if (sys.errnoOf(rc)) |e| {
        if (e != sys.EEXIST) ctx.fail("mknod", e, path);
    }
    _ = ctx.check(sys.fchownat(parent.fd, parent.name, uid, gid, sys.AT_SYMLINK_NOFOLLOW), "chown", path);
}

pub fn symlink(ctx: *const Context, r: *plan.Reader) plan.Error!void {
    const target = try r.str();
    const path = try r.str();
    const parent = openParent(ctx, path);
    defer _ = sys.close(parent.fd);
    const rc = sys.symlinkat(target, parent.fd, parent.name);
    if (sys.errnoOf(rc)) |e| {
        if (e != sys.EEXIST) ctx.fail("symlink", e, path);
    }
}

pub fn mkdir(ctx: *const Context, r: *plan.Reader) plan.Error!void {
    const mode = try r.int(u32);
    _ = mode;
    const path = try r.str();
    _ = sys.close(openInRoot(ctx, path, .dir, false));
}

const Parent = struct { fd: sys.fd_t, name: [*:0]const u8 };

/// The directory holding the last component of `path` (created if missing), and
/// that component's name.
fn openParent(ctx: *const Context, path: [:0]const u8) Parent {
    const slash = std.mem.lastIndexOfScalar(u8, path, '/') orelse ctx.fail("plan", sys.EINVAL, path);
    const name = path[slash + 1 .. :0];
    if (name.len == 0) ctx.fail("plan", sys.EINVAL, path);
    const dir = if (slash == 0) "/" else path[0..slash];
    return .{ .fd = openInRoot(ctx, dir, .dir, false), .name = name.ptr };
}

/// pivot_root(".", ".") in the new root, then detach the old root stacked under it.
pub fn pivotRoot(ctx: *const Context) void {
    _ = ctx.check(sys.fchdir(rootFd(ctx)), "fchdir", "rootfs");
    _ = ctx.check(sys.pivotRoot(".", "."), "pivot_root", ".");
    // Keep the unmount of the old root from propagating to the host.
    _ = ctx.check(sys.mount(null, ".", null, sys.MS_SLAVE | sys.MS_REC, null), "mount", "old root");
    _ = ctx.check(sys.umount2(".", sys.MNT_DETACH), "umount2", "old root");
    _ = ctx.check(sys.chdir("/"), "chdir", "/");
}

/// Makes a mount of our namespace unreachable: detached (its unmount kept from
/// propagating), or, where that is refused (a mount locked in a user namespace), covered
/// with an empty tmpfs. A path already gone with a parent is fine.
pub fn hideMount(ctx: *const Context, path: [:0]const u8) void {
    const rc = sys.mount(null, path, null, sys.MS_SLAVE | sys.MS_REC, null);
    if (sys.errnoOf(rc)) |e| {
        if (e == sys.ENOENT) return;
        ctx.fail("mount", e, path);
    }
    const u = sys.umount2(path, sys.MNT_DETACH);
    const e = sys.errnoOf(u) orelse return;
    if (e != sys.EINVAL and e != sys.EPERM) ctx.fail("umount2", e, path);
    _ = ctx.check(sys.mount("tmpfs", path, "tmpfs", 0, null), "mount", path);
}

/// For a rootfs that cannot be pivoted (ramfs): move it over / and chroot.
pub fn moveRoot(ctx: *const Context) void {
    _ = ctx.check(sys.fchdir(rootFd(ctx)), "fchdir", "rootfs");
    _ = ctx.check(sys.mount(".", "/", null, sys.MS_MOVE, null), "mount", "/");
    _ = ctx.check(sys.chroot("."), "chroot", ".");
    _ = ctx.check(sys.chdir("/"), "chdir", "/");
}

/// recursive: the whole tree under the rootfs fd, before other mounts go on top.
/// Otherwise the root mount alone, after the root change (the OCI `root.readonly`).
pub fn rootReadonly(ctx: *const Context, recursive: bool) void {
    if (recursive) {
        const attr = sys.MountAttr{ .attr_set = sys.MOUNT_ATTR_RDONLY, .attr_clr = 0, .propagation = 0, .userns_fd = 0 };
        const rc = sys.mountSetattr(rootFd(ctx), "", sys.AT_EMPTY_PATH | sys.AT_RECURSIVE, &attr);
        _ = ctx.check(rc, "mount_setattr", "rootfs");
        return;
    }
    const fd: sys.fd_t = @intCast(ctx.check(resolve.noSymlinks("/"), "open", "/"));
    defer _ = sys.close(fd);
    // "/" names the root mount itself; no /proc needed.
    remountReadonly(ctx, fd, "/", "/", 0);
}

/// The flags a mount has that a remount must keep: in a user namespace the kernel
/// refuses a remount that would drop nosuid, nodev, noexec or the atime ones.
fn lockedFlags(ctx: *const Context, fd: sys.fd_t, path: []const u8) u32 {
    var st: sys.Statfs = undefined;
    _ = ctx.check(sys.fstatfs(fd, &st), "fstatfs", path);
    var flags: u32 = 0;
    const keep = [_]u32{ sys.MS_NOSUID, sys.MS_NODEV, sys.MS_NOEXEC, sys.MS_NOATIME, sys.MS_NODIRATIME };
    const st_bits = [_]u64{ 2, 4, 8, 1024, 2048 };
    for (keep, st_bits) |ms, bit| {
        if (st.f_flags & bit != 0) flags |= ms;
    }
    if (st.f_flags & 4096 != 0) flags |= sys.MS_RELATIME;
    return flags;
}

/// Remount read-only keeping the flags the mount has (locked ones in a user ns).
fn remountReadonly(ctx: *const Context, fd: sys.fd_t, path: []const u8, target: ?[*:0]const u8, extra: u32) void {
    const flags = sys.MS_REMOUNT | sys.MS_BIND | sys.MS_RDONLY | extra | lockedFlags(ctx, fd, path);
    var buf: [32]u8 = undefined;
    const where = target orelse sys.fdPath(&buf, fd);
    _ = ctx.check(sys.mount(null, where, null, flags, null), "mount", path);
}

/// Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory.
/// A missing path is fine; a path reached through a symlink is refused.
pub fn maskPath(ctx: *Context, path: [:0]const u8) void {
    const rc = resolve.noSymlinks(path);
    if (sys.errnoOf(rc)) |e| {
        if (e == sys.ENOENT) return;
        ctx.fail("open", e, path);
    }
    const fd: sys.fd_t = @intCast(rc);
    defer _ = sys.close(fd);
    var st: sys.Statx = undefined;
    _ = ctx.check(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st), "statx", path);
    var target: [32]u8 = undefined;
    if (st.mode & sys.S_IFMT == sys.S_IFDIR) {
        const m = sys.mount("tmpfs", sys.fdPath(&target, fd), "tmpfs", sys.MS_RDONLY, "size=0k");
        _ = ctx.check(m, "mount", path);
        return;
    }
    const null_fd = nullDevice(ctx);
    var source: [32]u8 = undefined;
    const m = sys.mount(sys.fdPath(&source, null_fd), sys.fdPath(&target, fd), null, sys.MS_BIND, null);
    _ = ctx.check(m, "mount", path);
}

/// The container's /dev/null, opened once and checked to be the null device (a
/// symlink or another file there would otherwise be bound over masked files).
fn nullDevice(ctx: *Context) sys.fd_t {
    if (ctx.null_fd >= 0) return ctx.null_fd;
    const fd: sys.fd_t = @intCast(ctx.check(resolve.noSymlinks("/dev/null"), "open", "/dev/null"));
    var st: sys.Statx = undefined;
    _ = ctx.check(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st), "statx", "/dev/null");
    if (st.mode & sys.S_IFMT != sys.S_IFCHR or st.rdev_major != 1 or st.rdev_minor != 3)
        ctx.fail("statx", sys.EINVAL, "/dev/null is not the null device");
    ctx.null_fd = fd;
    return fd;
}

/// Bind a path onto itself and make the bind read-only.
pub fn readonlyPath(ctx: *const Context, path: [:0]const u8) void {
    const rc = resolve.noSymlinks(path);
    if (sys.errnoOf(rc)) |e| {
        if (e == sys.ENOENT) return;
        ctx.fail("open", e, path);
    }
    const fd: sys.fd_t = @intCast(rc);
    var buf: [32]u8 = undefined;
    const p = sys.fdPath(&buf, fd);
    const m = sys.mount(p, p, null, sys.MS_BIND | sys.MS_REC, null);
    _ = sys.close(fd);
    _ = ctx.check(m, "mount", path);
    const again: sys.fd_t = @intCast(ctx.check(resolve.noSymlinks(path), "open", path));
    defer _ = sys.close(again);
    remountReadonly(ctx, again, path, null, sys.MS_REC);
}
