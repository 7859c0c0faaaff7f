/**
 * Seeded randomized property test of the x86 encoder (tools/x86/assembler.ts) against the
 * independent decoder iced-x86: for every instruction form, random operands (registers incl.
 * r8-r15 and spl..dil, memory with random base/index/scale/displacement with extra weight on the
 * rsp/rbp/r12/r13 special cases, boundary immediates, labels at random addresses) in every mode the
 * form exists in. Each case is encoded, decoded, and the decoded mnemonic and operands must be
 * exactly what was asked, with the decoder consuming every byte as one instruction.
 *
 * Reproduce a failure with X86_SEED=<seed printed in the message>; X86_CASES sets the case count.
 */
import { describe, expect, it } from "vitest";
import { Decoder, DecoderOptions, Mnemonic, OpKind, Register } from "iced-x86";
import {
  Assembler, CC, R, abs, mem, reg,
  type AluOp, type BitOp, type Bits, type Cond, type Mem, type ShiftOp, type Size, type SseOp, type UnaryOp,
} from "../../tools/x86/assembler.ts";
import { hexBytes, makeFormatter } from "../../tools/x86/disasm.ts";

// ---- deterministic PRNG (mulberry32) ----
function mulberry32(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]; }
  chance(p: number): boolean { return this.next() < p; }
}

// ---- canonical operand descriptions (expected side and decoded side use the same strings) ----
const NAMES: Record<number, string[]> = {
  1: ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8l", "r9l", "r10l", "r11l", "r12l", "r13l", "r14l", "r15l"],
  2: ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"],
  4: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"],
  8: ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"],
};
const SIZE_WORD: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 8: "qword", 10: "tbyte", 6: "fword", 16: "xmmword", 32: "ymmword" };
const gp = (n: number, size: number): string => NAMES[size][n];
const xmm = (n: number): string => `xmm${n}`;
const immOp = (v: number | bigint, bits: number): string => `imm:${BigInt.asUintN(bits, BigInt(v)).toString(16)}`;

interface Expected { mnemonic: string; ops: string[]; rep?: boolean }
interface Case { bits: Bits; what: string; emit: (a: Assembler) => void; expect: Expected }

/** Memory operand with its canonical description; `size` 0 means the decoder shows no size (lea). */
function memDesc(m: Mem, bits: Bits, size: number, labelAddr?: number): string {
  const addrSize = bits === 64 ? 8 : 4;
  const base = m.base === null ? "none" : gp(Number(m.base), addrSize);
  const index = m.index === null ? "none" : gp(Number(m.index), addrSize);
  const scale = m.index === null ? 1 : m.scale;
  const disp = (labelAddr ?? (m.disp as number)) + (labelAddr !== undefined ? m.addend : 0);
  const d = BigInt.asUintN(bits === 64 ? 64 : 32, BigInt(disp)).toString(16);
  return `mem:${size === 0 ? "" : SIZE_WORD[size]}[${base}+${index}*${scale}+${d}]`;
}

