//! Reading a plan: a flat little-endian buffer of ops built by TypeScript. The parent
//! validates the whole plan before the fork, so the child decodes without surprises
//! and without allocating.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const hooks = @import("hooks.zig");

pub const Error = error{ Truncated, BadMagic, BadVersion, BadString, BadOp, TooMany };

/// A cursor over one op's payload.
pub const Reader = struct {
    bytes: []const u8,
    pos: usize = 0,

    pub fn int(self: *Reader, comptime T: type) Error!T {
        const n = @sizeOf(T);
        if (self.pos + n > self.bytes.len) return error.Truncated;
        const v = std.mem.readInt(T, self.bytes[self.pos..][0..n], .little);
        self.pos += n;
        return v;
    }

    /// u32 length, bytes, NUL, padding to 4. Returns the bytes with their NUL.
    pub fn str(self: *Reader) Error![:0]const u8 {
        const len = try self.int(u32);
        if (self.pos + len + 1 > self.bytes.len) return error.Truncated;
        if (self.bytes[self.pos + len] != 0) return error.BadString;
        const s = self.bytes[self.pos .. self.pos + len :0];
        if (std.mem.indexOfScalar(u8, s, 0) != null) return error.BadString;
        self.pos = std.mem.alignForward(usize, self.pos + len + 1, 4);
        return s;
    }

    /// A string, or null when it is empty (for optional mount arguments).
    pub fn optStr(self: *Reader) Error!?[*:0]const u8 {
        const s = try self.str();
        return if (s.len == 0) null else s.ptr;
    }
};

pub const OpView = struct { code: abi.Op, index: u32, body: Reader };

/// Walks the ops of a plan in order.
pub const Iterator = struct {
    buf: []const u8,
    pos: usize,
    index: u32 = 0,
    count: u32,

    pub fn init(buf: []const u8) Error!Iterator {
        var header = Reader{ .bytes = buf };
        if (try header.int(u32) != abi.plan_magic) return error.BadMagic;
        if (try header.int(u32) != abi.version) return error.BadVersion;
        const total = try header.int(u32);
        if (total != buf.len) return error.Truncated;
        const count = try header.int(u32);
        return .{ .buf = buf, .pos = header.pos, .count = count };
    }

    pub fn next(self: *Iterator) Error!?OpView {
        if (self.index == self.count) {
            if (self.pos != self.buf.len) return error.Truncated;
            return null;
        }
        var head = Reader{ .bytes = self.buf, .pos = self.pos };
        const code = try head.int(u32);
        const size = try head.int(u32);
        if (size < 8 or size % 4 != 0 or self.pos + size > self.buf.len) return error.Truncated;
        const view = OpView{
            .code = @fromBackingInt(@intCast(code)),
            .index = self.index,
            .body = .{ .bytes = self.buf[self.pos + 8 .. self.pos + size] },
        };
        self.pos += size;
        self.index += 1;
        return view;
    }
};

pub const max_args = 4096;
pub const max_env = 4096;
pub const max_groups = 64;
pub const max_fds = 256;
pub const max_ops = 4096;

/// The process part of a plan, decoded before the fork into memory the child reads.
pub const Process = struct {
    clone_flags: u64 = 0,
    joins: u32 = 0,
    /// One of the joins is a user namespace: setns refuses a process sharing its mm.
    joins_user: bool = false,
    argv: [*:null]?[*:0]const u8 = undefined,
    envp: [*:null]?[*:0]const u8 = undefined,
    argc: usize = 0,
    path_env: ?[]const u8 = null,
    cwd: ?[*:0]const u8 = null,
    user: ?struct { uid: u32, gid: u32 } = null,
    groups: [max_groups]u32 = undefined,
    group_count: usize = 0,
    umask: ?u32 = null,
    stdio: [3]i32 = .{ -1, -1, -1 },
    fds: [max_fds]i32 = undefined,
    fd_count: usize = 0,
    caps: ?Caps = null,
    no_new_privs: bool = false,
    /// The user namespace denies setgroups (an unprivileged gid map): keep the groups.
    no_setgroups: bool = false,
    exec_fifo: bool = false,
    /// A cgroup v2 directory the container process is cloned into (clone3).
    cgroup_path: ?[*:0]const u8 = null,
    /// A seccomp filter: classic BPF, 8 bytes an instruction.
    seccomp: ?Seccomp = null,
    /// The LSM label the exec switches to.
    exec_label: ?ExecLabel = null,
    /// A terminal: a pty made in the container, its master sent to this socket.
    console: ?Console = null,
    /// Bind sources the parent opens and sends (mount_source ops).
    mount_sources: usize = 0,
    /// The child stops for the runtime's hooks (hooks_pause): it keeps the sync pipe.
    hooks_pause: bool = false,
    /// hooks_pause: where the parent says "paused" (our pid) and reads "1" to go on.
    pause_notify: i32 = -1,
    pause_resume: i32 = -1,
    /// startContainer hooks, run just before the exec, in order.
    start_hooks: [max_start_hooks]hooks.Hook = undefined,
    start_hook_count: usize = 0,
    /// Where a failed startContainer hook's record goes, or -1.
    hook_report: i32 = -1,
    /// The child runs hooks (it forks them, so it must own its memory).
    has_hooks: bool = false,
    /// The child must not share our memory (own_memory): it waits in a memory cgroup
    /// whose OOM killer would kill every process sharing its mm, us included.
    own_memory: bool = false,
    /// Where a seccomp notify listener goes (the filter has SECCOMP_FILTER_FLAG_NEW_LISTENER).
    listener: ?Listener = null,
};

