/**
 * ELF64 writer: little-endian x86-64 executables (ET_EXEC) for two loaders.
 *
 *  - QEMU `-kernel` / microvm / Firecracker via the PVH boot protocol: the image carries a PT_NOTE
 *    with the Xen note XEN_ELFNOTE_PHYS32_ENTRY (name "Xen", type 18, desc = u32 32-bit physical
 *    entry); the loader copies every PT_LOAD to its p_paddr and enters there in 32-bit protected
 *    mode. (Xen public/elfnote.h; xen/arch/x86/hvm "PVH boot ABI"; QEMU hw/i386/x86.c)
 *  - Linux execve (hosted target): PT_LOAD segments mapped at p_vaddr, entry at e_entry.
 *
 * Implements: System V gABI ch. 4 "Object Files" (ELF header, sections, string and symbol tables)
 * and ch. 5 "Program Loading" (program headers, notes), with the x86-64 psABI §4 values
 * (EM_X86_64 = 62, ELFCLASS64, ELFDATA2LSB, page size 4 KiB).
 *
 * File layout produced:
 * ```
 *   0x000  ELF header (64 bytes)
 *   0x040  program headers: PT_LOAD per segment (sorted by p_vaddr), [PT_NOTE], PT_GNU_STACK
 *          [Xen note, 4-aligned]
 *   ...    segment bytes, each at the first offset >= the previous end with
 *          p_offset ≡ p_vaddr (mod 4096), as the gABI requires for p_align = 4096
 *   ...    .symtab, .strtab, .shstrtab
 *   ...    section headers (8-aligned)
 * ```
 * PT_GNU_STACK (flags RW) is always emitted so a Linux process gets a non-executable stack;
 * other loaders ignore it.
 *
 * Sections (when `sections` is true, the default): one per segment, named by its flags (rx ->
 * .text, r -> .rodata, rw -> .data; a second one with the same flags gets ".1" appended, etc.),
 * plus a SHT_NOBITS `.bss` for the zero tail (memSize > data.length) of any segment, plus
 * `.note.Xen`. With `sections: false` only the symbol-table sections are written (when there are
 * symbols), and symbols are then absolute (SHN_ABS).
 */

import { ByteWriter } from "./bytes.ts";

export interface ElfSegment {
  vaddr: number;
  /** Physical (load) address; default = vaddr. */
  paddr?: number;
  data: Uint8Array;
  /** Size in memory, >= data.length; the rest is zero (bss). Default = data.length. */
  memSize?: number;
  flags: "r" | "rw" | "rx";
}
export interface ElfSymbol {
  name: string;
  addr: number;
  size: number;
  kind: "func" | "object";
}
export interface ElfImage {
  /** e_entry. Must lie inside an "rx" segment. */
  entry: number;
  segments: ElfSegment[];
  /** Written as .symtab + .strtab so nm, readelf -s and gdb see them (all STB_GLOBAL). */
  symbols?: ElfSymbol[];
  /** Adds a PT_NOTE with the Xen PVH note; must lie inside an "rx" segment's physical range. */
  pvhEntry?: number;
  /** Default true: emit section headers for the segments in addition to program headers. */
  sections?: boolean;
  /** p_align of the loadable segments and the modulus of their file offsets (default 4096, what
   *  Linux's loader needs). Direct-boot loaders (QEMU's PVH -kernel, Firecracker) read each segment
   *  by offset and size, so a boot image may use 16 to pack segments without page padding. */
  segmentAlign?: number;
}

// ---- constants (gABI ch. 4/5, x86-64 psABI) ----
const PAGE = 0x1000; // x86-64 psABI: maximum page size used for p_align
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

const ET_EXEC = 2;
const EM_X86_64 = 62;
const EV_CURRENT = 1;

const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const SHN_ABS = 0xfff1;
const SHN_LORESERVE = 0xff00;

const STB_GLOBAL = 1;
const STT_OBJECT = 1;
const STT_FUNC = 2;

