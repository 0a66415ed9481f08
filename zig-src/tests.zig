//! Native unit tests: plan decoding and the small pure helpers (payload readers: payload.zig).
const std = @import("std");
const abi = @import("abi.zig");
const plan = @import("plan.zig");
const sys = @import("sys.zig");

test {
    _ = @import("id_map_helper.zig");
    _ = @import("console.zig");
    _ = @import("mount_sources.zig");
    _ = @import("idmap_tree.zig");
    _ = @import("hooks.zig");
    _ = @import("proc_fs.zig");
    _ = @import("payload.zig");
    _ = @import("frame_test.zig");
    _ = @import("door_args.zig");
    _ = @import("door_session.zig");
    _ = @import("netlink.zig");
}

fn put32(list: *std.ArrayList(u8), gpa: std.mem.Allocator, v: u32) !void {
    var b: [4]u8 = undefined;
    std.mem.writeInt(u32, &b, v, .little);
    try list.appendSlice(gpa, &b);
}

fn putStr(list: *std.ArrayList(u8), gpa: std.mem.Allocator, s: []const u8) !void {
    try put32(list, gpa, @intCast(s.len));
    try list.appendSlice(gpa, s);
    try list.append(gpa, 0);
    while (list.items.len % 4 != 0) try list.append(gpa, 0);
}

test "decode reads args and env and rejects a truncated plan" {
    const gpa = std.testing.allocator;
    var body: std.ArrayList(u8) = .empty;
    defer body.deinit(gpa);
    try put32(&body, gpa, @backingInt(abi.Op.args));
    try put32(&body, gpa, 0); // size, patched below
    try put32(&body, gpa, 2);
    try putStr(&body, gpa, "echo");
    try putStr(&body, gpa, "hi");
    std.mem.writeInt(u32, body.items[4..8], @intCast(body.items.len), .little);
    const env_start = body.items.len;
    try put32(&body, gpa, @backingInt(abi.Op.env));
    try put32(&body, gpa, 0);
    try put32(&body, gpa, 1);
    try putStr(&body, gpa, "PATH=/bin");
    std.mem.writeInt(u32, body.items[env_start + 4 ..][0..4], @intCast(body.items.len - env_start), .little);

    var buf: std.ArrayList(u8) = .empty;
    defer buf.deinit(gpa);
    try put32(&buf, gpa, abi.plan_magic);
    try put32(&buf, gpa, abi.version);
    try put32(&buf, gpa, @intCast(16 + body.items.len));
    try put32(&buf, gpa, 2);
    try buf.appendSlice(gpa, body.items);

    var proc: plan.Process = .{};
    const ptrs = try gpa.alloc(?[*:0]const u8, plan.max_args + plan.max_env + 2);
    defer gpa.free(ptrs);
    try plan.decode(buf.items, &proc, ptrs);
    try std.testing.expectEqual(@as(usize, 2), proc.argc);
    try std.testing.expectEqualStrings("hi", std.mem.span(proc.argv[1].?));
    try std.testing.expectEqualStrings("/bin", proc.path_env.?);
    try std.testing.expect(proc.argv[2] == null);

    try std.testing.expectError(error.Truncated, plan.decode(buf.items[0 .. buf.items.len - 4], &proc, ptrs));
}

test "makedev" {
    try std.testing.expectEqual(@as(u32, 0x103), sys.makedev(1, 3));
    try std.testing.expectEqual(@as(u32, 0x88), sys.makedev(0, 0x88));
}

test "errnoOf" {
    try std.testing.expectEqual(@as(?u16, 2), sys.errnoOf(@bitCast(@as(isize, -2))));
    try std.testing.expectEqual(@as(?u16, null), sys.errnoOf(5));
}

/// An op code and its payload words.
const OpWords = struct { abi.Op, []const u32 };

/// The args op's payload for ["sh"].
const sh: []const u32 = &.{ 1, 2, 0x6873 };