// ---- random operand generators ----
function randGpr(r: Rng, bits: Bits): number {
  return bits === 64 ? r.int(0, 15) : r.int(0, 7);
}
function randByteReg(r: Rng, bits: Bits): number {
  return bits === 64 ? r.int(0, 15) : r.int(0, 3); // ah..bh are never used
}
function randXmm(r: Rng, bits: Bits): number {
  return bits === 64 ? r.int(0, 15) : r.int(0, 7);
}
function randDisp(r: Rng, bits: Bits): number {
  switch (r.int(0, 5)) {
    case 0: return 0;
    case 1: return r.int(-128, 127);
    case 2: return r.pick([-129, 128, -128, 127, 0x7fffffff, -0x80000000]);
    case 3: return r.int(-0x80000000, 0x7fffffff);
    case 4: return bits === 64 ? r.int(-0x80000000, 0x7fffffff) : r.int(0, 0xffffffff);
    default: return r.int(-4096, 4096);
  }
}
/** A random memory operand; sometimes with a label displacement (returned for defineAbsolute). */
function randMem(r: Rng, bits: Bits, a: Assembler): { m: Mem; labelAddr?: number } {
  const special = bits === 64 ? [4, 5, 12, 13] : [4, 5];
  const base = r.chance(0.15) ? null : r.chance(0.4) ? r.pick(special) : randGpr(r, bits);
  let index: number | null = r.chance(0.5) ? null : randGpr(r, bits);
  if (index === 4) index = bits === 64 && r.chance(0.5) ? 12 : null;
  const scale = r.pick([1, 2, 4, 8] as const);
  if (r.chance(0.1)) {
    const l = a.label("data");
    const addr = bits === 64 ? r.int(0, 0x7fffffff) : r.int(0, 0xffffffff);
    a.defineAbsolute(l, addr);
    const addend = r.int(-16, 16);
    const labelAddr = Math.min(Math.max(addr, 16), bits === 64 ? 0x7fffffff - 16 : 0xffffffff - 16);
    l.address = labelAddr; // keep label + addend in range
    const m: Mem = { kind: "mem", base: base === null ? null : reg(base), index: index === null ? null : reg(index), scale, disp: l, addend };
    return { m, labelAddr };
  }
  if (base === null && index === null && r.chance(0.5)) return { m: abs(randDisp(r, bits)) };
  return { m: mem(base === null ? null : reg(base), randDisp(r, bits), index === null ? null : reg(index), scale) };
}
/** An immediate valid for an operand of `size` bytes (size 8: sign-extended imm32). */
function randImm(r: Rng, size: Size): number {
  const bitsOf = size === 8 ? 32 : size * 8;
  const lo = -(2 ** (bitsOf - 1));
  const hi = size === 8 ? 2 ** 31 - 1 : 2 ** bitsOf - 1;
  switch (r.int(0, 4)) {
    case 0: return r.int(-128, 127);
    case 1: return r.pick([lo, hi, -1, 0, 1, 127, 128, -128, -129, size === 8 ? -1 : 2 ** (bitsOf - 1)].filter((v) => v >= lo && v <= hi));
    case 2: return r.int(Math.max(lo, -300), Math.min(hi, 300));
    default: return r.int(lo, hi);
  }
}
const sizesFor = (bits: Bits, withByte: boolean): Size[] =>
  (bits === 64 ? [1, 2, 4, 8] : [1, 2, 4]).filter((s) => withByte || s !== 1) as Size[];

// ---- the case generators, one per family of forms ----
const ALU_OPS: AluOp[] = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const UNARY: UnaryOp[] = ["not", "neg", "mul", "imul1", "div", "idiv", "inc", "dec"];
const SHIFTS: ShiftOp[] = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar"];
const BITOPS: BitOp[] = ["bsf", "bsr", "lzcnt", "tzcnt", "popcnt"];
const CONDS = Object.keys(CC) as Cond[];
const SSE_OPS: [SseOp, number][] = [
  ["addss", 4], ["addsd", 8], ["subss", 4], ["subsd", 8], ["mulss", 4], ["mulsd", 8], ["divss", 4], ["divsd", 8],
  ["sqrtss", 4], ["sqrtsd", 8], ["minss", 4], ["minsd", 8], ["maxss", 4], ["maxsd", 8], ["ucomiss", 4], ["ucomisd", 8],
  ["cvtss2sd", 4], ["cvtsd2ss", 8], ["andps", 16], ["andpd", 16], ["andnps", 16], ["andnpd", 16], ["orps", 16],
  ["orpd", 16], ["xorps", 16], ["xorpd", 16], ["punpcklqdq", 16],
];

type Gen = (r: Rng, bits: Bits, a: Assembler) => Omit<Case, "bits"> | null;

/** r/m operand of `size` bytes: a register (byte rules for size 1) or random memory. */
function randRM(r: Rng, bits: Bits, a: Assembler, size: number, regSize = size): { rm: number | Mem; desc: string } {
  if (r.chance(0.5)) {
    const n = regSize === 1 ? randByteReg(r, bits) : randGpr(r, bits);
    return { rm: reg(n), desc: gp(n, regSize) };
  }
  const { m, labelAddr } = randMem(r, bits, a);
  return { rm: m, desc: memDesc(m, bits, size, labelAddr) };
}
function randXmmRM(r: Rng, bits: Bits, a: Assembler, size: number): { rm: number | Mem; desc: string } {
  if (r.chance(0.5)) {
    const n = randXmm(r, bits);
    return { rm: n, desc: xmm(n) };
  }
  const { m, labelAddr } = randMem(r, bits, a);
  return { rm: m, desc: memDesc(m, bits, size, labelAddr) };
}
const regOf = (r: Rng, bits: Bits, size: number): number => (size === 1 ? randByteReg(r, bits) : randGpr(r, bits));
const dflt = (bits: Bits): Size => (bits === 64 ? 8 : bits === 32 ? 4 : 2);

