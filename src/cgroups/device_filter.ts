/**
 * Device cgroup rules compiled to an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), the
 * cgroup v2 form of v1's devices.allow/deny. Rules are read last to first, the first
 * match decides, and a device no rule matches is allowed (a new v1 cgroup allows
 * everything until a rule says otherwise).
 *
 * @module
 */

import type { DeviceRule } from "../config/types.ts";

/** The device rules runc allows on top of the config's, so /dev basics keep working. */
export const DEFAULT_ALLOWED_RULES: DeviceRule[] = [
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map((
    [major, minor],
  ): DeviceRule => ({ allow: true, type: "c", major, minor, access: "rwm" })),
  { allow: true, type: "c", major: 136, access: "rwm" },
];

// Opcodes (linux/bpf.h).
const LDX_W_MEM = 0x61, ALU64_AND_K = 0x57, ALU64_RSH_K = 0x77, ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf, JMP_JNE_K = 0x55, JMP_EXIT = 0x95;
// bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor.
const TYPE_BLOCK = 1, TYPE_CHAR = 2;
const ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** The program for `rules` (in config order), as 8-byte instructions. */
export function compileDeviceFilter(rules: readonly DeviceRule[]): Uint8Array<ArrayBuffer> {
  const prog: Insn[] = [
    insn(LDX_W_MEM, 2, 1, 0, 0), // r2 = access_type
    insn(ALU64_AND_K, 2, 0, 0, 0xffff), // r2 = device type
    insn(LDX_W_MEM, 3, 1, 0, 0),
    insn(ALU64_RSH_K, 3, 0, 0, 16), // r3 = access asked
    insn(LDX_W_MEM, 4, 1, 4, 0), // r4 = major
    insn(LDX_W_MEM, 5, 1, 8, 0), // r5 = minor
  ];
  let decided = false;
  for (const rule of [...rules].reverse()) {
    const block = ruleBlock(rule);
    prog.push(...block);
    // A rule that matches everything decides; what follows could never run, and the
    // verifier refuses unreachable instructions.
    if (block.length === 2) {
      decided = true;
      break;
    }
  }
  if (!decided) prog.push(insn(ALU64_MOV_K, 0, 0, 0, 1), insn(JMP_EXIT, 0, 0, 0, 0));
  const out = new Uint8Array(prog.length * 8);
  const view = new DataView(out.buffer);
  prog.forEach((p, i) => {
    view.setUint8(i * 8, p.code);
    view.setUint8(i * 8 + 1, (p.src << 4) | p.dst);
    view.setInt16(i * 8 + 2, p.off, true);
    view.setInt32(i * 8 + 4, p.imm, true);
  });
  return out;
}

/** Tests for one rule, each jumping past the block on a mismatch, then the verdict. */
function ruleBlock(rule: DeviceRule): Insn[] {
  const tests: Insn[][] = [];
  if (rule.type && rule.type !== "a") {
    tests.push([insn(JMP_JNE_K, 2, 0, 0, rule.type === "b" ? TYPE_BLOCK : TYPE_CHAR)]);
  }
  const allowed = [...rule.access ?? "rwm"].reduce((n, c) => n | ACCESS[c], 0);
  if (allowed !== 7) {
    // Matches only when every access asked is one the rule names.
    tests.push([
      insn(ALU64_MOV_X, 6, 3, 0, 0),
      insn(ALU64_AND_K, 6, 0, 0, ~allowed & 7),
      insn(JMP_JNE_K, 6, 0, 0, 0),
    ]);
  }
  if (rule.type !== "a") {
    if (rule.major !== undefined) tests.push([insn(JMP_JNE_K, 4, 0, 0, rule.major)]);
    if (rule.minor !== undefined) tests.push([insn(JMP_JNE_K, 5, 0, 0, rule.minor)]);
  }
  const verdict = [insn(ALU64_MOV_K, 0, 0, 0, rule.allow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0)];
  const flat = tests.flat();
  // Each jump skips the rest of the block: the instructions after it.
  const total = flat.length + verdict.length;
  flat.forEach((ins, i) => {
    if (ins.code === JMP_JNE_K) ins.off = total - i - 1;
  });
  return [...flat, ...verdict];
}
