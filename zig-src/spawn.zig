//! The parent side of making a container process. One clone when every namespace is
//! new; when the plan joins existing namespaces or makes a time namespace, a first child
//! does the setns calls (and the unshare of the time namespace, whose offsets can only
//! be written before any process is in it) and clones the real process as our
//! sibling-child (CLONE_PARENT), so its exit status comes to us. The parent then places
//! the child (cgroups, /proc writes), says go, and reads the report pipe until EOF (exec
//! done), an error record, or "ready".

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");
const plan = @import("plan.zig");
const payload = @import("payload.zig");
const report = @import("report.zig");
const child = @import("child.zig");
const clone3 = @import("clone3.zig");
const id_map_helper = @import("id_map_helper.zig");
const mount_sources = @import("mount_sources.zig");

const max_joins = 16;

const Pipes = struct {
    sync_r: sys.fd_t,
    sync_w: sys.fd_t,
    report_r: sys.fd_t,
    report_w: sys.fd_t,
    /// The socket bind sources go through (mount_source ops): ours, the child's.
    sources_w: sys.fd_t = -1,
    sources_r: sys.fd_t = -1,
};

fn parentError(result: *abi.SpawnResult, syscall: []const u8, errno: u16, op_index: i32, path: []const u8) void {
    result.status = abi.spawn_parent_error;
    result.record = report.make(.err, errno, 0, op_index, syscall, path);
}

pub fn spawn(buf: []const u8, result: *abi.SpawnResult) void {
    result.* = std.mem.zeroes(abi.SpawnResult);
    result.pid = -1;
    result.pidfd = -1;
    const ptrs = std.heap.page_allocator.alloc(?[*:0]const u8, plan.max_args + plan.max_env + 2) catch {
        return parentError(result, "mmap", sys.ENOMEM, -1, "plan");
    };
    defer std.heap.page_allocator.free(ptrs);
    const proc = std.heap.page_allocator.create(plan.Process) catch {
        return parentError(result, "mmap", sys.ENOMEM, -1, "plan");
    };
    defer std.heap.page_allocator.destroy(proc);
    proc.* = .{};
    plan.decode(buf, proc, ptrs) catch |err| return parentError(result, "plan", sys.EINVAL, -1, @errorName(err));
    if (proc.joins > max_joins) return parentError(result, "plan", sys.EINVAL, -1, "too many joins");

    // Everything that can fail before the clone comes first, so a failure has no
    // pipes to leak.
    // Fork instead of CLONE_VM: in create mode (the child outlives this call), to join
    // a user namespace (setns refuses a shared mm), and when a non-root parent writes
    // the id maps of a new user namespace (the child must stay dumpable until then), and
    // when the caller says the child waits in a memory cgroup that may OOM-kill it (the
    // OOM killer kills every process sharing the victim's mm: us).
    const maps_by_user = sys.geteuid() != 0 and proc.clone_flags & sys.CLONE_NEWUSER != 0;
    // And for a time namespace: setns to one refuses a shared mm (EUSERS), and a child
    // cloned with CLONE_VM would enter a new one only at its exec; forked, the container
    // process is in it from its first instruction.
    const fork_mode = proc.exec_fifo or proc.joins_user or maps_by_user or proc.has_hooks or
        proc.hooks_pause or proc.own_memory or proc.joins_time or proc.new_time != null;
    const stacks: ?[]u8 = if (fork_mode) null else mapStacks();
    if (!fork_mode and stacks == null) return parentError(result, "mmap", sys.ENOMEM, -1, "child stack");
    defer if (stacks) |s| {
        _ = sys.munmap(s);
    };
    var cgroup_fd: sys.fd_t = -1;
    if (proc.cgroup_path) |path| {
        const fd = sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_CLOEXEC, 0);
        if (sys.errnoOf(fd)) |e| return parentError(result, "open", e, -1, std.mem.span(path));
        cgroup_fd = @intCast(fd);
    }
    defer if (cgroup_fd >= 0) {
        _ = sys.close(cgroup_fd);
    };

    var sync: [2]i32 = undefined;
    var rep: [2]i32 = undefined;
    if (sys.errnoOf(sys.pipe2(&sync, sys.O_CLOEXEC))) |e| return parentError(result, "pipe2", e, -1, "");
    if (sys.errnoOf(sys.pipe2(&rep, sys.O_CLOEXEC))) |e| {
        _ = sys.close(sync[0]);
        _ = sys.close(sync[1]);
        return parentError(result, "pipe2", e, -1, "");
    }
    var pipes = Pipes{ .sync_r = sync[0], .sync_w = sync[1], .report_r = rep[0], .report_w = rep[1] };
    defer {
        _ = sys.close(pipes.sync_w);
        _ = sys.close(pipes.report_r);
        if (pipes.sources_w >= 0) _ = sys.close(pipes.sources_w);
    }
    if (proc.mount_sources > 0) {
        var pair: [2]i32 = undefined;
        const rc = sys.socketpair(sys.AF_UNIX, sys.SOCK_DGRAM | sys.O_CLOEXEC, 0, &pair);
        if (sys.errnoOf(rc)) |e| {
            for ([_]sys.fd_t{ pipes.sync_r, pipes.report_w }) |fd| _ = sys.close(fd);
            return parentError(result, "socketpair", e, -1, "mount sources");
        }
        pipes.sources_w = pair[0];
        pipes.sources_r = pair[1];
    }
    var ctx = child.Context{
        .buf = buf,
        .proc = proc,
        .report_fd = pipes.report_w,
        .sync_fd = pipes.sync_r,
        .parent_fds = .{ pipes.sync_w, pipes.report_r, pipes.sources_w },
        .source_socket = pipes.sources_r,
        .stacks = stacks,
        .cgroup_fd = cgroup_fd,
        .dumpable_until_go = maps_by_user,
    };
    launch(&ctx, pipes, result);
}

