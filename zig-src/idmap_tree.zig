//! Id-mapped bind sources (runtime-spec 1.3 `idmap`, `ridmap`), made by the parent while
//! the child waits: a user namespace holding the mount's maps (a helper process that only
//! waits, its maps written by us as the host's root), a clone of the source's mount tree
//! (open_tree, with its submounts for an rbind) and MOUNT_ATTR_IDMAP on it (on every
//! cloned mount for ridmap). The clone is made from our own mount namespace: open_tree
//! refuses to clone another namespace's mounts, and MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN
//! over the source's filesystem, which a child in a user namespace lacks. The child moves
//! the detached tree onto its target (move_mount).

const std = @import("std");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const plan = @import("plan.zig");

pub const Failure = struct { syscall: []const u8, errno: u16 };

/// The clone's fd (close-on-exec), or what failed.
pub const Result = union(enum) { fd: sys.fd_t, failed: Failure };

/// The user namespaces made for one send, one per distinct (uid map, gid map): mounts
/// of the same mapping share one helper fork. Fixed room (no allocation), closed by
/// `closeAll` once every tree is mapped (a mapped mount keeps its namespace alive).
pub const UsernsCache = struct {
    const Entry = struct { uid_map: []const u8, gid_map: []const u8, fd: sys.fd_t };
    entries: [plan.mount_sources_max]Entry = undefined,
    len: usize = 0,

    /// The namespace of these maps: the one made earlier in this send, else a new one.
    pub fn get(self: *UsernsCache, uid_map: []const u8, gid_map: []const u8) Result {
        for (self.entries[0..self.len]) |e| {
            if (std.mem.eql(u8, e.uid_map, uid_map) and std.mem.eql(u8, e.gid_map, gid_map)) {
                return .{ .fd = e.fd };
            }
        }
        const made = mappedUserns(uid_map, gid_map);
        if (made == .fd) {
            std.debug.assert(self.len < self.entries.len);
            self.entries[self.len] = .{ .uid_map = uid_map, .gid_map = gid_map, .fd = made.fd };
            self.len += 1;
        }
        return made;
    }

    pub fn closeAll(self: *UsernsCache) void {
        for (self.entries[0..self.len]) |e| _ = sys.close(e.fd);
        self.len = 0;
    }
};

/// The mapped clone of `s.source`, its user namespace taken from (or made into) `userns`.
pub fn open(s: payload.IdmapSource, userns: *UsernsCache) Result {
    const got = userns.get(s.uid_map, s.gid_map);
    const userns_fd = switch (got) {
        .fd => |fd| fd,
        .failed => return got,
    };
    var flags: u32 = sys.OPEN_TREE_CLONE | sys.O_CLOEXEC;
    if (s.recursive_tree) flags |= sys.AT_RECURSIVE;
    const tree = sys.openTree(sys.AT_FDCWD, s.source, flags);
    if (sys.errnoOf(tree)) |e| return .{ .failed = .{ .syscall = "open_tree", .errno = e } };
    const tree_fd: sys.fd_t = @intCast(tree);
    // A clone stays a peer of a shared source (a systemd host's "/" is shared): host
    // mounts under the source would propagate into the container and its mounts out.
    // Every cloned mount is made private while the tree is detached, before it moves.
    const private = sys.MountAttr{ .attr_set = 0, .attr_clr = 0, .propagation = sys.MS_PRIVATE, .userns_fd = 0 };
    if (sys.errnoOf(sys.mountSetattr(tree_fd, "", sys.AT_EMPTY_PATH | sys.AT_RECURSIVE, &private))) |e| {
        _ = sys.close(tree_fd);
        return .{ .failed = .{ .syscall = "mount_setattr", .errno = e } };
    }
    const attr = sys.MountAttr{ .attr_set = sys.MOUNT_ATTR_IDMAP, .attr_clr = 0, .propagation = 0, .userns_fd = @intCast(userns_fd) };
    const at: u32 = sys.AT_EMPTY_PATH | if (s.recursive_map) sys.AT_RECURSIVE else 0;
    if (sys.errnoOf(sys.mountSetattr(tree_fd, "", at, &attr))) |e| {
        _ = sys.close(tree_fd);
        return .{ .failed = .{ .syscall = "mount_setattr", .errno = e } };
    }
    return .{ .fd = tree_fd };
}

/// A user namespace with these maps, as an fd: a helper cloned into a new one waits on a
/// pipe while we write its maps and open its ns/user, then is killed and reaped.
fn mappedUserns(uid_map: []const u8, gid_map: []const u8) Result {
    var wait_pipe: [2]i32 = undefined;
    if (sys.errnoOf(sys.pipe2(&wait_pipe, sys.O_CLOEXEC))) |e| return .{ .failed = .{ .syscall = "pipe2", .errno = e } };
    const rc = cloneSignalsBlocked(sys.CLONE_NEWUSER | sys.SIGCHLD);
    if (sys.errnoOf(rc)) |e| {
        _ = sys.close(wait_pipe[0]);
        _ = sys.close(wait_pipe[1]);
        return .{ .failed = .{ .syscall = "clone", .errno = e } };
    }
    if (rc == 0) {
        // The helper: born with every signal blocked (SIGKILL cannot be); gone at EOF (we
        // died) or killed.
        _ = sys.close(wait_pipe[1]);
        var byte: [1]u8 = undefined;
        var tries: u32 = 0;
        while (tries < 1024) : (tries += 1) {
            if (sys.errnoOf(sys.read(wait_pipe[0], &byte)) != sys.EINTR) break;
        }
        sys.exitGroup(0);
    }
    _ = sys.close(wait_pipe[0]);
    const pid: sys.pid_t = @intCast(rc);
    const result = writeMapsAndOpen(pid, uid_map, gid_map);
    _ = sys.kill(pid, sys.SIGKILL);
    _ = sys.close(wait_pipe[1]);
    var status: i32 = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        if (sys.errnoOf(sys.wait4(pid, &status, 0)) != sys.EINTR) break;
    }
    return result;
}

