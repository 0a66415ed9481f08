//! Each op's payload, written once: a struct whose fields, in declaration order, are the
//! op's layout in docs/abi.md, and one reader (`read`) that turns an op's bytes into that
//! value for both the check of the whole plan before the fork (plan.decode) and the work
//! itself (the parent placing the child, the child's setup). A rule about one op's own
//! fields lives here (a struct's `check`, or `checkBare`); a rule across ops in plan.zig.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const wire = @import("wire.zig");

pub const Error = wire.Error;

pub const max_args = 4096;
pub const max_env = 4096;
pub const max_groups = 64;
pub const max_fds = 256;
/// Instructions of a seccomp filter (BPF_MAXINSNS).
pub const max_filter = 4096;
/// How many pieces a seccomp listener's state may have.
pub const max_listener_pieces = 8;
/// A hook's args, env and state pieces.
pub const hook_max_args = 256;
pub const hook_max_env = 256;
pub const hook_max_pieces = 8;

/// A strlist (u32 count, str...) whose strings `read` has checked.
pub const StrList = struct {
    count: u32,
    /// The strings as they stand in the plan, count word left out.
    bytes: []const u8,

    /// Every string is read once here, so a count past what the op holds ends as
    /// Truncated within bytes.len / 8 steps.
    pub fn read(r: *wire.Reader) Error!StrList {
        const count = try r.int(u32);
        const start = r.pos;
        for (0..count) |_| _ = try r.str();
        return .{ .count = count, .bytes = r.bytes[start..r.pos] };
    }

    pub fn iterator(self: StrList) StrIterator {
        return .{ .r = .{ .bytes = self.bytes }, .left = self.count };
    }

    /// The strings as NUL-terminated pointers in `ptrs`, then a null (execve's argv and
    /// envp shape); returns how many strings.
    pub fn fillPointers(self: StrList, ptrs: []?[*:0]const u8) usize {
        std.debug.assert(self.count < ptrs.len);
        var it = self.iterator();
        var n: usize = 0;
        while (it.next()) |s| : (n += 1) ptrs[n] = s.ptr;
        ptrs[n] = null;
        return n;
    }
};

pub const StrIterator = struct {
    r: wire.Reader,
    left: u32,

    pub fn next(self: *StrIterator) ?[:0]const u8 {
        if (self.left == 0) {
            std.debug.assert(self.r.pos == self.r.bytes.len);
            return null;
        }
        self.left -= 1;
        return self.r.str() catch unreachable; // checked by StrList.read
    }
};

/// A u32 count (at most `max`) and that many ints of type T, as they stand in the plan.
pub fn Ints(comptime T: type, comptime max: u32) type {
    return struct {
        bytes: []const u8,

        const Self = @This();

        pub fn read(r: *wire.Reader) Error!Self {
            const n = try r.int(u32);
            if (n > max) return error.TooMany;
            return .{ .bytes = try r.raw(@as(usize, n) * @sizeOf(T)) };
        }

        pub fn len(self: Self) usize {
            return self.bytes.len / @sizeOf(T);
        }

        pub fn get(self: Self, i: usize) T {
            std.debug.assert(i < self.len());
            return std.mem.readInt(T, self.bytes[i * @sizeOf(T) ..][0..@sizeOf(T)], .little);
        }
    };
}

fn isAbsolute(path: []const u8) bool {
    return path.len > 0 and path[0] == '/';
}

pub const JoinNs = struct { nstype: u64, path: [:0]const u8 };

/// proc_write (a name below /proc/<pid>/), write_file (a path below /proc).
pub const FileWrite = struct { path: [:0]const u8, content: [:0]const u8 };

/// The ranges are "inside outside count ...", space-separated.
pub const IdMapHelper = struct { helper: [:0]const u8, ranges: [:0]const u8 };

pub const Mount = struct {
    /// abi.mount_* bits.
    opflags: u32,
    msflags: u32,
    /// The filesystem magic the target must have after the mount, or 0.
    magic: u64,
    source: [:0]const u8,
    target: [:0]const u8,
    fstype: ?[*:0]const u8,
    data: ?[*:0]const u8,
};

pub const Mknod = struct { mode: u32, major: u32, minor: u32, uid: u32, gid: u32, path: [:0]const u8 };

pub const Symlink = struct { target: [:0]const u8, path: [:0]const u8 };

pub const Mkdir = struct { mode: u32, path: [:0]const u8 };