/// A plan of `ops`.
fn planOf(gpa: std.mem.Allocator, buf: *std.ArrayList(u8), ops: []const OpWords) !void {
    try put32(buf, gpa, abi.plan_magic);
    try put32(buf, gpa, abi.version);
    try put32(buf, gpa, 0); // total, patched below
    try put32(buf, gpa, @intCast(ops.len));
    for (ops) |op| {
        try put32(buf, gpa, @backingInt(op[0]));
        try put32(buf, gpa, @intCast(8 + 4 * op[1].len));
        for (op[1]) |word| try put32(buf, gpa, word);
    }
    std.mem.writeInt(u32, buf.items[8..12], @intCast(buf.items.len), .little);
}

/// Plans built from op words and decoded, with the pointer array decode needs.
const Fixture = struct {
    gpa: std.mem.Allocator,
    ptrs: []?[*:0]const u8,
    buf: std.ArrayList(u8) = .empty,

    fn init() !Fixture {
        const gpa = std.testing.allocator;
        return .{ .gpa = gpa, .ptrs = try gpa.alloc(?[*:0]const u8, plan.max_args + plan.max_env + 2) };
    }

    fn deinit(self: *Fixture) void {
        self.gpa.free(self.ptrs);
        self.buf.deinit(self.gpa);
    }

    fn decode(self: *Fixture, ops: []const OpWords, proc: *plan.Process) !void {
        self.buf.clearRetainingCapacity();
        try planOf(self.gpa, &self.buf, ops);
        proc.* = .{};
        try plan.decode(self.buf.items, proc, self.ptrs);
    }
};

test "decode reads the console socket and its op index, and refuses a negative fd" {
    var f = try Fixture.init();
    defer f.deinit();
    var proc: plan.Process = .{};
    try f.decode(&.{ .{ .args, sh }, .{ .console_socket, &.{7} } }, &proc);
    try std.testing.expectEqual(@as(i32, 7), proc.console.?.socket);
    try std.testing.expectEqual(@as(u32, 1), proc.console.?.op_index);

    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .console_socket, &.{0xffffffff} } }, &proc));
}

test "decode applies the rules across ops" {
    var f = try Fixture.init();
    defer f.deinit();
    var proc: plan.Process = .{};
    // No args op.
    try std.testing.expectError(error.BadOp, f.decode(&.{.{ .umask, &.{0o22} }}, &proc));
    // A size without a terminal before it; then with one.
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .console_size, &.{ 24, 80 } }, .{ .console_socket, &.{5} } }, &proc));
    try f.decode(&.{ .{ .args, sh }, .{ .console_socket, &.{5} }, .{ .console_size, &.{ 24, 80 } } }, &proc);
    try std.testing.expectEqual(@as(u16, 80), proc.console.?.cols);
    // A mount that takes a source fd the parent never opens.
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .mount, &.{ 64, 4096, 0, 0, 0, 0, 2, 0x612f, 0, 0, 0, 0 } } }, &proc));
    // An id-mapped tree goes to a mount that moves a tree, a plain source to a bind, one for one.
    const idmap = .{ .idmap_source, &[_]u32{ 1, 0, 2, 0x732f, 5, 0x20312030, 0x31, 5, 0x20312030, 0x31 } };
    const plain = .{ .mount_source, &[_]u32{ 2, 0x732f } };
    const bind = .{ .mount, &[_]u32{ 1 | 64, 4096, 0, 0, 0, 0, 2, 0x612f, 0, 0, 0, 0 } };
    const move = .{ .mount, &[_]u32{ 1 | 64 | 256, 4096, 0, 0, 0, 0, 2, 0x612f, 0, 0, 0, 0 } };
    try f.decode(&.{ .{ .args, sh }, idmap, plain, move, bind }, &proc);
    try std.testing.expectEqual(@as(usize, 2), proc.mount_sources);
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, idmap, bind }, &proc));
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, plain, move }, &proc));
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, idmap, plain, bind, move }, &proc));
    // A tree is moved onto a target in the root only; an idmap source needs its maps.
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, idmap, .{ .mount, &[_]u32{ 64 | 256, 4096, 0, 0, 0, 0, 2, 0x612f, 0, 0, 0, 0 } } }, &proc));
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .idmap_source, &[_]u32{ 0, 0, 2, 0x732f, 0, 0, 5, 0x20312030, 0x31 } }, move }, &proc));
    // A listener flag without the listener op.
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .seccomp, &.{ 8, 1, 6, 0x7fff0000 } } }, &proc));
    // Two pauses for hooks.
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .hooks_pause, &.{ 3, 4 } }, .{ .hooks_pause, &.{ 3, 4 } } }, &proc));
    // A time namespace made and joined, made twice, or asked of clone.
    const join_time = [_]u32{ 0x80, 0, 2, 0x782f };
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .time_ns, &.{ 0, 0 } }, .{ .join_ns, &join_time } }, &proc));
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .time_ns, &.{ 0, 0 } }, .{ .time_ns, &.{ 0, 0 } } }, &proc));
    try std.testing.expectError(error.BadOp, f.decode(&.{ .{ .args, sh }, .{ .clone_flags, &.{ 0x80, 0 } } }, &proc));
}