/// The most startContainer hooks a plan may have.
pub const max_start_hooks = 32;

/// The most mount_source ops a plan may have (one SCM_RIGHTS message carries them).
pub const mount_sources_max = 64;

/// The caller's connected unix socket (inherited by the child) and the op that asked.
pub const Console = struct { socket: i32, op_index: u32, rows: u16 = 0, cols: u16 = 0 };

pub const Lsm = enum(u32) { apparmor = 1, selinux = 2 };

pub const ExecLabel = struct { lsm: Lsm, content: [:0]const u8, op_index: u32 };

pub const Seccomp = struct { flags: u32, filter: []const u8 };

/// The agent's connected socket (inherited) and the state pieces (strs) our pid joins.
pub const Listener = struct { socket: i32, count: usize, pieces: []const u8, op_index: u32 };

/// How many pieces a listener's state may have.
pub const max_listener_pieces = 8;

pub const Caps = struct { last_cap: u32, bounding: u64, effective: u64, permitted: u64, inheritable: u64, ambient: u64 };

/// Validates every op and fills `out`. argv/envp point into `ptrs`, which the caller
/// allocates (before the fork) with room for max_args + max_env + 2 pointers.
pub fn decode(buf: []const u8, out: *Process, ptrs: []?[*:0]const u8) Error!void {
    std.debug.assert(ptrs.len >= max_args + max_env + 2);
    var it = try Iterator.init(buf);
    if (it.count > max_ops) return error.TooMany;
    var have_args = false;
    var source_mounts: usize = 0;
    var env_start: usize = max_args + 1;
    ptrs[env_start] = null;
    while (try it.next()) |op| {
        var r = op.body;
        switch (op.code) {
            .clone_flags => out.clone_flags = try r.int(u64),
            .join_ns => {
                if (try r.int(u64) == sys.CLONE_NEWUSER) out.joins_user = true;
                _ = try r.str();
                out.joins += 1;
            },
            .proc_write, .write_file, .symlink, .id_map_helper => {
                _ = try r.str();
                _ = try r.str();
            },
            .cgroup_procs => _ = try r.str(),
            .mount_source => {
                const path = try r.str();
                if (path.len == 0 or path[0] != '/') return error.BadOp;
                out.mount_sources += 1;
                if (out.mount_sources > mount_sources_max) return error.TooMany;
            },
            .await_fd => _ = try r.int(i32),
            .clone_into_cgroup => out.cgroup_path = (try r.str()).ptr,
            .unshare => _ = try r.int(u64),
            .mount => {
                if (try r.int(u32) & abi.mount_source_fd != 0) source_mounts += 1;
                _ = try r.int(u32);
                _ = try r.int(u64);
                for (0..4) |_| _ = try r.str();
            },
            .rootfs, .sethostname, .setdomainname, .mask_path, .readonly_path, .chroot, .hide_mount => _ = try r.str(),
            .exec_fifo => {
                if (try r.int(i32) < 0) return error.BadOp;
                out.exec_fifo = true;
            },
            .mknod => {
                for (0..5) |_| _ = try r.int(u32);
                _ = try r.str();
            },
            .mkdir => {
                _ = try r.int(u32);
                _ = try r.str();
            },
            .tmpfs_copyup => {
                _ = try r.int(u32);
                _ = try r.str();
                _ = try r.str();
            },
            .pivot_root, .move_root, .loopback_up, .become_root => {},
            .rlimit => {
                _ = try r.int(u32);
                _ = try r.int(u64);
                _ = try r.int(u64);
            },
            .root_readonly => _ = try r.int(u32),
            .mount_setattr => {
                if (try r.int(u32) & abi.mount_in_root == 0) return error.BadOp;
                if (try r.int(u32) > 1) return error.BadOp;
                _ = try r.int(u64);
                _ = try r.int(u64);
                _ = try r.str();
            },
            .args => {
                const n = try r.int(u32);
                if (n == 0 or n > max_args) return error.TooMany;
                for (0..n) |i| ptrs[i] = (try r.str()).ptr;
                ptrs[n] = null;
                out.argc = n;
                have_args = true;
            },
            .env => {
                const n = try r.int(u32);
                if (n > max_env) return error.TooMany;
                env_start = max_args + 1;
                out.path_env = null;
                for (0..n) |i| {
                    const s = try r.str();
                    ptrs[env_start + i] = s.ptr;
                    if (std.mem.startsWith(u8, s, "PATH=")) out.path_env = s[5..];
                }
                ptrs[env_start + n] = null;
            },
            .cwd => out.cwd = (try r.str()).ptr,
            .user => {
                out.user = .{ .uid = try r.int(u32), .gid = try r.int(u32) };
                const n = try r.int(u32);
                if (n > max_groups) return error.TooMany;
                for (0..n) |i| out.groups[i] = try r.int(u32);
                out.group_count = n;
            },
            .umask => out.umask = try r.int(u32),
            .stdio => for (0..3) |i| {
                out.stdio[i] = try r.int(i32);
            },
            .fds => {
                const n = try r.int(u32);
                if (n > max_fds) return error.TooMany;
                for (0..n) |i| out.fds[i] = try r.int(i32);
                out.fd_count = n;
            },
            .caps => out.caps = .{
                .last_cap = try r.int(u32),
                .bounding = try r.int(u64),
                .effective = try r.int(u64),
                .permitted = try r.int(u64),
                .inheritable = try r.int(u64),
                .ambient = try r.int(u64),
            },
            .no_new_privs => out.no_new_privs = true,
            .no_setgroups => out.no_setgroups = true,
            .exec_label => {
                const lsm = try r.int(u32);
                if (lsm != 1 and lsm != 2) return error.BadOp;
                out.exec_label = .{ .lsm = @fromBackingInt(@intCast(lsm)), .content = try r.str(), .op_index = op.index };
            },
            .console_socket => {
                const socket = try r.int(i32);
                if (socket < 0) return error.BadOp;
                out.console = .{ .socket = socket, .op_index = op.index };
            },
            .own_memory => out.own_memory = true,
            .console_size => {
                const rows = try r.int(u32);
                const cols = try r.int(u32);
                if (rows > 0xffff or cols > 0xffff) return error.BadOp;
                // After console_socket in the plan: a size without a terminal is a bad plan.
                if (out.console) |*c| {
                    c.rows = @intCast(rows);
                    c.cols = @intCast(cols);
                } else return error.BadOp;
            },
            .hooks_pause => {
                out.pause_notify = try r.int(i32);
                out.pause_resume = try r.int(i32);
                if (out.pause_notify < 0 or out.pause_resume < 0 or out.hooks_pause) return error.BadOp;
                out.hooks_pause = true;
            },
            .hook => {
                const hook = try hooks.Hook.decode(&r, op.index);
                out.has_hooks = true;
                if (hook.kind == .start_container) {
                    if (out.start_hook_count == max_start_hooks) return error.TooMany;
                    out.start_hooks[out.start_hook_count] = hook;
                    out.start_hook_count += 1;
                }
            },
            .hook_report => {
                out.hook_report = try r.int(i32);
                if (out.hook_report < 0) return error.BadOp;
            },
            .seccomp_listener => {
                const socket = try r.int(i32);
                if (socket < 0) return error.BadOp;
                const count = try r.int(u32);
                if (count == 0 or count > max_listener_pieces) return error.TooMany;
                const start = r.pos;
                for (0..count) |_| _ = try r.str();
                out.listener = .{ .socket = socket, .count = count, .pieces = r.bytes[start..r.pos], .op_index = op.index };
            },
            .seccomp => {
                const flags = try r.int(u32);
                const count = try r.int(u32);
                if (count == 0 or count > 4096) return error.TooMany;
                if (r.pos + count * 8 > r.bytes.len) return error.Truncated;
                out.seccomp = .{ .flags = flags, .filter = r.bytes[r.pos..][0 .. count * 8] };
                r.pos += count * 8;
            },
            _ => return error.BadOp,
        }
        if (r.pos != r.bytes.len) return error.Truncated;
    }
    if (!have_args) return error.BadOp;
    // Each mount that takes a source fd takes one the parent opened, in order.
    if (source_mounts != out.mount_sources) return error.BadOp;
    // A notify listener goes to the agent: both or neither.
    const new_listener = if (out.seccomp) |s| s.flags & sys.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 else false;
    if (new_listener != (out.listener != null)) return error.BadOp;
    out.argv = @ptrCast(ptrs[0..].ptr);
    out.envp = @ptrCast(ptrs[env_start..].ptr);
}