const GENERATORS: [string, Gen][] = [
  ["alu", (r, bits, a) => {
    const op = r.pick(ALU_OPS);
    const size = r.pick(sizesFor(bits, true));
    const kind = r.int(0, 2);
    if (kind === 0) {
      const imm = randImm(r, size);
      const dst = randRM(r, bits, a, size);
      return { what: `alu ${op} ${size} ${dst.desc}, ${imm}`, emit: (x) => x.alu(op, size, dst.rm, imm),
        expect: { mnemonic: op, ops: [dst.desc, immOp(imm, size * 8)] } };
    }
    const n = regOf(r, bits, size);
    const other = randRM(r, bits, a, size);
    if (kind === 1) {
      return { what: `alu ${op} ${size} ${other.desc}, ${gp(n, size)}`, emit: (x) => x.alu(op, size, other.rm, reg(n)),
        expect: { mnemonic: op, ops: [other.desc, gp(n, size)] } };
    }
    return { what: `alu ${op} ${size} ${gp(n, size)}, ${other.desc}`, emit: (x) => x.alu(op, size, reg(n), other.rm),
      expect: { mnemonic: op, ops: [gp(n, size), other.desc] } };
  }],
  ["test", (r, bits, a) => {
    const size = r.pick(sizesFor(bits, true));
    const dst = randRM(r, bits, a, size);
    if (r.chance(0.5)) {
      const imm = randImm(r, size);
      return { what: `test ${dst.desc}, ${imm}`, emit: (x) => x.test(size, dst.rm, imm),
        expect: { mnemonic: "test", ops: [dst.desc, immOp(imm, size * 8)] } };
    }
    const n = regOf(r, bits, size);
    return { what: `test ${dst.desc}, ${gp(n, size)}`, emit: (x) => x.test(size, dst.rm, reg(n)),
      expect: { mnemonic: "test", ops: [dst.desc, gp(n, size)] } };
  }],
  ["mov", (r, bits, a) => {
    const size = r.pick(sizesFor(bits, true));
    const kind = r.int(0, 3);
    if (kind === 0) {
      const n = regOf(r, bits, size);
      const big = size === 8 && r.chance(0.3);
      const imm = big ? r.pick([2 ** 31, 2 ** 32 - 1, 2 ** 40 + 7, -(2 ** 40), Number.MAX_SAFE_INTEGER]) : randImm(r, size);
      return { what: `mov ${gp(n, size)}, ${imm}`, emit: (x) => x.mov(size, reg(n), imm),
        expect: { mnemonic: "mov", ops: [gp(n, size), immOp(imm, size * 8)] } };
    }
    if (kind === 1) {
      const { m, labelAddr } = randMem(r, bits, a);
      const imm = randImm(r, size);
      const d = memDesc(m, bits, size, labelAddr);
      return { what: `mov ${d}, ${imm}`, emit: (x) => x.mov(size, m, imm), expect: { mnemonic: "mov", ops: [d, immOp(imm, size * 8)] } };
    }
    const n = regOf(r, bits, size);
    const other = randRM(r, bits, a, size);
    if (kind === 2) {
      return { what: `mov ${other.desc}, ${gp(n, size)}`, emit: (x) => x.mov(size, other.rm, reg(n)),
        expect: { mnemonic: "mov", ops: [other.desc, gp(n, size)] } };
    }
    return { what: `mov ${gp(n, size)}, ${other.desc}`, emit: (x) => x.mov(size, reg(n), other.rm),
      expect: { mnemonic: "mov", ops: [gp(n, size), other.desc] } };
  }],
  ["movabs", (r, bits, a) => {
    if (bits !== 64) return null;
    const n = randGpr(r, bits);
    if (r.chance(0.3)) {
      const l = a.label("target");
      const addr = r.int(0, 2 ** 48);
      a.defineAbsolute(l, addr);
      return { what: `movabs ${gp(n, 8)}, label ${addr}`, emit: (x) => x.movabs(reg(n), l), expect: { mnemonic: "mov", ops: [gp(n, 8), immOp(addr, 64)] } };
    }
    const v = BigInt.asIntN(64, BigInt(r.int(0, 2 ** 32 - 1)) << 32n | BigInt(r.int(0, 2 ** 32 - 1)));
    return { what: `movabs ${gp(n, 8)}, ${v}`, emit: (x) => x.movabs(reg(n), v), expect: { mnemonic: "mov", ops: [gp(n, 8), immOp(v, 64)] } };
  }],
  ["movzx/movsx", (r, bits, a) => {
    const signed = r.chance(0.5);
    const srcSize = r.pick((signed && bits === 64 ? [1, 2, 4] : [1, 2]) as (1 | 2 | 4)[]);
    const dstSizes = ([2, 4, 8] as const).filter((s) => s > srcSize && (s !== 8 || bits === 64));
    const dstSize = r.pick(dstSizes);
    const n = randGpr(r, bits);
    const src = randRM(r, bits, a, srcSize);
    const mnemonic = srcSize === 4 ? "movsxd" : signed ? "movsx" : "movzx";
    return { what: `${mnemonic} ${gp(n, dstSize)}, ${src.desc}`,
      emit: (x) => (signed ? x.movsx(dstSize, reg(n), srcSize, src.rm) : x.movzx(dstSize, reg(n), srcSize as 1 | 2, src.rm)),
      expect: { mnemonic, ops: [gp(n, dstSize), src.desc] } };
  }],
  ["lea", (r, bits, a) => {
    const size = r.pick(sizesFor(bits, false)) as 2 | 4 | 8;
    const n = randGpr(r, bits);
    const { m, labelAddr } = randMem(r, bits, a);
    const d = memDesc(m, bits, 0, labelAddr);
    return { what: `lea ${gp(n, size)}, ${d}`, emit: (x) => x.lea(size, reg(n), m), expect: { mnemonic: "lea", ops: [gp(n, size), d] } };
  }],
  ["imul", (r, bits, a) => {
    const size = r.pick(sizesFor(bits, false));
    const n = randGpr(r, bits);
    const src = randRM(r, bits, a, size);
    if (r.chance(0.5)) {
      return { what: `imul ${gp(n, size)}, ${src.desc}`, emit: (x) => x.imul(size, reg(n), src.rm),
        expect: { mnemonic: "imul", ops: [gp(n, size), src.desc] } };
    }
    const imm = randImm(r, size);
    return { what: `imul ${gp(n, size)}, ${src.desc}, ${imm}`, emit: (x) => x.imul3(size, reg(n), src.rm, imm),
      expect: { mnemonic: "imul", ops: [gp(n, size), src.desc, immOp(imm, size * 8)] } };
  }],
  ["unary", (r, bits, a) => {
    const op = r.pick(UNARY);
    const size = r.pick(sizesFor(bits, true));
    const rm = randRM(r, bits, a, size);
    return { what: `${op} ${rm.desc}`, emit: (x) => x.unary(op, size, rm.rm), expect: { mnemonic: op === "imul1" ? "imul" : op, ops: [rm.desc] } };
  }],
  ["shift", (r, bits, a) => {
    const op = r.pick(SHIFTS);
    const size = r.pick(sizesFor(bits, true));
    const rm = randRM(r, bits, a, size);
    const count: "cl" | number = r.chance(0.3) ? "cl" : r.chance(0.3) ? 1 : r.int(0, 255);
    return { what: `${op} ${rm.desc}, ${count}`, emit: (x) => x.shift(op, size, rm.rm, count),
      expect: { mnemonic: op, ops: [rm.desc, count === "cl" ? "cl" : immOp(count, 8)] } };
  }],
  ["bitscan", (r, bits, a) => {
    const op = r.pick(BITOPS);
    const size = r.pick(sizesFor(bits, false)) as 2 | 4 | 8;
    const n = randGpr(r, bits);
    const src = randRM(r, bits, a, size);
    return { what: `${op} ${gp(n, size)}, ${src.desc}`, emit: (x) => x.bitscan(op, size, reg(n), src.rm),
      expect: { mnemonic: op, ops: [gp(n, size), src.desc] } };
  }],
  ["setcc/cmovcc", (r, bits, a) => {
    const cc = r.pick(CONDS);
    if (r.chance(0.5)) {
      const rm = randRM(r, bits, a, 1);
      return { what: `set${cc} ${rm.desc}`, emit: (x) => x.setcc(cc, rm.rm), expect: { mnemonic: `set${cc}`, ops: [rm.desc] } };
    }
    const size = r.pick(sizesFor(bits, false)) as 2 | 4 | 8;
    const n = randGpr(r, bits);
    const src = randRM(r, bits, a, size);
    return { what: `cmov${cc} ${gp(n, size)}, ${src.desc}`, emit: (x) => x.cmovcc(cc, size, reg(n), src.rm),
      expect: { mnemonic: `cmov${cc}`, ops: [gp(n, size), src.desc] } };
  }],
  ["cwd/xchg/bswap", (r, bits, a) => {
    const k = r.int(0, 2);
    if (k === 0) {
      const size = r.pick(sizesFor(bits, false)) as 2 | 4 | 8;
      return { what: `signExtendAx ${size}`, emit: (x) => x.signExtendAx(size), expect: { mnemonic: { 2: "cwd", 4: "cdq", 8: "cqo" }[size], ops: [] } };
    }
    if (k === 1) {
      const size = r.pick(sizesFor(bits, true));
      const n = regOf(r, bits, size);
      const other = randRM(r, bits, a, size);
      return { what: `xchg ${gp(n, size)}, ${other.desc}`, emit: (x) => x.xchg(size, reg(n), other.rm),
        expect: { mnemonic: "xchg", ops: [other.desc, gp(n, size)] } };
    }
    const size = bits === 64 && r.chance(0.5) ? 8 : 4;
    const n = randGpr(r, bits);
    return { what: `bswap ${gp(n, size)}`, emit: (x) => x.bswap(size, reg(n)), expect: { mnemonic: "bswap", ops: [gp(n, size)] } };
  }],
  ["jmp/call/jcc", (r, bits, a) => {
    const k = r.int(0, 4);
    if (k <= 2) {
      const l = a.label("target");
      const target = bits === 16 ? r.int(0, 0xffff) : bits === 32 ? r.int(0, 0xffffffff) : a.origin + r.int(-0x7fff0000, 0x7fff0000);
      a.defineAbsolute(l, target);
      const cc = r.pick(CONDS);
      const mnemonic = k === 0 ? "jmp" : k === 1 ? "call" : `j${cc}`;
      return { what: `${mnemonic} ${target}`, emit: (x) => (k === 0 ? x.jmp(l) : k === 1 ? x.call(l) : x.jcc(cc, l)),
        expect: { mnemonic, ops: [`target:${BigInt.asUintN(bits, BigInt(target)).toString(16)}`] } };
    }
    const rm = randRM(r, bits, a, dflt(bits));
    return { what: `${k === 3 ? "jmp" : "call"} ${rm.desc}`, emit: (x) => (k === 3 ? x.jmp(rm.rm) : x.call(rm.rm)),
      expect: { mnemonic: k === 3 ? "jmp" : "call", ops: [rm.desc] } };
  }],
  ["push/pop", (r, bits, a) => {
    const size = dflt(bits);
    const k = r.int(0, 2);
    if (k === 0) {
      const imm = randImm(r, bits === 16 ? 2 : bits === 32 ? 4 : 8);
      return { what: `push ${imm}`, emit: (x) => x.push(imm), expect: { mnemonic: "push", ops: [immOp(imm, size * 8)] } };
    }
    const pop = r.chance(0.5);
    const rm = randRM(r, bits, a, size);
    return { what: `${pop ? "pop" : "push"} ${rm.desc}`, emit: (x) => (pop ? x.pop(rm.rm) : x.push(rm.rm)),
      expect: { mnemonic: pop ? "pop" : "push", ops: [rm.desc] } };
  }],
  ["far jumps", (r, bits, a) => {
    if (bits === 64) {
      const { m, labelAddr } = randMem(r, bits, a);
      const d = memDesc(m, bits, 10, labelAddr);
      return { what: `jmp far ${d}`, emit: (x) => x.jmpFarMem(m), expect: { mnemonic: "jmp", ops: [d] } };
    }
    const sel = r.int(0, 0xffff);
    const dword = bits === 32 || r.chance(0.5);
    const off = dword ? r.int(0, 0xffffffff) : r.int(0, 0xffff);
    return { what: `jmp far ${sel}:${off}`, emit: (x) => (dword && bits === 16 ? x.jmpFarDword(sel, off) : x.jmpFar(sel, off)),
      expect: { mnemonic: "jmp", ops: [`far:${sel.toString(16)}:${off.toString(16)}`] } };
  }],
  ["in/out", (r, bits) => {
    const size = r.pick([1, 2, 4] as const);
    const port: number | "dx" = r.chance(0.5) ? "dx" : r.int(0, 255);
    const acc = gp(0, size);
    const p = port === "dx" ? "dx" : immOp(port, 8);
    return r.chance(0.5)
      ? { what: `in ${acc}, ${port}`, emit: (x) => x.inPort(size, port), expect: { mnemonic: "in", ops: [acc, p] } }
      : { what: `out ${port}, ${acc}`, emit: (x) => x.outPort(size, port), expect: { mnemonic: "out", ops: [p, acc] } };
  }],
  ["system registers", (r, bits, a) => {
    const k = r.int(0, 3);
    const regSize = bits === 64 ? 8 : 4;
    if (k <= 1) {
      const cr = r.pick((bits === 64 ? [0, 2, 3, 4, 8] : [0, 2, 3, 4]) as (0 | 2 | 3 | 4 | 8)[]);
      const n = randGpr(r, bits);
      return k === 0
        ? { what: `mov cr${cr}, ${gp(n, regSize)}`, emit: (x) => x.movToCr(cr, reg(n)), expect: { mnemonic: "mov", ops: [`cr${cr}`, gp(n, regSize)] } }
        : { what: `mov ${gp(n, regSize)}, cr${cr}`, emit: (x) => x.movFromCr(reg(n), cr), expect: { mnemonic: "mov", ops: [gp(n, regSize), `cr${cr}`] } };
    }
    if (k === 2) {
      const sreg = r.pick([0, 2, 3, 4, 5]);
      const n = randGpr(r, bits);
      return { what: `mov sreg${sreg}, ${gp(n, 2)}`, emit: (x) => x.movToSreg(sreg, reg(n)),
        expect: { mnemonic: "mov", ops: [["es", "cs", "ss", "ds", "fs", "gs"][sreg], gp(n, 2)] } };
    }
    const { m, labelAddr } = randMem(r, bits, a);
    const idt = r.chance(0.5);
    const d = memDesc(m, bits, 6, labelAddr); // iced names the m16&32 / m16&64 operand "fword" in every mode
    return { what: `${idt ? "lidt" : "lgdt"} ${d}`, emit: (x) => (idt ? x.lidt(m) : x.lgdt(m)), expect: { mnemonic: idt ? "lidt" : "lgdt", ops: [d] } };
  }],
  ["no operands", (r, bits) => {
    const all: [string, (x: Assembler) => void, string][] = [
      ["nop", (x) => x.nop(), "nop"], ["int3", (x) => x.int3(), "int3"], ["ud2", (x) => x.ud2(), "ud2"],
      ["hlt", (x) => x.hlt(), "hlt"], ["cli", (x) => x.cli(), "cli"], ["sti", (x) => x.sti(), "sti"],
      ["cld", (x) => x.cld(), "cld"], ["pause", (x) => x.pause(), "pause"], ["cpuid", (x) => x.cpuid(), "cpuid"],
      ["rdtsc", (x) => x.rdtsc(), "rdtsc"], ["rdmsr", (x) => x.rdmsr(), "rdmsr"], ["wrmsr", (x) => x.wrmsr(), "wrmsr"],
      ["mfence", (x) => x.mfence(), "mfence"], ["lfence", (x) => x.lfence(), "lfence"], ["sfence", (x) => x.sfence(), "sfence"],
      ["ret", (x) => x.ret(), "ret"],
    ];
    if (bits === 64) all.push(["iretq", (x) => x.iretq(), "iretq"]);
    if (r.chance(0.2)) {
      const n = r.int(0, 255);
      return { what: `int ${n}`, emit: (x) => x.int(n), expect: { mnemonic: "int", ops: [immOp(n, 8)] } };
    }
    const [what, emit, mnemonic] = r.pick(all);
    return { what, emit, expect: { mnemonic, ops: [] } };
  }],
  ["rep string", (r, bits) => {
    const size = r.pick((bits === 64 ? [1, 4, 8] : [1, 4]) as (1 | 4 | 8)[]);
    const sfx = { 1: "b", 4: "d", 8: "q" }[size];
    return r.chance(0.5)
      ? { what: `rep movs${sfx}`, emit: (x) => x.repMovs(size), expect: { mnemonic: `movs${sfx}`, ops: ["string"], rep: true } }
      : { what: `rep stos${sfx}`, emit: (x) => x.repStos(size), expect: { mnemonic: `stos${sfx}`, ops: ["string"], rep: true } };
  }],
  ["sse moves", (r, bits, a) => {
    if (bits === 16) return null;
    const k = r.int(0, 5);
    const x0 = randXmm(r, bits);
    if (k <= 1) {
      const size = bits === 64 && r.chance(0.5) ? 8 : 4;
      const rm = randRM(r, bits, a, size);
      const mn = size === 8 ? "movq" : "movd";
      return k === 0
        ? { what: `${mn} ${xmm(x0)}, ${rm.desc}`, emit: (x) => x.movToXmm(size, x0, rm.rm), expect: { mnemonic: mn, ops: [xmm(x0), rm.desc] } }
        : { what: `${mn} ${rm.desc}, ${xmm(x0)}`, emit: (x) => x.movFromXmm(size, rm.rm, x0), expect: { mnemonic: mn, ops: [rm.desc, xmm(x0)] } };
    }
    const [mn, size] = r.pick([["movss", 4], ["movsd", 8], ["movaps", 16], ["movapd", 16], ["movups", 16]] as const);
    const other = randXmmRM(r, bits, a, size);
    const call = (x: Assembler, d: number | Mem, s: number | Mem) => (x[mn] as (d: number | Mem, s: number | Mem) => void).call(x, d, s);
    if (k <= 3 || typeof other.rm === "number") {
      return { what: `${mn} ${xmm(x0)}, ${other.desc}`, emit: (x) => call(x, x0, other.rm), expect: { mnemonic: mn, ops: [xmm(x0), other.desc] } };
    }
    return { what: `${mn} ${other.desc}, ${xmm(x0)}`, emit: (x) => call(x, other.rm, x0), expect: { mnemonic: mn, ops: [other.desc, xmm(x0)] } };
  }],
  ["avx moves", (r, bits, a) => {
    if (bits !== 64) return null; // VEX forms: 64-bit mode only
    const y = randXmm(r, bits), ymm = (n: number) => `ymm${n}`;
    const k = r.int(0, 3);
    if (k === 3) {
      const { m, labelAddr } = randMem(r, bits, a);
      const desc = memDesc(m, bits, 32, labelAddr);
      return { what: `vmovdqa ${desc}, ${ymm(y)}`, emit: (x) => x.vmovdqaStore(m, y), expect: { mnemonic: "vmovdqa", ops: [desc, ymm(y)] } };
    }
    const other = randXmmRM(r, bits, a, 32);
    const desc = typeof other.rm === "number" ? ymm(other.rm) : other.desc;
    if (k <= 1 || typeof other.rm === "number") {
      return { what: `vmovdqu ${ymm(y)}, ${desc}`, emit: (x) => x.vmovdqu(y, other.rm), expect: { mnemonic: "vmovdqu", ops: [ymm(y), desc] } };
    }
    return { what: `vmovdqu ${desc}, ${ymm(y)}`, emit: (x) => x.vmovdqu(other.rm, y), expect: { mnemonic: "vmovdqu", ops: [desc, ymm(y)] } };
  }],
  ["sse arithmetic", (r, bits, a) => {
    if (bits === 16) return null;
    const [op, size] = r.pick(SSE_OPS);
    const d = randXmm(r, bits);
    const src = randXmmRM(r, bits, a, size);
    return { what: `${op} ${xmm(d)}, ${src.desc}`, emit: (x) => x.sse(op, d, src.rm), expect: { mnemonic: op, ops: [xmm(d), src.desc] } };
  }],
  ["sse conversions", (r, bits, a) => {
    if (bits === 16) return null;
    const k = r.int(0, 2);
    const isSd = r.chance(0.5);
    const gsize = bits === 64 && r.chance(0.5) ? 8 : 4;
    if (k === 0) {
      const d = randXmm(r, bits);
      const src = randRM(r, bits, a, gsize);
      const mn = isSd ? "cvtsi2sd" : "cvtsi2ss";
      return { what: `${mn} ${xmm(d)}, ${src.desc}`, emit: (x) => (isSd ? x.cvtsi2sd(gsize, d, src.rm) : x.cvtsi2ss(gsize, d, src.rm)),
        expect: { mnemonic: mn, ops: [xmm(d), src.desc] } };
    }
    if (k === 1) {
      const n = randGpr(r, bits);
      const src = randXmmRM(r, bits, a, isSd ? 8 : 4);
      const mn = isSd ? "cvttsd2si" : "cvttss2si";
      return { what: `${mn} ${gp(n, gsize)}, ${src.desc}`, emit: (x) => (isSd ? x.cvttsd2si(gsize, reg(n), src.rm) : x.cvttss2si(gsize, reg(n), src.rm)),
        expect: { mnemonic: mn, ops: [gp(n, gsize), src.desc] } };
    }
    const d = randXmm(r, bits);
    const src = randXmmRM(r, bits, a, isSd ? 8 : 4);
    const mode = r.int(0, 15);
    const mn = isSd ? "roundsd" : "roundss";
    return { what: `${mn} ${xmm(d)}, ${src.desc}, ${mode}`, emit: (x) => (isSd ? x.roundsd(d, src.rm, mode) : x.roundss(d, src.rm, mode)),
      expect: { mnemonic: mn, ops: [xmm(d), src.desc, immOp(mode, 8)] } };
  }],
];