/// Each child made with CLONE_VM runs on a stack of its own, mapped before the clone.
const child_stack_bytes = 256 * 1024;

fn mapStacks() ?[]u8 {
    const prot = sys.PROT_READ | sys.PROT_WRITE;
    const rc = sys.mmap(2 * child_stack_bytes, prot, sys.MAP_PRIVATE | sys.MAP_ANONYMOUS | sys.MAP_STACK);
    if (sys.errnoOf(rc) != null) return null;
    return @as([*]u8, @ptrFromInt(rc))[0 .. 2 * child_stack_bytes];
}

fn stackTop(stacks: []u8, which: usize) usize {
    std.debug.assert(which < 2);
    return @intFromPtr(stacks.ptr) + (which + 1) * child_stack_bytes;
}

fn initEntry(arg: usize) callconv(.c) u8 {
    const ctx: *child.Context = @ptrFromInt(arg);
    ctx.enterChild();
    child.run(ctx);
}

fn stage1Entry(arg: usize) callconv(.c) u8 {
    const ctx: *child.Context = @ptrFromInt(arg);
    ctx.enterChild();
    stage1(ctx);
}

fn stage2Entry(arg: usize) callconv(.c) u8 {
    const ctx: *child.Context = @ptrFromInt(arg);
    child.run(ctx);
}

/// Clones the first child: sharing our memory (CLONE_VM, no page-table copy of the
/// whole runtime) when the spawn will wait until the exec, else as a fork (create
/// mode, where the child outlives this call).
fn cloneFirst(ctx: *child.Context, flags: u64, pidfd: ?*i32) usize {
    if (!staged(ctx.proc) and ctx.cgroup_fd >= 0) {
        const rc = cloneIntoCgroup(ctx, flags, pidfd, 0, &initEntry);
        if (rc == 0) {
            ctx.enterChild();
            child.run(ctx);
        }
        if (!cgroupCloneUnsupported(ctx.proc, rc)) return rc;
    }
    if (ctx.stacks) |stacks| {
        const entry = if (staged(ctx.proc)) &stage1Entry else &initEntry;
        return sys.cloneOnStack(entry, stackTop(stacks, 0), flags | sys.CLONE_VM, @intFromPtr(ctx), pidfd);
    }
    const rc = sys.clone(flags, pidfd);
    if (rc == 0) {
        ctx.enterChild();
        if (staged(ctx.proc)) stage1(ctx);
        child.run(ctx);
    }
    return rc;
}

/// Whether a first child makes the process (namespaces to join, a time namespace to make).
fn staged(proc: *const plan.Process) bool {
    return proc.joins > 0 or proc.new_time != null;
}