pub const Rlimit = struct { resource: u32, limit: sys.Rlimit };

pub const MountSetattr = struct {
    /// abi.mount_* bits; mount_in_root is required.
    opflags: u32,
    recursive: bool,
    attr_set: u64,
    attr_clr: u64,
    target: [:0]const u8,

    pub fn check(self: *const MountSetattr) Error!void {
        if (self.opflags & abi.mount_in_root == 0) return error.BadOp;
    }
};

/// An id-mapped clone of a bind source, made by the parent (idmap_source).
pub const IdmapSource = struct {
    /// Clone the submounts too (rbind).
    recursive_tree: bool,
    /// Map every cloned mount, not only the top one (ridmap).
    recursive_map: bool,
    source: [:0]const u8,
    /// The text of the user namespace's uid_map and gid_map.
    uid_map: [:0]const u8,
    gid_map: [:0]const u8,

    pub fn check(self: *const IdmapSource) Error!void {
        if (!isAbsolute(self.source)) return error.BadOp;
        if (self.uid_map.len == 0 or self.gid_map.len == 0) return error.BadOp;
    }
};

pub const TmpfsCopyup = struct { msflags: u32, target: [:0]const u8, data: ?[*:0]const u8 };

pub const User = struct {
    uid: u32,
    gid: u32,
    groups: Ints(u32, max_groups),
};

pub const Caps = struct { last_cap: u32, bounding: u64, effective: u64, permitted: u64, inheritable: u64, ambient: u64 };

pub const Seccomp = struct {
    flags: u32,
    /// Classic BPF, 8 bytes an instruction.
    filter: []const u8,

    /// u32 flags, u32 count, then count instructions.
    pub fn read(r: *wire.Reader) Error!Seccomp {
        const flags = try r.int(u32);
        const count = try r.int(u32);
        if (count == 0 or count > max_filter) return error.TooMany;
        return .{ .flags = flags, .filter = try r.raw(count * 8) };
    }
};

pub const Lsm = enum(u32) { apparmor = 1, selinux = 2 };

pub const ExecLabel = struct { lsm: Lsm, content: [:0]const u8 };

pub const ConsoleSize = struct { rows: u16, cols: u16 };

/// sched_setattr's attributes (SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6).
pub const Scheduler = struct {
    policy: u32,
    nice: i32,
    priority: u32,
    pad: u32,
    flags: u64,
    runtime: u64,
    deadline: u64,
    period: u64,

    pub fn check(self: *const Scheduler) Error!void {
        const known = switch (self.policy) {
            0, 1, 2, 3, 5, 6 => true,
            else => false,
        };
        if (!known or self.nice < -20 or self.nice > 19 or self.priority > 99) return error.BadOp;
    }
};

/// The most CPUs an affinity names (the mask the child builds on its stack).
pub const max_cpus = 1024;

/// sched_setaffinity's CPUs, for the start of the child (initial) or just before its exec.
pub const CpuAffinity = struct {
    final: bool,
    cpus: Ints(u32, max_cpus),

    pub fn check(self: *const CpuAffinity) Error!void {
        if (self.cpus.len() == 0) return error.BadOp;
        for (0..self.cpus.len()) |i| if (self.cpus.get(i) >= max_cpus) return error.BadOp;
    }
};

/// set_mempolicy's mode (with its MPOL_F_* flags) and nodes.
pub const MemoryPolicy = struct {
    mode: u32,
    nodes: Ints(u32, max_cpus),

    pub fn check(self: *const MemoryPolicy) Error!void {
        const flags: u32 = (1 << 15) | (1 << 14) | (1 << 13);
        if ((self.mode & ~flags) > 6) return error.BadOp;
        for (0..self.nodes.len()) |i| if (self.nodes.get(i) >= max_cpus) return error.BadOp;
    }
};

/// ioprio_set's class and level (IOPRIO_CLASS_RT 1, BE 2, IDLE 3; level 0-7).
pub const IoPriority = struct {
    class: u32,
    level: u32,

    pub fn check(self: *const IoPriority) Error!void {
        if (self.class < 1 or self.class > 3 or self.level > 7) return error.BadOp;
    }
};

pub const HooksPause = struct {
    /// Where the parent says "paused" (our pid) and reads "1" to go on.
    notify: i32,
    resume_fd: i32,

    pub fn check(self: *const HooksPause) Error!void {
        if (self.notify < 0 or self.resume_fd < 0) return error.BadOp;
    }
};

