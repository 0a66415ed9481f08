//! A terminal for the container process, as runc's --console-socket makes it: a new
//! pseudo-terminal opened inside the container (after the root change, so it belongs to
//! the container's devpts), its master sent to the caller's unix socket with
//! SCM_RIGHTS, its slave the process's stdin, stdout, stderr and controlling terminal.
//! Runs in the child: raw syscalls and stack buffers only.

const std = @import("std");
const sys = @import("sys.zig");
const plan = @import("plan.zig");
const proc_fs = @import("proc_fs.zig");
const Context = @import("child.zig").Context;

/// Makes the pty, sends its master away and returns the slave, which `placeFds` then
/// puts at 0, 1 and 2 (and closes where it is). Nothing else of the pty stays open.
pub fn setup(ctx: *Context, console: plan.Console) sys.fd_t {
    std.debug.assert(console.socket >= 0);
    ctx.op_index = @intCast(console.op_index);
    defer ctx.op_index = -1;
    const master = openMaster(ctx);
    const unlock: u32 = 0;
    _ = ctx.check(sys.ioctl(master, sys.TIOCSPTLCK, @intFromPtr(&unlock)), "ioctl", "TIOCSPTLCK");
    var number: u32 = 0;
    _ = ctx.check(sys.ioctl(master, sys.TIOCGPTN, @intFromPtr(&number)), "ioctl", "TIOCGPTN");
    var name_buf: [32]u8 = undefined;
    const name = ptsPath(&name_buf, number);
    const slave = openSlave(ctx, master, name);
    if (console.rows != 0 or console.cols != 0) {
        const size = sys.Winsize{ .rows = console.rows, .cols = console.cols };
        _ = ctx.check(sys.ioctl(master, sys.TIOCSWINSZ, @intFromPtr(&size)), "ioctl", "TIOCSWINSZ");
    }
    sendFd(ctx, console.socket, master, name);
    _ = sys.close(master);
    _ = sys.close(console.socket);
    // A new session without a terminal, then the slave as its controlling terminal.
    _ = ctx.check(sys.setsid(), "setsid", "");
    _ = ctx.check(sys.ioctl(slave, sys.TIOCSCTTY, 0), "ioctl", "TIOCSCTTY");
    if (ctx.proc.user) |user| giveTo(ctx, slave, user.uid);
    return slave;
}

/// /dev/ptmx (in the container: a link to pts/ptmx or a device node), else the devpts
/// instance's own /dev/pts/ptmx. Each is opened O_PATH, never through a magic link
/// (`/proc/self/fd/N`: one of our own fds), and opened for use (through our procfs) only
/// once it is seen to be the ptmx device, 5:2: an image's /dev/ptmx that is something
/// else is passed over, and nothing else is ever opened read-write.
fn openMaster(ctx: *Context) sys.fd_t {
    const first = openPtmx(ctx, "/dev/ptmx");
    if (sys.errnoOf(first) == null) return @intCast(first);
    const second = openPtmx(ctx, "/dev/pts/ptmx");
    const second_errno = sys.errnoOf(second) orelse return @intCast(second);
    // A missing fallback says less than why /dev/ptmx failed.
    if (second_errno == sys.ENOENT) ctx.fail("open", sys.errnoOf(first).?, "/dev/ptmx");
    ctx.fail("open", second_errno, "/dev/pts/ptmx");
}

/// The master fd, or -errno (ENOTTY: not the ptmx device).
fn openPtmx(ctx: *Context, path: [*:0]const u8) usize {
    const how = sys.OpenHow{ .flags = sys.O_PATH | sys.O_CLOEXEC, .mode = 0, .resolve = sys.RESOLVE_NO_MAGICLINKS };
    const rc = sys.openat2(sys.AT_FDCWD, path, &how);
    if (sys.errnoOf(rc) != null) return rc;
    const fd: sys.fd_t = @intCast(rc);
    defer _ = sys.close(fd);
    var st: sys.Statx = undefined;
    if (sys.errnoOf(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st)) != null or !sys.isCharDev(&st, sys.PTMX_MAJOR, sys.PTMX_MINOR))
        return @bitCast(-@as(isize, sys.ENOTTY));
    return proc_fs.reopen(ctx, fd, sys.O_RDWR | sys.O_NOCTTY);
}

