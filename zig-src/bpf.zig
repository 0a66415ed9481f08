//! Loading a device-filter program (BPF_PROG_TYPE_CGROUP_DEVICE) compiled by
//! TypeScript, and attaching it to a cgroup v2 directory in place of the one there.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

const BPF_PROG_LOAD: usize = 5;
const BPF_PROG_ATTACH: usize = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_OVERRIDE: u32 = 1;
const max_insns: u32 = 4096;

fn bpf(cmd: usize, attr: []u8) usize {
    return linux.syscall3(.bpf, cmd, @intFromPtr(attr.ptr), attr.len);
}

/// Loads `count` instructions (8 bytes each) and attaches them to the cgroup at `path`.
/// The verifier's log, if it refuses the program, goes to `log` (NUL-terminated).
pub fn attachDeviceFilter(insns: [*]const u8, count: u32, path: [*:0]const u8, log: []u8) i32 {
    std.debug.assert(log.len > 0);
    if (count == 0 or count > max_insns) return -@as(i32, sys.EINVAL);
    log[0] = 0;
    const license = "Apache-2.0";
    var load = std.mem.zeroes([128]u8);
    std.mem.writeInt(u32, load[0..4], BPF_PROG_TYPE_CGROUP_DEVICE, .little);
    std.mem.writeInt(u32, load[4..8], count, .little);
    std.mem.writeInt(u64, load[8..16], @intFromPtr(insns), .little);
    std.mem.writeInt(u64, load[16..24], @intFromPtr(license.ptr), .little);
    @memcpy(load[48..52], "cell");
    std.mem.writeInt(u32, load[68..72], BPF_CGROUP_DEVICE, .little);
    var prog = bpf(BPF_PROG_LOAD, &load);
    if (sys.errnoOf(prog)) |first| {
        // Load again with the verifier's log on, only to say why (a log of every
        // instruction can outgrow the buffer, so it is off the first time).
        std.mem.writeInt(u32, load[24..28], 1, .little);
        std.mem.writeInt(u32, load[28..32], @intCast(log.len), .little);
        std.mem.writeInt(u64, load[32..40], @intFromPtr(log.ptr), .little);
        prog = bpf(BPF_PROG_LOAD, &load);
        if (sys.errnoOf(prog) == null) _ = sys.close(@intCast(prog));
        return -@as(i32, first);
    }
    defer _ = sys.close(@intCast(prog));
    log[0] = 0;

    const dir = sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(dir)) |e| return -@as(i32, e);
    defer _ = sys.close(@intCast(dir));
    var attach = std.mem.zeroes([32]u8);
    std.mem.writeInt(u32, attach[0..4], @intCast(dir), .little);
    std.mem.writeInt(u32, attach[4..8], @intCast(prog), .little);
    std.mem.writeInt(u32, attach[8..12], BPF_CGROUP_DEVICE, .little);
    // Without BPF_F_ALLOW_MULTI, attaching again replaces the program (update).
    std.mem.writeInt(u32, attach[12..16], BPF_F_ALLOW_OVERRIDE, .little);
    const rc = bpf(BPF_PROG_ATTACH, &attach);
    if (sys.errnoOf(rc)) |e| {
        const what = "BPF_PROG_ATTACH refused the loaded program";
        const n = @min(what.len, log.len - 1);
        @memcpy(log[0..n], what[0..n]);
        log[n] = 0;
        return -@as(i32, e);
    }
    return 0;
}
