//! The container process between clone and execve. It is a copy of one thread of a
//! multi-threaded process: raw syscalls and the pre-decoded plan only, no allocation,
//! and every failure becomes a record on the report pipe followed by exit.

const std = @import("std");
const sys = @import("sys.zig");
const plan = @import("plan.zig");
const wire = @import("wire.zig");
const payload = @import("payload.zig");
const report = @import("report.zig");
const resolve = @import("resolve.zig");
const mount_ops = @import("mount_ops.zig");
const copyup = @import("copyup.zig");
const identity = @import("identity.zig");
const console = @import("console.zig");
const mount_sources = @import("mount_sources.zig");
const seccomp_notify = @import("seccomp_notify.zig");
const hooks = @import("hooks.zig");
const proc_fs = @import("proc_fs.zig");

/// RLIM_NLIMITS: one op per resource at most counts, a plan may repeat one.
const max_rlimits = 32;

const Rlimit = struct { rlimit: payload.Rlimit, op_index: i32 };

pub const Context = struct {
    buf: []const u8,
    proc: *const plan.Process,
    report_fd: sys.fd_t,
    sync_fd: sys.fd_t,
    root_fd: sys.fd_t = -1,
    fifo_fd: sys.fd_t = -1,
    null_fd: sys.fd_t = -1,
    /// Our private procfs (proc_fs.zig), or -1 until first used.
    proc_fd: sys.fd_t = -1,
    /// The cgroup v2 directory to clone into (CLONE_INTO_CGROUP), or -1.
    cgroup_fd: sys.fd_t = -1,
    /// The slave of the process's terminal, which becomes 0, 1 and 2; or -1.
    console_fd: sys.fd_t = -1,
    op_index: i32 = -1,
    /// Our pid in the host's pid namespace, from the go message.
    host_pid: i32 = 0,
    /// The seccomp agent's socket (kept across placeFds until the listener is sent), or -1.
    listener_socket: sys.fd_t = -1,
    /// Where a failed startContainer hook's record goes (our copy), or -1.
    hook_report_fd: sys.fd_t = -1,
    /// The parent's ends of the pipes (and the mount source socket), closed first thing
    /// in the child.
    parent_fds: [3]sys.fd_t = .{ -1, -1, -1 },
    /// Our end of the socket the parent sends bind sources through, or -1.
    source_socket: sys.fd_t = -1,
    /// The bind sources the parent opened, in plan order; `next_source` is the next to use.
    source_fds: [mount_sources.max]sys.fd_t = undefined,
    next_source: usize = 0,
    /// Stacks for children cloned with CLONE_VM (null: fork instead).
    stacks: ?[]u8 = null,
    /// A non-root parent writes our id maps (itself or through newuidmap), which needs
    /// /proc/<pid> to be ours, so we stay dumpable until go. Fork mode only.
    dumpable_until_go: bool = false,
    /// The container's rlimits, applied once our own fd work is done (a RLIMIT_NOFILE
    /// below the fds we hold would make it fail with EMFILE).
    rlimits: [max_rlimits]Rlimit = undefined,
    rlimit_count: usize = 0,

    /// First steps of a new child: drop the parent's pipe ends, scrub inherited state.
    pub fn enterChild(self: *const Context) void {
        for (self.parent_fds) |fd| {
            if (fd >= 0) _ = sys.close(fd);
        }
        scrub();
        // A forked child owns its mm; a CLONE_VM child's mm is already non-dumpable
        // (spawn.zig NonDumpable), and setting it here would change the parent too.
        if (self.stacks == null and !self.dumpable_until_go) _ = sys.prctl(sys.PR_SET_DUMPABLE, 0, 0);
    }

    /// Reports a failed syscall to the parent and exits.
    pub fn fail(self: *const Context, syscall: []const u8, errno: u16, path: []const u8) noreturn {
        const rec = report.make(.err, errno, 0, self.op_index, syscall, path);
        report.send(self.report_fd, &rec);
        sys.exitGroup(1);
    }

    /// Exits through `fail` when rc is an error.
    pub fn check(self: *const Context, rc: usize, syscall: []const u8, path: []const u8) usize {
        if (sys.errnoOf(rc)) |e| self.fail(syscall, e, path);
        return rc;
    }
};

