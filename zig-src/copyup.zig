//! `tmpcopyup` (runc's and crun's tmpfs mount option): a fresh tmpfs over a directory of
//! the rootfs, holding a copy of what the directory held. The directory is opened before
//! the mount, and its entries stay reachable through that fd under the tmpfs, so nothing
//! is copied through a path. Every lookup is one name relative to a directory fd with
//! RESOLVE_BENEATH | NO_SYMLINKS | NO_XDEV: symlinks are copied as links and never
//! followed, and whatever another mount put inside the directory is left out.

const std = @import("std");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const mount_ops = @import("mount_ops.zig");
const proc_fs = @import("proc_fs.zig");
const Context = @import("child.zig").Context;

/// Directories deeper than this below the target fail the copy (ELOOP).
const max_depth = 32;
/// Entries copied in all; more fail the copy (E2BIG).
const max_entries: u32 = 1 << 20;

const Level = struct { src: sys.fd_t, dst: sys.fd_t };

/// u32 msflags, str target, str data: mount the tmpfs, then copy the old content into it.
pub fn tmpfsCopyup(ctx: *Context, op: payload.TmpfsCopyup) void {
    const msflags = op.msflags;
    const target = op.target;
    const data = op.data;
    const under = mount_ops.openInRoot(ctx, target, .dir, false);
    const lower = openDir(ctx, under, ".", target);
    // Writable while it is filled; made read-only after if asked.
    const m = proc_fs.mount(ctx, .{ .path = "tmpfs" }, .{ .fd = under }, "tmpfs", msflags & ~sys.MS_RDONLY, data);
    _ = ctx.check(m, "mount", target);
    _ = sys.close(under);
    // The fd still names the covered directory: resolve the target again (inside the root)
    // and check that it is a tmpfs; a copy into anything not empty fails (O_EXCL).
    const top_path = mount_ops.openInRoot(ctx, target, .none, false);
    const upper = openDir(ctx, top_path, ".", target);
    _ = sys.close(top_path);
    var st: sys.Statfs = undefined;
    _ = ctx.check(sys.fstatfs(upper, &st), "fstatfs", target);
    if (st.f_type != sys.TMPFS_MAGIC) ctx.fail("fstatfs", sys.EINVAL, target);
    if (msflags & sys.MS_RDONLY != 0) {
        // Opened before the remount: its directory fd stays usable for the remount target.
        const top: sys.fd_t = @intCast(ctx.check(sys.fcntl(upper, sys.F_DUPFD_CLOEXEC, 0), "fcntl", target));
        copyTree(ctx, lower, upper, target);
        const flags = sys.MS_REMOUNT | sys.MS_RDONLY | msflags;
        _ = ctx.check(proc_fs.mount(ctx, .{ .path = null }, .{ .fd = top }, null, flags, data), "mount", target);
        _ = sys.close(top);
        return;
    }
    copyTree(ctx, lower, upper, target);
}

/// A readable directory fd of `name` below `dir`, refusing symlinks and other mounts.
fn openDir(ctx: *const Context, dir: sys.fd_t, name: [*:0]const u8, what: []const u8) sys.fd_t {
    const rc = openBeneath(dir, name, sys.O_RDONLY | sys.O_DIRECTORY);
    return @intCast(ctx.check(rc, "openat2", what));
}

fn openBeneath(dir: sys.fd_t, name: [*:0]const u8, flags: u32) usize {
    const how = sys.OpenHow{
        .flags = flags | sys.O_NOFOLLOW | sys.O_CLOEXEC,
        .mode = 0,
        .resolve = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_XDEV |
            sys.RESOLVE_NO_MAGICLINKS,
    };
    return sys.openat2(dir, name, &how);
}

/// Depth-first over the lower tree with an explicit stack of directory fds and one
/// getdents buffer: before descending, the parent's offset is set to the entry after the
/// directory, so reading it again later goes on where it stopped.
fn copyTree(ctx: *const Context, lower: sys.fd_t, upper: sys.fd_t, what: []const u8) void {
    var stack: [max_depth]Level = undefined;
    stack[0] = .{ .src = lower, .dst = upper };
    var depth: usize = 1;
    var entries: u32 = 0;
    var dents: [4096]u8 align(8) = undefined;
    var rounds: u32 = 0;
    while (depth > 0) : (rounds += 1) {
        if (rounds > max_entries * 2) ctx.fail("getdents64", sys.E2BIG, what);
        const level = stack[depth - 1];
        const n = ctx.check(sys.getdents64(level.src, &dents), "getdents64", what);
        if (n == 0) {
            _ = sys.close(level.src);
            _ = sys.close(level.dst);
            depth -= 1;
            continue;
        }
        var pos: usize = 0;
        while (pos < n) {
            const reclen = std.mem.readInt(u16, dents[pos + 16 ..][0..2], .little);
            const next_off = std.mem.readInt(i64, dents[pos + 8 ..][0..8], .little);
            const name: [*:0]const u8 = @ptrCast(dents[pos + 19 ..].ptr);
            std.debug.assert(reclen > 19 and pos + reclen <= n);
            pos += reclen;
            const len = std.mem.len(name);
            if ((len == 1 and name[0] == '.') or (len == 2 and name[0] == '.' and name[1] == '.')) continue;
            entries += 1;
            if (entries > max_entries) ctx.fail("tmpcopyup", sys.E2BIG, what);
            const child = copyEntry(ctx, level, name, what) orelse continue;
            if (depth == max_depth) ctx.fail("tmpcopyup", sys.ELOOP, what);
            // Resume this directory after the entry once the child is done.
            _ = ctx.check(sys.lseek(level.src, next_off, sys.SEEK_SET), "lseek", what);
            stack[depth] = child;
            depth += 1;
            break;
        }
    }
}