/// clone3 into the cgroup: `flags` as for clone (the low byte is the exit signal).
/// CLONE_VM on stack `which` when the spawn waits for the exec, else fork-like.
fn cloneIntoCgroup(ctx: *child.Context, flags: u64, pidfd: ?*i32, which: usize, entry: clone3.Entry) usize {
    const exit_signal = flags & 0xff;
    const rest = flags & ~@as(u64, 0xff);
    if (ctx.stacks) |stacks| {
        if (clone3.has_trampoline) {
            const base = stacks[which * child_stack_bytes ..][0..child_stack_bytes];
            return clone3.cloneInto(rest, exit_signal, ctx.cgroup_fd, pidfd, base, entry, @intFromPtr(ctx));
        }
    }
    return clone3.cloneInto(rest, exit_signal, ctx.cgroup_fd, pidfd, null, null, 0);
}

/// When clone3 into the cgroup fails, fall back to clone + the cgroup.procs writes, if the
/// plan has one into that cgroup (cell's planner always adds it; a plan without one gets
/// clone3's error rather than a process in the wrong cgroup). Kernels without clone3 or
/// CLONE_INTO_CGROUP (ENOSYS, E2BIG, EINVAL), and a cgroup at its pids limit (EAGAIN: the
/// clone counts against pids.max, a move into it does not), however the limit got there.
/// A plain clone that then fails reports its own error.
fn cgroupCloneUnsupported(proc: *const plan.Process, rc: usize) bool {
    const e = sys.errnoOf(rc) orelse return false;
    if (!proc.placed_in_clone_dir) return false;
    return e == sys.ENOSYS or e == sys.E2BIG or e == sys.EINVAL or e == sys.EAGAIN;
}

/// A child cloned with CLONE_VM shares our mm, and dumpability belongs to the mm: the
/// child cannot make itself non-dumpable alone. So the whole process is non-dumpable
/// while any such child has not exec'd yet (no one can ptrace it or read its memory
/// through /proc), and dumpable again, if it was, when the last one has.
const NonDumpable = struct {
    var lock: std.atomic.Mutex = .unlocked;
    var holders: u32 = 0;
    var was_dumpable: bool = false;

    fn acquireLock() void {
        while (!lock.tryLock()) _ = sys.schedYield();
    }

    fn enter() void {
        acquireLock();
        defer lock.unlock();
        if (holders == 0) {
            was_dumpable = sys.prctl(sys.PR_GET_DUMPABLE, 0, 0) == 1;
            _ = sys.prctl(sys.PR_SET_DUMPABLE, 0, 0);
        }
        holders += 1;
    }

    fn leave() void {
        acquireLock();
        defer lock.unlock();
        std.debug.assert(holders > 0);
        holders -= 1;
        if (holders == 0 and was_dumpable) _ = sys.prctl(sys.PR_SET_DUMPABLE, 1, 0);
    }
};