/// Resets what a copy of the runtime must not pass on: signal handlers and mask.
pub fn scrub() void {
    var sig: u32 = 1;
    while (sig <= sys.NSIG) : (sig += 1) {
        if (sig == sys.SIGKILL or sig == sys.SIGSTOP) continue;
        _ = sys.sigactionDefault(sig);
    }
    const empty: u64 = 0;
    _ = sys.sigprocmask(sys.SIG_SETMASK, &empty, null);
}

/// Blocks until the parent has placed us (cgroups, id maps) and says go: "g" and our pid
/// in the host's pid namespace (u32 little-endian), which hook and seccomp agent states
/// carry. The sync pipe stays open when the plan pauses for hooks later.
pub fn awaitGo(ctx: *Context) void {
    var msg: [5]u8 = undefined;
    readSync(ctx, &msg);
    if (msg[0] != 'g') sys.exitGroup(1);
    ctx.host_pid = std.mem.readInt(i32, msg[1..5], .little);
    std.debug.assert(ctx.host_pid > 0);
    if (!ctx.proc.hooks_pause) {
        _ = sys.close(ctx.sync_fd);
        ctx.sync_fd = -1;
    }
}

/// A bit mask of CPU or node numbers, on the stack (no allocation after the fork).
fn bitMask(list: payload.Ints(u32, payload.max_cpus)) [payload.max_cpus / 8]u8 {
    var mask: [payload.max_cpus / 8]u8 = @splat(0);
    for (0..list.len()) |i| {
        const n = list.get(i);
        std.debug.assert(n < payload.max_cpus);
        mask[n / 8] |= @as(u8, 1) << @intCast(n % 8);
    }
    return mask;
}

/// sched_setaffinity of this process to `cpus`.
fn setAffinity(ctx: *const Context, cpus: payload.Ints(u32, payload.max_cpus), what: []const u8) void {
    const mask = bitMask(cpus);
    _ = ctx.check(sys.schedSetaffinity(&mask), "sched_setaffinity", what);
}

/// Reads exactly buf.len bytes from the sync pipe; exits when the parent went away.
pub fn readSync(ctx: *const Context, buf: []u8) void {
    var got: usize = 0;
    var tries: u32 = 0;
    while (got < buf.len and tries < 64) : (tries += 1) {
        const rc = sys.read(ctx.sync_fd, buf[got..]);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            ctx.fail("read", e, "sync pipe");
        }
        if (rc == 0) sys.exitGroup(1); // the parent went away
        got += rc;
    }
    if (got != buf.len) sys.exitGroup(1);
}

/// The container's process after clone: setup in plan order, then the exec.
pub fn run(ctx: *Context) noreturn {
    // execCPUAffinity.initial: the CPUs we run on until the parent has placed us.
    if (ctx.proc.affinity_initial) |cpus| setAffinity(ctx, cpus, "execCPUAffinity.initial");
    awaitGo(ctx);
    if (ctx.source_socket >= 0) {
        mount_sources.receive(ctx, ctx.source_socket, ctx.source_fds[0..ctx.proc.mount_sources]);
        _ = sys.close(ctx.source_socket);
        ctx.source_socket = -1;
    }
    if (ctx.dumpable_until_go) {
        std.debug.assert(ctx.stacks == null);
        _ = sys.prctl(sys.PR_SET_DUMPABLE, 0, 0);
    }
    _ = sys.umask(0); // nodes and dirs get exactly the modes the plan asks for
    runSetup(ctx);
    ctx.op_index = -1;
    // Every bind source the parent sent went to its mount op.
    std.debug.assert(ctx.next_source == ctx.proc.mount_sources);
    finish(ctx);
}