/// clone(flags) fork-like with every signal blocked across it, as spawn.zig's launch: a
/// handler of the caller's (Deno's) would otherwise run in the child before it could block
/// them itself. The child returns with every signal still blocked; the parent (or a failed
/// clone) with its mask restored.
fn cloneSignalsBlocked(flags: u64) usize {
    const all: u64 = ~@as(u64, 0);
    var old: u64 = 0;
    _ = sys.sigprocmask(sys.SIG_SETMASK, &all, &old);
    const rc = sys.clone(flags, null);
    if (rc != 0) _ = sys.sigprocmask(sys.SIG_SETMASK, &old, null);
    return rc;
}

fn writeMapsAndOpen(pid: sys.pid_t, uid_map: []const u8, gid_map: []const u8) Result {
    std.debug.assert(pid > 0);
    var path: [48]u8 = undefined;
    for ([_]struct { name: []const u8, content: []const u8 }{
        .{ .name = "uid_map", .content = uid_map },
        .{ .name = "gid_map", .content = gid_map },
    }) |map| {
        const fd = sys.openat(sys.AT_FDCWD, procPath(&path, pid, map.name), sys.O_WRONLY | sys.O_CLOEXEC, 0);
        if (sys.errnoOf(fd)) |e| return .{ .failed = .{ .syscall = "open", .errno = e } };
        const w = sys.write(@intCast(fd), map.content);
        _ = sys.close(@intCast(fd));
        if (sys.errnoOf(w)) |e| return .{ .failed = .{ .syscall = "write", .errno = e } };
        if (w != map.content.len) return .{ .failed = .{ .syscall = "write", .errno = sys.EIO } };
    }
    const ns = sys.openat(sys.AT_FDCWD, procPath(&path, pid, "ns/user"), sys.O_RDONLY | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(ns)) |e| return .{ .failed = .{ .syscall = "open", .errno = e } };
    return .{ .fd = @intCast(ns) };
}

/// "/proc/<pid>/<name>" with a NUL.
fn procPath(buf: *[48]u8, pid: sys.pid_t, name: []const u8) [*:0]const u8 {
    var digits: [20]u8 = undefined;
    const n = sys.formatDecimal(&digits, @intCast(pid));
    var at: usize = 0;
    for ([_][]const u8{ "/proc/", digits[0..n], "/", name }) |part| {
        std.debug.assert(at + part.len < buf.len);
        @memcpy(buf[at..][0..part.len], part);
        at += part.len;
    }
    buf[at] = 0;
    return buf[0..at :0];
}

test "procPath" {
    var buf: [48]u8 = undefined;
    try std.testing.expectEqualStrings("/proc/42/ns/user", std.mem.span(procPath(&buf, 42, "ns/user")));
}

/// The calling thread's signal mask.
fn currentMask() u64 {
    const none: u64 = 0;
    var mask: u64 = 0;
    _ = sys.sigprocmask(sys.SIG_BLOCK, &none, &mask);
    return mask;
}

test "cloneSignalsBlocked: the child starts with every signal blocked, the parent's mask comes back" {
    const before = currentMask();
    const rc = cloneSignalsBlocked(sys.SIGCHLD);
    try std.testing.expect(sys.errnoOf(rc) == null);
    if (rc == 0) {
        // All but SIGKILL (9) and SIGSTOP (19), which the kernel never blocks.
        const unblockable: u64 = (1 << 8) | (1 << 18);
        sys.exitGroup(if (currentMask() == ~unblockable) 0 else 1);
    }
    var status: i32 = 0;
    try std.testing.expect(sys.wait4(@intCast(rc), &status, 0) == rc);
    try std.testing.expectEqual(@as(i32, 0), status);
    try std.testing.expectEqual(before, currentMask());
}

test "UsernsCache: one namespace per distinct pair of maps" {
    var cache = UsernsCache{};
    defer cache.closeAll();
    const a = try fdOf(cache.get("0 1000 1\n", "0 1000 1\n"));
    const b = try fdOf(cache.get("0 2000 1\n", "0 1000 1\n"));
    const c = try fdOf(cache.get("0 1000 1\n", "0 2000 1\n"));
    try std.testing.expectEqual(a, try fdOf(cache.get("0 1000 1\n", "0 1000 1\n")));
    try std.testing.expectEqual(b, try fdOf(cache.get("0 2000 1\n", "0 1000 1\n")));
    try std.testing.expectEqual(@as(usize, 3), cache.len);
    try std.testing.expect(a != b and b != c and a != c);
    // Three namespaces, not one: each fd is a user namespace of its own.
    var inodes: [3]u64 = undefined;
    for ([_]sys.fd_t{ a, b, c }, &inodes) |fd, *ino| {
        var st: sys.Statx = undefined;
        try std.testing.expect(sys.errnoOf(sys.statx(fd, "", sys.AT_EMPTY_PATH, &st)) == null);
        ino.* = st.ino;
    }
    try std.testing.expect(inodes[0] != inodes[1] and inodes[1] != inodes[2] and inodes[0] != inodes[2]);
}

fn fdOf(r: Result) !sys.fd_t {
    return switch (r) {
        .fd => |fd| fd,
        .failed => error.Failed,
    };
}
