/**
 * The code generator: a checked profile and its syscalls' decisions as one classic BPF
 * program. The layout: check the arch, (x86_64) refuse x32, load `nr`, a balanced binary
 * search over the syscall numbers (runs of numbers with one unconditional action share a
 * leaf), per-syscall argument trees, and the assembler's shared pool of return
 * instructions.
 *
 * @module
 */

import { addProblem, type Problems } from "../config/problems.ts";
import { Assembler, BPF, type Label } from "./assembler.ts";
import {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  ENOSYS,
  SECCOMP_DATA,
  SECCOMP_RET,
  type SeccompTarget,
  syscallNumber,
  U32_MAX,
  X32_SYSCALL_BIT,
} from "./kernel.ts";
import { type Profile, PROFILE_PATH } from "./profile.ts";
import { isAction, isLevel, type Outcome, type SyscallDecision, type TreeNode } from "./tree.ts";

/** What the accumulator holds: a `seccomp_data` word, ANDed with a mask. */
interface Acc {
  off: number;
  mask: number;
}

/** Emits a level of a syscall's tree; `fail` is where to go when no node decides. */
function emitLevel(asm: Assembler, level: TreeNode[], fail: Label, accIn: Acc | null): void {
  let acc = accIn;
  level.forEach((node, i) => {
    const last = i === level.length - 1;
    const next = last ? fail : asm.label();
    const after = emitNode(asm, node, next, acc);
    // The next sibling is entered from this node's test alone when the node has no
    // subtree, so the accumulator is still what the test saw.
    acc = isLevel(node.t) || isLevel(node.f) ? null : after;
    if (!last) asm.bind(next);
  });
}

function emitNode(
  asm: Assembler,
  node: TreeNode,
  fail: Label,
  accIn: Acc | null,
): Acc | null {
  if (node.mask === 0) {
    // (word & 0) == 0 always holds (a MASKED_EQ mask with no bits in this word).
    if (isLevel(node.t)) emitLevel(asm, node.t, fail, accIn);
    else if (isAction(node.t)) asm.emit(BPF.RET_K, node.t.action);
    else asm.emit(BPF.JA, 0, undefined, undefined, fail);
    return accIn;
  }
  const off = SECCOMP_DATA.ARGS + node.arg * 8 + (node.hi ? 4 : 0); // little-endian: low word first
  let acc = accIn;
  if (!acc || acc.off !== off || (node.mask & acc.mask) >>> 0 !== node.mask) {
    asm.emit(BPF.LD_W_ABS, off);
    acc = { off, mask: U32_MAX };
  }
  if (node.mask !== acc.mask) {
    asm.emit(BPF.AND_K, node.mask);
    acc = { off, mask: node.mask };
  }
  const target = (o: Outcome): { label: Label; level?: TreeNode[] } => {
    if (o === null) return { label: fail };
    if (isAction(o)) return { label: asm.ret(o.action) };
    return { label: asm.label(), level: o };
  };
  const t = target(node.t), f = target(node.f);
  const code = node.test === "EQ" ? BPF.JEQ_K : node.test === "GT" ? BPF.JGT_K : BPF.JGE_K;
  asm.emit(code, node.datum, t.label, f.label);
  for (const side of [t, f]) {
    if (!side.level) continue;
    asm.bind(side.label);
    emitLevel(asm, side.level, fail, acc);
  }
  return acc;
}

/** A run of syscall numbers [start, next start) with one decision. */
interface Interval {
  start: number;
  ret?: number;
  nr?: number;
  decision?: SyscallDecision;
}

/**
 * runc's -ENOSYS stub: with a default action that refuses (not allow, log or trace), a
 * syscall numbered above every syscall the profile names is newer than the profile, and
 * gets ENOSYS (so a program falls back to an older call) instead of the default. As runc,
 * only when `architectures` lists the target (or native) architecture. Returns the first
 * such number, or undefined.
 */
function enosysFrom(p: Profile, arch: SeccompTarget): number | undefined {
  const permissive = p.defaultAction === SECCOMP_RET.ALLOW ||
    p.defaultAction === SECCOMP_RET.LOG ||
    (p.defaultAction & 0xffff0000) >>> 0 === SECCOMP_RET.TRACE;
  if (permissive || p.defaultAction === ((SECCOMP_RET.ERRNO | ENOSYS) >>> 0)) return undefined;
  const own = arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64";
  if (!p.architectures.some((a) => a === own || a === "SCMP_ARCH_NATIVE")) return undefined;
  let last = -1;
  for (const name of p.names) last = Math.max(last, syscallNumber(arch, name) ?? -1);
  return last > 0 ? last + 1 : undefined;
}

