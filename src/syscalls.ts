/**
 * The only TypeScript that calls into ffi/. Each function returns a value or throws
 * a ContainerError with code SystemError carrying the syscall, errno and path.
 *
 * @module
 */

import { decodeSpawnResult, SPAWN_RESULT_SIZE, type SpawnResult } from "../ffi/abi.ts";

export { decodeRecord } from "../ffi/abi.ts";
export { encodePlan } from "../ffi/plan_encoder.ts";
import { loadLibrary } from "../ffi/library.ts";
import { ContainerError } from "./errors.ts";

import { ERRNO as ERRNO_TABLE, errnoNameOf } from "./errno.ts";

/** The errno name for a number, e.g. 1 → "EPERM". */
export function errnoName(errno: number): string {
  return errnoNameOf(errno) ?? `errno ${errno}`;
}

/** Makes the SystemError for a failed syscall. */
export function systemError(
  syscall: string,
  errno: number,
  path?: string,
  message?: string,
): ContainerError {
  const name = errnoName(errno);
  const where = path ? ` "${path}"` : "";
  return new ContainerError("SystemError", message ?? `${syscall}${where}: ${name}`, {
    syscall,
    errno,
    errnoName: name,
    path,
  });
}

const lib = () => loadLibrary();
const encoder = new TextEncoder();

function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(encoder.encode(s).length + 1);
  encoder.encodeInto(s, b);
  return b;
}

function check(rc: number, syscall: string, path?: string): number {
  if (rc < 0) throw systemError(syscall, -rc, path);
  return rc;
}

/** open(2) flags cell uses from TypeScript. */
export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, PATH: 0o10000000 } as const;

/** Opens a path; the fd is close-on-exec. */
export function open(path: string, flags: number, mode = 0): number {
  return check(lib().cell_open(cstr(path), flags, mode), "open", path);
}

/** Closes an fd, ignoring errors (there is nothing to do about them). */
export function close(fd: number): void {
  if (fd >= 0) lib().cell_close(fd);
}

/** mkdir(2) without exceptions: 0, or -errno (e.g. -EEXIST). */
export function mkdirRaw(path: string, mode = 0o755): number {
  return lib().cell_mkdir(cstr(path), mode);
}

/** rmdir(2) without exceptions: 0, or -errno. */
export function rmdirRaw(path: string): number {
  return lib().cell_rmdir(cstr(path));
}

/** mkfifo(2) (the mode is masked by the umask); throws SystemError. */
export function mkfifo(path: string, mode: number): void {
  check(lib().cell_mkfifo(cstr(path), mode), "mknod", path);
}

/** Writes a value to an existing file in one write(2); bytes written or -errno. */
export function writeFileRaw(path: string, value: string): number {
  const data = encoder.encode(value);
  return lib().cell_write_file(cstr(path), data, BigInt(data.length));
}

/** Writes a value to an existing file in one write(2) (cgroup and /proc files). */
export function writeFile(path: string, value: string): void {
  const data = encoder.encode(value);
  const rc = lib().cell_write_file(cstr(path), data, BigInt(data.length));
  if (rc < 0) {
    throw systemError("write", -rc, path, `write "${value}" to ${path}: ${errnoName(-rc)}`);
  }
}

/** Loads and attaches a cgroup device-filter program; the verifier's log on refusal. */
export function attachDeviceFilter(program: Uint8Array<ArrayBuffer>, cgroupDir: string): void {
  const log = new Uint8Array(4096);
  const rc = lib().cell_bpf_device_filter(
    program,
    program.length / 8,
    cstr(cgroupDir),
    log,
    log.length,
  );
  if (rc < 0) {
    const end = log.indexOf(0);
    const text = new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)).trim();
    const detail = text ? `\n${text}` : "";
    throw systemError(
      "bpf",
      -rc,
      cgroupDir,
      `cannot attach the device filter to ${cgroupDir}: ${errnoName(-rc)}${detail}`,
    );
  }
}

/** A non-blocking eventfd. */
export function eventfd(): number {
  return check(lib().cell_eventfd(), "eventfd2");
}

/** A non-blocking inotify instance. */
export function inotifyInit(): number {
  return check(lib().cell_inotify_init(), "inotify_init1");
}

/** Watches `path` for the events in `mask`. */
export function inotifyAddWatch(fd: number, path: string, mask: number): number {
  return check(lib().cell_inotify_add_watch(fd, cstr(path), mask), "inotify_add_watch", path);
}

/** read(2) on a non-blocking fd: the bytes, or null when there is nothing (EAGAIN). */
export function readFd(fd: number, size: number): Uint8Array | null {
  const buf = new Uint8Array(size);
  const rc = lib().cell_read(fd, buf, BigInt(size));
  if (rc === -ERRNO.EAGAIN) return null;
  check(rc, "read");
  return buf.subarray(0, rc);
}

/** errno numbers cell branches on. */
export const ERRNO = ERRNO_TABLE;