/** Xen public/elfnote.h: physical 32-bit entry point of a PVH kernel. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

interface SectionHeader {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

interface PlacedSegment {
  seg: ElfSegment;
  paddr: number;
  memSize: number;
  offset: number; // file offset of data
}

export function writeElf64(img: ElfImage): Uint8Array {
  const withSections = img.sections ?? true;
  const segmentAlign = img.segmentAlign ?? PAGE;
  if (!Number.isInteger(segmentAlign) || segmentAlign < 1 || segmentAlign > PAGE || (segmentAlign & (segmentAlign - 1)) !== 0) {
    throw new Error(`segmentAlign ${segmentAlign} must be a power of two between 1 and ${PAGE}`);
  }
  const symbols = img.symbols ?? [];
  const segments = validateSegments(img.segments);
  checkAddr("entry", img.entry);
  if (!segments.some((s) => s.seg.flags === "rx" && inRange(img.entry, s.seg.vaddr, s.memSize))) {
    throw new Error(`entry 0x${img.entry.toString(16)} is not inside an "rx" segment`);
  }
  if (img.pvhEntry !== undefined) {
    checkAddr("pvhEntry", img.pvhEntry);
    if (img.pvhEntry > 0xffffffff) throw new Error(`pvhEntry 0x${img.pvhEntry.toString(16)} is above 4 GiB`);
    if (!segments.some((s) => s.seg.flags === "rx" && inRange(img.pvhEntry!, s.paddr, s.memSize))) {
      throw new Error(`pvhEntry 0x${img.pvhEntry.toString(16)} is not inside an "rx" segment's physical range`);
    }
  }
  for (const sym of symbols) {
    if (sym.name.length === 0 || sym.name.includes("\0")) throw new Error(`bad symbol name ${JSON.stringify(sym.name)}`);
    checkAddr(`symbol ${sym.name}`, sym.addr);
    if (!Number.isSafeInteger(sym.size) || sym.size < 0) throw new Error(`bad size for symbol ${sym.name}`);
  }

  const hasNote = img.pvhEntry !== undefined;
  const phnum = segments.length + (hasNote ? 1 : 0) + 1;

  // Room for everything up front (segments, symbols with their names): no copies while it grows.
  const dataBytes = segments.reduce((n, s) => n + s.seg.data.length, 0);
  const w = new ByteWriter(64 * 1024 + dataBytes + symbols.reduce((n, sym) => n + 32 + sym.name.length, 0));
  w.zeros(EHDR_SIZE + phnum * PHDR_SIZE); // headers are written last, once offsets are known

  // ---- Xen PVH note (gABI §5 "Note Section": namesz, descsz, type, name, desc; 4-aligned) ----
  let noteOffset = 0;
  let noteSize = 0;
  if (hasNote) {
    w.align(4);
    noteOffset = w.length;
    w.u32(4).u32(4).u32(XEN_ELFNOTE_PHYS32_ENTRY).ascii("Xen\0").u32(img.pvhEntry!);
    noteSize = w.length - noteOffset;
  }

  // ---- segment bytes at offsets congruent to vaddr mod PAGE ----
  for (const s of segments) {
    const cur = w.length;
    s.offset = cur + mod(s.seg.vaddr - cur, segmentAlign);
    w.padTo(s.offset).bytes(s.seg.data);
  }

  // ---- section headers for the loaded image ----
  const shdrs: SectionHeader[] = [
    { name: "", type: 0, flags: 0, addr: 0, offset: 0, size: 0, link: 0, info: 0, addralign: 0, entsize: 0 },
  ];
  if (withSections) {
    const used = new Map<string, number>();
    const uniqueName = (base: string): string => {
      const n = used.get(base) ?? 0;
      used.set(base, n + 1);
      return n === 0 ? base : `${base}.${n}`;
    };
    for (const s of segments) {
      const { seg } = s;
      const flags = SHF_ALLOC | (seg.flags === "rw" ? SHF_WRITE : 0) | (seg.flags === "rx" ? SHF_EXECINSTR : 0);
      if (seg.data.length > 0) {
        const base = seg.flags === "rx" ? ".text" : seg.flags === "r" ? ".rodata" : ".data";
        shdrs.push({
          name: uniqueName(base), type: SHT_PROGBITS, flags, addr: seg.vaddr, offset: s.offset,
          size: seg.data.length, link: 0, info: 0, addralign: naturalAlign(seg.vaddr), entsize: 0,
        });
      }
      if (s.memSize > seg.data.length) {
        const addr = seg.vaddr + seg.data.length;
        shdrs.push({
          name: uniqueName(".bss"), type: SHT_NOBITS, flags, addr, offset: s.offset + seg.data.length,
          size: s.memSize - seg.data.length, link: 0, info: 0, addralign: naturalAlign(addr), entsize: 0,
        });
      }
    }
    if (hasNote) {
      shdrs.push({
        name: ".note.Xen", type: SHT_NOTE, flags: 0 /* not loaded */, addr: 0, offset: noteOffset, size: noteSize,
        link: 0, info: 0, addralign: 4, entsize: 0,
      });
    }
  }

  // ---- .symtab + .strtab (gABI §4 "Symbol Table", "String Table") ----
  if (symbols.length > 0) {
    const allocSections = shdrs
      .map((h, index) => ({ h, index }))
      .filter(({ h }) => (h.flags & SHF_ALLOC) !== 0);
    const strtab = new StringTable();
    const symtabIndex = shdrs.length;
    const strtabIndex = symtabIndex + 1;
    w.align(8);
    const symOffset = w.length;
    w.zeros(SYM_SIZE); // index 0: the undefined symbol
    for (const sym of symbols) {
      // A symbol belongs to the section holding its address; a zero-size one may sit at the end.
      const owner = allocSections.find(({ h }) => inRange(sym.addr, h.addr, h.size) || (sym.size === 0 && sym.addr === h.addr + h.size));
      const shndx = owner ? owner.index : SHN_ABS;
      const type = sym.kind === "func" ? STT_FUNC : STT_OBJECT;
      w.u32(strtab.add(sym.name)).u8((STB_GLOBAL << 4) | type).u8(0).u16(shndx).u64(sym.addr).u64(sym.size);
    }
    shdrs.push({
      name: ".symtab", type: SHT_SYMTAB, flags: 0, addr: 0, offset: symOffset, size: w.length - symOffset,
      link: strtabIndex, info: 1 /* one past the last STB_LOCAL symbol (only the null one) */,
      addralign: 8, entsize: SYM_SIZE,
    });
    const strOffset = w.length;
    w.bytes(strtab.finish());
    shdrs.push({
      name: ".strtab", type: SHT_STRTAB, flags: 0, addr: 0, offset: strOffset, size: w.length - strOffset,
      link: 0, info: 0, addralign: 1, entsize: 0,
    });
  }

  // ---- .shstrtab and the section header table ----
  let shoff = 0;
  let shnum = 0;
  let shstrndx = 0;
  if (shdrs.length > 1) {
    const shstrtab = new StringTable();
    shdrs.push({
      name: ".shstrtab", type: SHT_STRTAB, flags: 0, addr: 0, offset: 0, size: 0, link: 0, info: 0,
      addralign: 1, entsize: 0,
    });
    const nameOffsets = shdrs.map((h) => shstrtab.add(h.name));
    const shstr = shdrs[shdrs.length - 1];
    shstr.offset = w.length;
    const shstrBytes = shstrtab.finish();
    shstr.size = shstrBytes.length;
    w.bytes(shstrBytes);
    shnum = shdrs.length;
    shstrndx = shnum - 1;
    if (shnum >= SHN_LORESERVE) throw new Error(`too many sections (${shnum})`);
    w.align(8);
    shoff = w.length;
    shdrs.forEach((h, i) => {
      w.u32(nameOffsets[i]).u32(h.type).u64(h.flags).u64(h.addr).u64(h.offset).u64(h.size)
        .u32(h.link).u32(h.info).u64(h.addralign).u64(h.entsize);
    });
  }

  // ---- ELF header (gABI §4 "ELF Header") ----
  const out = w.finish();
  const h = new ByteWriter(EHDR_SIZE + phnum * PHDR_SIZE);
  h.bytes([0x7f, 0x45, 0x4c, 0x46]); // EI_MAG0..3 = "\x7fELF"
  h.u8(2); // EI_CLASS = ELFCLASS64
  h.u8(1); // EI_DATA = ELFDATA2LSB
  h.u8(EV_CURRENT); // EI_VERSION
  h.u8(0); // EI_OSABI = ELFOSABI_SYSV
  h.u8(0); // EI_ABIVERSION
  h.zeros(7); // EI_PAD
  h.u16(ET_EXEC).u16(EM_X86_64).u32(EV_CURRENT);
  h.u64(img.entry); // e_entry
  h.u64(EHDR_SIZE); // e_phoff
  h.u64(shoff); // e_shoff
  h.u32(0); // e_flags
  h.u16(EHDR_SIZE).u16(PHDR_SIZE).u16(phnum);
  h.u16(shnum ? SHDR_SIZE : 0).u16(shnum).u16(shstrndx);

  // ---- program headers (gABI §5 "Program Header") ----
  for (const s of segments) {
    const pf = PF_R | (s.seg.flags === "rw" ? PF_W : 0) | (s.seg.flags === "rx" ? PF_X : 0);
    h.u32(PT_LOAD).u32(pf).u64(s.offset).u64(s.seg.vaddr).u64(s.paddr)
      .u64(s.seg.data.length).u64(s.memSize).u64(segmentAlign);
  }
  if (hasNote) {
    h.u32(PT_NOTE).u32(PF_R).u64(noteOffset).u64(0).u64(0).u64(noteSize).u64(0).u64(4);
  }
  h.u32(PT_GNU_STACK).u32(PF_R | PF_W).u64(0).u64(0).u64(0).u64(0).u64(0).u64(16);
  out.set(h.finish(), 0);
  return out;
}

