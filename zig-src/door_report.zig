//! The front door's messages on stderr: one write each, no allocation.

const std = @import("std");
const sys = @import("sys.zig");

/// A short name for the errnos the door meets, else "errno N".
pub fn errnoText(buf: *[16]u8, errno: u16) []const u8 {
    return switch (errno) {
        sys.ENOENT => "ENOENT",
        sys.EACCES => "EACCES",
        sys.EPERM => "EPERM",
        sys.ENOMEM => "ENOMEM",
        sys.EPIPE => "EPIPE",
        sys.ECONNRESET => "ECONNRESET",
        sys.EMSGSIZE => "EMSGSIZE",
        sys.EPROTO => "EPROTO",
        sys.ENAMETOOLONG => "ENAMETOOLONG",
        sys.EBADF => "EBADF",
        sys.EINVAL => "EINVAL",
        8 => "ENOEXEC",
        else => std.fmt.bufPrint(buf, "errno {d}", .{errno}) catch unreachable,
    };
}

/// Writes "cell: <text>\n" to stderr.
pub fn say(text: []const u8) void {
    var buf: [1024]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, "cell: {s}\n", .{text}) catch blk: {
        @memcpy(buf[buf.len - 4 ..], "...\n");
        break :blk buf[0..];
    };
    _ = sys.write(2, line);
}

/// "cell: <what>: <errno>" and exit 1.
pub fn fail(what: []const u8, errno: u16) noreturn {
    var name: [16]u8 = undefined;
    var buf: [512]u8 = undefined;
    say(std.fmt.bufPrint(&buf, "{s}: {s}", .{ what, errnoText(&name, errno) }) catch what);
    sys.exitGroup(1);
}

/// "cell: <what> <path>: <errno>" and exit 1.
pub fn failPath(what: []const u8, path: []const u8, errno: u16) noreturn {
    var name: [16]u8 = undefined;
    var buf: [1024]u8 = undefined;
    say(std.fmt.bufPrint(&buf, "{s} {s}: {s}", .{ what, path, errnoText(&name, errno) }) catch what);
    sys.exitGroup(1);
}