/// The setup ops, in plan order. decode accepted the plan before the fork, so a plan
/// error here means our memory is not what it was: report it rather than go on.
fn runSetup(ctx: *Context) void {
    var it = wire.Iterator.init(ctx.buf) catch ctx.fail("plan", sys.EINVAL, "");
    std.debug.assert(it.count <= wire.max_ops);
    while (it.next() catch ctx.fail("plan", sys.EINVAL, "")) |op| {
        const p = payload.read(op.code, op.body) catch ctx.fail("plan", sys.EINVAL, "");
        ctx.op_index = @intCast(op.index);
        runOp(ctx, p);
        // Helpers that report for another op put the index back; sources go in order.
        std.debug.assert(ctx.op_index == op.index);
        std.debug.assert(ctx.next_source <= ctx.proc.mount_sources);
    }
}

fn runOp(ctx: *Context, op: payload.Payload) void {
    std.debug.assert(ctx.op_index >= 0);
    switch (op) {
        .unshare => |flags| _ = ctx.check(sys.unshare(flags), "unshare", ""),
        .mount => |m| mount_ops.mount(ctx, m),
        .mount_setattr => |m| mount_ops.setattr(ctx, m),
        .rootfs => |path| {
            const rc = sys.openat(sys.AT_FDCWD, path, sys.O_PATH | sys.O_DIRECTORY | sys.O_CLOEXEC, 0);
            ctx.root_fd = @intCast(ctx.check(rc, "open", path));
        },
        .mknod => |node| mount_ops.mknod(ctx, node),
        .symlink => |link| mount_ops.symlink(ctx, link),
        .mkdir => |dir| mount_ops.mkdir(ctx, dir),
        .tmpfs_copyup => |copy| copyup.tmpfsCopyup(ctx, copy),
        .pivot_root => mount_ops.pivotRoot(ctx),
        .move_root => mount_ops.moveRoot(ctx),
        .hide_mount => |path| mount_ops.hideMount(ctx, path),
        .root_readonly => |recursive| mount_ops.rootReadonly(ctx, recursive != 0),
        .mask_path => |path| mount_ops.maskPath(ctx, path),
        .readonly_path => |path| mount_ops.readonlyPath(ctx, path),
        .sethostname => |name| _ = ctx.check(sys.sethostname(name), "sethostname", name),
        .setdomainname => |name| _ = ctx.check(sys.setdomainname(name), "setdomainname", name),
        // Below /proc (sysctls), through our own procfs: never a file mounted over it.
        .write_file => |w| proc_fs.write(ctx, w.path, w.content),
        .rlimit => |limit| keepRlimit(ctx, limit),
        .loopback_up => loopbackUp(ctx),
        .become_root => {
            // Until now our ids are the host's, unmapped in the new user namespace.
            _ = ctx.check(sys.setresgid(0), "setresgid", "0");
            _ = ctx.check(sys.setresuid(0), "setresuid", "0");
        },
        .chroot => |path| {
            _ = ctx.check(sys.chroot(path), "chroot", path);
            _ = ctx.check(sys.chdir("/"), "chdir", "/");
        },
        .hooks_pause => pauseForHooks(ctx),
        // startContainer hooks run at the end (finish); createContainer ones here, in the
        // container's namespaces, before the root change.
        .hook => |hook| if (hook.kind == .create_container) runCreateHook(ctx, &hook),
        .hook_report => |fd| ctx.hook_report_fd = keepFd(ctx, fd, "hook report fifo"),
        // The fifo opened read-write by the parent: no path lookup from in here (the
        // state directory is private to the host's root), and no /proc needed.
        .exec_fifo => |fd| ctx.fifo_fd = keepFd(ctx, fd, "exec fifo"),
        // Read by the parent before the clone or while we waited, or used by `finish`.
        .clone_flags,
        .join_ns,
        .time_ns,
        .proc_write,
        .cgroup_procs,
        .await_fd,
        .clone_into_cgroup,
        .id_map_helper,
        .mount_source,
        .idmap_source,
        .args,
        .env,
        .cwd,
        .user,
        .umask,
        .stdio,
        .fds,
        .caps,
        .no_new_privs,
        .seccomp,
        .no_setgroups,
        .exec_label,
        .console_socket,
        .console_size,
        .own_memory,
        .seccomp_listener,
        .io_priority,
        .personality,
        .scheduler,
        .cpu_affinity,
        .memory_policy,
        => {},
    }
}