fn launch(ctx: *child.Context, pipes: Pipes, result: *abi.SpawnResult) void {
    const proc = ctx.proc;
    // Leaves after every CLONE_VM child has exec'd or been reaped (launch returns).
    if (ctx.stacks != null) NonDumpable.enter();
    defer if (ctx.stacks != null) NonDumpable.leave();
    // Signals stay blocked across the clone so no handler of ours runs in the child
    // before it resets them.
    const all: u64 = ~@as(u64, 0);
    var old: u64 = 0;
    _ = sys.sigprocmask(sys.SIG_SETMASK, &all, &old);
    var pidfd: i32 = -1;
    const two_stage = staged(proc);
    const flags: u64 = if (two_stage) sys.SIGCHLD else proc.clone_flags | sys.CLONE_PIDFD | sys.SIGCHLD;
    const rc = cloneFirst(ctx, flags, if (two_stage) null else &pidfd);
    _ = sys.sigprocmask(sys.SIG_SETMASK, &old, null);
    _ = sys.close(pipes.sync_r);
    _ = sys.close(pipes.report_w);
    if (pipes.sources_r >= 0) _ = sys.close(pipes.sources_r);
    if (sys.errnoOf(rc)) |e| return parentError(result, "clone", e, -1, "");
    var pid: sys.pid_t = @intCast(rc);

    if (two_stage) {
        pid = collectStage2(pid, pipes.report_r, result) orelse return;
        const opened = sys.pidfdOpen(pid);
        if (sys.errnoOf(opened)) |e| {
            _ = sys.kill(pid, sys.SIGKILL);
            var status: i32 = 0;
            _ = sys.wait4(pid, &status, 0);
            return parentError(result, "pidfd_open", e, -1, "");
        }
        pidfd = @intCast(opened);
    }
    result.pid = pid;
    result.pidfd = pidfd;
    if (!placeChild(ctx.buf, pid, result)) return abandon(result);
    if (proc.mount_sources > 0) {
        var digits: [20]u8 = undefined;
        const pid_text = digits[0..sys.formatDecimal(&digits, @intCast(pid))];
        if (mount_sources.send(ctx.buf, pid_text, pipes.sources_w, proc.mount_sources)) |f| {
            parentError(result, f.syscall, f.errno, f.op_index, f.path);
            return abandon(result);
        }
    }
    var go: [5]u8 = .{ 'g', 0, 0, 0, 0 };
    std.mem.writeInt(i32, go[1..5], pid, .little);
    if (sys.errnoOf(sys.write(pipes.sync_w, &go))) |e| {
        parentError(result, "write", e, -1, "sync pipe");
        return abandon(result);
    }
    var rec: abi.Record = undefined;
    var records: u32 = 0;
    while (records < 4) : (records += 1) {
        const got = report.receive(pipes.report_r, &rec) catch {
            parentError(result, "read", sys.EIO, -1, "report pipe");
            return abandon(result);
        };
        if (got == null) return; // EOF: the exec happened
        if (rec.kind == @backingInt(abi.RecordKind.ready)) return;
        if (rec.kind != @backingInt(abi.RecordKind.hooks)) break;
        // Paused for the runtime's hooks: tell the caller, wait for its verdict.
        if (!resumeAfterHooks(proc, pid, pipes.sync_w, rec.op_index, result)) return abandon(result);
    }
    if (rec.kind == @backingInt(abi.RecordKind.hooks)) {
        parentError(result, "hooks", sys.EINVAL, rec.op_index, "paused more than once");
        return abandon(result);
    }
    result.status = abi.spawn_child_error;
    result.record = rec;
    abandon(result);
}

/// The child stopped for the prestart and createRuntime hooks, which the caller runs:
/// write our child's pid (decimal, newline) to the notify fd, wait for "1" on the resume
/// fd, then let the child go on.
fn resumeAfterHooks(proc: *const plan.Process, pid: sys.pid_t, sync_w: sys.fd_t, op_index: i32, result: *abi.SpawnResult) bool {
    if (!proc.hooks_pause) {
        parentError(result, "hooks", sys.EINVAL, op_index, "an unplanned pause");
        return false;
    }
    var text: [24]u8 = undefined;
    const n = sys.formatDecimal(&text, @intCast(pid));
    text[n] = '\n';
    if (sys.errnoOf(sys.write(proc.pause_notify, text[0 .. n + 1]))) |e| {
        parentError(result, "write", e, op_index, "hooks notify");
        return false;
    }
    if (!awaitByte(proc.pause_resume)) {
        parentError(result, "hooks", sys.ECANCELED, op_index, "the runtime's hooks failed");
        return false;
    }
    if (sys.errnoOf(sys.write(sync_w, "g"))) |e| {
        parentError(result, "write", e, op_index, "sync pipe");
        return false;
    }
    return true;
}

/// The first child reports the pid of the process it cloned, then exits; reap it.
fn collectStage2(stage1_pid: sys.pid_t, report_r: sys.fd_t, result: *abi.SpawnResult) ?sys.pid_t {
    var rec: abi.Record = undefined;
    const got = report.receive(report_r, &rec) catch null;
    var status: i32 = 0;
    _ = sys.wait4(stage1_pid, &status, 0);
    if (got == null) {
        parentError(result, "clone", sys.EIO, -1, "first child exited without a report");
        return null;
    }
    if (rec.kind == @backingInt(abi.RecordKind.pid) and rec.pid > 0) return rec.pid;
    result.status = abi.spawn_child_error;
    result.record = rec;
    return null;
}

