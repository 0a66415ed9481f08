//! Native unit tests: plan decoding and the small pure helpers.
const std = @import("std");
const abi = @import("abi.zig");
const plan = @import("plan.zig");
const sys = @import("sys.zig");

test {
    _ = @import("id_map_helper.zig");
    _ = @import("console.zig");
    _ = @import("mount_sources.zig");
    _ = @import("hooks.zig");
    _ = @import("proc_fs.zig");
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

test "fdPath and makedev" {
    var buf: [32]u8 = undefined;
    try std.testing.expectEqualStrings("/proc/self/fd/17", std.mem.span(sys.fdPath(&buf, 17)));
    try std.testing.expectEqual(@as(u32, 0x103), sys.makedev(1, 3));
    try std.testing.expectEqual(@as(u32, 0x88), sys.makedev(0, 0x88));
}

test "errnoOf" {
    try std.testing.expectEqual(@as(?u16, 2), sys.errnoOf(@bitCast(@as(isize, -2))));
    try std.testing.expectEqual(@as(?u16, null), sys.errnoOf(5));
}

/// A plan of one args op ("sh") and one console_socket op with `fd`.
fn consolePlan(gpa: std.mem.Allocator, buf: *std.ArrayList(u8), fd: i32) !void {
    try put32(buf, gpa, abi.plan_magic);
    try put32(buf, gpa, abi.version);
    try put32(buf, gpa, 0); // total, patched below
    try put32(buf, gpa, 2);
    try put32(buf, gpa, @backingInt(abi.Op.args));
    try put32(buf, gpa, 20);
    try put32(buf, gpa, 1);
    try putStr(buf, gpa, "sh");
    try put32(buf, gpa, @backingInt(abi.Op.console_socket));
    try put32(buf, gpa, 12);
    try put32(buf, gpa, @bitCast(fd));
    std.mem.writeInt(u32, buf.items[8..12], @intCast(buf.items.len), .little);
}

test "decode reads the console socket and its op index, and refuses a negative fd" {
    const gpa = std.testing.allocator;
    const ptrs = try gpa.alloc(?[*:0]const u8, plan.max_args + plan.max_env + 2);
    defer gpa.free(ptrs);
    var buf: std.ArrayList(u8) = .empty;
    defer buf.deinit(gpa);
    try consolePlan(gpa, &buf, 7);
    var proc: plan.Process = .{};
    try plan.decode(buf.items, &proc, ptrs);
    try std.testing.expectEqual(@as(i32, 7), proc.console.?.socket);
    try std.testing.expectEqual(@as(u32, 1), proc.console.?.op_index);

    buf.clearRetainingCapacity();
    try consolePlan(gpa, &buf, -1);
    proc = .{};
    try std.testing.expectError(error.BadOp, plan.decode(buf.items, &proc, ptrs));
}
