/**
 * A classic BPF interpreter for seccomp filters, for tests: runs a program of 8-byte
 * `struct sock_filter` entries on a `seccomp_data` and returns the 32-bit action. It also
 * checks a program the way the kernel's seccomp checker would (opcodes, in-range jumps,
 * aligned loads inside `seccomp_data`, a return at the end).
 *
 * @module
 */

/** The input of a seccomp filter. Arguments are 64-bit. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly bigint[];
}

/** One decoded `struct sock_filter`. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const SECCOMP_DATA_SIZE = 64;

/** Decodes a program of 8-byte little-endian entries. */
export function decode(program: Uint8Array): SockFilter[] {
  if (program.length % 8 !== 0) {
    throw new Error(`program length ${program.length} is not a multiple of 8`);
  }
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: SockFilter[] = [];
  for (let i = 0; i < program.length; i += 8) {
    out.push({
      code: view.getUint16(i, true),
      jt: view.getUint8(i + 2),
      jf: view.getUint8(i + 3),
      k: view.getUint32(i + 4, true),
    });
  }
  return out;
}

function encodeData(d: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  view.setUint32(0, d.nr >>> 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, d.instructionPointer ?? 0n, true);
  const args = d.args ?? [];
  for (let i = 0; i < 6; i++) {
    view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, args[i] ?? 0n), true);
  }
  return view;
}

const CLASS = (c: number) => c & 0x07;
const SIZE = (c: number) => c & 0x18;
const MODE = (c: number) => c & 0xe0;
const OP = (c: number) => c & 0xf0;
const SRC = (c: number) => c & 0x08;

const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, IMM = 0x00, ABS = 0x20, MEM = 0x60, LEN = 0x80;
const X = 0x08;

/**
 * Returns a list of problems the kernel's checker would reject the program for (empty when
 * it is fine): length 1..4096, known opcodes, every jump inside the program, 32-bit aligned
 * absolute loads inside `seccomp_data`, scratch memory indices < 16, a return at the end.
 */
export function check(program: Uint8Array): string[] {
  const insns = decode(program);
  const problems: string[] = [];
  if (insns.length === 0 || insns.length > 4096) problems.push(`length ${insns.length}`);
  insns.forEach((ins, pc) => {
    const { code, jt, jf, k } = ins;
    switch (CLASS(code)) {
      case LD:
        if (code === (LD | W | ABS)) {
          if (k >= SECCOMP_DATA_SIZE || k % 4 !== 0) problems.push(`${pc}: bad load offset ${k}`);
        } else if (code !== (LD | W | LEN) && code !== (LD | IMM) && code !== (LD | MEM)) {
          problems.push(`${pc}: opcode 0x${code.toString(16)} not allowed`);
        } else if (code === (LD | MEM) && k >= 16) problems.push(`${pc}: scratch ${k}`);
        break;
      case LDX:
        if (code !== (LDX | W | LEN) && code !== (LDX | IMM) && code !== (LDX | MEM)) {
          problems.push(`${pc}: opcode 0x${code.toString(16)} not allowed`);
        } else if (code === (LDX | MEM) && k >= 16) problems.push(`${pc}: scratch ${k}`);
        break;
      case ST:
      case STX:
        if (k >= 16) problems.push(`${pc}: scratch ${k}`);
        break;
      case ALU:
        if (
          ![0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0].includes(OP(code))
        ) {
          problems.push(`${pc}: ALU op 0x${code.toString(16)}`);
        }
        if (SRC(code) === 0 && (OP(code) === 0x30 || OP(code) === 0x90) && k === 0) {
          problems.push(`${pc}: division by constant 0`);
        }
        break;
      case JMP:
        if (OP(code) === 0x00) {
          if (pc + 1 + k >= insns.length) problems.push(`${pc}: ja +${k} leaves the program`);
        } else if ([0x10, 0x20, 0x30, 0x40].includes(OP(code))) {
          if (pc + 1 + jt >= insns.length) problems.push(`${pc}: jt +${jt} leaves the program`);
          if (pc + 1 + jf >= insns.length) problems.push(`${pc}: jf +${jf} leaves the program`);
        } else problems.push(`${pc}: jump op 0x${code.toString(16)}`);
        break;
      case RET:
        if (code !== (RET | 0x00) && code !== (RET | 0x10)) {
          problems.push(`${pc}: ret 0x${code.toString(16)}`);
        }
        break;
      case MISC:
        if (code !== (MISC | 0x00) && code !== (MISC | 0x80)) {
          problems.push(`${pc}: misc 0x${code.toString(16)}`);
        }
        break;
    }
  });
  const last = insns[insns.length - 1];
  if (last && last.code !== (RET | 0x00) && last.code !== (RET | 0x10)) {
    problems.push("the program does not end with a return");
  }
  return problems;
}

