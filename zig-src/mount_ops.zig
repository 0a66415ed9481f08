//! Mount-namespace work in the child: mounts on targets resolved inside the rootfs
//! (mounted through `self/fd/N` of our own procfs, proc_fs.zig, so neither a swapped
//! symlink nor a mount over the container's /proc can redirect them), device nodes,
//! links, the root change, masked and read-only paths.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const resolve = @import("resolve.zig");
const proc_fs = @import("proc_fs.zig");
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

pub fn mount(ctx: *Context, op: payload.Mount) void {
    const opflags = op.opflags;
    const source = op.source;
    const target = op.target;
    const in_root = opflags & abi.mount_in_root != 0;
    const no_symlinks = opflags & abi.mount_no_symlinks != 0;
    const create: resolve.Create = if (opflags & abi.mount_mkfile != 0) .file else if (opflags & abi.mount_mkdir != 0) .dir else .none;

    var src: proc_fs.Operand = .{ .path = if (source.len == 0) null else source.ptr };
    var src_fd: sys.fd_t = -1;
    if (opflags & abi.mount_source_in_root != 0) {
        src_fd = openInRoot(ctx, source, .none, false);
        src = .{ .fd = src_fd };
    } else if (opflags & abi.mount_source_fd != 0) {
        // Opened by the parent (decode checked there is one for each such mount).
        std.debug.assert(ctx.next_source < ctx.proc.mount_sources);
        src_fd = ctx.source_fds[ctx.next_source];
        ctx.next_source += 1;
        src = .{ .fd = src_fd };
    }
    defer if (src_fd >= 0) {
        _ = sys.close(src_fd);
    };

    if (!in_root) {
        _ = ctx.check(proc_fs.mount(ctx, src, .{ .path = target }, op.fstype, op.msflags, op.data), "mount", target);
        return;
    }
    if (opflags & abi.mount_replace_link != 0) removeLink(ctx, target);
    const fd = openInRoot(ctx, target, create, no_symlinks);
    if (opflags & abi.mount_move_tree != 0) {
        // A detached tree the parent made (an id-mapped bind): attached as it is.
        std.debug.assert(src_fd >= 0);
        const moved = sys.moveMount(src_fd, "", fd, "", sys.MOVE_MOUNT_F_EMPTY_PATH | sys.MOVE_MOUNT_T_EMPTY_PATH);
        _ = sys.close(fd);
        _ = ctx.check(moved, "move_mount", target);
        return;
    }
    var flags = op.msflags;
    if (opflags & abi.mount_keep_locked != 0) flags |= lockedFlags(ctx, fd, target);
    const rc = proc_fs.mount(ctx, src, .{ .fd = fd }, op.fstype, flags, op.data);
    _ = sys.close(fd);
    _ = ctx.check(rc, "mount", target);
    if (op.magic != 0) checkMagic(ctx, target, op.magic);
}