/// A copy of one of the caller's fds, close-on-exec, above stdio.
fn keepFd(ctx: *const Context, fd: sys.fd_t, what: []const u8) sys.fd_t {
    return @intCast(ctx.check(sys.fcntl(fd, sys.F_DUPFD_CLOEXEC, 3), "fcntl", what));
}

/// Rlimits wait for `finish` (applyRlimits).
fn keepRlimit(ctx: *Context, limit: payload.Rlimit) void {
    if (ctx.rlimit_count == max_rlimits) ctx.fail("prlimit", sys.E2BIG, "too many rlimits");
    ctx.rlimits[ctx.rlimit_count] = .{ .rlimit = limit, .op_index = ctx.op_index };
    ctx.rlimit_count += 1;
}

/// A createContainer hook; its failure ends the init with the hook's record.
fn runCreateHook(ctx: *const Context, hook: *const payload.Hook) void {
    std.debug.assert(hook.kind == .create_container);
    const outcome = hooks.run(hook, ctx.host_pid, ctx.root_fd);
    if (outcome.ok()) return;
    const rec = outcome.record(ctx.op_index);
    report.send(ctx.report_fd, &rec);
    sys.exitGroup(1);
}

fn loopbackUp(ctx: *const Context) void {
    const fd: sys.fd_t = @intCast(ctx.check(sys.socket(sys.AF_INET, sys.SOCK_DGRAM | sys.O_CLOEXEC, 0), "socket", "lo"));
    var ifr = sys.Ifreq{ .name = std.mem.zeroes([16]u8), .flags = 0 };
    @memcpy(ifr.name[0..2], "lo");
    _ = ctx.check(sys.ioctl(fd, sys.SIOCGIFFLAGS, @intFromPtr(&ifr)), "ioctl", "lo");
    ifr.flags |= sys.IFF_UP;
    _ = ctx.check(sys.ioctl(fd, sys.SIOCSIFFLAGS, @intFromPtr(&ifr)), "ioctl", "lo");
    _ = sys.close(fd);
}

/// stdio, fds, identity, cwd, then the exec (after the fifo in create mode).
fn finish(ctx: *Context) noreturn {
    std.debug.assert(ctx.op_index == -1);
    const proc = ctx.proc;
    // After every setup op, so the pty is the container's (its /dev/pts).
    if (proc.console) |c| ctx.console_fd = console.setup(ctx, c);
    proc_fs.release(ctx);
    placeFds(ctx);
    // The container's limits come after our own fd work, and before the uid switch (a
    // raised hard limit needs CAP_SYS_RESOURCE).
    applyRlimits(ctx);
    // Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter: load it
    // while we still have it, after checking the cwd (the filter may forbid getcwd).
    // With no_new_privs it goes last, just before the exec.
    const early_filter = !proc.no_new_privs and proc.seccomp != null;
    // The cwd is entered before the uid switch, as runc does, so a directory only root
    // may enter works; one the process's user may enter but we may not (a user
    // namespace's root on a host directory) is entered again after the switch.
    const cwd_later = if (proc.cwd) |cwd| !tryCwd(ctx, cwd) else false;
    // Before any filter: it may forbid what our own procfs takes (fsopen, openat2).
    if (proc.exec_label) |label| setExecLabel(ctx, label);
    if (early_filter) loadSeccomp(ctx);
    // While the capabilities are still ours: a real-time class needs CAP_SYS_ADMIN.
    if (proc.io_priority) |prio| {
        _ = ctx.check(sys.ioprioSet(prio.class, prio.level), "ioprio_set", "process.ioPriority");
    }
    // After the cgroup placement (a cpuset's attach resets the CPUs), before the exec.
    if (proc.affinity_final) |cpus| setAffinity(ctx, cpus, "execCPUAffinity.final");
    // Also before the switch: a real-time policy needs CAP_SYS_NICE.
    if (proc.scheduler) |sched| {
        var attr = sys.SchedAttr{
            .sched_policy = sched.policy,
            .sched_flags = sched.flags,
            .sched_nice = sched.nice,
            .sched_priority = sched.priority,
            .sched_runtime = sched.runtime,
            .sched_deadline = sched.deadline,
            .sched_period = sched.period,
        };
        _ = ctx.check(sys.schedSetattr(&attr), "sched_setattr", "process.scheduler");
    }
    if (proc.memory_policy) |policy| {
        var mask = bitMask(policy.nodes);
        const nodes: []const u8 = if (policy.nodes.len() == 0) &.{} else &mask;
        _ = ctx.check(sys.setMempolicy(policy.mode, nodes), "set_mempolicy", "linux.memoryPolicy");
    }
    if (proc.personality) |persona| {
        _ = ctx.check(sys.personality(persona), "personality", "linux.personality");
    }
    identity.apply(ctx);
    if (proc.umask) |mask| _ = sys.umask(mask);
    if (cwd_later) enterCwd(ctx, proc.cwd.?);
    var path_buf: [resolve.max_path]u8 = undefined;
    const exe = findExecutable(ctx, &path_buf);
    if (ctx.fifo_fd >= 0) awaitStart(ctx);
    if (proc.no_new_privs) loadSeccomp(ctx);
    // As runc: after the start, under the filter, as the process's user, in its cwd.
    runStartHooks(ctx);
    const rc = sys.execve(exe, proc.argv, proc.envp);
    ctx.fail("execve", sys.errnoOf(rc) orelse sys.EINVAL, std.mem.span(exe));
}

