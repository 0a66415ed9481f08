//! Fixed-size records from a child to its parent. One write per record, smaller than
//! PIPE_BUF, so records never interleave.

const std = @import("std");
const abi = @import("abi.zig");
const sys = @import("sys.zig");

pub fn make(kind: abi.RecordKind, errno: u16, pid: i32, op_index: i32, syscall: []const u8, path: []const u8) abi.Record {
    var rec = std.mem.zeroes(abi.Record);
    rec.kind = @backingInt(kind);
    rec.errno = errno;
    rec.pid = pid;
    rec.op_index = op_index;
    copyTruncated(&rec.syscall, syscall);
    copyTruncated(&rec.path, path);
    return rec;
}

fn copyTruncated(dest: []u8, src: []const u8) void {
    const n = @min(dest.len - 1, src.len);
    @memcpy(dest[0..n], src[0..n]);
    dest[n] = 0;
}

pub fn send(fd: sys.fd_t, rec: *const abi.Record) void {
    const bytes = std.mem.asBytes(rec);
    var tries: u32 = 0;
    while (tries < 8) : (tries += 1) {
        const rc = sys.write(fd, bytes);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
        }
        return;
    }
}

/// Reads one whole record; null on EOF (the writer exec'd or exited).
pub fn receive(fd: sys.fd_t, rec: *abi.Record) error{ Io, Short }!?void {
    const bytes = std.mem.asBytes(rec);
    var got: usize = 0;
    var tries: u32 = 0;
    while (got < bytes.len and tries < 1024) : (tries += 1) {
        const rc = sys.read(fd, bytes[got..]);
        if (sys.errnoOf(rc)) |e| {
            if (e == sys.EINTR) continue;
            return error.Io;
        }
        if (rc == 0) {
            if (got == 0) return null;
            return error.Short;
        }
        got += rc;
    }
    if (got != bytes.len) return error.Short;
}