/** Writes a string to an fd in one write(2). */
export function writeFd(fd: number, value: string): void {
  const data = encoder.encode(value);
  check(lib().cell_write(fd, data, BigInt(data.length)), "write");
}

/** Writes all of `data` to a blocking fd; throws SystemError. */
export function writeAll(fd: number, data: Uint8Array<ArrayBuffer>): void {
  let done = 0;
  for (let tries = 0; done < data.length && tries < 1_000_000; tries++) {
    const rc = lib().cell_write(fd, data.subarray(done), BigInt(data.length - done));
    if (rc === -ERRNO.EINTR || rc === -ERRNO.EAGAIN) continue;
    done += check(rc, "write");
  }
}

/**
 * read(2) of a blocking fd on a worker thread: the bytes, or null at end of file or on
 * an error such as EIO (a terminal whose other side is closed).
 */
export async function readWait(fd: number, size: number): Promise<Uint8Array | null> {
  const buf = new Uint8Array(size);
  for (let tries = 0; tries < 1000; tries++) {
    const rc = await lib().cell_read_wait(fd, buf, BigInt(size));
    if (rc === -ERRNO.EINTR) continue;
    return rc > 0 ? buf.subarray(0, rc) : null;
  }
  return null;
}

/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(lib().cell_pipe(fds), "pipe2");
  return [fds[0], fds[1]];
}

/** A connected pair of close-on-exec AF_UNIX stream sockets. */
export function socketpair(): [number, number] {
  const fds = new Int32Array(2);
  check(lib().cell_socketpair(fds), "socketpair");
  return [fds[0], fds[1]];
}

/** A close-on-exec AF_UNIX stream socket connected to `path` (runc's --console-socket). */
export function unixConnect(path: string): number {
  return check(lib().cell_unix_connect(cstr(path)), "connect", path);
}

/**
 * Receives one fd sent with SCM_RIGHTS (close-on-exec) and the text sent with it (a
 * console socket gets the terminal's master and its name, `/dev/pts/N`). Never blocks:
 * null when nothing is there yet.
 * @throws ContainerError SystemError, errno ENOMSG when a message came without an fd
 * or the peer closed.
 */
export function recvFd(socket: number): { fd: number; text: string } | null {
  const text = new Uint8Array(256);
  const rc = lib().cell_recv_fd(socket, text, BigInt(text.length));
  if (rc === -ERRNO.EAGAIN) return null;
  const fd = check(rc, "recvmsg");
  const end = text.indexOf(0);
  return { fd, text: new TextDecoder().decode(text.subarray(0, end < 0 ? text.length : end)) };
}

/**
 * A close-on-exec AF_UNIX stream socket bound to `path` (mode 0600) and listening (the
 * planner's socket). The caller removes a stale socket file first.
 * @throws ContainerError SystemError (EADDRINUSE when `path` exists).
 */
export function listenUnix(path: string): number {
  return check(lib().cell_listen_unix(cstr(path)), "bind", path);
}

/**
 * Waits on a worker thread for the next connection to a listening socket: its fd
 * (close-on-exec) and the peer's uid and pid (SO_PEERCRED), or null once the listener was shut
 * down with {@linkcode shutdownSocket}.
 * @throws ContainerError SystemError on any other failure.
 */
export async function acceptPeer(
  fd: number,
): Promise<{ fd: number; uid: number; pid: number } | null> {
  const peer = new Uint32Array(2);
  const rc = await lib().cell_accept_peer(fd, peer);
  if (rc === -ERRNO.EINVAL) return null;
  return { fd: check(rc, "accept4"), uid: peer[0], pid: peer[1] };
}

/** shutdown(2) SHUT_RDWR: ends a socket both ways and wakes an {@linkcode acceptPeer}. */
export function shutdownSocket(fd: number): void {
  check(lib().cell_shutdown(fd), "shutdown");
}

/** The largest body a planner-protocol frame may carry (docs/planner.md). */
export const FRAME_MAX_BODY = 16 * 1024 * 1024;
/** The most fds one frame carries. */
export const FRAME_MAX_FDS = 253;
/** Stands in for an empty body or fd list (a zero-length buffer may pass as a null pointer). */
const NOTHING = new Uint8Array(1);

/**
 * Sends one planner-protocol frame (docs/planner.md): the header and `body` in one
 * sendmsg, `fds` (at most 253) attached as SCM_RIGHTS. Blocks until the socket takes it.
 * @throws ContainerError SystemError (EPIPE when the peer closed).
 */
export function sendFrame(
  fd: number,
  kind: number,
  body: Uint8Array,
  fds: readonly number[] = [],
): void {
  if (fds.length > FRAME_MAX_FDS) throw systemError("sendmsg", ERRNO.EINVAL);
  const bytes = body.length > 0 ? body as Uint8Array<ArrayBuffer> : NOTHING;
  const list = fds.length > 0 ? new Int32Array(fds) : NOTHING;
  check(
    lib().cell_send_frame(fd, kind, bytes, BigInt(body.length), list, fds.length),
    "sendmsg",
  );
}