/// Sets and clears mount attributes (MOUNT_ATTR_*) of the mount at a target inside the
/// root, and with `recursive` of every mount under it too.
pub fn setattr(ctx: *const Context, op: payload.MountSetattr) void {
    std.debug.assert(op.opflags & abi.mount_in_root != 0);
    const attr = sys.MountAttr{ .attr_set = op.attr_set, .attr_clr = op.attr_clr, .propagation = 0, .userns_fd = 0 };
    const fd = openInRoot(ctx, op.target, .none, op.opflags & abi.mount_no_symlinks != 0);
    defer _ = sys.close(fd);
    const flags = sys.AT_EMPTY_PATH | if (op.recursive) sys.AT_RECURSIVE else 0;
    _ = ctx.check(sys.mountSetattr(fd, "", flags, &attr), "mount_setattr", op.target);
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

pub fn mknod(ctx: *const Context, op: payload.Mknod) void {
    const mode = op.mode;
    const major = op.major;
    const minor = op.minor;
    const path = op.path;
    const parent = openParent(ctx, path);
    defer _ = sys.close(parent.fd);
    const dev = sys.makedev(major, minor);
    var rc = sys.mknodat(parent.fd, parent.name, mode, dev);
    // The node asked for is there already: nothing to make.
    var present = false;
    if (sys.errnoOf(rc) == sys.EEXIST) {
        present = isNode(parent, mode, major, minor);
        // The image has something else there, such as a symlink to a host path or a
        // procfs file (crun's and runc's /dev symlink advisories): replace it, never
        // follow it. A directory stays, and fails below.
        if (!present and sys.errnoOf(sys.unlinkat(parent.fd, parent.name, 0)) == null) {
            rc = sys.mknodat(parent.fd, parent.name, mode, dev);
        }
    }
    if (!present) if (sys.errnoOf(rc)) |e| {
        if (e != sys.EEXIST or !isNode(parent, mode, major, minor)) ctx.fail("mknod", e, path);
    };
    _ = ctx.check(sys.fchownat(parent.fd, parent.name, op.uid, op.gid, sys.AT_SYMLINK_NOFOLLOW), "chown", path);
}

/// Whether the entry (not followed) is the device node asked for: type and numbers.
fn isNode(parent: Parent, mode: u32, major: u32, minor: u32) bool {
    var st: sys.Statx = undefined;
    if (sys.errnoOf(sys.statx(parent.fd, parent.name, sys.AT_SYMLINK_NOFOLLOW, &st)) != null) return false;
    if (st.mode & sys.S_IFMT != mode & sys.S_IFMT) return false;
    // A fifo has no numbers.
    return mode & sys.S_IFMT == sys.S_IFIFO or (st.rdev_major == major and st.rdev_minor == minor);
}

/// A symlink at the last component of `path` (inside the root) is removed, so the file
/// made there next is the image's own and nothing is reached through the link.
fn removeLink(ctx: *const Context, path: [:0]const u8) void {
    const parent = openParent(ctx, path);
    defer _ = sys.close(parent.fd);
    var st: sys.Statx = undefined;
    if (sys.errnoOf(sys.statx(parent.fd, parent.name, sys.AT_SYMLINK_NOFOLLOW, &st)) != null) return;
    if (st.mode & sys.S_IFMT != sys.S_IFLNK) return;
    _ = ctx.check(sys.unlinkat(parent.fd, parent.name, 0), "unlink", path);
}

pub fn symlink(ctx: *const Context, op: payload.Symlink) void {
    const parent = openParent(ctx, op.path);
    defer _ = sys.close(parent.fd);
    const rc = sys.symlinkat(op.target, parent.fd, parent.name);
    if (sys.errnoOf(rc)) |e| {
        if (e != sys.EEXIST) ctx.fail("symlink", e, op.path);
    }
}

/// A directory (and its parents) inside the root; the op's mode is not applied (the
/// directories resolve.zig makes are 0755).
pub fn mkdir(ctx: *const Context, op: payload.Mkdir) void {
    _ = sys.close(openInRoot(ctx, op.path, .dir, false));
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
pub fn rootReadonly(ctx: *Context, recursive: bool) void {
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
    const keep = [_]u32{ sys.MS_NOSUID, sys.MS_NODEV, sys.MS_NOEXEC, sys.MS_NOATIME, sys.MS_NODIRATIME, sys.MS_RELATIME };
    const st_bits = [_]u64{ sys.ST_NOSUID, sys.ST_NODEV, sys.ST_NOEXEC, sys.ST_NOATIME, sys.ST_NODIRATIME, sys.ST_RELATIME };
    for (keep, st_bits) |ms, bit| {
        if (st.f_flags & bit != 0) flags |= ms;
    }
    return flags;
}

/// Remount read-only keeping the flags the mount has (locked ones in a user ns).
fn remountReadonly(ctx: *Context, fd: sys.fd_t, path: []const u8, target: ?[*:0]const u8, extra: u32) void {
    const flags = sys.MS_REMOUNT | sys.MS_BIND | sys.MS_RDONLY | extra | lockedFlags(ctx, fd, path);
    const where: proc_fs.Operand = if (target) |t| .{ .path = t } else .{ .fd = fd };
    _ = ctx.check(proc_fs.mount(ctx, .{ .path = null }, where, null, flags, null), "mount", path);
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
    if (st.mode & sys.S_IFMT == sys.S_IFDIR) {
        const m = proc_fs.mount(ctx, .{ .path = "tmpfs" }, .{ .fd = fd }, "tmpfs", sys.MS_RDONLY, "size=0k");
        _ = ctx.check(m, "mount", path);
        return;
    }
    // The very inode checked in nullDevice is bound: nothing is looked up by path again.
    const m = proc_fs.mount(ctx, .{ .fd = nullDevice(ctx) }, .{ .fd = fd }, null, sys.MS_BIND, null);
    _ = ctx.check(m, "mount", path);
}

/// The container's /dev/null, opened once (O_PATH, no symlink followed) and checked
/// through that fd to be the null device, 1:3: a symlink swapped in (to a procfs file,
/// CVE-2025-31133) or another file there would otherwise be bound over masked files.
fn nullDevice(ctx: *Context) sys.fd_t {
    if (ctx.null_fd >= 0) return ctx.null_fd;
    const fd: sys.fd_t = @intCast(ctx.check(resolve.noSymlinks("/dev/null"), "open", "/dev/null"));
    var st: sys.Statx = undefined;
    _ = ctx.check(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st), "statx", "/dev/null");
    if (!sys.isCharDev(&st, sys.NULL_MAJOR, sys.NULL_MINOR))
        ctx.fail("statx", sys.EINVAL, "/dev/null is not the null device");
    ctx.null_fd = fd;
    return fd;
}

/// Bind a path onto itself and make the bind read-only.
pub fn readonlyPath(ctx: *Context, path: [:0]const u8) void {
    const rc = resolve.noSymlinks(path);
    if (sys.errnoOf(rc)) |e| {
        if (e == sys.ENOENT) return;
        ctx.fail("open", e, path);
    }
    const fd: sys.fd_t = @intCast(rc);
    const m = proc_fs.mount(ctx, .{ .fd = fd }, .{ .fd = fd }, null, sys.MS_BIND | sys.MS_REC, null);
    _ = sys.close(fd);
    _ = ctx.check(m, "mount", path);
    const again: sys.fd_t = @intCast(ctx.check(resolve.noSymlinks(path), "open", path));
    defer _ = sys.close(again);
    remountReadonly(ctx, again, path, null, sys.MS_REC);
}
