//! `zig build` makes zig-out/lib/libcell.so, the native core that ffi/ loads.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{ .preferred_optimize_mode = .ReleaseSafe });
    const module = b.createModule(.{
        .root_source_file = b.path("zig-src/root.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = false,
    });
    const lib = b.addLibrary(.{ .name = "cell", .root_module = module, .linkage = .dynamic });
    b.installArtifact(lib);

    const tests = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("zig-src/tests.zig"),
        .target = target,
        .optimize = optimize,
    }) });
    b.step("test", "Run the native unit tests").dependOn(&b.addRunArtifact(tests).step);
}