// ---- the decoded side ----
const formatter = makeFormatter();

function decodeOne(bytes: Uint8Array, bits: Bits, origin: number): { length: number; count: number; got: Expected; text: string } {
  const dec = new Decoder(bits, bytes, DecoderOptions.None);
  dec.ip = BigInt(origin);
  const ins = dec.decode();
  try {
    const text = ins.isInvalid ? "(bad)" : formatter.format(ins);
    const sizeWord = /(\w+) ptr /.exec(text)?.[1] ?? "";
    const ops: string[] = [];
    let string = false;
    for (let i = 0; i < ins.opCount; i++) {
      const k = ins.opKind(i);
      const regName = (r: Register): string => (r === Register.None ? "none" : Register[r].toLowerCase());
      switch (k) {
        case OpKind.Register: ops.push(regName(ins.opRegister(i))); break;
        case OpKind.Memory: {
          const scale = ins.memoryIndex === Register.None ? 1 : ins.memoryIndexScale;
          const d = BigInt.asUintN(bits === 64 ? 64 : 32, ins.memoryDisplacement).toString(16);
          ops.push(`mem:${ins.mnemonic === Mnemonic.Lea ? "" : sizeWord}[${regName(ins.memoryBase)}+${regName(ins.memoryIndex)}*${scale}+${d}]`);
          break;
        }
        case OpKind.NearBranch16: case OpKind.NearBranch32: case OpKind.NearBranch64:
          ops.push(`target:${ins.nearBranchTarget.toString(16)}`); break;
        case OpKind.FarBranch16: ops.push(`far:${ins.farBranchSelector.toString(16)}:${ins.farBranch16.toString(16)}`); break;
        case OpKind.FarBranch32: ops.push(`far:${ins.farBranchSelector.toString(16)}:${ins.farBranch32.toString(16)}`); break;
        case OpKind.Immediate8: case OpKind.Immediate8_2nd: ops.push(immOp(ins.immediate(i), 8)); break;
        case OpKind.Immediate16: case OpKind.Immediate8to16: ops.push(immOp(ins.immediate(i), 16)); break;
        case OpKind.Immediate32: case OpKind.Immediate8to32: ops.push(immOp(ins.immediate(i), 32)); break;
        case OpKind.Immediate64: case OpKind.Immediate8to64: case OpKind.Immediate32to64: ops.push(immOp(ins.immediate(i), 64)); break;
        default: string = true; // implicit string operands
      }
    }
    // iced names the source of `mov sreg, r/m16` (8E /r) by its 32/64-bit register while its text
    // shows the 16-bit one; compare the register number at 16 bits.
    if (ins.mnemonic === Mnemonic.Mov && ["es", "cs", "ss", "ds", "fs", "gs"].includes(ops[0])) {
      for (const size of [4, 8]) {
        const n = NAMES[size].indexOf(ops[1]);
        if (n >= 0) ops[1] = gp(n, 2);
      }
    }
    const got: Expected = { mnemonic: Mnemonic[ins.mnemonic].toLowerCase(), ops: string ? ["string"] : ops };
    if (ins.hasRepPrefix || ins.hasRepePrefix) got.rep = true;
    let count = 1;
    while (dec.canDecode) { dec.decode().free(); count++; }
    return { length: ins.length, count, got, text };
  } finally {
    ins.free();
    dec.free();
  }
}