/// TIOCGPTPEER opens the slave without a path lookup; older kernels get it by name (no
/// symlink followed). Either way it must be a pty slave of a devpts: a file the image
/// put at /dev/pts/N would otherwise become the process's terminal and stdio.
fn openSlave(ctx: *const Context, master: sys.fd_t, name: [:0]const u8) sys.fd_t {
    const flags = sys.O_RDWR | sys.O_NOCTTY | sys.O_CLOEXEC;
    const rc = sys.ioctl(master, sys.TIOCGPTPEER, flags);
    const fd: sys.fd_t = if (sys.errnoOf(rc)) |errno| blk: {
        if (errno != sys.EINVAL and errno != sys.ENOTTY) ctx.fail("ioctl", errno, "TIOCGPTPEER");
        const how = sys.OpenHow{ .flags = flags, .mode = 0, .resolve = sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_MAGICLINKS };
        break :blk @intCast(ctx.check(sys.openat2(sys.AT_FDCWD, name, &how), "open", name));
    } else @intCast(rc);
    var fs: sys.Statfs = undefined;
    _ = ctx.check(sys.fstatfs(fd, &fs), "fstatfs", name);
    var st: sys.Statx = undefined;
    _ = ctx.check(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st), "statx", name);
    const is_slave = st.mode & sys.S_IFMT == sys.S_IFCHR and st.rdev_major >= sys.PTS_MAJOR_FIRST and st.rdev_major <= sys.PTS_MAJOR_LAST;
    if (fs.f_type != sys.DEVPTS_SUPER_MAGIC or !is_slave) ctx.fail("fstatfs", sys.ENOTTY, "the pty slave is not on a devpts");
    return fd;
}

/// One sendmsg: the pty name as the bytes, the master as SCM_RIGHTS. MSG_NOSIGNAL turns
/// a closed peer into EPIPE instead of a silent SIGPIPE death.
fn sendFd(ctx: *const Context, socket: sys.fd_t, fd: sys.fd_t, name: []const u8) void {
    std.debug.assert(fd >= 0 and name.len > 0);
    const iov = sys.Iovec{ .base = @intFromPtr(name.ptr), .len = name.len };
    const cmsg = sys.CmsgFd{ .fd = fd };
    const msg = sys.Msghdr{
        .iov = @intFromPtr(&iov),
        .iovlen = 1,
        .control = @intFromPtr(&cmsg),
        .controllen = @sizeOf(sys.CmsgFd),
    };
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const rc = sys.sendmsg(socket, &msg, sys.MSG_NOSIGNAL);
        const errno = sys.errnoOf(rc) orelse return;
        if (errno != sys.EINTR) ctx.fail("sendmsg", errno, "console socket");
    }
    ctx.fail("sendmsg", sys.EINTR, "console socket");
}

/// The slave belongs to whoever opened it (root here); like runc, hand its uid to the
/// process's user, keeping the tty group devpts gave it. A uid the user namespace does
/// not map (EINVAL) or may not give (EPERM) leaves it as it is, as runc does.
fn giveTo(ctx: *const Context, slave: sys.fd_t, uid: u32) void {
    if (uid == 0) return;
    const keep_gid: u32 = std.math.maxInt(u32);
    const rc = sys.fchownat(slave, "", uid, keep_gid, sys.AT_EMPTY_PATH);
    const errno = sys.errnoOf(rc) orelse return;
    if (errno != sys.EINVAL and errno != sys.EPERM) ctx.fail("fchown", errno, "terminal");
}

/// "/dev/pts/<n>" with a NUL.
fn ptsPath(buf: *[32]u8, n: u32) [:0]const u8 {
    const prefix = "/dev/pts/";
    @memcpy(buf[0..prefix.len], prefix);
    const len = prefix.len + sys.formatDecimal(buf[prefix.len..], n);
    buf[len] = 0;
    return buf[0..len :0];
}

test "ptsPath" {
    var buf: [32]u8 = undefined;
    try std.testing.expectEqualStrings("/dev/pts/0", ptsPath(&buf, 0));
    try std.testing.expectEqualStrings("/dev/pts/4294967295", ptsPath(&buf, std.math.maxInt(u32)));
}
