//! Writing a user namespace's id maps through a setuid helper (newuidmap/newgidmap)
//! when the caller is not root and maps more than its own id. Run by the parent while
//! the child waits for go, so the child continues only once the maps are in place.

const std = @import("std");
const sys = @import("sys.zig");

/// At most this many words of ranges (3 per range).
pub const max_words = 3 * 64;
const max_bytes = 4096;

pub const Error = error{ TooLong, TooMany, Spawn, Failed };

/// Runs `helper <pid> <ranges...>` and waits for it. `ranges` is the space-separated
/// list "inside outside count ...". Every buffer is on this stack: nothing allocates
/// between the fork and the exec.
pub fn run(helper: [:0]const u8, pid: []const u8, ranges: []const u8, status_out: *i32) Error!void {
    var text: [max_bytes]u8 = undefined;
    var argv: [max_words + 3]?[*:0]const u8 = undefined;
    if (pid.len + ranges.len + 2 > text.len) return error.TooLong;
    @memcpy(text[0..pid.len], pid);
    text[pid.len] = 0;
    argv[0] = helper.ptr;
    argv[1] = @ptrCast(&text[0]);
    var argc: usize = 2;
    var pos: usize = pid.len + 1;
    var words = std.mem.tokenizeScalar(u8, ranges, ' ');
    while (words.next()) |word| {
        if (argc >= max_words + 2) return error.TooMany;
        @memcpy(text[pos..][0..word.len], word);
        text[pos + word.len] = 0;
        argv[argc] = @ptrCast(&text[pos]);
        argc += 1;
        pos += word.len + 1;
    }
    argv[argc] = null;
    const envp = [_:null]?[*:0]const u8{};

    const rc = sys.clone(sys.SIGCHLD, null);
    if (sys.errnoOf(rc) != null) return error.Spawn;
    if (rc == 0) {
        // The child: an empty signal mask, then the helper; nothing else.
        const none: u64 = 0;
        _ = sys.sigprocmask(sys.SIG_SETMASK, &none, null);
        _ = sys.execve(helper.ptr, @ptrCast(&argv), &envp);
        sys.exitGroup(127);
    }
    var status: i32 = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const w = sys.wait4(@intCast(rc), &status, 0);
        if (sys.errnoOf(w)) |e| {
            if (e == sys.EINTR) continue;
            return error.Failed;
        }
        break;
    }
    status_out.* = status;
    if (status != 0) return error.Failed;
}

test "a helper that succeeds and one that fails" {
    var status: i32 = -1;
    try run("/bin/true", "1", "0 0 1", &status);
    try std.testing.expectEqual(@as(i32, 0), status);
    try std.testing.expectError(error.Failed, run("/bin/false", "1", "0 0 1", &status));
    try std.testing.expectError(error.Failed, run("/nonexistent/newuidmap", "1", "", &status));
    try std.testing.expect(status != 0);
}
