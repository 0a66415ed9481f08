//! The whole plan checked before the fork: every op's payload read (payload.zig), the
//! rules across ops applied, and the process ops gathered into `Process`, memory the
//! child reads without decoding or allocating.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const wire = @import("wire.zig");
const payload = @import("payload.zig");

pub const Error = wire.Error;

pub const max_args = payload.max_args;
pub const max_env = payload.max_env;
pub const max_groups = payload.max_groups;
pub const max_fds = payload.max_fds;
pub const max_ops = wire.max_ops;

/// The process part of a plan, decoded before the fork into memory the child reads.
pub const Process = struct {
    clone_flags: u64 = 0,
    joins: u32 = 0,
    /// One of the joins is a user namespace: setns refuses a process sharing its mm.
    joins_user: bool = false,
    /// One of the joins is a time namespace: setns refuses a process sharing its mm (EUSERS).
    joins_time: bool = false,
    /// A new time namespace (time_ns): made by a first child, which the process is cloned from.
    new_time: ?NewTime = null,
    argv: [*:null]?[*:0]const u8 = undefined,
    envp: [*:null]?[*:0]const u8 = undefined,
    argc: usize = 0,
    path_env: ?[]const u8 = null,
    cwd: ?[*:0]const u8 = null,
    user: ?struct { uid: u32, gid: u32 } = null,
    groups: [max_groups]u32 = undefined,
    group_count: usize = 0,
    umask: ?u32 = null,
    io_priority: ?payload.IoPriority = null,
    personality: ?u32 = null,
    scheduler: ?payload.Scheduler = null,
    memory_policy: ?payload.MemoryPolicy = null,
    /// execCPUAffinity: the CPUs from the clone until the cgroup placement, then before the exec.
    affinity_initial: ?payload.Ints(u32, payload.max_cpus) = null,
    affinity_final: ?payload.Ints(u32, payload.max_cpus) = null,
    stdio: [3]i32 = .{ -1, -1, -1 },
    fds: [max_fds]i32 = undefined,
    fd_count: usize = 0,
    caps: ?payload.Caps = null,
    no_new_privs: bool = false,
    /// The user namespace denies setgroups (an unprivileged gid map): keep the groups.
    no_setgroups: bool = false,
    exec_fifo: bool = false,
    /// A cgroup v2 directory the container process is cloned into (clone3).
    cgroup_path: ?[*:0]const u8 = null,
    /// A cgroup_procs op writes into that cgroup too: the fallback when clone3 cannot
    /// clone there (spawn.zig). Without one, a failed clone3 is the spawn's error.
    placed_in_clone_dir: bool = false,
    seccomp: ?payload.Seccomp = null,
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
    start_hooks: [max_start_hooks]StartHook = undefined,
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

pub const NewTime = struct { offsets: [:0]const u8, op_index: u32 };

pub const ExecLabel = struct { label: payload.ExecLabel, op_index: u32 };

pub const StartHook = struct { hook: payload.Hook, op_index: u32 };

pub const Listener = struct { listener: payload.Listener, op_index: u32 };

/// Facts across ops that only the whole plan can check.
const Seen = struct {
    have_args: bool = false,
    /// Mount ops that take a source fd (mount opflag source_fd).
    source_mounts: usize = 0,
    /// Bit i: the i-th source fd is a detached tree (idmap_source), as sent; as taken.
    tree_sources: u64 = 0,
    tree_mounts: u64 = 0,
};

/// Where envp starts in the pointer array; argv is before it.
const env_start = max_args + 1;

/// Validates every op and fills `out`. argv/envp point into `ptrs`, which the caller
/// allocates (before the fork) with room for max_args + max_env + 2 pointers.
pub fn decode(buf: []const u8, out: *Process, ptrs: []?[*:0]const u8) Error!void {
    std.debug.assert(ptrs.len >= max_args + max_env + 2);
    var it = try wire.Iterator.init(buf);
    if (it.count > max_ops) return error.TooMany;
    var seen = Seen{};
    ptrs[env_start] = null;
    while (try it.next()) |op| try take(out, &seen, ptrs, op.index, try payload.read(op.code, op.body));
    try checkAcross(out, seen);
    std.debug.assert(out.argc > 0 and ptrs[out.argc] == null);
    out.argv = @ptrCast(ptrs[0..].ptr);
    out.envp = @ptrCast(ptrs[env_start..].ptr);
}

/// What one op adds to the process; the setup ops are only checked here.
fn take(out: *Process, seen: *Seen, ptrs: []?[*:0]const u8, index: u32, op: payload.Payload) Error!void {
    switch (op) {
        .clone_flags => |flags| out.clone_flags = flags,
        .join_ns => |join| {
            if (join.nstype == sys.CLONE_NEWUSER) out.joins_user = true;
            if (join.nstype == sys.CLONE_NEWTIME) out.joins_time = true;
            out.joins += 1;
        },
        .mount_source, .idmap_source => {
            if (out.mount_sources == mount_sources_max) return error.TooMany;
            if (op == .idmap_source) seen.tree_sources |= @as(u64, 1) << @intCast(out.mount_sources);
            out.mount_sources += 1;
        },
        .clone_into_cgroup => |path| out.cgroup_path = path.ptr,
        .mount => |m| {
            const tree = m.opflags & abi.mount_move_tree != 0;
            if (tree and m.opflags & abi.mount_in_root == 0) return error.BadOp;
            if (m.opflags & abi.mount_source_fd != 0) {
                if (seen.source_mounts == mount_sources_max) return error.TooMany;
                if (tree) seen.tree_mounts |= @as(u64, 1) << @intCast(seen.source_mounts);
                seen.source_mounts += 1;
            } else if (tree) return error.BadOp;
        },
        .exec_fifo => out.exec_fifo = true,
        .args => |list| {
            out.argc = list.fillPointers(ptrs[0..env_start]);
            seen.have_args = true;
        },
        .env => |list| {
            _ = list.fillPointers(ptrs[env_start..]);
            out.path_env = pathOf(list);
        },
        .cwd => |cwd| out.cwd = cwd.ptr,
        .user => |user| {
            out.user = .{ .uid = user.uid, .gid = user.gid };
            out.group_count = user.groups.len();
            for (0..out.group_count) |i| out.groups[i] = user.groups.get(i);
        },
        .umask => |mask| out.umask = mask,
        .io_priority => |prio| out.io_priority = prio,
        .personality => |persona| out.personality = persona,
        .scheduler => |sched| out.scheduler = sched,
        .memory_policy => |policy| out.memory_policy = policy,
        .time_ns => |offsets| {
            if (out.new_time != null) return error.BadOp;
            out.new_time = .{ .offsets = offsets, .op_index = index };
        },
        .cpu_affinity => |aff| if (aff.final) {
            out.affinity_final = aff.cpus;
        } else {
            out.affinity_initial = aff.cpus;
        },
        .stdio => |fds| out.stdio = fds,
        .fds => |fds| {
            out.fd_count = fds.len();
            for (0..out.fd_count) |i| out.fds[i] = fds.get(i);
        },
        .caps => |caps| out.caps = caps,
        .no_new_privs => out.no_new_privs = true,
        .no_setgroups => out.no_setgroups = true,
        .exec_label => |label| out.exec_label = .{ .label = label, .op_index = index },
        .console_socket => |socket| out.console = .{ .socket = socket, .op_index = index },
        .console_size => |size| {
            // After console_socket in the plan: a size without a terminal is a bad plan.
            const console = if (out.console) |*c| c else return error.BadOp;
            console.rows = size.rows;
            console.cols = size.cols;
        },
        .own_memory => out.own_memory = true,
        .hooks_pause => |pause| {
            if (out.hooks_pause) return error.BadOp;
            out.hooks_pause = true;
            out.pause_notify = pause.notify;
            out.pause_resume = pause.resume_fd;
        },
        .hook => |hook| {
            out.has_hooks = true;
            if (hook.kind == .start_container) {
                if (out.start_hook_count == max_start_hooks) return error.TooMany;
                out.start_hooks[out.start_hook_count] = .{ .hook = hook, .op_index = index };
                out.start_hook_count += 1;
            }
        },
        .hook_report => |fd| out.hook_report = fd,
        .seccomp_listener => |listener| out.listener = .{ .listener = listener, .op_index = index },
        .seccomp => |filter| out.seccomp = filter,
        // Carried out by the parent while the child waits, or by the child in plan order.
        .cgroup_procs => |path| {
            if (out.cgroup_path) |dir| {
                if (isProcsFileOf(path, std.mem.span(dir))) out.placed_in_clone_dir = true;
            }
        },
        .proc_write,
        .await_fd,
        .id_map_helper,
        .unshare,
        .rootfs,
        .mknod,
        .symlink,
        .pivot_root,
        .move_root,
        .sethostname,
        .setdomainname,
        .write_file,
        .rlimit,
        .mask_path,
        .readonly_path,
        .loopback_up,
        .root_readonly,
        .mkdir,
        .become_root,
        .chroot,
        .hide_mount,
        .mount_setattr,
        .tmpfs_copyup,
        => {},
    }
}

/// The rules that span ops, once every op is read.
fn checkAcross(out: *const Process, seen: Seen) Error!void {
    if (!seen.have_args) return error.BadOp;
    // A time namespace is either made or joined, and clone never makes one (the
    // offsets must be written before any process is in it).
    if (out.new_time != null and out.joins_time) return error.BadOp;
    if (out.clone_flags & sys.CLONE_NEWTIME != 0) return error.BadOp;
    // Each mount that takes a source fd takes one the parent opened, in order.
    if (seen.source_mounts != out.mount_sources) return error.BadOp;
    // ... and a tree is moved, a plain source bound: the kinds match one for one.
    if (seen.tree_sources != seen.tree_mounts) return error.BadOp;
    // A notify listener goes to the agent: both or neither.
    const new_listener = if (out.seccomp) |s| s.flags & sys.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 else false;
    if (new_listener != (out.listener != null)) return error.BadOp;
}

/// Whether `path` is `<dir>/cgroup.procs`.
fn isProcsFileOf(path: []const u8, dir: []const u8) bool {
    const name = "/cgroup.procs";
    return path.len == dir.len + name.len and std.mem.startsWith(u8, path, dir) and
        std.mem.endsWith(u8, path, name);
}

/// The value of the env's PATH, the last one if it has several.
fn pathOf(env: payload.StrList) ?[]const u8 {
    var path: ?[]const u8 = null;
    var it = env.iterator();
    while (it.next()) |s| {
        if (std.mem.startsWith(u8, s, "PATH=")) path = s["PATH=".len..];
    }
    return path;
}