fn applyRlimits(ctx: *Context) void {
    std.debug.assert(ctx.rlimit_count <= max_rlimits);
    for (ctx.rlimits[0..ctx.rlimit_count]) |*r| {
        ctx.op_index = r.op_index;
        _ = ctx.check(sys.prlimit(r.rlimit.resource, &r.rlimit.limit), "prlimit", "");
    }
    ctx.op_index = -1;
}

/// chdir as we are now: true when entered (and checked), false when permission was
/// refused (try again as the process's user); any other failure ends the child.
fn tryCwd(ctx: *Context, cwd: [*:0]const u8) bool {
    const rc = sys.chdir(cwd);
    if (sys.errnoOf(rc)) |e| {
        if (e == sys.EACCES or e == sys.EPERM) return false;
        ctx.fail("chdir", e, std.mem.span(cwd));
    }
    checkCwd(ctx, cwd);
    return true;
}

/// chdir, then make sure the result is inside the root.
fn enterCwd(ctx: *Context, cwd: [*:0]const u8) void {
    _ = ctx.check(sys.chdir(cwd), "chdir", std.mem.span(cwd));
    checkCwd(ctx, cwd);
}

/// A cwd outside the root (through a leaked fd's /proc/self/fd link) reads back as
/// "(unreachable)/...". A seccomp filter that refuses getcwd fails closed here.
fn checkCwd(ctx: *Context, cwd: [*:0]const u8) void {
    var buf: [resolve.max_path]u8 = undefined;
    const rc = sys.getcwd(&buf);
    if (sys.errnoOf(rc) != null or buf[0] != '/') ctx.fail("getcwd", sys.EACCES, std.mem.span(cwd));
}

/// Asks the LSM to switch to `label` at the exec, through our own procfs.
fn setExecLabel(ctx: *Context, exec_label: plan.ExecLabel) void {
    const label = exec_label.label;
    ctx.op_index = @intCast(exec_label.op_index);
    defer ctx.op_index = -1;
    defer proc_fs.release(ctx);
    const paths: []const [:0]const u8 = switch (label.lsm) {
        .apparmor => &.{ "/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec" },
        .selinux => &.{"/proc/thread-self/attr/exec"},
    };
    var last: usize = 0;
    for (paths) |path| {
        const fd = proc_fs.open(ctx, path, sys.O_WRONLY);
        if (sys.errnoOf(fd)) |e| {
            if (e == sys.ENOENT) {
                last = fd;
                continue;
            }
            ctx.fail("open", e, path);
        }
        const rc = sys.write(@intCast(fd), label.content);
        _ = sys.close(@intCast(fd));
        _ = ctx.check(rc, "write", path);
        return;
    }
    ctx.fail("open", sys.errnoOf(last) orelse sys.ENOENT, paths[paths.len - 1]);
}