pub const HookKind = enum(u32) { create_container = 1, start_container = 2 };

/// One OCI hook; its strings stay in the plan buffer.
pub const Hook = struct {
    kind: HookKind,
    /// The hook's index in its list (for the error record of a start hook).
    index: u32,
    timeout_s: u32,
    path: [:0]const u8,
    args: StrList,
    env: StrList,
    /// The state, in pieces to be joined by the init's host pid.
    pieces: StrList,

    pub fn check(self: *const Hook) Error!void {
        if (!isAbsolute(self.path)) return error.BadOp;
        if (self.args.count > hook_max_args or self.env.count > hook_max_env or
            self.pieces.count > hook_max_pieces) return error.TooMany;
    }
};

pub const Listener = struct {
    /// The agent's connected socket (inherited).
    socket: i32,
    /// The state, in pieces to be joined by our host pid.
    pieces: StrList,

    pub fn check(self: *const Listener) Error!void {
        if (self.socket < 0) return error.BadOp;
        if (self.pieces.count == 0 or self.pieces.count > max_listener_pieces) return error.TooMany;
    }
};

/// One op's payload, named as its abi.Op.
pub const Payload = union(enum) {
    // Read by the parent before the fork or while the child waits.
    clone_flags: u64,
    join_ns: JoinNs,
    proc_write: FileWrite,
    cgroup_procs: [:0]const u8,
    await_fd: i32,
    clone_into_cgroup: [:0]const u8,
    id_map_helper: IdMapHelper,
    mount_source: [:0]const u8,
    idmap_source: IdmapSource,
    // Setup in the child, in plan order.
    unshare: u64,
    mount: Mount,
    rootfs: [:0]const u8,
    mknod: Mknod,
    symlink: Symlink,
    pivot_root,
    move_root,
    sethostname: [:0]const u8,
    setdomainname: [:0]const u8,
    write_file: FileWrite,
    rlimit: Rlimit,
    mask_path: [:0]const u8,
    readonly_path: [:0]const u8,
    loopback_up,
    /// Non-zero: recursive.
    root_readonly: u32,
    exec_fifo: i32,
    mkdir: Mkdir,
    become_root,
    chroot: [:0]const u8,
    hide_mount: [:0]const u8,
    mount_setattr: MountSetattr,
    tmpfs_copyup: TmpfsCopyup,
    hooks_pause: HooksPause,
    hook: Hook,
    hook_report: i32,
    // The process (the last values win).
    args: StrList,
    env: StrList,
    cwd: [:0]const u8,
    user: User,
    umask: u32,
    stdio: [3]i32,
    fds: Ints(i32, max_fds),
    caps: Caps,
    no_new_privs,
    seccomp: Seccomp,
    no_setgroups,
    exec_label: ExecLabel,
    console_socket: i32,
    console_size: ConsoleSize,
    own_memory,
    seccomp_listener: Listener,
    io_priority: IoPriority,
    personality: u32,
    scheduler: Scheduler,
    cpu_affinity: CpuAffinity,
    memory_policy: MemoryPolicy,
    /// The offsets text for /proc/self/timens_offsets (empty: a new namespace at offset 0).
    time_ns: [:0]const u8,
};

comptime {
    // One payload for every op code, named alike.
    const ops = @typeInfo(abi.Op).@"enum".field_names;
    const payloads = @typeInfo(Payload).@"union".field_names;
    if (ops.len != payloads.len) @compileError("an op without a payload, or a payload without an op");
    for (payloads) |name| _ = @field(abi.Op, name);
}

/// Reads one op's payload, applies its rules and checks it is all of the op's body.
pub fn read(code: abi.Op, body: []const u8) Error!Payload {
    std.debug.assert(body.len % 4 == 0);
    var r = wire.Reader{ .bytes = body };
    inline for (@typeInfo(Payload).@"union".field_names) |name| {
        if (code == @field(abi.Op, name)) {
            const p = @unionInit(Payload, name, try readValue(@FieldType(Payload, name), &r));
            try checkBare(p);
            if (r.pos != r.bytes.len) return error.Truncated;
            return p;
        }
    }
    return error.BadOp;
}

/// The rules of ops whose payload is a bare value (a struct's are its `check`).
fn checkBare(p: Payload) Error!void {
    switch (p) {
        .mount_source => |path| if (!isAbsolute(path)) return error.BadOp,
        .exec_fifo, .console_socket, .hook_report => |fd| if (fd < 0) return error.BadOp,
        .args => |list| if (list.count == 0 or list.count > max_args) return error.TooMany,
        .env => |list| if (list.count > max_env) return error.TooMany,
        else => {},
    }
}

