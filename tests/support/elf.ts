/**
 * A small reader of 64-bit little-endian ELF files, enough to check a shared library built for
 * another architecture without running it: the header, the section names and the functions
 * its dynamic symbol table exports. Nothing to install (no binutils, no qemu).
 *
 * @module
 */

/** `e_machine` values of the architectures cell ships. */
export const EM_X86_64 = 62;
/** `e_machine` of aarch64. */
export const EM_AARCH64 = 183;
/** `e_type` of a shared object. */
export const ET_DYN = 3;

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STB_GLOBAL = 1;
const STB_WEAK = 2;

/** What {@linkcode readElf} found. */
export interface ElfSummary {
  /** `e_type` (3: shared object). */
  type: number;
  /** `e_machine` (62: x86_64, 183: aarch64). */
  machine: number;
  /** Section names, in order. */
  sections: string[];
  /** Whether there is a full symbol table (`.symtab`); a stripped file has none. */
  hasSymtab: boolean;
  /** Names of the functions defined and exported (global or weak) in `.dynsym`. */
  exportedFunctions: string[];
}

function cString(bytes: Uint8Array, offset: number): string {
  let end = offset;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(offset, end));
}

/**
 * Reads an ELF64 little-endian file's header, sections and exported functions.
 * @throws Error when the bytes are not such a file or a table lies outside it.
 */
export function readElf(bytes: Uint8Array): ElfSummary {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = bytes.length >= 64 && bytes[0] === 0x7f && bytes[1] === 0x45 &&
    bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!magic) throw new Error("not an ELF file");
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => Number(view.getBigUint64(o, true));
  const shoff = u64(40), shentsize = u16(58), shnum = u16(60), shstrndx = u16(62);
  if (shentsize !== 64 || shoff + shnum * 64 > bytes.length || shstrndx >= shnum) {
    throw new Error("section header table outside the file");
  }
  const section = (i: number) => {
    const base = shoff + i * 64;
    const s = {
      name: u32(base),
      type: u32(base + 4),
      offset: u64(base + 24),
      size: u64(base + 32),
      link: u32(base + 40),
      entsize: u64(base + 56),
    };
    if (s.type !== 8 && s.offset + s.size > bytes.length) { // 8: SHT_NOBITS has no bytes
      throw new Error(`section ${i} outside the file`);
    }
    return s;
  };
  const all = Array.from({ length: shnum }, (_, i) => section(i));
  const names = all[shstrndx];
  const sections = all.map((s) => cString(bytes, names.offset + s.name));
  const exportedFunctions: string[] = [];
  for (const dynsym of all.filter((s) => s.type === SHT_DYNSYM)) {
    if (dynsym.entsize !== 24 || dynsym.link >= shnum) throw new Error("bad .dynsym");
    const strings = all[dynsym.link];
    for (let at = dynsym.offset; at + 24 <= dynsym.offset + dynsym.size; at += 24) {
      const info = bytes[at + 4];
      const defined = u16(at + 6) !== 0;
      const binding = info >> 4;
      if (
        (info & 0xf) === STT_FUNC && defined && (binding === STB_GLOBAL || binding === STB_WEAK)
      ) {
        exportedFunctions.push(cString(bytes, strings.offset + u32(at)));
      }
    }
  }
  return {
    type: u16(16),
    machine: u16(18),
    sections,
    hasSymtab: all.some((s) => s.type === SHT_SYMTAB),
    exportedFunctions,
  };
}