/// Moves stdio (or the terminal, for all three) to 0..2 and the asked-for fds to 3..,
/// then closes every other fd but the report pipe and the exec fifo (both close on exec).
fn placeFds(ctx: *Context) void {
    const proc = ctx.proc;
    var moved: [3 + plan.max_fds]sys.fd_t = undefined;
    const total = 3 + proc.fd_count;
    // Our own fds must not sit where the process's go: a report pipe overwritten there
    // would read as "exec done" in the parent while this child still runs.
    ctx.report_fd = above(ctx, ctx.report_fd, total);
    ctx.fifo_fd = above(ctx, ctx.fifo_fd, total);
    if (proc.listener) |l| ctx.listener_socket = above(ctx, l.listener.socket, total);
    ctx.hook_report_fd = above(ctx, ctx.hook_report_fd, total);
    // Two passes, through high fds, so a source that is also a target is not clobbered.
    for (0..total) |i| {
        const src = if (i >= 3) proc.fds[i - 3] else if (ctx.console_fd >= 0) ctx.console_fd else proc.stdio[i];
        moved[i] = -1;
        if (src < 0) continue;
        const rc = sys.fcntl(src, sys.F_DUPFD_CLOEXEC, total);
        if (sys.errnoOf(rc)) |e| {
            var label: [48]u8 = undefined;
            ctx.fail("fcntl", e, fdLabel(&label, if (i < 3) "stdio fd " else "extra fd ", src));
        }
        moved[i] = @intCast(rc);
    }
    for (0..total) |i| {
        if (moved[i] < 0) {
            if (i >= 3) ctx.fail("fcntl", sys.EINVAL, "fds");
            continue;
        }
        _ = ctx.check(sys.dup3(moved[i], @intCast(i), 0), "dup3", "stdio");
        _ = sys.close(moved[i]);
    }
    var keep = [_]sys.fd_t{ ctx.report_fd, ctx.fifo_fd, ctx.listener_socket, ctx.hook_report_fd };
    closeAllFrom(@intCast(total), &keep);
    ctx.console_fd = -1; // closed above, or replaced by dup3 when it was below 3
}

/// seccomp(SECCOMP_SET_MODE_FILTER) with the plan's program, if it has one; a notify
/// listener it returns goes to the seccomp agent right away.
fn loadSeccomp(ctx: *Context) void {
    const filter = ctx.proc.seccomp orelse return;
    std.debug.assert(filter.filter.len % 8 == 0);
    const prog = sys.SockFprog{ .len = @intCast(filter.filter.len / 8), .filter = @intFromPtr(filter.filter.ptr) };
    const rc = sys.seccompSetFilter(filter.flags, &prog);
    _ = ctx.check(rc, "seccomp", "");
    if (filter.flags & sys.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0) seccomp_notify.handOver(ctx, @intCast(rc));
}

/// `fd` moved to a number at or above `floor` (close-on-exec), or as it is.
fn above(ctx: *const Context, fd: sys.fd_t, floor: usize) sys.fd_t {
    if (fd < 0 or @as(usize, @intCast(fd)) >= floor) return fd;
    const rc = sys.fcntl(fd, sys.F_DUPFD_CLOEXEC, floor);
    if (sys.errnoOf(rc)) |e| ctx.fail("fcntl", e, "report pipe");
    _ = sys.close(fd);
    return @intCast(rc);
}

/// "<prefix><n>" in buf, for error records.
fn fdLabel(buf: *[48]u8, prefix: []const u8, n: i32) []const u8 {
    std.debug.assert(prefix.len < 24 and n >= 0);
    @memcpy(buf[0..prefix.len], prefix);
    return buf[0 .. prefix.len + sys.formatDecimal(buf[prefix.len..], @intCast(n))];
}

fn closeAllFrom(first: u32, keep: []sys.fd_t) void {
    std.mem.sort(sys.fd_t, keep, {}, std.sort.asc(sys.fd_t));
    var from = first;
    for (keep) |fd| {
        if (fd < 0 or @as(u32, @intCast(fd)) < from) continue;
        const k: u32 = @intCast(fd);
        if (k > from) _ = sys.closeRange(from, k - 1, 0);
        from = k + 1;
    }
    _ = sys.closeRange(from, std.math.maxInt(u32), 0);
}