/// One value of the plan's encoding, by its type: u32, i32 and u64 as they are; u16 and
/// bool as a u32 that must fit (bool: 0 or 1); an enum as a u32 that must name one of its
/// values; str as [:0]const u8, and as ?[*:0]const u8 when empty means none; arrays
/// element by element; a struct with a `read` of its own by that, any other struct field
/// by field, in declaration order, then its `check` if it has one.
fn readValue(comptime T: type, r: *wire.Reader) Error!T {
    if (T == [:0]const u8) return r.str();
    if (T == ?[*:0]const u8) return r.optStr();
    switch (@typeInfo(T)) {
        .void => return {},
        .int => |int| {
            if (int.bits >= 32) return r.int(T);
            const wide = try r.int(u32);
            if (wide > std.math.maxInt(T)) return error.BadOp;
            return @intCast(wide);
        },
        .bool => {
            const v = try r.int(u32);
            if (v > 1) return error.BadOp;
            return v == 1;
        },
        .@"enum" => |e| {
            const v = try r.int(u32);
            inline for (e.field_names) |name| {
                if (v == @backingInt(@field(T, name))) return @field(T, name);
            }
            return error.BadOp;
        },
        .array => |array| {
            var out: T = undefined;
            for (&out) |*item| item.* = try readValue(array.child, r);
            return out;
        },
        .@"struct" => |info| {
            if (@hasDecl(T, "read")) return T.read(r);
            var out: T = undefined;
            inline for (info.field_names, info.field_types) |name, F| @field(out, name) = try readValue(F, r);
            if (@hasDecl(T, "check")) try out.check();
            return out;
        },
        else => @compileError("no plan encoding for " ++ @typeName(T)),
    }
}

pub const Op = struct { index: u32, payload: Payload };

/// Walks a plan that plan.decode has accepted, payloads read: nothing in it can fail.
pub const Checked = struct {
    it: wire.Iterator,

    pub fn init(buf: []const u8) Checked {
        const it = wire.Iterator.init(buf) catch unreachable; // checked by decode
        std.debug.assert(it.count <= wire.max_ops);
        return .{ .it = it };
    }

    pub fn next(self: *Checked) ?Op {
        const view = (self.it.next() catch unreachable) orelse return null;
        return .{ .index = view.index, .payload = read(view.code, view.body) catch unreachable };
    }
};

fn testBody(comptime words: []const u32) []const u8 {
    return std.mem.sliceAsBytes(words);
}

test "a mount payload: fields in order, empty fstype and data as null" {
    // opflags 1|64, msflags MS_BIND, magic 0, "/a", "/b", "", "".
    const body = testBody(&.{ 65, 4096, 0, 0, 2, 0x612f, 2, 0x622f, 0, 0, 0, 0 });
    const m = (try read(.mount, body)).mount;
    try std.testing.expectEqual(@as(u32, 65), m.opflags);
    try std.testing.expectEqual(@as(u32, 4096), m.msflags);
    try std.testing.expectEqualStrings("/a", m.source);
    try std.testing.expectEqualStrings("/b", m.target);
    try std.testing.expect(m.fstype == null and m.data == null);
    // A word left over is a bad plan, and so is one missing.
    try std.testing.expectError(error.Truncated, read(.mount, testBody(&.{ 65, 4096, 0, 0, 2, 0x612f, 2, 0x622f, 0, 0, 0, 0, 0 })));
    try std.testing.expectError(error.Truncated, read(.mount, body[0 .. body.len - 4]));
}

