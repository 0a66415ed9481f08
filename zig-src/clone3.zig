//! clone3 with CLONE_INTO_CGROUP: the child is in its cgroup from its first
//! instruction (cgroup v2, Linux 5.7+). With CLONE_VM the child starts on a stack of
//! its own, so the call goes through a small trampoline that calls `entry(arg)` there.

const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const sys = @import("sys.zig");

pub const CLONE_INTO_CGROUP: u64 = 0x200000000;
const CLONE_VM: u64 = 0x100;

/// struct clone_args (CLONE_ARGS_SIZE_VER2).
pub const CloneArgs = extern struct {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
};

pub const Entry = *const fn (arg: usize) callconv(.c) u8;

/// rdi = args, rsi = size, rdx = entry, rcx = arg. The child runs entry(arg) on the
/// stack in args and exits with its result; the parent gets the pid or -errno.
fn trampoline() callconv(.naked) usize {
    asm volatile (
        \\ movq %%rdx, %%r9
        \\ movq %%rcx, %%r8
        \\ movl $435, %%eax
        \\ syscall
        \\ testq %%rax, %%rax
        \\ jz 1f
        \\ retq
        \\1:
        \\ xorl %%ebp, %%ebp
        \\ movq %%r8, %%rdi
        \\ callq *%%r9
        \\ movl %%eax, %%edi
        \\ movl $60, %%eax
        \\ syscall
    );
}

/// Whether this build can run a CLONE_VM child through clone3.
pub const has_trampoline = builtin.cpu.arch == .x86_64;

/// clone3 into the cgroup `cgroup_fd`. `stack` given: CLONE_VM child running
/// entry(arg) there; null: fork-like, returning 0 in the child.
pub fn cloneInto(flags: u64, exit_signal: u64, cgroup_fd: sys.fd_t, pidfd: ?*i32, stack: ?[]u8, entry: ?Entry, arg: usize) usize {
    std.debug.assert(cgroup_fd >= 0);
    var args = std.mem.zeroes(CloneArgs);
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = exit_signal;
    args.cgroup = @intCast(cgroup_fd);
    if (pidfd) |p| args.pidfd = @intFromPtr(p);
    if (stack) |s| {
        std.debug.assert(has_trampoline and entry != null);
        args.flags |= CLONE_VM;
        args.stack = @intFromPtr(s.ptr);
        args.stack_size = s.len;
        const call: *const fn (*const CloneArgs, usize, Entry, usize) callconv(.c) usize = @ptrCast(&trampoline);
        return call(&args, @sizeOf(CloneArgs), entry.?, arg);
    }
    return linux.syscall2(.clone3, @intFromPtr(&args), @sizeOf(CloneArgs));
}
