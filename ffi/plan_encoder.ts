/**
 * The one encoder of plans: typed ops (`src/plan/ops.ts`) to the bytes of docs/abi.md,
 * with the op codes and flag tables of `abi.ts`. Nothing else writes a plan.
 *
 * @module
 */

import type { MountOpFlag, PlanOp, PlanOpName, PlanOpPayloads } from "../src/plan/ops.ts";
import { ABI_VERSION, ExecLabelLsm, HookKind, MountOpFlags, Op, PLAN_MAGIC } from "./abi.ts";

/** Every op name has its code and every opflag its bit (a drift is a type error). */
const CODES: Record<PlanOpName, number> = Op;
const FLAG_BITS: Record<MountOpFlag, number> = MountOpFlags;

/** Turns an fd of the plan into the fd the process that clones will have (-1 stays -1). */
export type FdMap = (fd: number) => number;

/**
 * Encodes a plan: the header, then each op as u32 code, u32 size, payload. `mapFd` renames
 * every fd the plan names, for a plan run by another process that got those fds (the
 * calling `cell` of a resident planner).
 */
export function encodePlan(
  ops: readonly PlanOp[],
  mapFd: FdMap = (fd) => fd,
): Uint8Array<ArrayBuffer> {
  const writer = new PlanWriter(mapFd);
  for (const op of ops) {
    const payload = PAYLOADS[op.op] as (w: PlanWriter, op: PlanOp) => void;
    writer.op(CODES[op.op], (w) => payload(w, op));
  }
  return writer.finish();
}

/** Every fd the plan names (not -1), each once, in the order they appear. */
export function planFds(ops: readonly PlanOp[]): number[] {
  const seen = new Set<number>();
  encodePlan(ops, (fd) => {
    if (fd >= 0) seen.add(fd);
    return fd;
  });
  return [...seen];
}

function opFlags(flags: readonly MountOpFlag[]): number {
  return flags.reduce((bits, flag) => bits | FLAG_BITS[flag], 0);
}

const none = () => {};

/** How each op's payload is written (docs/abi.md, "Plan ops"). */
const PAYLOADS: { [K in PlanOpName]: (w: PlanWriter, op: PlanOpPayloads[K]) => void } = {
  cloneFlags: (w, op) => w.u64(op.flags),
  joinNs: (w, op) => w.u64(op.nsType).str(op.path),
  procWrite: (w, op) => w.str(op.file).str(op.content),
  cgroupProcs: (w, op) => w.str(op.file),
  awaitFd: (w, op) => w.fd(op.fd),
  cloneIntoCgroup: (w, op) => w.str(op.dir),
  idMapHelper: (w, op) => w.str(op.helper).str(op.ranges),
  unshare: (w, op) => w.u64(op.flags),
  mount: (w, op) =>
    w.u32(opFlags(op.opFlags)).u32(op.msFlags).u64(op.magic)
      .str(op.source).str(op.target).str(op.fstype).str(op.data),
  rootfs: (w, op) => w.str(op.path),
  mknod: (w, op) => w.u32(op.mode).u32(op.major).u32(op.minor).u32(op.uid).u32(op.gid).str(op.path),
  symlink: (w, op) => w.str(op.target).str(op.link),
  pivotRoot: none,
  moveRoot: none,
  sethostname: (w, op) => w.str(op.name),
  setdomainname: (w, op) => w.str(op.name),
  writeFile: (w, op) => w.str(op.path).str(op.content),
  rlimit: (w, op) => w.u32(op.resource).u64(op.soft).u64(op.hard),
  maskPath: (w, op) => w.str(op.path),
  readonlyPath: (w, op) => w.str(op.path),
  loopbackUp: none,
  rootReadonly: (w, op) => w.u32(op.recursive ? 1 : 0),
  execFifo: (w, op) => w.fd(op.fd),
  mkdir: (w, op) => w.u32(op.mode).str(op.path),
  becomeRoot: none,
  chroot: (w, op) => w.str(op.path),
  args: (w, op) => w.strList(op.args),
  env: (w, op) => w.strList(op.env),
  cwd: (w, op) => w.str(op.path),
  user: (w, op) => {
    w.u32(op.uid).u32(op.gid).u32(op.additionalGids.length);
    for (const gid of op.additionalGids) w.u32(gid);
  },
  umask: (w, op) => w.u32(op.mask),
  stdio: (w, op) => w.fd(op.fds[0]).fd(op.fds[1]).fd(op.fds[2]),
  fds: (w, op) => {
    w.u32(op.fds.length);
    for (const fd of op.fds) w.fd(fd);
  },
  caps: (w, op) =>
    w.u32(op.lastCap).u64(op.bounding).u64(op.effective).u64(op.permitted)
      .u64(op.inheritable).u64(op.ambient),
  noNewPrivs: none,
  seccomp: (w, op) => w.u32(op.flags).u32(op.program.length / 8).bytes(op.program),
  noSetgroups: none,
  execLabel: (w, op) => w.u32(ExecLabelLsm[op.lsm]).str(op.content),
  consoleSocket: (w, op) => w.fd(op.socket),
  consoleSize: (w, op) => w.u32(op.rows).u32(op.columns),
  ownMemory: none,
  ioPriority: (w, op) => w.u32(op.ioClass).u32(op.level),
  personality: (w, op) => w.u32(op.persona),
  timeNamespace: (w, op) => w.str(op.offsets),
  memoryPolicy: (w, op) => {
    w.u32(op.mode).u32(op.nodes.length);
    for (const node of op.nodes) w.u32(node);
  },
  cpuAffinity: (w, op) => {
    w.u32(op.final ? 1 : 0).u32(op.cpus.length);
    for (const cpu of op.cpus) w.u32(cpu);
  },
  scheduler: (w, op) =>
    w.u32(op.policy).i32(op.nice).u32(op.priority).u32(0).u64(op.flags).u64(op.runtime)
      .u64(op.deadline).u64(op.period),
  mountSetattr: (w, op) =>
    w.u32(opFlags(op.opFlags)).u32(op.recursive ? 1 : 0).u64(op.set).u64(op.clear).str(op.target),
  hideMount: (w, op) => w.str(op.path),
  mountSource: (w, op) => w.str(op.path),
  idmapSource: (w, op) =>
    w.u32(op.recursiveTree ? 1 : 0).u32(op.recursiveMap ? 1 : 0).str(op.source)
      .str(op.uidMap).str(op.gidMap),
  seccompListener: (w, op) => w.fd(op.socket).strList(op.pieces),
  hooksPause: (w, op) => w.fd(op.notify).fd(op.resume),
  hook: (w, op) =>
    w.u32(HookKind[op.kind]).u32(op.index).u32(op.timeout).str(op.path)
      .strList(op.args).strList(op.env).strList(op.pieces),
  hookReport: (w, op) => w.fd(op.fd),
  tmpfsCopyup: (w, op) => w.u32(op.msFlags).str(op.target).str(op.data),
};
/** And every op code has its payload. */
const _EVERY_CODE_WRITTEN: Record<keyof typeof Op, unknown> = PAYLOADS;

