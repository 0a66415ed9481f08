/**
 * Run as a separate Deno process by tests/kernel/seccomp_kernel_test.ts: loads a seccomp filter into itself
 * with `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog)` (after
 * `PR_SET_NO_NEW_PRIVS`), then makes the syscalls it is asked to through libc's
 * `syscall()` and prints one JSON line: for each call, its return value and errno.
 *
 * The filter applies to the calling thread only (no TSYNC), which is the thread that runs
 * the JavaScript and so makes the FFI calls below.
 *
 * usage: deno run -A seccomp_child.ts BASE64_PROGRAM CALLS_JSON
 * where CALLS_JSON is `[{ "nr": number, "args": (number | string)[] }, ...]`; a string
 * argument is passed as a pointer to a NUL-terminated copy of it.
 *
 * @module
 */

const PR_SET_SECCOMP = 22;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_MODE_FILTER = 2;

const libc = Deno.dlopen("libc.so.6", {
  prctl: { parameters: ["i32", "u64", "pointer", "u64", "u64"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
});

function errno(): number {
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}

const [b64, callsJson] = Deno.args;
const program = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const calls = JSON.parse(callsJson) as { nr: number; args: (number | string)[] }[];

// Keep every buffer referenced until the end so no pointer dangles.
const keep: Uint8Array[] = [program];
const pointerTo = (buf: Uint8Array): bigint => {
  keep.push(buf);
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
};

// struct sock_fprog { unsigned short len; /* pad */ struct sock_filter *filter; }
const fprog = new Uint8Array(16);
const view = new DataView(fprog.buffer);
view.setUint16(0, program.length / 8, true);
view.setBigUint64(8, pointerTo(program), true);

if (libc.symbols.prctl(PR_SET_NO_NEW_PRIVS, 1n, null, 0n, 0n) !== 0) {
  throw new Error(`PR_SET_NO_NEW_PRIVS failed: errno ${errno()}`);
}
keep.push(fprog);
if (
  libc.symbols.prctl(
    PR_SET_SECCOMP,
    BigInt(SECCOMP_MODE_FILTER),
    Deno.UnsafePointer.of(fprog),
    0n,
    0n,
  ) !== 0
) {
  throw new Error(`PR_SET_SECCOMP failed: errno ${errno()}`);
}

const results = calls.map(({ nr, args }) => {
  const a = [0, 1, 2, 3].map((i) => {
    const v = args[i] ?? 0;
    return typeof v === "string" ? pointerTo(new TextEncoder().encode(v + "\0")) : BigInt(v);
  });
  const ret = libc.symbols.syscall(BigInt(nr), a[0], a[1], a[2], a[3]);
  const err = ret === -1n ? errno() : 0;
  return { ret: Number(ret), errno: err };
});
console.log(JSON.stringify(results));