/// Copies one entry of `level.src` into `level.dst`: files with their bytes, symlinks as
/// links, device nodes and fifos as nodes, then owner, mode and times. Returns the fds of
/// a directory to descend into; sockets and other mounts are skipped.
fn copyEntry(ctx: *const Context, level: Level, name: [*:0]const u8, what: []const u8) ?Level {
    var st: sys.Statx = undefined;
    _ = ctx.check(sys.statx(level.src, name, sys.AT_SYMLINK_NOFOLLOW, &st), "statx", what);
    const kind = @as(u32, st.mode) & sys.S_IFMT;
    const perm = @as(u32, st.mode) & 0o7777;
    var descend: ?Level = null;
    switch (kind) {
        sys.S_IFDIR => {
            const src_rc = openBeneath(level.src, name, sys.O_RDONLY | sys.O_DIRECTORY);
            if (sys.errnoOf(src_rc) == sys.EXDEV) return null; // another mount: not ours
            const src: sys.fd_t = @intCast(ctx.check(src_rc, "openat2", what));
            _ = ctx.check(sys.mkdirat(level.dst, name, 0o700), "mkdirat", what);
            const dst = openDir(ctx, level.dst, name, what);
            descend = .{ .src = src, .dst = dst };
        },
        sys.S_IFREG => {
            const src_rc = openBeneath(level.src, name, sys.O_RDONLY);
            if (sys.errnoOf(src_rc) == sys.EXDEV) return null;
            const src: sys.fd_t = @intCast(ctx.check(src_rc, "openat2", what));
            defer _ = sys.close(src);
            const flags = sys.O_CREAT | sys.O_EXCL | sys.O_WRONLY | sys.O_NOFOLLOW | sys.O_CLOEXEC;
            const dst: sys.fd_t = @intCast(ctx.check(sys.openat(level.dst, name, flags, 0o600), "openat", what));
            defer _ = sys.close(dst);
            copyBytes(ctx, src, dst, st.size, what);
        },
        sys.S_IFLNK => {
            var link: [4097]u8 = undefined;
            const n = ctx.check(sys.readlinkat(level.src, name, link[0..4096]), "readlinkat", what);
            link[n] = 0;
            _ = ctx.check(sys.symlinkat(link[0..n :0], level.dst, name), "symlinkat", what);
        },
        sys.S_IFCHR, sys.S_IFBLK, sys.S_IFIFO => {
            const dev = sys.makedev(st.rdev_major, st.rdev_minor);
            _ = ctx.check(sys.mknodat(level.dst, name, kind | perm, dev), "mknodat", what);
        },
        else => return null, // sockets belong to whoever bound them
    }
    _ = ctx.check(sys.fchownat(level.dst, name, st.uid, st.gid, sys.AT_SYMLINK_NOFOLLOW), "fchownat", what);
    // After the chown, which clears set-id bits; a link's own mode means nothing.
    if (kind != sys.S_IFLNK) _ = ctx.check(sys.fchmodat(level.dst, name, perm), "fchmodat", what);
    if (kind != sys.S_IFDIR) {
        const times = [2]sys.Timespec{
            .{ .sec = @bitCast(st.times[0]), .nsec = @as(u32, @truncate(st.times[1])) },
            .{ .sec = @bitCast(st.times[6]), .nsec = @as(u32, @truncate(st.times[7])) },
        };
        _ = ctx.check(sys.utimensat(level.dst, name, &times, sys.AT_SYMLINK_NOFOLLOW), "utimensat", what);
    }
    return descend;
}

/// Copies at most `size` bytes (what statx saw): a file that grows meanwhile cannot make
/// the loop endless.
fn copyBytes(ctx: *const Context, src: sys.fd_t, dst: sys.fd_t, size: u64, what: []const u8) void {
    var chunk: [16384]u8 = undefined;
    var left = size;
    while (left > 0) {
        const want: usize = @intCast(@min(left, chunk.len));
        const n = ctx.check(sys.read(src, chunk[0..want]), "read", what);
        if (n == 0) return;
        var done: usize = 0;
        var tries: u32 = 0;
        while (done < n) : (tries += 1) {
            if (tries > 1024) ctx.fail("write", sys.EAGAIN, what);
            done += ctx.check(sys.write(dst, chunk[done..n]), "write", what);
        }
        left -= n;
    }
}
