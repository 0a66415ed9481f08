/**
 * A classic BPF assembler with labels: instructions are emitted in order with symbolic jump
 * targets, shared return instructions go at the end, and jumps too long for the 8-bit
 * offsets of conditional jumps are sent through islands. The output is what
 * `seccomp(SECCOMP_SET_MODE_FILTER)` loads: 8-byte `struct sock_filter` entries (u16 code,
 * u8 jt, u8 jf, u32 k, little-endian).
 *
 * @module
 */

const BPF_LD = 0x00, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06;
const BPF_W = 0x00, BPF_ABS = 0x20, BPF_K = 0x00;
const BPF_AND = 0x50;
const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30;

/** Opcodes, as `struct sock_filter.code` values. */
export const BPF = Object.freeze({
  LD_W_ABS: BPF_LD | BPF_W | BPF_ABS,
  AND_K: BPF_ALU | BPF_AND | BPF_K,
  JA: BPF_JMP | BPF_JA,
  JEQ_K: BPF_JMP | BPF_JEQ | BPF_K,
  JGT_K: BPF_JMP | BPF_JGT | BPF_K,
  JGE_K: BPF_JMP | BPF_JGE | BPF_K,
  RET_K: BPF_RET | BPF_K,
});

/** A jump target: the instruction it is bound to, once bound. */
export interface Label {
  /** The instruction the label stands before; unset until bound. */
  insn?: Insn;
}

/** One instruction, with symbolic jump targets until the program is encoded. */
interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  /** The target of a JA. */
  to?: Label;
  pos: number;
}

/** Builds one program: emit instructions and bind labels in order, then `finish`. */
export class Assembler {
  readonly #insns: Insn[] = [];
  #pending: Label[] = [];
  /** Shared return instructions, emitted at the very end. */
  readonly #rets = new Map<number, Label>();

  /** A new unbound label. */
  label(): Label {
    return {};
  }

  /** Binds `l` to the next instruction emitted. */
  bind(l: Label): void {
    this.#pending.push(l);
  }

  /** Emits one instruction: a conditional jump to `jt`/`jf`, or a `ja` to `to`. */
  emit(code: number, k: number, jt?: Label, jf?: Label, to?: Label): void {
    const insn: Insn = { code, k: k >>> 0, jt, jf, to, pos: -1 };
    for (const l of this.#pending) l.insn = insn;
    this.#pending = [];
    this.#insns.push(insn);
  }

  /** A label on the shared `ret action`. */
  ret(action: number): Label {
    let l = this.#rets.get(action);
    if (!l) this.#rets.set(action, l = this.label());
    return l;
  }

  /** Emits the shared returns and resolves every jump; returns the encoded program. */
  finish(): Uint8Array {
    for (const [action, l] of this.#rets) {
      this.bind(l);
      this.emit(BPF.RET_K, action);
    }
    if (this.#pending.length) throw new Error("seccomp compiler: a label was never bound");
    this.#fitJumps();
    return this.#encode();
  }

  #renumber(from: number): void {
    for (let i = from; i < this.#insns.length; i++) this.#insns[i].pos = i;
  }

  /**
   * Conditional jumps reach at most 255 instructions ahead. Walking backwards, a jump that
   * is too long is sent to an "island" ahead of it and within reach: a copy of the target
   * when that is a return, else a `ja` to it. An island serves every earlier jump to the
   * same target that can reach it. Inserting shifts only later instructions, whose jumps
   * were already fitted and do not cross the insertion, so one pass suffices.
   */
  #fitJumps(): void {
    this.#renumber(0);
    // The nearest island ahead of the walk, per return value and per other target.
    const retIslands = new Map<number, Insn>();
    const jaIslands = new Map<Insn, Insn>();
    for (let i = this.#insns.length - 1; i >= 0; i--) {
      const insn = this.#insns[i];
      if (insn.code === BPF.RET_K) {
        retIslands.set(insn.k, insn); // a return is an island for the jumps before it
        continue;
      }
      if (insn.jt === undefined) continue; // not a conditional jump
      // An island for one side lengthens the other side's jump by one: check both again.
      for (let fitted = false; !fitted;) {
        fitted = true;
        for (const side of ["jt", "jf"] as const) {
          const target = insn[side]!.insn!;
          if (target.pos - insn.pos - 1 <= 255) continue;
          fitted = false;
          const isRet = target.code === BPF.RET_K;
          let island = isRet ? retIslands.get(target.k) : jaIslands.get(target);
          if (!island || island.pos - insn.pos - 1 > 255) {
            island = isRet
              ? { code: BPF.RET_K, k: target.k, pos: -1 }
              : { code: BPF.JA, k: 0, to: { insn: target }, pos: -1 };
            this.#insns.splice(insn.pos + 1, 0, island);
            this.#renumber(insn.pos + 1);
            if (isRet) retIslands.set(target.k, island);
            else jaIslands.set(target, island);
          }
          insn[side] = { insn: island };
        }
      }
    }
  }

  /** The program; its length is not checked against the kernel's limit here. */
  #encode(): Uint8Array {
    const out = new Uint8Array(this.#insns.length * 8);
    const view = new DataView(out.buffer);
    this.#insns.forEach((insn, i) => {
      let jt = 0, jf = 0, k = insn.k;
      if (insn.code === BPF.JA) {
        k = insn.to!.insn!.pos - i - 1;
      } else if (insn.jt) {
        jt = insn.jt.insn!.pos - i - 1;
        jf = insn.jf!.insn!.pos - i - 1;
        if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
          throw new Error(`seccomp compiler: jump out of range at ${i}`);
        }
      }
      view.setUint16(i * 8, insn.code, true);
      view.setUint8(i * 8 + 2, jt);
      view.setUint8(i * 8 + 3, jf);
      view.setUint32(i * 8 + 4, k >>> 0, true);
    });
    return out;
  }
}
