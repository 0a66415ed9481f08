//! The front door's ways out to Deno: the install's files beside the executable, running
//! this call in-process (exec `cell-deno`), and starting a planner for next time.

const std = @import("std");
const sys = @import("sys.zig");
const report = @import("door_report.zig");

pub const max_path = 4096;

/// `<exe dir>/../lib/cell/cell-deno` and the code hash in `cell.hash` beside it.
pub const Install = struct {
    deno_buf: [max_path]u8 = undefined,
    deno_len: usize = 0,
    hash_buf: [128]u8 = undefined,
    hash_len: usize = 0,

    pub fn deno(self: *const Install) [:0]const u8 {
        return self.deno_buf[0..self.deno_len :0];
    }

    /// The code hash (one line of hex), empty when the file is missing or unreadable:
    /// a planner then answers "stale" and the call runs in-process.
    pub fn hash(self: *const Install) []const u8 {
        return self.hash_buf[0..self.hash_len];
    }

    /// Finds the files from /proc/self/exe; null, or the errno of the readlink.
    pub fn find(self: *Install) ?u16 {
        var exe: [max_path]u8 = undefined;
        const rc = sys.readlinkat(sys.AT_FDCWD, "/proc/self/exe", &exe);
        if (sys.errnoOf(rc)) |e| return e;
        if (rc >= exe.len) return sys.ENAMETOOLONG;
        const dir = exe[0 .. std.mem.lastIndexOfScalar(u8, exe[0..rc], '/') orelse 0];
        var hash_path: [max_path]u8 = undefined;
        const deno_name = join(&self.deno_buf, dir, "/../lib/cell/cell-deno") orelse return sys.ENAMETOOLONG;
        self.deno_len = deno_name.len;
        self.readHash(join(&hash_path, dir, "/../lib/cell/cell.hash") orelse return sys.ENAMETOOLONG);
        return null;
    }

    fn readHash(self: *Install, path: [:0]const u8) void {
        const rc = sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_CLOEXEC, 0);
        if (sys.errnoOf(rc) != null) return;
        const fd: sys.fd_t = @intCast(rc);
        defer _ = sys.close(fd);
        const n = sys.read(fd, &self.hash_buf);
        if (sys.errnoOf(n) != null) return;
        const text = std.mem.trim(u8, self.hash_buf[0..n], " \t\r\n");
        std.mem.copyForwards(u8, &self.hash_buf, text);
        self.hash_len = text.len;
    }
};

/// `a ++ b` with a NUL in `buf`, or null when it does not fit.
fn join(buf: []u8, a: []const u8, b: []const u8) ?[:0]const u8 {
    if (a.len + b.len + 1 > buf.len) return null;
    @memcpy(buf[0..a.len], a);
    @memcpy(buf[a.len..][0..b.len], b);
    buf[a.len + b.len] = 0;
    return buf[0 .. a.len + b.len :0];
}

const empty_mask: u64 = 0;

/// Runs this call through the TypeScript CLI: exec `cell-deno` with the door's
/// arguments and environment (and CELL_ARGV0, so the help names the program as it was
/// run). Signals are unblocked first. Returns only to exit 1 when the exec fails.
pub fn inProcess(install: *const Install, argv: []const [*:0]const u8, environ: [:null]const ?[*:0]const u8) noreturn {
    std.debug.assert(argv.len >= 1);
    _ = sys.sigprocmask(sys.SIG_SETMASK, &empty_mask, null);
    const gpa = std.heap.page_allocator;
    const args = gpa.allocSentinel(?[*:0]const u8, argv.len, null) catch report.fail("cannot run cell-deno", sys.ENOMEM);
    args[0] = install.deno().ptr;
    for (argv[1..], 1..) |arg, i| args[i] = arg;
    const has_argv0 = @import("door_args.zig").getenv(environ, "CELL_ARGV0") != null;
    const env = gpa.allocSentinel(?[*:0]const u8, environ.len + @intFromBool(!has_argv0), null) catch report.fail("cannot run cell-deno", sys.ENOMEM);
    @memcpy(env[0..environ.len], environ);
    if (!has_argv0) {
        const prefix = "CELL_ARGV0=";
        const name = std.mem.span(argv[0]);
        const entry = gpa.allocSentinel(u8, prefix.len + name.len, 0) catch report.fail("cannot run cell-deno", sys.ENOMEM);
        @memcpy(entry[0..prefix.len], prefix);
        @memcpy(entry[prefix.len..], name);
        env[environ.len] = entry.ptr;
    }
    const rc = sys.execve(install.deno().ptr, args.ptr, env.ptr);
    report.failPath("cannot run", install.deno(), sys.errnoOf(rc) orelse sys.EIO);
}

/// Starts a planner for this root, detached: fork; the child starts a session and forks
/// again and exits; the grandchild (reparented, in no session of ours) gets an empty
/// signal mask, /dev/null as 0, 1, 2, no other fd, and execs `cell-deno --root ROOT
/// planner`. Waits for the first child only. Best effort: a failure costs only speed.
pub fn startPlanner(install: *const Install, root: [:0]const u8, environ: [:null]const ?[*:0]const u8) void {
    // Everything the children use is ready before the fork: they allocate nothing.
    const args = [_:null]?[*:0]const u8{ install.deno().ptr, "--root", root.ptr, "planner" };
    const rc = sys.clone(sys.SIGCHLD, null);
    if (sys.errnoOf(rc) != null) return;
    if (rc == 0) detach(install.deno().ptr, &args, environ.ptr);
    var status: i32 = 0;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        if (sys.errnoOf(sys.wait4(@intCast(rc), &status, 0)) != sys.EINTR) break;
    }
}

fn detach(path: [*:0]const u8, args: [*:null]const ?[*:0]const u8, env: [*:null]const ?[*:0]const u8) noreturn {
    _ = sys.setsid();
    const rc = sys.clone(sys.SIGCHLD, null);
    if (rc != 0) sys.exitGroup(0);
    _ = sys.sigprocmask(sys.SIG_SETMASK, &empty_mask, null);
    const null_rc = sys.openat(sys.AT_FDCWD, "/dev/null", sys.O_RDWR | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(null_rc) != null) sys.exitGroup(127);
    for (0..3) |fd| {
        if (fd == null_rc) continue;
        if (sys.errnoOf(sys.dup3(@intCast(null_rc), @intCast(fd), 0)) != null) sys.exitGroup(127);
    }
    // The caller's preserved fds and anything else inherited stay with the caller.
    _ = sys.closeRange(3, std.math.maxInt(u32), 0);
    _ = sys.execve(path, args, env);
    sys.exitGroup(127);
}