/// Parent-side ops, in plan order, while the child waits for go: /proc/<pid>/ writes (id
/// maps, setgroups, oom_score_adj), id map helpers, waits for the caller's cgroups and
/// cgroup.procs writes. False (with the error in `result`) at the first that fails.
fn placeChild(buf: []const u8, pid: sys.pid_t, result: *abi.SpawnResult) bool {
    std.debug.assert(pid > 0);
    var digits: [20]u8 = undefined;
    const pid_text = digits[0..sys.formatDecimal(&digits, @intCast(pid))];
    var ops = payload.Checked.init(buf);
    while (ops.next()) |op| {
        const placed = switch (op.payload) {
            .proc_write => |w| writeProcFile(pid_text, w, op.index, result),
            .id_map_helper => |h| runIdMapHelper(pid_text, h, op.index, result),
            .await_fd => |fd| awaitCgroup(fd, op.index, result),
            .cgroup_procs => |path| writeCgroupProcs(path, pid_text, op.index, result),
            else => true,
        };
        if (!placed) {
            std.debug.assert(result.status == abi.spawn_parent_error);
            return false;
        }
    }
    return true;
}

/// /proc/<pid>/<name>: the content in one write.
fn writeProcFile(pid: []const u8, w: payload.FileWrite, op_index: u32, result: *abi.SpawnResult) bool {
    var path: [64]u8 = undefined;
    const p = procPath(&path, pid, w.path) orelse {
        parentError(result, "open", sys.ENAMETOOLONG, @intCast(op_index), w.path);
        return false;
    };
    return writeFile(p, w.content, op_index, result);
}

/// The pid into a cgroup.procs file.
fn writeCgroupProcs(path: [:0]const u8, pid: []const u8, op_index: u32, result: *abi.SpawnResult) bool {
    return writeFile(path.ptr, pid, op_index, result);
}

fn writeFile(path: [*:0]const u8, content: []const u8, op_index: u32, result: *abi.SpawnResult) bool {
    const fd = sys.openat(sys.AT_FDCWD, path, sys.O_WRONLY | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(fd)) |e| {
        parentError(result, "open", e, @intCast(op_index), std.mem.span(path));
        return false;
    }
    const w = sys.write(@intCast(fd), content);
    _ = sys.close(@intCast(fd));
    if (sys.errnoOf(w)) |e| {
        parentError(result, "write", e, @intCast(op_index), std.mem.span(path));
        return false;
    }
    return true;
}

fn runIdMapHelper(pid: []const u8, h: payload.IdMapHelper, op_index: u32, result: *abi.SpawnResult) bool {
    var status: i32 = 0;
    id_map_helper.run(h.helper, pid, h.ranges, &status) catch |err| {
        const errno: u16 = switch (err) {
            error.TooLong, error.TooMany => sys.E2BIG,
            error.Spawn => sys.EAGAIN,
            error.Failed => sys.EPERM,
        };
        parentError(result, std.fs.path.basename(h.helper), errno, @intCast(op_index), h.helper);
        return false;
    };
    return true;
}

/// The caller makes the cgroups meanwhile and says "1" on the fd when they are there.
fn awaitCgroup(fd: sys.fd_t, op_index: u32, result: *abi.SpawnResult) bool {
    if (awaitByte(fd)) return true;
    parentError(result, "cgroup", sys.EIO, @intCast(op_index), "the cgroup was not made");
    return false;
}

/// Blocks until the caller's other thread says "1" (go on) or anything else (give up).
fn awaitByte(fd: sys.fd_t) bool {
    var byte: [1]u8 = undefined;
    var tries: u32 = 0;
    while (tries < 64) : (tries += 1) {
        const rc = sys.read(fd, &byte);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            return false;
        }
        return rc == 1 and byte[0] == '1';
    }
    return false;
}

fn procPath(buf: *[64]u8, pid: []const u8, name: []const u8) ?[*:0]const u8 {
    const prefix = "/proc/";
    const len = prefix.len + pid.len + 1 + name.len;
    if (len + 1 > buf.len) return null;
    @memcpy(buf[0..prefix.len], prefix);
    @memcpy(buf[prefix.len..][0..pid.len], pid);
    buf[prefix.len + pid.len] = '/';
    @memcpy(buf[prefix.len + pid.len + 1 ..][0..name.len], name);
    buf[len] = 0;
    return buf[0..len :0];
}