function validateSegments(segs: ElfSegment[]): PlacedSegment[] {
  if (segs.length === 0) throw new Error("an ELF image needs at least one segment");
  const placed = segs.map((seg, i): PlacedSegment => {
    const paddr = seg.paddr ?? seg.vaddr;
    const memSize = seg.memSize ?? seg.data.length;
    checkAddr(`segment ${i} vaddr`, seg.vaddr);
    checkAddr(`segment ${i} paddr`, paddr);
    if (!["r", "rw", "rx"].includes(seg.flags)) throw new Error(`segment ${i}: bad flags ${JSON.stringify(seg.flags)}`);
    if (!Number.isSafeInteger(memSize) || memSize < seg.data.length) {
      throw new Error(`segment ${i}: memSize ${memSize} is smaller than its ${seg.data.length} data bytes`);
    }
    if (memSize === 0) throw new Error(`segment ${i} at 0x${seg.vaddr.toString(16)} is empty`);
    return { seg, paddr, memSize, offset: 0 };
  });
  // gABI: "Loadable segment entries in the program header table appear in ascending order,
  // sorted on the p_vaddr member."
  placed.sort((a, b) => a.seg.vaddr - b.seg.vaddr);
  for (const key of ["vaddr", "paddr"] as const) {
    const start = (p: PlacedSegment) => (key === "vaddr" ? p.seg.vaddr : p.paddr);
    const byStart = [...placed].sort((a, b) => start(a) - start(b));
    for (let i = 1; i < byStart.length; i++) {
      const prev = byStart[i - 1];
      if (start(prev) + prev.memSize > start(byStart[i])) {
        throw new Error(`segments at ${key} 0x${start(prev).toString(16)} and 0x${start(byStart[i]).toString(16)} overlap`);
      }
    }
  }
  return placed;
}

const UTF8 = new TextEncoder();

/** NUL-separated string table; offset 0 is the empty string (gABI §4 "String Table"). */
class StringTable {
  private readonly w = new ByteWriter(256).u8(0);
  private readonly seen = new Map<string, number>();
  add(s: string): number {
    if (s === "") return 0;
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const off = this.w.length;
    this.w.bytes(UTF8.encode(s)).u8(0);
    this.seen.set(s, off);
    return off;
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

function checkAddr(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what} ${v} is not an unsigned safe integer`);
}
function inRange(x: number, start: number, size: number): boolean {
  return x >= start && x < start + size;
}
function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
/** Largest power of two dividing `addr`, capped at one page (sh_addralign must divide sh_addr). */
function naturalAlign(addr: number): number {
  let a = 1;
  while (a < PAGE && addr % (a * 2) === 0) a *= 2;
  return a;
}