test "decode takes a new time namespace with its offsets, or a joined one" {
    var f = try Fixture.init();
    defer f.deinit();
    var proc: plan.Process = .{};
    // "boottime 1 0" (12 bytes).
    try f.decode(&.{ .{ .args, sh }, .{ .time_ns, &.{ 12, 0x746f6f62, 0x656d6974, 0x30203120, 0 } } }, &proc);
    try std.testing.expectEqualStrings("boottime 1 0", proc.new_time.?.offsets);
    try std.testing.expect(!proc.joins_time and proc.joins == 0);
    proc = .{};
    try f.decode(&.{ .{ .args, sh }, .{ .join_ns, &.{ 0x80, 0, 2, 0x782f } } }, &proc);
    try std.testing.expect(proc.joins_time and proc.new_time == null);
}

test "decode gathers the process ops; the last of one kind wins" {
    var f = try Fixture.init();
    defer f.deinit();
    var proc: plan.Process = .{};
    try f.decode(&.{
        .{ .args, sh },
        .{ .user, &.{ 1000, 100, 2, 10, 20 } },
        .{ .fds, &.{ 1, 9 } },
        .{ .join_ns, &.{ 0x10000000, 0, 2, 0x782f } },
        .{ .umask, &.{0o22} },
        .{ .umask, &.{0o77} },
    }, &proc);
    try std.testing.expectEqual(@as(?u32, 0o77), proc.umask);
    try std.testing.expectEqual(@as(u32, 1000), proc.user.?.uid);
    try std.testing.expectEqualSlices(u32, &.{ 10, 20 }, proc.groups[0..proc.group_count]);
    try std.testing.expectEqualSlices(i32, &.{9}, proc.fds[0..proc.fd_count]);
    try std.testing.expect(proc.joins == 1 and proc.joins_user);
    try std.testing.expect(proc.envp[0] == null);
}

test "decode marks a clone into a cgroup whose cgroup.procs is written too (the fallback)" {
    var f = try Fixture.init();
    defer f.deinit();
    var proc: plan.Process = .{};
    const into = .{ .clone_into_cgroup, &[_]u32{ 2, 0x632f } }; // "/c"
    const procs_c = .{ .cgroup_procs, &[_]u32{ 15, 0x632f632f, 0x756f7267, 0x72702e70, 0x0073636f } };
    const procs_d = .{ .cgroup_procs, &[_]u32{ 15, 0x632f642f, 0x756f7267, 0x72702e70, 0x0073636f } };
    try f.decode(&.{ .{ .args, sh }, into, procs_d, procs_c }, &proc);
    try std.testing.expectEqualStrings("/c", std.mem.span(proc.cgroup_path.?));
    try std.testing.expect(proc.placed_in_clone_dir);
    proc = .{};
    try f.decode(&.{ .{ .args, sh }, into }, &proc);
    try std.testing.expect(!proc.placed_in_clone_dir);
    proc = .{};
    try f.decode(&.{ .{ .args, sh }, into, procs_d }, &proc);
    try std.testing.expect(!proc.placed_in_clone_dir);
}