/**
 * Builds a plan: header, then ops of u32 code, u32 size, payload. Integers are
 * little-endian; strings are u32 length, bytes, NUL, padding to 4. Everything is
 * written into one growing buffer.
 */
class PlanWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 16;
  #count = 0;
  #encoder = new TextEncoder();
  #mapFd: FdMap;

  /** A writer whose fd fields go through `mapFd`. */
  constructor(mapFd: FdMap) {
    this.#mapFd = mapFd;
  }

  /** Appends one op; `build` writes its payload with the writer's field methods. */
  op(code: number, build?: (w: PlanWriter) => void): this {
    const start = this.#at;
    this.u32(code).u32(0);
    build?.(this);
    this.#view.setUint32(start + 4, this.#at - start, true);
    this.#count++;
    return this;
  }

  /** A u32 field. */
  u32(value: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#at, value >>> 0, true);
    this.#at += 4;
    return this;
  }

  /** An i32 field. */
  i32(value: number): this {
    this.#reserve(4);
    this.#view.setInt32(this.#at, value, true);
    this.#at += 4;
    return this;
  }

  /** An fd field (i32, -1 for none), renamed by the writer's fd map. */
  fd(value: number): this {
    return this.i32(value < 0 ? value : this.#mapFd(value));
  }

  /** A u64 field. */
  u64(value: bigint | number): this {
    this.#reserve(8);
    if (typeof value === "number" && value >= 0 && value <= 0xffffffff) {
      this.#view.setUint32(this.#at, value, true);
      this.#view.setUint32(this.#at + 4, 0, true);
    } else {
      this.#view.setBigUint64(this.#at, BigInt.asUintN(64, BigInt(value)), true);
    }
    this.#at += 8;
    return this;
  }

  /** A string field. */
  str(value: string): this {
    this.#reserve(4 + value.length * 3 + 4);
    const { written } = this.#encoder.encodeInto(value, this.#buf.subarray(this.#at + 4));
    this.#view.setUint32(this.#at, written, true);
    const end = this.#at + 4 + written;
    const padded = (end + 1 + 3) & ~3;
    this.#buf.fill(0, end, padded);
    this.#at = padded;
    return this;
  }

  /** Raw bytes, padded to a multiple of 4 (the op says how many there are). */
  bytes(value: Uint8Array): this {
    const padded = (value.length + 3) & ~3;
    this.#reserve(padded);
    this.#buf.set(value, this.#at);
    this.#buf.fill(0, this.#at + value.length, this.#at + padded);
    this.#at += padded;
    return this;
  }

  /** A list of strings: u32 count, then each string. */
  strList(values: readonly string[]): this {
    this.u32(values.length);
    for (const v of values) this.str(v);
    return this;
  }

  /** The finished plan (a copy, so the writer may be dropped). */
  finish(): Uint8Array<ArrayBuffer> {
    this.#view.setUint32(0, PLAN_MAGIC, true);
    this.#view.setUint32(4, ABI_VERSION, true);
    this.#view.setUint32(8, this.#at, true);
    this.#view.setUint32(12, this.#count, true);
    return this.#buf.slice(0, this.#at);
  }

  #reserve(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
