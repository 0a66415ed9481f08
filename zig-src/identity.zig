//! Who the process is: bounding set, groups, uid/gid, capabilities, no_new_privs.
//! The order matters: drop from the bounding set while we still have CAP_SETPCAP,
//! keep capabilities across the uid switch, then set exactly the asked-for sets.

const std = @import("std");
const sys = @import("sys.zig");
const payload = @import("payload.zig");
const Context = @import("child.zig").Context;

pub fn apply(ctx: *const Context) void {
    const proc = ctx.proc;
    if (proc.caps) |caps| dropBounding(ctx, caps);
    if (proc.user) |user| {
        if (!proc.no_setgroups) {
            _ = ctx.check(sys.setgroups(proc.groups[0..proc.group_count]), "setgroups", "");
        } else std.debug.assert(proc.group_count == 0);
        _ = ctx.check(sys.prctl(sys.PR_SET_KEEPCAPS, 1, 0), "prctl", "PR_SET_KEEPCAPS");
        _ = ctx.check(sys.setresgid(user.gid), "setresgid", "");
        _ = ctx.check(sys.setresuid(user.uid), "setresuid", "");
        _ = ctx.check(sys.prctl(sys.PR_SET_KEEPCAPS, 0, 0), "prctl", "PR_SET_KEEPCAPS");
    }
    if (proc.caps) |caps| setCaps(ctx, caps);
    if (proc.no_new_privs) _ = ctx.check(sys.prctl(sys.PR_SET_NO_NEW_PRIVS, 1, 0), "prctl", "PR_SET_NO_NEW_PRIVS");
}

fn dropBounding(ctx: *const Context, caps: payload.Caps) void {
    std.debug.assert(caps.last_cap < 64);
    var cap: u32 = 0;
    while (cap <= caps.last_cap) : (cap += 1) {
        if (caps.bounding & (@as(u64, 1) << @intCast(cap)) != 0) continue;
        _ = ctx.check(sys.prctl(sys.PR_CAPBSET_DROP, cap, 0), "prctl", "PR_CAPBSET_DROP");
    }
}

fn setCaps(ctx: *const Context, caps: payload.Caps) void {
    var header = sys.CapHeader{ .version = sys.LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    const data = [2]sys.CapData{
        .{ .effective = @truncate(caps.effective), .permitted = @truncate(caps.permitted), .inheritable = @truncate(caps.inheritable) },
        .{ .effective = @truncate(caps.effective >> 32), .permitted = @truncate(caps.permitted >> 32), .inheritable = @truncate(caps.inheritable >> 32) },
    };
    _ = ctx.check(sys.capset(&header, &data), "capset", "");
    _ = ctx.check(sys.prctl(sys.PR_CAP_AMBIENT, sys.PR_CAP_AMBIENT_CLEAR_ALL, 0), "prctl", "PR_CAP_AMBIENT");
    var cap: u32 = 0;
    while (cap <= caps.last_cap) : (cap += 1) {
        if (caps.ambient & (@as(u64, 1) << @intCast(cap)) == 0) continue;
        _ = ctx.check(sys.prctl(sys.PR_CAP_AMBIENT, sys.PR_CAP_AMBIENT_RAISE, cap), "prctl", "PR_CAP_AMBIENT_RAISE");
    }
}
