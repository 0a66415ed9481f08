/**
 * Every symbol of libcell, the native core, as Deno.dlopen sees it. This file is the
 * whole FFI boundary: nothing else declares a native call. Results are raw numbers
 * (a value or -errno); `src/syscalls.ts` turns them into values and errors.
 *
 * @module
 */

/** The dlopen symbol table of libcell. */
export const SYMBOLS = {
  cell_abi_version: { parameters: [], result: "u32" },
  /** (plan, plan length, SpawnResult buffer) — blocks until exec, error or ready. */
  cell_spawn: { parameters: ["buffer", "usize", "buffer"], result: "void", nonblocking: true },
  cell_open: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  cell_close: { parameters: ["i32"], result: "i32" },
  cell_write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  cell_pipe: { parameters: ["buffer"], result: "i32" },
  cell_pidfd_open: { parameters: ["i32"], result: "i32" },
  cell_pidfd_signal: { parameters: ["i32", "u32"], result: "i32" },
  cell_kill: { parameters: ["i32", "u32"], result: "i32" },
  cell_reap: { parameters: ["i32", "buffer"], result: "i32" },
  cell_mkdir: { parameters: ["buffer", "u32"], result: "i32" },
  cell_rmdir: { parameters: ["buffer"], result: "i32" },
  cell_mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  cell_write_file: { parameters: ["buffer", "buffer", "usize"], result: "i32" },
  /** (insns, count, cgroup dir, verifier log, log size) */
  cell_bpf_device_filter: {
    parameters: ["buffer", "u32", "buffer", "buffer", "u32"],
    result: "i32",
  },
  cell_eventfd: { parameters: [], result: "i32" },
  cell_inotify_init: { parameters: [], result: "i32" },
  cell_inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  cell_read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  /** cell_read on a worker thread, for a blocking fd (a terminal's master). */
  cell_read_wait: {
    name: "cell_read",
    parameters: ["i32", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  cell_epoll_create: { parameters: [], result: "i32" },
  cell_epoll_add: { parameters: ["i32", "i32"], result: "i32" },
  cell_epoll_del: { parameters: ["i32", "i32"], result: "i32" },
  /** (epfd, out fds, capacity, timeout ms) — blocks in a worker thread. */
  cell_epoll_wait: {
    parameters: ["i32", "buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  cell_socketpair: { parameters: ["buffer"], result: "i32" },
  cell_unix_connect: { parameters: ["buffer"], result: "i32" },
  /** (socket, text buffer, its size) — never blocks: -EAGAIN when nothing is there. */
  cell_recv_fd: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  cell_listen_unix: { parameters: ["buffer"], result: "i32" },
  /** (listening fd, u32 uid out) — blocks in a worker thread until a peer connects. */
  cell_accept_peer: { parameters: ["i32", "buffer"], result: "i32", nonblocking: true },
  cell_shutdown: { parameters: ["i32"], result: "i32" },
  /** (socket, kind, body, body length, i32 fds, fd count) */
  cell_send_frame: {
    parameters: ["i32", "u32", "buffer", "usize", "buffer", "u32"],
    result: "i32",
  },
  /** (socket, body buffer, its size, i32[253] fds out, u32[3] out) — blocks in a worker thread. */
  cell_recv_frame: {
    parameters: ["i32", "buffer", "usize", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /** (netns fd or -1) — a NETLINK_ROUTE socket made inside that network namespace. */
  cell_netlink_open: { parameters: ["i32"], result: "i32" },
  /** (socket, request, its length, reply buffer, its size) — one request, its replies. */
  cell_netlink_call: {
    parameters: ["i32", "buffer", "usize", "buffer", "usize"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's functions. */
export type CellSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