test "strlists and int lists read back in order" {
    // args: 2, "sh", "-c".
    const args = (try read(.args, testBody(&.{ 2, 2, 0x6873, 2, 0x632d }))).args;
    var it = args.iterator();
    try std.testing.expectEqualStrings("sh", it.next().?);
    try std.testing.expectEqualStrings("-c", it.next().?);
    try std.testing.expect(it.next() == null);
    try std.testing.expectError(error.TooMany, read(.args, testBody(&.{0})));
    // A hook's args past its limit, every string there.
    var many: [6 + 2 * (hook_max_args + 1) + 2]u32 = undefined;
    @memcpy(many[0..4], &[_]u32{ 1, 0, 0, 2 }); // kind, index, timeout, path length
    many[4] = 0x682f; // "/h"
    many[5] = hook_max_args + 1;
    for (0..hook_max_args + 1) |i| @memcpy(many[6 + 2 * i ..][0..2], &[_]u32{ 1, 0x61 });
    @memcpy(many[many.len - 2 ..], &[_]u32{ 0, 0 }); // env, pieces
    try std.testing.expectError(error.TooMany, read(.hook, std.mem.sliceAsBytes(&many)));
    // user: uid 1000, gid 100, groups 10, 20.
    const user = (try read(.user, testBody(&.{ 1000, 100, 2, 10, 20 }))).user;
    try std.testing.expectEqual(@as(usize, 2), user.groups.len());
    try std.testing.expectEqual(@as(u32, 20), user.groups.get(1));
    try std.testing.expectError(error.TooMany, read(.user, testBody(&.{ 0, 0, max_groups + 1 })));
    try std.testing.expectError(error.Truncated, read(.fds, testBody(&.{ 2, 3 })));
    const fds = (try read(.fds, testBody(&.{ 2, 5, 0xffffffff }))).fds;
    try std.testing.expectEqual(@as(i32, -1), fds.get(1));
}

test "per-op rules are the readers'" {
    // mount_source: absolute only.
    try std.testing.expectEqualStrings("/srv", (try read(.mount_source, testBody(&.{ 4, 0x7672732f, 0 }))).mount_source);
    try std.testing.expectError(error.BadOp, read(.mount_source, testBody(&.{ 3, 0x767273 })));
    // mount_setattr: in-root required, recursive 0 or 1.
    try std.testing.expectError(error.BadOp, read(.mount_setattr, testBody(&.{ 0, 0, 0, 0, 0, 0, 0, 0 })));
    try std.testing.expectError(error.BadOp, read(.mount_setattr, testBody(&.{ 1, 2, 0, 0, 0, 0, 0, 0 })));
    const s = (try read(.mount_setattr, testBody(&.{ 1, 1, 1, 0, 0, 0, 1, 0x2f }))).mount_setattr;
    try std.testing.expect(s.recursive and s.attr_set == 1);
    try std.testing.expectEqualStrings("/", s.target);
    try std.testing.expectError(error.BadOp, read(.exec_fifo, testBody(&.{0xffffffff})));
    try std.testing.expectError(error.BadOp, read(.console_size, testBody(&.{ 0x10000, 80 })));
    try std.testing.expectError(error.BadOp, read(.exec_label, testBody(&.{ 3, 0 })));
    try std.testing.expectError(error.BadOp, read(.hooks_pause, testBody(&.{ 3, 0xffffffff })));
    try std.testing.expectError(error.TooMany, read(.seccomp, testBody(&.{ 0, 0 })));
    const filter = (try read(.seccomp, testBody(&.{ 8, 1, 6, 0x7fff0000 }))).seccomp;
    try std.testing.expectEqual(@as(usize, 8), filter.filter.len);
    try std.testing.expectError(error.TooMany, read(.seccomp_listener, testBody(&.{ 4, 0 })));
    try std.testing.expectError(error.BadOp, read(@fromBackingInt(9999), testBody(&.{})));
}

test "a hook payload keeps its lists for the runner" {
    // kind 2, index 1, timeout 5, "/h", args ["/h"], env [], pieces ["{", "}"].
    const body = testBody(&.{ 2, 1, 5, 2, 0x682f, 1, 2, 0x682f, 0, 2, 1, 0x7b, 1, 0x7d });
    const hook = (try read(.hook, body)).hook;
    try std.testing.expectEqual(HookKind.start_container, hook.kind);
    try std.testing.expectEqual(@as(u32, 5), hook.timeout_s);
    try std.testing.expectEqual(@as(u32, 0), hook.env.count);
    var pieces = hook.pieces.iterator();
    try std.testing.expectEqualStrings("{", pieces.next().?);
    try std.testing.expectEqualStrings("}", pieces.next().?);
    try std.testing.expect(pieces.next() == null);
    // A relative path, and a kind that is neither.
    try std.testing.expectError(error.BadOp, read(.hook, testBody(&.{ 2, 1, 5, 1, 0x68, 0, 0, 0 })));
    try std.testing.expectError(error.BadOp, read(.hook, testBody(&.{ 3, 1, 5, 2, 0x682f, 0, 0, 0 })));
}