/// A failed start: kill and reap the child so nothing is left.
fn abandon(result: *abi.SpawnResult) void {
    if (result.pidfd >= 0) {
        _ = sys.pidfdSendSignal(result.pidfd, sys.SIGKILL);
        var info: sys.Siginfo = undefined;
        _ = sys.waitidPidfd(result.pidfd, &info, sys.WEXITED);
        _ = sys.close(result.pidfd);
    }
    result.pidfd = -1;
    result.pid = -1;
}

/// First child of a join: open every namespace, enter them in plan order, make the new
/// time namespace if asked, then clone the container process as a child of our parent
/// and report its pid.
fn stage1(ctx: *child.Context) noreturn {
    // Opened before any setns: a joined mount namespace may have no /proc of ours.
    const offsets_fd = if (ctx.proc.new_time) |t| openTimeOffsets(ctx, t) else -1;
    var fds: [max_joins]sys.fd_t = undefined;
    var types: [max_joins]u64 = undefined;
    var indexes: [max_joins]i32 = undefined;
    var n: usize = 0;
    var ops = payload.Checked.init(ctx.buf);
    while (ops.next()) |op| {
        const join = switch (op.payload) {
            .join_ns => |j| j,
            else => continue,
        };
        std.debug.assert(n < max_joins); // spawn refuses more
        types[n] = join.nstype;
        ctx.op_index = @intCast(op.index);
        indexes[n] = ctx.op_index;
        const rc = sys.openat(sys.AT_FDCWD, join.path, sys.O_RDONLY | sys.O_CLOEXEC, 0);
        fds[n] = @intCast(ctx.check(rc, "open", join.path));
        n += 1;
    }
    std.debug.assert(n == ctx.proc.joins);
    for (0..n) |i| {
        ctx.op_index = indexes[i];
        _ = ctx.check(sys.setns(fds[i], types[i]), "setns", "");
        _ = sys.close(fds[i]);
    }
    if (ctx.proc.new_time) |t| makeTimeNamespace(ctx, t, offsets_fd);
    ctx.op_index = -1;
    const flags = ctx.proc.clone_flags | sys.CLONE_PARENT | sys.SIGCHLD;
    if (ctx.cgroup_fd >= 0) {
        const into = cloneIntoCgroup(ctx, flags, null, 1, &stage2Entry);
        if (into == 0) child.run(ctx);
        if (!cgroupCloneUnsupported(ctx.proc, into)) {
            _ = ctx.check(into, "clone3", "");
            const rec = report.make(.pid, 0, @intCast(into), -1, "", "");
            report.send(ctx.report_fd, &rec);
            sys.exitGroup(0);
        }
    }
    const rc = if (ctx.stacks) |stacks|
        sys.cloneOnStack(&stage2Entry, stackTop(stacks, 1), flags | sys.CLONE_VM, @intFromPtr(ctx), null)
    else
        sys.clone(flags, null);
    if (rc == 0) child.run(ctx); // fork path only: the CLONE_VM child starts in stage2Entry
    _ = ctx.check(rc, "clone", "");
    const rec = report.make(.pid, 0, @intCast(rc), -1, "", "");
    report.send(ctx.report_fd, &rec);
    sys.exitGroup(0);
}

/// /proc/self/timens_offsets, opened for writing (the write is checked against the
/// opener's credentials); -1 when there are no offsets to write.
fn openTimeOffsets(ctx: *child.Context, t: plan.NewTime) sys.fd_t {
    if (t.offsets.len == 0) return -1;
    ctx.op_index = @intCast(t.op_index);
    const path = "/proc/self/timens_offsets";
    const rc = sys.openat(sys.AT_FDCWD, path, sys.O_WRONLY | sys.O_CLOEXEC, 0);
    return @intCast(ctx.check(rc, "open", path));
}

/// unshare(CLONE_NEWTIME) puts our children, not us, in a new time namespace; its
/// offsets are written now, before the clone makes the first process in it (after
/// that the kernel refuses them).
fn makeTimeNamespace(ctx: *child.Context, t: plan.NewTime, offsets_fd: sys.fd_t) void {
    ctx.op_index = @intCast(t.op_index);
    _ = ctx.check(sys.unshare(sys.CLONE_NEWTIME), "unshare", "time namespace");
    if (offsets_fd < 0) return;
    _ = ctx.check(sys.write(offsets_fd, t.offsets), "write", "timens_offsets");
    _ = sys.close(offsets_fd);
}