function intervals(
  decisions: Map<number, SyscallDecision>,
  defaultAction: number,
  enosys?: { from: number; to: number },
): Interval[] {
  const out: Interval[] = [];
  const push = (iv: Interval) => {
    const prev = out[out.length - 1];
    if (prev && iv.ret !== undefined && prev.ret === iv.ret) return; // same action: extend
    out.push(iv);
  };
  let cursor = 0;
  for (const nr of [...decisions.keys()].sort((a, b) => a - b)) {
    const d = decisions.get(nr)!;
    if (d.uncond === null && d.tree.length === 0) continue;
    if (nr > cursor) push({ start: cursor, ret: defaultAction });
    push(d.uncond !== null ? { start: nr, ret: d.uncond } : { start: nr, nr, decision: d });
    cursor = nr + 1;
  }
  if (enosys !== undefined) {
    // Every named number is below `from`, so the decided ones all are.
    if (cursor < enosys.from) push({ start: cursor, ret: defaultAction });
    push({ start: enosys.from, ret: (SECCOMP_RET.ERRNO | ENOSYS) >>> 0 });
    cursor = enosys.to + 1;
  }
  if (cursor <= U32_MAX) push({ start: cursor, ret: defaultAction });
  return out;
}

/** A balanced search over the intervals; the accumulator holds `nr` throughout. */
function emitDispatch(
  asm: Assembler,
  ivs: Interval[],
  lo: number,
  hi: number,
  defaultAction: number,
): void {
  if (lo === hi) {
    const iv = ivs[lo];
    if (iv.ret !== undefined) {
      asm.emit(BPF.RET_K, iv.ret);
    } else {
      emitLevel(asm, iv.decision!.tree, asm.ret(defaultAction), {
        off: SECCOMP_DATA.NR,
        mask: U32_MAX,
      });
    }
    return;
  }
  const mid = (lo + hi + 1) >> 1;
  const below = asm.label(), above = asm.label();
  asm.emit(BPF.JGE_K, ivs[mid].start, above, below);
  asm.bind(below);
  emitDispatch(asm, ivs, lo, mid - 1, defaultAction);
  asm.bind(above);
  emitDispatch(asm, ivs, mid, hi, defaultAction);
}

/**
 * The program for `profile` on `arch`, whose syscalls `decisions` decide. Records a
 * problem and returns `undefined` when it is longer than the kernel allows.
 */
export function generateProgram(
  problems: Problems,
  profile: Profile,
  decisions: Map<number, SyscallDecision>,
  arch: SeccompTarget,
): Uint8Array | undefined {
  const asm = new Assembler();
  const badArch = asm.ret(SECCOMP_RET.KILL_THREAD);
  const dispatch = asm.label();

  asm.emit(BPF.LD_W_ABS, SECCOMP_DATA.ARCH);
  const archOk = asm.label();
  asm.emit(BPF.JEQ_K, AUDIT_ARCH[arch], archOk, badArch);
  asm.bind(archOk);
  asm.emit(BPF.LD_W_ABS, SECCOMP_DATA.NR);
  if (arch === "x86_64") {
    // x32 calls (bit 30) are another ABI: bad arch, except nr -1 which a tracer may set.
    const x32 = asm.label();
    asm.emit(BPF.JGE_K, X32_SYSCALL_BIT, x32, dispatch);
    asm.bind(x32);
    asm.emit(BPF.JEQ_K, U32_MAX, dispatch, badArch);
  }
  asm.bind(dispatch);
  const from = enosysFrom(profile, arch);
  // On x86_64 only nr -1 reaches here from above the x32 bit: it keeps the default.
  const to = arch === "x86_64" ? X32_SYSCALL_BIT - 1 : U32_MAX;
  const ivs = intervals(
    decisions,
    profile.defaultAction,
    from === undefined ? undefined : { from, to },
  );
  emitDispatch(asm, ivs, 0, ivs.length - 1, profile.defaultAction);
  const program = asm.finish();
  const length = program.length / 8;
  if (length > BPF_MAXINSNS) {
    const message = `the filter needs ${length} instructions, the kernel allows ${BPF_MAXINSNS}`;
    addProblem(problems, PROFILE_PATH, message);
    return undefined;
  }
  return program;
}
