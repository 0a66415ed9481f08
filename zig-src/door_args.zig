//! What the front door reads from its command line and environment before it decides
//! anything: the state root and the count of preserved fds, parsed as the CLI parses
//! them (src/cli/flags.ts: `-flag` or `--flag`, `=value` or the next argument).

const std = @import("std");

pub const default_root: [:0]const u8 = "/run/cell";

/// Preserved fds the door can carry with fds 0, 1, 2 in one frame.
pub const max_preserved = 250;

/// Global flags that take a value (src/cli/main.ts GLOBAL_FLAGS).
const valued_globals = [_][]const u8{ "root", "log", "log-format", "rootless", "criu" };

/// A flag's name and its `=value`, or null when `arg` is no flag.
const Flag = struct { name: []const u8, value: ?[:0]const u8 };

fn flagOf(arg: [:0]const u8) ?Flag {
    if (arg.len < 2 or arg[0] != '-' or std.mem.eql(u8, arg, "--")) return null;
    const body = arg[if (arg[1] == '-') 2 else 1.. :0];
    const eq = std.mem.indexOfScalar(u8, body, '=') orelse return .{ .name = body, .value = null };
    return .{ .name = body[0..eq], .value = body[eq + 1 .. :0] };
}

/// The value of the global `--root` (the last one among the flags before the command),
/// else the default. NUL-terminated: it is a suffix of an argument.
pub fn root(args: []const [*:0]const u8) [:0]const u8 {
    var found: [:0]const u8 = default_root;
    var i: usize = 0;
    while (i < args.len) : (i += 1) {
        const flag = flagOf(std.mem.span(args[i])) orelse break;
        const valued = for (valued_globals) |g| {
            if (std.mem.eql(u8, flag.name, g)) break true;
        } else false;
        if (!valued) continue;
        const value = flag.value orelse blk: {
            if (i + 1 >= args.len) break :blk null;
            i += 1;
            break :blk std.mem.span(args[i]);
        };
        if (std.mem.eql(u8, flag.name, "root")) found = value orelse return found;
    }
    return found;
}

/// `--preserve-fds N` anywhere before a `--` (the CLI moves flags before positionals):
/// N (the last one), 0 without the flag, null when N is no number or over `max_preserved`
/// (then the CLI itself must say what is wrong).
pub fn preservedFds(args: []const [*:0]const u8) ?u32 {
    var count: u32 = 0;
    var i: usize = 0;
    while (i < args.len) : (i += 1) {
        const arg = std.mem.span(args[i]);
        if (std.mem.eql(u8, arg, "--")) break;
        const flag = flagOf(arg) orelse continue;
        if (!std.mem.eql(u8, flag.name, "preserve-fds")) continue;
        const value = flag.value orelse blk: {
            if (i + 1 >= args.len) return null;
            i += 1;
            break :blk std.mem.span(args[i]);
        };
        count = std.fmt.parseInt(u32, value, 10) catch return null;
        if (count > max_preserved) return null;
    }
    return count;
}

/// The value of `NAME` in an environment block, or null.
pub fn getenv(environ: []const ?[*:0]const u8, name: []const u8) ?[:0]const u8 {
    for (environ) |entry| {
        const e = std.mem.span(entry.?);
        if (e.len > name.len and e[name.len] == '=' and std.mem.eql(u8, e[0..name.len], name)) return e[name.len + 1 .. :0];
    }
    return null;
}

test "root: the last --root among the global flags, in every spelling" {
    const t = std.testing;
    try t.expectEqualStrings("/run/cell", root(&.{ "run", "--root", "/x" }));
    try t.expectEqualStrings("/a", root(&.{ "--root", "/a", "state", "x" }));
    try t.expectEqualStrings("/b", root(&.{ "--log", "/l", "-root=/b", "--debug", "state" }));
    try t.expectEqualStrings("/c", root(&.{ "--root=/a", "--root", "/c", "list" }));
    // --log's value is not a flag even when it looks like one.
    try t.expectEqualStrings("/run/cell", root(&.{ "--log", "--root", "list" }));
    try t.expectEqualStrings("/run/cell", root(&.{"--root"}));
}

test "preservedFds: the last value before --; junk or too many is null" {
    const t = std.testing;
    try t.expectEqual(@as(?u32, 0), preservedFds(&.{ "run", "x" }));
    try t.expectEqual(@as(?u32, 3), preservedFds(&.{ "run", "--preserve-fds", "3", "x" }));
    try t.expectEqual(@as(?u32, 2), preservedFds(&.{ "exec", "x", "-preserve-fds=2", "sh" }));
    try t.expectEqual(@as(?u32, 0), preservedFds(&.{ "exec", "x", "--", "--preserve-fds=2" }));
    try t.expectEqual(@as(?u32, null), preservedFds(&.{ "run", "--preserve-fds=x" }));
    try t.expectEqual(@as(?u32, null), preservedFds(&.{ "run", "--preserve-fds=251" }));
    try t.expectEqual(@as(?u32, null), preservedFds(&.{ "run", "--preserve-fds" }));
}

test "getenv" {
    const env = [_:null]?[*:0]const u8{ "A=1", "CELL_PLANNER=off", "CELL=x" };
    try std.testing.expectEqualStrings("off", getenv(&env, "CELL_PLANNER").?);
    try std.testing.expectEqualStrings("x", getenv(&env, "CELL").?);
    try std.testing.expect(getenv(&env, "B") == null);
}
