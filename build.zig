//! `zig build` makes zig-out/lib/libcell.so, the native core that ffi/ loads, and
//! zig-out/bin/cell, the front door (docs/planner.md).
const std = @import("std");

pub fn build(b: *std.Build) void {
    // The baseline CPU of the architecture unless -Dtarget/-Dcpu say otherwise: the library
    // ships, so it must run on any x86_64 (or aarch64), not only on a CPU like the build host's
    // (an AVX-512 host would otherwise give code that QEMU's TCG and older CPUs cannot run).
    const target = b.standardTargetOptions(.{ .default_target = .{ .cpu_model = .baseline } });
    // ReleaseSafe unless asked otherwise: plain `zig build` gives the library cell ships,
    // with its safety checks on.
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Optimization mode (default safe)") orelse .safe;
    // tools/package.ts strips the libraries it ships (no symbol table or debug info: smaller,
    // and no build paths in the bytes).
    const strip = b.option(bool, "strip", "Leave out the symbol table and debug info") orelse false;
    const module = b.createModule(.{
        .root_source_file = b.path("zig-src/root.zig"),
        .target = target,
        .optimize = optimize,
        .strip = strip,
        .link_libc = false,
    });
    const lib = b.addLibrary(.{ .name = "cell", .root_module = module, .linkage = .dynamic });
    b.installArtifact(lib);

    // `cell`, the front door (zig-src/door.zig): static, no libc, the same spawn code.
    const door = b.addExecutable(.{ .name = "cell", .root_module = b.createModule(.{
        .root_source_file = b.path("zig-src/door.zig"),
        .target = target,
        .optimize = optimize,
        .strip = strip,
        .link_libc = false,
        .single_threaded = true,
    }) });
    b.installArtifact(door);

    const tests = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("zig-src/tests.zig"),
        .target = target,
        .optimize = optimize,
    }) });
    b.step("test", "Run the native unit tests").dependOn(&b.addRunArtifact(tests).step);
}