/** What {@linkcode run} saw: the action and how many instructions ran. */
export interface RunResult {
  action: number;
  steps: number;
}

/** Runs the program on `data`; returns the 32-bit action (the value of the `ret`). */
export function run(program: Uint8Array | SockFilter[], data: SeccompData): number {
  return trace(program, data).action;
}

/** Like {@linkcode run}, also counting the instructions executed. */
export function trace(program: Uint8Array | SockFilter[], data: SeccompData): RunResult {
  const insns = program instanceof Uint8Array ? decode(program) : program;
  const mem = encodeData(data);
  const scratch = new Uint32Array(16);
  let a = 0, x = 0, pc = 0, steps = 0;
  while (true) {
    if (pc < 0 || pc >= insns.length) throw new Error(`pc ${pc} outside the program`);
    if (++steps > insns.length) throw new Error("the program loops");
    const { code, jt, jf, k } = insns[pc];
    pc++;
    switch (CLASS(code)) {
      case LD:
      case LDX: {
        let v: number;
        switch (MODE(code)) {
          case ABS:
            if (SIZE(code) !== W || k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) {
              throw new Error(`bad load at ${pc - 1}`);
            }
            v = mem.getUint32(k, true);
            break;
          case IMM:
            v = k;
            break;
          case MEM:
            v = scratch[k & 15];
            break;
          case LEN:
            v = SECCOMP_DATA_SIZE;
            break;
          default:
            throw new Error(`unsupported load 0x${code.toString(16)} at ${pc - 1}`);
        }
        if (CLASS(code) === LD) a = v >>> 0;
        else x = v >>> 0;
        break;
      }
      case ST:
        scratch[k & 15] = a;
        break;
      case STX:
        scratch[k & 15] = x;
        break;
      case ALU: {
        const src = SRC(code) === X ? x : k;
        switch (OP(code)) {
          case 0x00:
            a = (a + src) >>> 0;
            break;
          case 0x10:
            a = (a - src) >>> 0;
            break;
          case 0x20:
            a = Math.imul(a, src) >>> 0;
            break;
          case 0x30:
            a = src === 0 ? 0 : Math.floor(a / src) >>> 0;
            break;
          case 0x40:
            a = (a | src) >>> 0;
            break;
          case 0x50:
            a = (a & src) >>> 0;
            break;
          case 0x60:
            a = src >= 32 ? 0 : (a << src) >>> 0;
            break;
          case 0x70:
            a = src >= 32 ? 0 : a >>> src;
            break;
          case 0x80:
            a = (-a) >>> 0;
            break;
          case 0x90:
            a = src === 0 ? 0 : (a % src) >>> 0;
            break;
          case 0xa0:
            a = (a ^ src) >>> 0;
            break;
          default:
            throw new Error(`bad ALU op at ${pc - 1}`);
        }
        break;
      }
      case JMP: {
        const src = SRC(code) === X ? x : k;
        let cond: boolean;
        switch (OP(code)) {
          case 0x00:
            pc += k;
            continue;
          case 0x10:
            cond = a === src;
            break;
          case 0x20:
            cond = a > src;
            break;
          case 0x30:
            cond = a >= src;
            break;
          case 0x40:
            cond = (a & src) !== 0;
            break;
          default:
            throw new Error(`bad jump at ${pc - 1}`);
        }
        pc += cond ? jt : jf;
        break;
      }
      case RET:
        return { action: ((code & 0x18) === 0x10 ? a : (code & 0x18) === X ? x : k) >>> 0, steps };
      case MISC:
        if (code === (MISC | 0x00)) x = a;
        else a = x;
        break;
    }
  }
}

/** A readable listing of the program, one instruction a line, for failing tests. */
export function disassemble(program: Uint8Array): string {
  return decode(program).map(({ code, jt, jf, k }, pc) => {
    const hex = `0x${k.toString(16)}`;
    const at = (off: number) => pc + 1 + off;
    switch (code) {
      case 0x20:
        return `${pc}: ld [${k}]`;
      case 0x54:
        return `${pc}: and ${hex}`;
      case 0x05:
        return `${pc}: ja ${at(k)}`;
      case 0x15:
        return `${pc}: jeq ${hex} ? ${at(jt)} : ${at(jf)}`;
      case 0x25:
        return `${pc}: jgt ${hex} ? ${at(jt)} : ${at(jf)}`;
      case 0x35:
        return `${pc}: jge ${hex} ? ${at(jt)} : ${at(jf)}`;
      case 0x06:
        return `${pc}: ret ${hex}`;
      default:
        return `${pc}: code 0x${code.toString(16)} jt ${jt} jf ${jf} k ${hex}`;
    }
  }).join("\n");
}