/// The path to exec: args[0] as is when it has a '/', else the first match in PATH.
fn findExecutable(ctx: *const Context, buf: *[resolve.max_path]u8) [*:0]const u8 {
    const name = std.mem.span(ctx.proc.argv[0].?);
    if (std.mem.indexOfScalar(u8, name, '/') != null) {
        if (sys.errnoOf(sys.faccessat(sys.AT_FDCWD, name.ptr, sys.X_OK))) |e| ctx.fail("exec", e, name);
        return name.ptr;
    }
    const search = ctx.proc.path_env orelse "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    var dirs = std.mem.splitScalar(u8, search, ':');
    var denied = false;
    var steps: u32 = 0;
    while (dirs.next()) |dir| : (steps += 1) {
        if (steps > 256) break;
        const d = if (dir.len == 0) "." else dir;
        if (d.len + 1 + name.len + 1 > buf.len) continue;
        @memcpy(buf[0..d.len], d);
        buf[d.len] = '/';
        @memcpy(buf[d.len + 1 ..][0..name.len], name);
        const len = d.len + 1 + name.len;
        buf[len] = 0;
        const candidate: [*:0]const u8 = buf[0..len :0];
        var st: sys.Statx = undefined;
        if (sys.errnoOf(sys.statx(sys.AT_FDCWD, candidate, 0, &st)) != null) continue;
        if (st.mode & sys.S_IFMT != sys.S_IFREG) continue;
        if (sys.errnoOf(sys.faccessat(sys.AT_FDCWD, candidate, sys.X_OK)) != null) {
            denied = true;
            continue;
        }
        return candidate;
    }
    ctx.fail("exec", if (denied) sys.EACCES else sys.ENOENT, name);
}

/// Stops for the runtime's prestart and createRuntime hooks: says so on the report pipe,
/// then waits for the parent's go on the sync pipe (kept open for this).
fn pauseForHooks(ctx: *Context) void {
    const rec = report.make(.hooks, 0, ctx.host_pid, ctx.op_index, "", "");
    report.send(ctx.report_fd, &rec);
    var go: [1]u8 = undefined;
    readSync(ctx, &go);
    if (go[0] != 'g') sys.exitGroup(1);
    _ = sys.close(ctx.sync_fd);
    ctx.sync_fd = -1;
}

/// The startContainer hooks, in order; the first failure ends the init, its record
/// going to the hook report fifo (index: the hook's place in its list) or, without one,
/// the report pipe.
fn runStartHooks(ctx: *Context) void {
    const proc = ctx.proc;
    for (proc.start_hooks[0..proc.start_hook_count]) |*start| {
        std.debug.assert(start.hook.kind == .start_container);
        const outcome = hooks.run(&start.hook, ctx.host_pid, -1);
        if (outcome.ok()) continue;
        if (ctx.hook_report_fd >= 0) {
            const rec = outcome.record(@intCast(start.hook.index));
            report.send(ctx.hook_report_fd, &rec);
        } else {
            const rec = outcome.record(@intCast(start.op_index));
            report.send(ctx.report_fd, &rec);
        }
        sys.exitGroup(1);
    }
    if (ctx.hook_report_fd >= 0) _ = sys.close(ctx.hook_report_fd);
    ctx.hook_report_fd = -1;
}

/// create/start split: say we are ready on the report pipe and close it, then block
/// reading one byte from the exec fifo until `start` writes it. The fd is the parent's
/// read-write open of the fifo (the exec_fifo op), so no path is opened here.
fn awaitStart(ctx: *Context) void {
    const rec = report.make(.ready, 0, 0, -1, "", "");
    report.send(ctx.report_fd, &rec);
    _ = sys.close(ctx.report_fd);
    // We hold the fifo open for writing too, so the read blocks (rather than seeing end
    // of file) until `start` writes its byte.
    var byte: [1]u8 = undefined;
    var tries: u32 = 0;
    while (tries < 1024) : (tries += 1) {
        const rc = sys.read(ctx.fifo_fd, &byte);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            sys.exitGroup(1);
        }
        if (rc != 1) sys.exitGroup(1);
        break;
    }
    _ = sys.close(ctx.fifo_fd);
}
