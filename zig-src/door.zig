//! `cell`, the front door (docs/planner.md): a small static program that hands the call
//! to the state root's resident planner over its socket and does the clone itself with
//! libcell's spawn code, so the container is the caller's child. When no planner answers
//! it starts one for next time and runs this call in-process, through `cell-deno`. All
//! policy stays in TypeScript; the door only carries fds, spawns, waits and exits.

const std = @import("std");
const sys = @import("sys.zig");
const frame = @import("frame.zig");
const unix_socket = @import("unix_socket.zig");
const door_args = @import("door_args.zig");
const launch = @import("door_launch.zig");
const report = @import("door_report.zig");
const session = @import("door_session.zig");

pub const protocol = "cell-planner/1";

pub fn main(init: std.process.Init.Minimal) u8 {
    const argv = init.args.vector;
    const environ = init.environ.block.slice;
    std.debug.assert(argv.len >= 1);
    const args = argv[1..];
    var install: launch.Install = .{};
    if (install.find()) |e| report.failPath("cannot find the install beside", "/proc/self/exe", e);

    const root = door_args.root(args);
    const preserved = door_args.preservedFds(args);
    if (sys.geteuid() != 0 or preserved == null or planner_off(environ, root))
        launch.inProcess(&install, argv, environ);
    openStdio();
    const mask = session.forwardedMask();
    _ = sys.sigprocmask(sys.SIG_BLOCK, &mask, null);

    var path_buf: [launch.max_path]u8 = undefined;
    const socket_path = std.fmt.bufPrintSentinel(&path_buf, "{s}/planner.sock", .{root}, 0) catch
        launch.inProcess(&install, argv, environ);
    const connected = unix_socket.connect(socket_path);
    if (sys.errnoOf(connected)) |e| {
        if (e == sys.ENOENT or e == sys.ECONNREFUSED) launch.startPlanner(&install, root, environ);
        launch.inProcess(&install, argv, environ);
    }
    const buf = mapBuffer() orelse launch.inProcess(&install, argv, environ);
    var s = session.Session{ .socket = @intCast(connected), .buf = buf };
    if (!hello(&s, &install, argv, environ, preserved.?)) launch.inProcess(&install, argv, environ);
    switch (s.run()) {
        .exit => |code| return code,
        .in_process => launch.inProcess(&install, argv, environ),
        .stale => {
            launch.startPlanner(&install, root, environ);
            launch.inProcess(&install, argv, environ);
        },
    }
}

/// Whether this call skips the planner: turned off by the environment or the state root,
/// or fault injection (an in-process test aid).
fn planner_off(environ: [:null]const ?[*:0]const u8, root: [:0]const u8) bool {
    if (door_args.getenv(environ, "CELL_FAULT") != null) return true;
    if (door_args.getenv(environ, "CELL_PLANNER")) |v| {
        if (std.mem.eql(u8, v, "off")) return true;
    }
    var path_buf: [launch.max_path]u8 = undefined;
    const off = std.fmt.bufPrintSentinel(&path_buf, "{s}/planner.off", .{root}, 0) catch return true;
    return sys.errnoOf(sys.faccessat(sys.AT_FDCWD, off, 0)) == null;
}

/// Fds 0, 1, 2 that are closed become /dev/null, so no socket or child fd lands there.
fn openStdio() void {
    for (0..3) |fd| {
        if (sys.errnoOf(sys.fcntl(@intCast(fd), sys.F_GETFD, 0)) != sys.EBADF) continue;
        const rc = sys.openat(sys.AT_FDCWD, "/dev/null", sys.O_RDWR, 0);
        if (sys.errnoOf(rc)) |e| report.failPath("cannot open", "/dev/null", e);
        // The lowest free number: this one, as the lower ones are open.
        std.debug.assert(rc == fd);
    }
}

/// The body buffer, mapped (pages come as they are touched).
fn mapBuffer() ?[]u8 {
    const rc = sys.mmap(frame.max_body, sys.PROT_READ | sys.PROT_WRITE, sys.MAP_PRIVATE | sys.MAP_ANONYMOUS);
    if (sys.errnoOf(rc) != null) return null;
    return @as([*]u8, @ptrFromInt(rc))[0..frame.max_body];
}

/// HELLO: the protocol, code hash and cwd, the arguments, the environment, argv[0];
/// fds 0, 1, 2 and the preserved ones. False when it could not be sent.
fn hello(s: *session.Session, install: *const launch.Install, argv: []const [*:0]const u8, environ: [:null]const ?[*:0]const u8, preserved: u32) bool {
    std.debug.assert(preserved <= door_args.max_preserved);
    var cwd_buf: [launch.max_path]u8 = undefined;
    const cwd_rc = sys.getcwd(&cwd_buf);
    // getcwd's length counts the NUL; a deleted cwd gives an error: send none.
    const cwd = if (sys.errnoOf(cwd_rc) == null and cwd_rc > 0) cwd_buf[0 .. cwd_rc - 1] else "";
    var w = frame.Writer{ .buf = s.buf };
    w.strlist(&.{ protocol, install.hash(), cwd });
    w.strlistZ(@ptrCast(argv[1..]));
    w.strlistZ(environ);
    w.strlist(&.{std.mem.span(argv[0])});
    if (w.overflowed()) return false;
    var fds: [3 + door_args.max_preserved]sys.fd_t = undefined;
    for (fds[0 .. 3 + preserved], 0..) |*fd, i| fd.* = @intCast(i);
    return frame.send(s.socket, session.Kind.hello, w.written(), fds[0 .. 3 + preserved]) == null;
}

test {
    _ = door_args;
    _ = session;
}
