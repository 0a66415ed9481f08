//! clone3 with CLONE_INTO_CGROUP: the child is in its cgroup from its first
//! instruction (cgroup v2, Linux 5.7+). With CLONE_VM the child starts on a stack of
//! its own, so the call goes through a small trampoline that calls `entry(arg)` there.

const std = @import("std");
const builtin = @import("builtin");
const sys = @import("sys.zig");

pub const Entry = sys.CloneEntry;

/// rdi = args, rsi = size, rdx = entry, rcx = arg. The child runs entry(arg) on the
/// stack in args and exits with its result; the parent gets the pid or -errno. The one
/// syscall not made through sys.zig: 435 is clone3 and 60 exit on x86_64, and the child
/// must not touch a stack before it is on its own.
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
    var args = std.mem.zeroes(sys.CloneArgs);
    args.flags = flags | sys.CLONE_INTO_CGROUP;
    args.exit_signal = exit_signal;
    args.cgroup = @intCast(cgroup_fd);
    if (pidfd) |p| args.pidfd = @intFromPtr(p);
    if (stack) |s| {
        std.debug.assert(has_trampoline and entry != null);
        args.flags |= sys.CLONE_VM;
        args.stack = @intFromPtr(s.ptr);
        args.stack_size = s.len;
        const call: *const fn (*const sys.CloneArgs, usize, Entry, usize) callconv(.c) usize = @ptrCast(&trampoline);
        return call(&args, @sizeOf(sys.CloneArgs), entry.?, arg);
    }
    return sys.clone3(&args);
}
