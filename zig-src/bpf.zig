//! Loading a device-filter program (BPF_PROG_TYPE_CGROUP_DEVICE) compiled by
//! TypeScript, and attaching it to a cgroup v2 directory in place of the one there
//! (attached with ALLOW_MULTI; the old one is detached after the new one is in).

const std = @import("std");
const sys = @import("sys.zig");

const max_attached = 64;
const max_insns: u32 = 4096;

/// Loads `count` instructions (8 bytes each) and attaches them to the cgroup at `path`.
/// The verifier's log, if it refuses the program, goes to `log` (NUL-terminated).
pub fn attachDeviceFilter(insns: [*]const u8, count: u32, path: [*:0]const u8, log: []u8) i32 {
    std.debug.assert(log.len > 0);
    if (count == 0 or count > max_insns) return -@as(i32, sys.EINVAL);
    log[0] = 0;
    const license = "Apache-2.0";
    var load = std.mem.zeroes([128]u8);
    std.mem.writeInt(u32, load[0..4], sys.BPF_PROG_TYPE_CGROUP_DEVICE, .little);
    std.mem.writeInt(u32, load[4..8], count, .little);
    std.mem.writeInt(u64, load[8..16], @intFromPtr(insns), .little);
    std.mem.writeInt(u64, load[16..24], @intFromPtr(license.ptr), .little);
    @memcpy(load[48..52], "cell");
    std.mem.writeInt(u32, load[68..72], sys.BPF_CGROUP_DEVICE, .little);
    var prog = sys.bpf(sys.BPF_PROG_LOAD, &load);
    if (sys.errnoOf(prog)) |first| {
        // Load again with the verifier's log on, only to say why (a log of every
        // instruction can outgrow the buffer, so it is off the first time).
        std.mem.writeInt(u32, load[24..28], 1, .little);
        std.mem.writeInt(u32, load[28..32], @intCast(log.len), .little);
        std.mem.writeInt(u64, load[32..40], @intFromPtr(log.ptr), .little);
        prog = sys.bpf(sys.BPF_PROG_LOAD, &load);
        if (sys.errnoOf(prog) == null) _ = sys.close(@intCast(prog));
        return -@as(i32, first);
    }
    defer _ = sys.close(@intCast(prog));
    log[0] = 0;

    const dir = sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_CLOEXEC, 0);
    if (sys.errnoOf(dir)) |e| return -@as(i32, e);
    defer _ = sys.close(@intCast(dir));
    // The programs there now (ours from before an update), to detach once the new
    // one is in: never a moment without a filter. ALLOW_MULTI, so a program the
    // container attaches below adds to ours instead of replacing it.
    var old_ids: [max_attached]u32 = undefined;
    const old_count = queryAttached(@intCast(dir), &old_ids);
    var attach = std.mem.zeroes([32]u8);
    std.mem.writeInt(u32, attach[0..4], @intCast(dir), .little);
    std.mem.writeInt(u32, attach[4..8], @intCast(prog), .little);
    std.mem.writeInt(u32, attach[8..12], sys.BPF_CGROUP_DEVICE, .little);
    std.mem.writeInt(u32, attach[12..16], sys.BPF_F_ALLOW_MULTI, .little);
    const rc = sys.bpf(sys.BPF_PROG_ATTACH, &attach);
    if (sys.errnoOf(rc)) |e| {
        const what = "BPF_PROG_ATTACH refused the loaded program";
        const n = @min(what.len, log.len - 1);
        @memcpy(log[0..n], what[0..n]);
        log[n] = 0;
        return -@as(i32, e);
    }
    for (old_ids[0..old_count]) |id| detach(@intCast(dir), id);
    return 0;
}

/// Ids of the device programs attached directly to the cgroup `dir`.
fn queryAttached(dir: sys.fd_t, ids: *[max_attached]u32) usize {
    var query = std.mem.zeroes([40]u8);
    std.mem.writeInt(u32, query[0..4], @intCast(dir), .little);
    std.mem.writeInt(u32, query[4..8], sys.BPF_CGROUP_DEVICE, .little);
    std.mem.writeInt(u64, query[16..24], @intFromPtr(ids), .little);
    std.mem.writeInt(u32, query[24..28], max_attached, .little);
    if (sys.errnoOf(sys.bpf(sys.BPF_PROG_QUERY, &query)) != null) return 0;
    return @min(std.mem.readInt(u32, query[24..28], .little), max_attached);
}

fn detach(dir: sys.fd_t, id: u32) void {
    var by_id = std.mem.zeroes([16]u8);
    std.mem.writeInt(u32, by_id[0..4], id, .little);
    const fd = sys.bpf(sys.BPF_PROG_GET_FD_BY_ID, &by_id);
    if (sys.errnoOf(fd) != null) return;
    defer _ = sys.close(@intCast(fd));
    var attr = std.mem.zeroes([32]u8);
    std.mem.writeInt(u32, attr[0..4], @intCast(dir), .little);
    std.mem.writeInt(u32, attr[4..8], @intCast(fd), .little);
    std.mem.writeInt(u32, attr[8..12], sys.BPF_CGROUP_DEVICE, .little);
    _ = sys.bpf(sys.BPF_PROG_DETACH, &attr);
}
