//! The plan's byte format (docs/abi.md, "Plan encoding"): the header, each op's code and
//! size, and the little-endian ints and padded strings payloads are made of. What each
//! op's payload holds is payload.zig's.

const std = @import("std");
const abi = @import("abi.zig");

pub const Error = error{ Truncated, BadMagic, BadVersion, BadString, BadOp, TooMany };

/// The most ops a plan may have.
pub const max_ops = 4096;

/// A cursor over one op's payload.
pub const Reader = struct {
    bytes: []const u8,
    pos: usize = 0,

    pub fn int(self: *Reader, comptime T: type) Error!T {
        const n = @sizeOf(T);
        if (self.pos + n > self.bytes.len) return error.Truncated;
        const v = std.mem.readInt(T, self.bytes[self.pos..][0..n], .little);
        self.pos += n;
        return v;
    }

    /// u32 length, bytes, NUL, padding to 4. Returns the bytes with their NUL.
    pub fn str(self: *Reader) Error![:0]const u8 {
        const len = try self.int(u32);
        if (self.pos + len + 1 > self.bytes.len) return error.Truncated;
        if (self.bytes[self.pos + len] != 0) return error.BadString;
        const s = self.bytes[self.pos .. self.pos + len :0];
        if (std.mem.indexOfScalar(u8, s, 0) != null) return error.BadString;
        self.pos = std.mem.alignForward(usize, self.pos + len + 1, 4);
        return s;
    }

    /// A string, or null when it is empty (for optional mount arguments).
    pub fn optStr(self: *Reader) Error!?[*:0]const u8 {
        const s = try self.str();
        return if (s.len == 0) null else s.ptr;
    }

    /// The next `n` bytes as they are.
    pub fn raw(self: *Reader, n: usize) Error![]const u8 {
        if (n > self.bytes.len - self.pos) return error.Truncated;
        const bytes = self.bytes[self.pos..][0..n];
        self.pos += n;
        return bytes;
    }
};

pub const OpView = struct { code: abi.Op, index: u32, body: []const u8 };

/// Walks the ops of a plan in order: at most `count` (from the header) steps.
pub const Iterator = struct {
    buf: []const u8,
    pos: usize,
    index: u32 = 0,
    count: u32,

    pub fn init(buf: []const u8) Error!Iterator {
        var header = Reader{ .bytes = buf };
        if (try header.int(u32) != abi.plan_magic) return error.BadMagic;
        if (try header.int(u32) != abi.version) return error.BadVersion;
        const total = try header.int(u32);
        if (total != buf.len) return error.Truncated;
        const count = try header.int(u32);
        return .{ .buf = buf, .pos = header.pos, .count = count };
    }

    pub fn next(self: *Iterator) Error!?OpView {
        if (self.index == self.count) {
            if (self.pos != self.buf.len) return error.Truncated;
            return null;
        }
        var head = Reader{ .bytes = self.buf, .pos = self.pos };
        const code = try head.int(u32);
        const size = try head.int(u32);
        if (size < 8 or size % 4 != 0 or self.pos + size > self.buf.len) return error.Truncated;
        const view = OpView{
            .code = @fromBackingInt(@intCast(code)),
            .index = self.index,
            .body = self.buf[self.pos + 8 .. self.pos + size],
        };
        self.pos += size;
        self.index += 1;
        std.debug.assert(self.pos <= self.buf.len and view.body.len % 4 == 0);
        return view;
    }
};