describe("x86 encoder vs iced-x86 (randomized)", () => {
  const seed = Number(process.env.X86_SEED ?? 0x5eed1234);
  const cases = Number(process.env.X86_CASES ?? 6000);

  it(`${cases} random instructions decode to what was asked (seed ${seed})`, () => {
    const rng = new Rng(mulberry32(seed));
    const perGenerator = new Map<string, number>();
    let done = 0;
    let attempts = 0;
    while (done < cases) {
      if (++attempts > cases * 4) throw new Error("generators return null too often");
      const bits = rng.pick([16, 32, 64, 64, 64] as const);
      const [name, gen] = rng.pick(GENERATORS);
      const origin = bits === 16 ? rng.int(0, 0xff00) : bits === 32 ? rng.int(0, 0x7fffffff) : rng.int(0, 2 ** 40);
      const a = new Assembler({ bits, origin });
      const c = gen(rng, bits, a);
      if (c === null) continue;
      const where = `seed ${seed}, case ${done} (${name}, ${bits}-bit): ${c.what}`;
      let bytes: Uint8Array;
      try {
        c.emit(a);
        bytes = a.finish();
      } catch (e) {
        throw new Error(`${where}: encoder threw: ${(e as Error).message}`);
      }
      const { length, count, got, text } = decodeOne(bytes, bits, origin);
      const ctx = `${where}\n  bytes ${hexBytes(bytes)}\n  iced  ${text}`;
      expect(count, ctx).toBe(1);
      expect(length, ctx).toBe(bytes.length);
      expect(got, ctx).toEqual(c.expect);
      perGenerator.set(name, (perGenerator.get(name) ?? 0) + 1);
      done++;
    }
    // Every family got a fair share of the cases.
    for (const [name] of GENERATORS) expect(perGenerator.get(name) ?? 0, name).toBeGreaterThan(cases / GENERATORS.length / 4);
  });
});