/**
 * Receives one planner-protocol frame on a worker thread: its kind, body and fds
 * (close-on-exec, owned by the caller), or null when the peer closed before a header.
 * @param maxBody the largest body accepted (default 1 MiB); a longer one throws EMSGSIZE
 * and leaves the stream out of step (close it).
 * @throws ContainerError SystemError (ECONNRESET: the peer closed inside a frame).
 */
export async function recvFrame(
  fd: number,
  maxBody: number = 1024 * 1024,
): Promise<{ kind: number; body: Uint8Array; fds: number[] } | null> {
  const cap = Math.min(maxBody, FRAME_MAX_BODY);
  const buf = new Uint8Array(Math.max(1, cap));
  const fds = new Int32Array(FRAME_MAX_FDS);
  const meta = new Uint32Array(3);
  const rc = await lib().cell_recv_frame(fd, buf, BigInt(cap), fds, meta);
  if (rc === 1) return null;
  check(rc, "recvmsg");
  return { kind: meta[0], body: buf.slice(0, meta[1]), fds: Array.from(fds.subarray(0, meta[2])) };
}

/** A pidfd for a pid. */
export function pidfdOpen(pid: number): number {
  return check(lib().cell_pidfd_open(pid), "pidfd_open", `/proc/${pid}`);
}

/** Sends a signal through a pidfd; false when the process is already gone (ESRCH). */
export function pidfdSignal(pidfd: number, signal: number): boolean {
  const rc = lib().cell_pidfd_signal(pidfd, signal);
  if (rc === -ERRNO_TABLE.ESRCH) return false;
  check(rc, "pidfd_send_signal");
  return true;
}

/** kill(2); false when the process is already gone (ESRCH). */
export function kill(pid: number, signal: number): boolean {
  const rc = lib().cell_kill(pid, signal);
  if (rc === -ERRNO_TABLE.ESRCH) return false;
  check(rc, "kill", `/proc/${pid}`);
  return true;
}

/** How a process ended. */
export interface Exit {
  /** The exit code, or null when a signal killed it. */
  code: number | null;
  /** The signal number that killed it, or null. */
  signal: number | null;
}

/** Reaps an exited child through its pidfd; null while it still runs. */
export function reap(pidfd: number): Exit | null {
  const out = new Int32Array(2);
  const rc = check(lib().cell_reap(pidfd, out), "waitid");
  if (rc === 0) return null;
  return out[0] === 1 ? { code: out[1], signal: null } : { code: null, signal: out[1] };
}

/** An epoll set for pidfds. */
export function epollCreate(): number {
  return check(lib().cell_epoll_create(), "epoll_create1");
}

/** Watches an fd for readability. */
export function epollAdd(epfd: number, fd: number): void {
  check(lib().cell_epoll_add(epfd, fd), "epoll_ctl");
}

/** Stops watching an fd. */
export function epollDel(epfd: number, fd: number): void {
  lib().cell_epoll_del(epfd, fd);
}

/** Waits in a worker thread; resolves to the ready fds. */
export async function epollWait(epfd: number, timeoutMs: number): Promise<number[]> {
  const out = new Int32Array(64);
  const n = check(await lib().cell_epoll_wait(epfd, out, out.length, timeoutMs), "epoll_wait");
  return Array.from(out.subarray(0, n));
}

/** Runs a plan (see docs/abi.md; made by `encodePlan`) in a worker thread. */
export async function spawn(plan: Uint8Array<ArrayBuffer>): Promise<SpawnResult> {
  const result = new Uint8Array(SPAWN_RESULT_SIZE);
  await lib().cell_spawn(plan, BigInt(plan.length), result);
  return decodeSpawnResult(result);
}

/**
 * A NETLINK_ROUTE socket (close-on-exec, extended acks on) made inside the network namespace
 * `netnsFd` (an fd of `/proc/<pid>/ns/net`), or in the caller's own for -1. Close it with
 * {@linkcode close}.
 */
export function netlinkOpen(netnsFd: number): number {
  return check(lib().cell_netlink_open(netnsFd), "socket(AF_NETLINK)");
}

/**
 * Sends one whole netlink request and returns the replies of its sequence number, up to and
 * including the ack (NLMSG_ERROR) or the end of the dump (NLMSG_DONE), as raw bytes (parse them
 * with src/network/netlink_message.ts). A kernel refusal comes back inside the replies, not as
 * a throw; this throws only when the exchange itself fails (ENOBUFS: more than `capacity`).
 */
export function netlinkCall(
  fd: number,
  request: Uint8Array<ArrayBuffer>,
  capacity: number,
): Uint8Array<ArrayBuffer> {
  const reply = new Uint8Array(capacity);
  const n = check(
    lib().cell_netlink_call(fd, request, BigInt(request.length), reply, BigInt(capacity)),
    "netlink",
  );
  return reply.slice(0, n);
}
