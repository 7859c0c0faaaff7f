/**
 * x86 assembler: the one encoder used by the translator (64-bit code) and by the boot stub
 * (16-bit real mode, 32-bit protected mode, 64-bit long mode).
 *
 * Source of truth: Intel SDM Vol. 2, ch. 2 (instruction format: prefixes, REX, ModRM, SIB,
 * displacement, immediate) and the per-instruction pages cited in `forms.ts`. Instruction forms
 * live in `forms.ts` as data (Intel opcode notation); `emit()` below is the one generic emitter.
 *
 * CONTRACT (other parts of the tree are written against exactly this API):
 *  - Registers are numbers 0..15 (`R.rax` .. `R.r15`). Byte registers with `size 1` use the
 *    low byte (al, cl, ..., sil, dil need REX; ah/ch/dh/bh are never used).
 *  - `size` is the operand size in bytes: 1, 2, 4 or 8. In 16-bit mode size 2 is the default and
 *    4 gets 0x66; in 32/64-bit mode size 4 is default and 2 gets 0x66; size 8 needs 64-bit mode (REX.W).
 *  - Memory operands: `mem(base, disp, index, scale)`; `abs(addrOrLabel)` is an absolute [disp32]
 *    with no base register (in 64-bit mode encoded with SIB "no base, no index", never RIP-relative;
 *    the address must fit in a sign-extended 32-bit value). In 16-bit mode every memory operand is
 *    encoded with the 0x67 prefix and 32-bit addressing.
 *  - Labels: `label()` makes one, `bind(l)` fixes it at the current position (address = origin +
 *    offset), `defineAbsolute(l, addr)` fixes it at an absolute address (for data placed by the
 *    linker). Anything taking a Label may be used before the label is bound: a fixup is recorded
 *    and resolved by `finish()`. Branches to labels always use the near form (rel32; rel16 in
 *    16-bit mode), so code size never depends on label positions.
 *  - `finish()` resolves all fixups and returns the bytes; it throws naming the label if any
 *    label is still unbound, or if an absolute value does not fit its field.
 *
 * REGISTER OR IMMEDIATE: where an operand may be either (the source of `mov`/`alu`/`test`, and
 *  `push`), both are numbers in the signature, so the `R` constants are *boxed* numbers
 *  (`new Number(n)`, one object per register): they behave as numbers in arithmetic, indexing and
 *  templates, and `R.rax === R.rax`, but `typeof R.rax` is "object". In those ambiguous positions a
 *  boxed register is a register and a plain number is an immediate: `mov(4, R.rax, R.rcx)` is
 *  `mov eax, ecx`, `mov(4, R.rax, 1)` is `mov eax, 1`. A register number computed at run time must
 *  be boxed with `reg(n)` before it is used there. Everywhere else (destinations, `movzx` sources,
 *  memory bases, xmm operands) plain numbers and `R` constants are both accepted as registers.
 *
 * Encoding choices: alu imm uses the sign-extended imm8 form (83 /n ib) when it fits, else the
 * short rAX form (05 id ...) for rax, else 81 /n id; `mov` to a 32/16/8-bit register uses B8+r;
 * shifts by 1 use D1; `xchg` never uses 90+r; `rep movs/stos` get 0x67 in 16-bit mode (esi/edi/ecx).
 * Branch range: rel32 in 64-bit mode must fit a signed 32-bit offset; in 16/32-bit mode (E)IP wraps,
 * so any target less than 64 KiB / 4 GiB away is accepted. `lgdt`/`lidt` in 16-bit mode have 16-bit
 * operand size (24-bit base), as the SDM defines them without 0x66.
 *
 * EXTENSIONS (added to the contract; xmm registers are numbers 0..15):
 *  - `reg(n)`, `isReg(x)`: box a register number / test for a boxed register.
 *  - `observeForms(fn)`: test hook seeing the form of each instruction emitted (form coverage).
 *  - `patchI32(offset, value)`: overwrite 4 already-emitted bytes (a value known only later).
 *  - `bitImm(op, size, rm, bit, lock?)`: bt/bts/btr r/m, imm8, optionally with the LOCK prefix.
 *  - `jmpFarDword(sel, offset)`: far jump ptr16:32 also from 16-bit mode (66 EA), for real -> protected.
 *  - SSE2/SSE4.1 scalar float:
 *      `movToXmm(size 4|8, xmm, r/m)`   movd/movq xmm, r/m32|r/m64  (66 [REX.W] 0F 6E /r)
 *      `movFromXmm(size 4|8, r/m, xmm)` movd/movq r/m32|r/m64, xmm  (66 [REX.W] 0F 7E /r)
 *      `movss(dst, src)`, `movsd(dst, src)`  xmm<-xmm/mem or mem<-xmm (F3/F2 0F 10/11)
 *      `movaps(dst, src)`, `movapd(dst, src)` xmm<-xmm/m128 or m128<-xmm (0F 28/29)
 *      `sse(op, xmm, xmm/mem)` for op in SseOp: add/sub/mul/div/sqrt/min/max ss|sd, ucomiss/sd,
 *          cvtss2sd, cvtsd2ss, and/andn/or/xor ps|pd
 *      `cvtsi2ss(srcSize 4|8, xmm, r/m)`, `cvtsi2sd(srcSize 4|8, xmm, r/m)`
 *      `cvttss2si(dstSize 4|8, reg, xmm/m32)`, `cvttsd2si(dstSize 4|8, reg, xmm/m64)`
 *      `roundss(xmm, xmm/m32, imm8)`, `roundsd(xmm, xmm/m64, imm8)` (SSE4.1)
 */
import { lookupForm, type Encoding } from "./forms.ts";

let emitObserver: ((e: Encoding) => void) | null = null;
/** Test hook: called with the form of every instruction emitted (null to stop). */
export function observeForms(fn: ((e: Encoding) => void) | null): void {
  emitObserver = fn;
}

const REGISTERS: readonly number[] = Array.from({ length: 16 }, (_, n) => Object.freeze(new Number(n)) as unknown as number);

/** The boxed register `n` (0..15): use it where a plain number would mean an immediate. */
export function reg(n: number): Reg {
  const v = Number(n);
  if (!Number.isInteger(v) || v < 0 || v > 15) throw new Error(`x86: register number ${n} is not 0..15`);
  return REGISTERS[v];
}
/** True for a boxed register (an `R` constant or `reg(n)`). */
export function isReg(x: unknown): boolean {
  return x instanceof Number;
}

export const R: {
  readonly rax: Reg; readonly rcx: Reg; readonly rdx: Reg; readonly rbx: Reg;
  readonly rsp: Reg; readonly rbp: Reg; readonly rsi: Reg; readonly rdi: Reg;
  readonly r8: Reg; readonly r9: Reg; readonly r10: Reg; readonly r11: Reg;
  readonly r12: Reg; readonly r13: Reg; readonly r14: Reg; readonly r15: Reg;
} = Object.freeze({
  rax: REGISTERS[0], rcx: REGISTERS[1], rdx: REGISTERS[2], rbx: REGISTERS[3],
  rsp: REGISTERS[4], rbp: REGISTERS[5], rsi: REGISTERS[6], rdi: REGISTERS[7],
  r8: REGISTERS[8], r9: REGISTERS[9], r10: REGISTERS[10], r11: REGISTERS[11],
  r12: REGISTERS[12], r13: REGISTERS[13], r14: REGISTERS[14], r15: REGISTERS[15],
});
export type Reg = number;
export type Size = 1 | 2 | 4 | 8;
export type Bits = 16 | 32 | 64;

/** Condition codes, in the order of their 4-bit encoding (Intel SDM Vol. 1, Appendix B). */
export const CC = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7,
  s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
} as const;
export type Cond = keyof typeof CC;

export class Label {
  /** Absolute address once bound/defined, else undefined. */
  address: number | undefined = undefined;
  constructor(readonly name: string) {}
}

export interface Mem {
  readonly kind: "mem";
  readonly base: Reg | null;
  readonly index: Reg | null;
  readonly scale: 1 | 2 | 4 | 8;
  /** A number, or a Label whose absolute address (plus `addend`) is the displacement. */
  readonly disp: number | Label;
  readonly addend: number;
}
export type RM = Reg | Mem;

export function mem(base: Reg | null, disp: number = 0, index: Reg | null = null, scale: 1 | 2 | 4 | 8 = 1): Mem {
  return { kind: "mem", base, index, scale, disp, addend: 0 };
}
/** [disp32] absolute address (a number or a label's address + addend). */
export function abs(addr: number | Label, addend: number = 0): Mem {
  return { kind: "mem", base: null, index: null, scale: 1, disp: addr, addend };
}
export function isMem(x: unknown): x is Mem {
  return typeof x === "object" && x !== null && (x as Mem).kind === "mem";
}

export type AluOp = "add" | "or" | "adc" | "sbb" | "and" | "sub" | "xor" | "cmp";
export type UnaryOp = "not" | "neg" | "mul" | "imul1" | "div" | "idiv" | "inc" | "dec";
export type ShiftOp = "rol" | "ror" | "rcl" | "rcr" | "shl" | "shr" | "sar";
export type BitOp = "bsf" | "bsr" | "lzcnt" | "tzcnt" | "popcnt";


// ---------------------------------------------------------------------------------------------
// Additions beyond the original contract (see the header comment "EXTENSIONS").

/** An xmm register number 0..15. */
export type Xmm = number;
export type XmmRM = Xmm | Mem;
/** Two-operand SSE forms `op xmm, xmm/mem` reachable through `Assembler.sse`. */
export type SseOp =
  | "addss" | "addsd" | "subss" | "subsd" | "mulss" | "mulsd" | "divss" | "divsd"
  | "sqrtss" | "sqrtsd" | "minss" | "minsd" | "maxss" | "maxsd" | "ucomiss" | "ucomisd"
  | "cvtss2sd" | "cvtsd2ss" | "andps" | "andpd" | "andnps" | "andnpd" | "orps" | "orpd"
  | "xorps" | "xorpd";

const SSE_SOURCE: Record<SseOp, string> = {
  addss: "xmm, xmm/m32", addsd: "xmm, xmm/m64", subss: "xmm, xmm/m32", subsd: "xmm, xmm/m64",
  mulss: "xmm, xmm/m32", mulsd: "xmm, xmm/m64", divss: "xmm, xmm/m32", divsd: "xmm, xmm/m64",
  sqrtss: "xmm, xmm/m32", sqrtsd: "xmm, xmm/m64", minss: "xmm, xmm/m32", minsd: "xmm, xmm/m64",
  maxss: "xmm, xmm/m32", maxsd: "xmm, xmm/m64", ucomiss: "xmm, xmm/m32", ucomisd: "xmm, xmm/m64",
  cvtss2sd: "xmm, xmm/m32", cvtsd2ss: "xmm, xmm/m64", andps: "xmm, xmm/m128", andpd: "xmm, xmm/m128",
  andnps: "xmm, xmm/m128", andnpd: "xmm, xmm/m128", orps: "xmm, xmm/m128", orpd: "xmm, xmm/m128",
  xorps: "xmm, xmm/m128", xorpd: "xmm, xmm/m128",
};

/** rel16: IP wraps mod 64 KiB; rel32w: 32-bit mode, EIP wraps mod 4 GiB; rel32: 64-bit mode, signed. */
type FixupKind = "rel16" | "rel32" | "rel32w" | "abs16" | "abs32" | "abs32s" | "abs64";

interface Fixup {
  kind: FixupKind;
  /** Offset of the field in the output. */
  at: number;
  /** Offset of the end of the instruction (rel fixups are relative to it). */
  end: number;
  label: Label;
  addend: number;
  /** What the field belongs to, for error messages. */
  what: string;
}

/** Operands of one instruction for the generic emitter. */
interface Operands {
  /** Operand size: drives 0x66 and REX.W. Undefined: the mode's default (push/pop/jmp/call r/m...). */
  size?: Size;
  /** Register for ModRM.reg when the form has "/r". */
  reg?: Reg;
  /** ModRM.r/m operand. */
  rm?: RM;
  /** Register added to the opcode byte ("+r"). */
  opreg?: Reg;
  /** Condition code added to the opcode byte ("+cc"). */
  cc?: number;
  /** `reg` / `opreg` is a byte register (spl/bpl/sil/dil need a REX prefix). */
  reg8?: boolean;
  /** `rm`, when a register, is a byte register. */
  rm8?: boolean;
  /** The instruction has an implicit memory operand (string ops): 0x67 in 16-bit mode. */
  implicitMem?: boolean;
  imms?: (number | bigint | Label)[];
  rel?: Label;
  far?: { selector: number; offset: number | Label };
}

const TWO32 = 2 ** 32;
const TWO31 = 2 ** 31;
const SCALE_BITS = { 1: 0, 2: 1, 4: 2, 8: 3 } as const;
const REG64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

function hex(n: number): string {
  return (n < 0 ? "-0x" : "0x") + Math.abs(n).toString(16);
}

/** Little-endian bytes of `value` truncated to `n` bytes (two's complement for negatives). */
function le(value: number | bigint, n: number): number[] {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    // Fast path (no BigInt): the low 32 bits by ToUint32, the high ones by floor division.
    const lo = value >>> 0;
    if (n === 1) return [lo & 0xff];
    if (n === 2) return [lo & 0xff, (lo >>> 8) & 0xff];
    if (n === 4) return [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24];
    if (n === 8) {
      const hi = Math.floor(value / TWO32) >>> 0;
      return [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24];
    }
  }
  let v = BigInt.asUintN(n * 8, BigInt(value));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** Value range accepted by an immediate/data field of `n` bytes: signed or unsigned interpretation. */
function fitsField(v: number | bigint, n: number, signedOnly: boolean): boolean {
  if (typeof v === "number" && Number.isSafeInteger(v)) {
    // Fast path: exact in doubles (2^(8n) for n <= 8 is a power of two).
    const half = 2 ** (n * 8 - 1);
    return v >= -half && v <= (signedOnly ? half - 1 : 2 * half - 1);
  }
  const b = BigInt(v);
  const bits = BigInt(n * 8);
  const min = -(1n << (bits - 1n));
  const max = signedOnly ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  return b >= min && b <= max;
}

/** `v` as a signed value of `size` bytes (sign-extension of its low bits). */
function signedAt(v: number, size: Size): number {
  if (Number.isSafeInteger(v)) {
    if (size === 4) return v | 0;
    if (size === 2) return (v << 16) >> 16;
    if (size === 1) return (v << 24) >> 24;
  }
  return Number(BigInt.asIntN(size * 8, BigInt(v)));
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

export class Assembler {
  /** Current code mode; may be changed between instructions (boot code switches 16 -> 32 -> 64). */
  bits: Bits;
  /** Address of offset 0. */
  readonly origin: number;
  private readonly buf: number[] = [];
  private readonly fixups: Fixup[] = [];
  private labelCount = 0;

  constructor(opts: { bits?: Bits; origin?: number } = {}) {
    this.bits = opts.bits ?? 64;
    this.origin = opts.origin ?? 0;
    if (this.bits !== 16 && this.bits !== 32 && this.bits !== 64) throw new Error(`x86: bits ${this.bits}`);
    if (!isInt(this.origin)) throw new Error(`x86: origin ${this.origin} is not an integer`);
  }

  /** Current offset from origin. */
  get offset(): number {
    return this.buf.length;
  }
  /** Current absolute address (origin + offset). */
  get here(): number {
    return this.origin + this.buf.length;
  }
  label(name?: string): Label {
    return new Label(name ?? `L${this.labelCount++}`);
  }
  bind(l: Label): void {
    if (l.address !== undefined) throw new Error(`x86: label "${l.name}" is bound twice`);
    l.address = this.here;
  }
  defineAbsolute(l: Label, addr: number): void {
    if (l.address !== undefined) throw new Error(`x86: label "${l.name}" is bound twice`);
    if (!isInt(addr)) throw new Error(`x86: label "${l.name}": address ${addr} is not an integer`);
    l.address = addr;
  }

  // ---- data ----
  db(...values: number[]): void {
    for (const v of values) {
      if (!isInt(v) || !fitsField(v, 1, false)) throw new Error(`x86: db ${v} does not fit a byte`);
      this.buf.push(v & 0xff);
    }
  }
  dw(value: number): void {
    if (!isInt(value) || !fitsField(value, 2, false)) throw new Error(`x86: dw ${value} does not fit 16 bits`);
    this.buf.push(...le(value, 2));
  }
  dd(value: number | Label): void {
    if (value instanceof Label) {
      this.fixups.push({ kind: "abs32", at: this.offset, end: this.offset + 4, label: value, addend: 0, what: "dd" });
      this.buf.push(0, 0, 0, 0);
      return;
    }
    if (!isInt(value) || !fitsField(value, 4, false)) throw new Error(`x86: dd ${value} does not fit 32 bits`);
    this.buf.push(...le(value, 4));
  }
  dq(value: number | bigint | Label): void {
    if (value instanceof Label) {
      this.fixups.push({ kind: "abs64", at: this.offset, end: this.offset + 8, label: value, addend: 0, what: "dq" });
      this.buf.push(0, 0, 0, 0, 0, 0, 0, 0);
      return;
    }
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new Error(`x86: dq ${value} is not a safe integer (pass a bigint)`);
    }
    if (!fitsField(value, 8, false)) throw new Error(`x86: dq ${value} does not fit 64 bits`);
    this.buf.push(...le(value, 8));
  }
  bytes(data: Uint8Array | number[]): void {
    for (const b of data) {
      if (!isInt(b) || b < 0 || b > 255) throw new Error(`x86: bytes: ${b} is not a byte`);
      this.buf.push(b);
    }
  }
  /** Pad with `fill` (default 0x90 nop in code, pass 0 for data) until the address is a multiple of `n`. */
  align(n: number, fill: number = 0x90): void {
    if (!isInt(n) || n <= 0) throw new Error(`x86: align ${n}`);
    while (this.here % n !== 0) this.buf.push(fill & 0xff);
  }

  /** Overwrite the 4 bytes at `offset` (already emitted) with `value`, little-endian (e.g. a frame size known late). */
  patchI32(offset: number, value: number): void {
    if (!isInt(offset) || offset < 0 || offset + 4 > this.buf.length) throw new Error(`x86: patchI32 at ${offset}: outside the ${this.buf.length} bytes emitted`);
    if (!isInt(value) || !fitsField(value, 4, false)) throw new Error(`x86: patchI32 ${value} does not fit 32 bits`);
    le(value, 4).forEach((b, i) => { this.buf[offset + i] = b; });
  }

  // ---- integer ----
  /** r/m, reg | reg, r/m | r/m, imm (imm8 sign-extended form when it fits; imm32 otherwise). */
  alu(op: AluOp, size: Size, dst: RM, src: RM | number): void {
    if (isImmediate(src)) {
      const v = immForSize(op, size, src);
      const isRax = !isMem(dst) && Number(dst) === 0;
      if (size === 1) {
        if (isRax) this.emit(op, "AL, imm8", { size, imms: [v] });
        else this.emit(op, "r/m8, imm8", { size, rm: dst, rm8: true, imms: [v] });
      } else if (fitsImm8(v, size)) {
        this.emit(op, "r/m, imm8", { size, rm: dst, imms: [signedAt(v, size)] });
      } else if (isRax) {
        this.emit(op, "rAX, imm", { size, imms: [v] });
      } else {
        this.emit(op, "r/m, imm", { size, rm: dst, imms: [v] });
      }
    } else if (isMem(src)) {
      if (isMem(dst)) throw new Error(`x86: ${op}: memory to memory`);
      this.emit(op, size === 1 ? "r8, r/m8" : "r, r/m", { size, reg: dst, rm: src, reg8: size === 1 });
    } else {
      this.emit(op, size === 1 ? "r/m8, r8" : "r/m, r", { size, reg: src, rm: dst, reg8: size === 1, rm8: size === 1 });
    }
  }
  test(size: Size, dst: RM, src: Reg | number): void {
    if (isImmediate(src)) {
      const v = immForSize("test", size, src);
      const isRax = !isMem(dst) && Number(dst) === 0;
      if (size === 1) {
        if (isRax) this.emit("test", "AL, imm8", { size, imms: [v] });
        else this.emit("test", "r/m8, imm8", { size, rm: dst, rm8: true, imms: [v] });
      } else if (isRax) {
        this.emit("test", "rAX, imm", { size, imms: [v] });
      } else {
        this.emit("test", "r/m, imm", { size, rm: dst, imms: [v] });
      }
    } else {
      this.emit("test", size === 1 ? "r/m8, r8" : "r/m, r", { size, reg: src, rm: dst, reg8: size === 1, rm8: size === 1 });
    }
  }
  /** reg<-reg/mem, mem<-reg, reg<-imm (size 8: imm32 sign-extended if it fits, else movabs), mem<-imm32. */
  mov(size: Size, dst: RM, src: RM | number): void {
    if (isImmediate(src)) {
      if (size === 8 && !isMem(dst) && !fitsField(src, 4, true)) {
        if (!isInt(src) || !fitsField(src, 8, false)) throw new Error(`x86: mov: immediate ${src} does not fit 64 bits`);
        this.movabs(dst, src);
        return;
      }
      const v = immForSize("mov", size, src);
      if (isMem(dst)) {
        this.emit("mov", size === 1 ? "r/m8, imm8" : "r/m, imm", { size, rm: dst, imms: [v] });
      } else if (size === 1) {
        this.emit("mov", "r8, imm8", { size, opreg: dst, reg8: true, imms: [v] });
      } else if (size === 8) {
        this.emit("mov", "r/m, imm", { size, rm: dst, imms: [v] });
      } else {
        this.emit("mov", "r, imm", { size, opreg: dst, imms: [v] });
      }
    } else if (isMem(src)) {
      if (isMem(dst)) throw new Error("x86: mov: memory to memory");
      this.emit("mov", size === 1 ? "r8, r/m8" : "r, r/m", { size, reg: dst, rm: src, reg8: size === 1 });
    } else {
      this.emit("mov", size === 1 ? "r/m8, r8" : "r/m, r", { size, reg: src, rm: dst, reg8: size === 1, rm8: size === 1 });
    }
  }
  /** mov reg64, imm64 (REX.W B8+r io); a Label means its absolute address. */
  movabs(dst: Reg, imm: number | bigint | Label): void {
    if (typeof imm === "number" && !Number.isSafeInteger(imm)) {
      throw new Error(`x86: movabs ${imm} is not a safe integer (pass a bigint)`);
    }
    if (!(imm instanceof Label) && !fitsField(imm, 8, false)) throw new Error(`x86: movabs ${imm} does not fit 64 bits`);
    this.emit("mov", "r64, imm64", { opreg: dst, imms: [imm] });
  }
  /** movzx/movsx; srcSize 4 with movsx is movsxd. movzx with dstSize 8 from size 1/2 is fine. */
  movzx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2, src: RM): void {
    if (srcSize >= dstSize) throw new Error(`x86: movzx from size ${srcSize} to size ${dstSize}`);
    this.emit("movzx", srcSize === 1 ? "r, r/m8" : "r, r/m16", { size: dstSize, reg: dst, rm: src, rm8: srcSize === 1 });
  }
  movsx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2 | 4, src: RM): void {
    if (srcSize >= dstSize) throw new Error(`x86: movsx from size ${srcSize} to size ${dstSize}`);
    if (srcSize === 4) this.emit("movsxd", "r64, r/m32", { reg: dst, rm: src });
    else this.emit("movsx", srcSize === 1 ? "r, r/m8" : "r, r/m16", { size: dstSize, reg: dst, rm: src, rm8: srcSize === 1 });
  }
  lea(size: 2 | 4 | 8, dst: Reg, src: Mem): void {
    if (!isMem(src)) throw new Error("x86: lea needs a memory operand");
    this.emit("lea", "r, m", { size, reg: dst, rm: src });
  }
  /** imul reg, r/m (0F AF /r). */
  imul(size: Size, dst: Reg, src: RM): void {
    if (size === 1) throw new Error("x86: imul reg, r/m has no byte form");
    this.emit("imul", "r, r/m", { size, reg: dst, rm: src });
  }
  /** imul reg, r/m, imm (6B /r ib or 69 /r id). */
  imul3(size: Size, dst: Reg, src: RM, imm: number): void {
    if (size === 1) throw new Error("x86: imul reg, r/m, imm has no byte form");
    const v = immForSize("imul", size, imm);
    if (fitsImm8(v, size)) this.emit("imul", "r, r/m, imm8", { size, reg: dst, rm: src, imms: [signedAt(v, size)] });
    else this.emit("imul", "r, r/m, imm", { size, reg: dst, rm: src, imms: [v] });
  }
  /** F6/F7 group (not, neg, mul, imul one-operand, div, idiv) and FE/FF inc/dec. */
  unary(op: UnaryOp, size: Size, rm: RM): void {
    this.emit(op, size === 1 ? "r/m8" : "r/m", { size, rm, rm8: size === 1 });
  }
  /** D2/D3 (by cl), D0/D1 (by 1), C0/C1 ib. */
  shift(op: ShiftOp, size: Size, rm: RM, count: "cl" | number): void {
    const w = size === 1 ? "r/m8" : "r/m";
    if (count === "cl") this.emit(op, `${w}, CL`, { size, rm, rm8: size === 1 });
    else if (!isInt(count) || count < 0 || count > 255) throw new Error(`x86: ${op}: shift count ${count} is not 0..255`);
    else if (count === 1) this.emit(op, `${w}, 1`, { size, rm, rm8: size === 1 });
    else this.emit(op, `${w}, imm8`, { size, rm, rm8: size === 1, imms: [count] });
  }
  /** bsf/bsr (0F BC/BD), lzcnt/tzcnt (F3 0F BD/BC), popcnt (F3 0F B8). */
  bitscan(op: BitOp, size: 2 | 4 | 8, dst: Reg, src: RM): void {
    this.emit(op, "r, r/m", { size, reg: dst, rm: src });
  }
  setcc(cc: Cond, dst: RM): void {
    this.emit("setcc", "r/m8", { cc: condCode(cc), rm: dst, rm8: true });
  }
  cmovcc(cc: Cond, size: 2 | 4 | 8, dst: Reg, src: RM): void {
    this.emit("cmovcc", "r, r/m", { cc: condCode(cc), size, reg: dst, rm: src });
  }
  /** cwd/cdq/cqo by size 2/4/8. */
  signExtendAx(size: 2 | 4 | 8): void {
    this.emit("cwd", "", { size });
  }
  xchg(size: Size, a: Reg, b: RM): void {
    this.emit("xchg", size === 1 ? "r/m8, r8" : "r/m, r", { size, reg: a, rm: b, reg8: size === 1, rm8: size === 1 });
  }
  /**
   * bt/bts/btr r/m, imm8 (0F BA /4 /5 /6 ib); `lock` puts the LOCK prefix (F0, SDM Vol. 2A "LOCK")
   * first, which makes bts/btr on memory one atomic read-modify-write (interrupt stubs, pending bits).
   */
  bitImm(op: "bt" | "bts" | "btr", size: 2 | 4 | 8, rm: RM, bit: number, lock: boolean = false): void {
    if (!isInt(bit) || bit < 0 || bit >= size * 8) throw new Error(`x86: ${op}: bit ${bit} is not 0..${size * 8 - 1}`);
    if (lock && !isMem(rm)) throw new Error(`x86: lock ${op} needs a memory operand`);
    if (lock) this.db(0xf0);
    this.emit(op, "r/m, imm8", { size, rm, imms: [bit] });
  }
  bswap(size: 4 | 8, r: Reg): void {
    this.emit("bswap", "r", { size, opreg: r });
  }

  // ---- control ----
  jmp(target: Label | RM): void {
    if (target instanceof Label) this.emit("jmp", "rel", { rel: target });
    else this.emit("jmp", "r/m", { rm: target });
  }
  jcc(cc: Cond, target: Label): void {
    if (!(target instanceof Label)) throw new Error("x86: jcc needs a label");
    this.emit("jcc", "rel", { cc: condCode(cc), rel: target });
  }
  call(target: Label | RM): void {
    if (target instanceof Label) this.emit("call", "rel", { rel: target });
    else this.emit("call", "r/m", { rm: target });
  }
  ret(): void {
    this.emit("ret", "");
  }
  push(src: Reg | number | Mem): void {
    if (isMem(src)) {
      this.emit("push", "r/m", { rm: src });
    } else if (isImmediate(src)) {
      const size: Size = this.bits === 16 ? 2 : 4;
      const v = this.bits === 64 ? immForSize("push", 8, src) : immForSize("push", size, src);
      if (fitsImm8(v, this.bits === 64 ? 8 : size)) this.emit("push", "imm8", { imms: [signedAt(v, size)] });
      else this.emit("push", "imm", { imms: [v] });
    } else {
      this.emit("push", "r", { opreg: src });
    }
  }
  pop(dst: Reg | Mem): void {
    if (isMem(dst)) this.emit("pop", "r/m", { rm: dst });
    else this.emit("pop", "r", { opreg: dst });
  }
  /** Far jump ptr16:16/ptr16:32 (EA) - only in 16/32-bit mode. */
  jmpFar(selector: number, offset: number | Label): void {
    if (this.bits === 64) throw new Error("x86: jmp ptr16:32 does not exist in 64-bit mode (use jmpFarMem)");
    this.emit("jmp", "ptr16:z", { far: { selector, offset } });
  }
  /** Far jump ptr16:32 (EA cp), also from 16-bit mode (66 EA) - e.g. real mode into 32-bit code. */
  jmpFarDword(selector: number, offset: number | Label): void {
    if (this.bits === 64) throw new Error("x86: jmp ptr16:32 does not exist in 64-bit mode (use jmpFarMem)");
    this.emit("jmp", "ptr16:z", { size: 4, far: { selector, offset } });
  }
  /** Far jump through memory m16:64 (REX.W FF /5) - only in 64-bit mode. */
  jmpFarMem(m: Mem): void {
    if (!isMem(m)) throw new Error("x86: jmpFarMem needs a memory operand");
    if (this.bits !== 64) throw new Error("x86: jmpFarMem (m16:64) needs 64-bit mode");
    this.emit("jmp", "m16:64", { rm: m });
  }

  // ---- system ----
  nop(): void { this.emit("nop", ""); }
  int3(): void { this.emit("int3", ""); }
  int(n: number): void {
    if (!isInt(n) || n < 0 || n > 255) throw new Error(`x86: int ${n} is not 0..255`);
    this.emit("int", "imm8", { imms: [n] });
  }
  ud2(): void { this.emit("ud2", ""); }
  hlt(): void { this.emit("hlt", ""); }
  cli(): void { this.emit("cli", ""); }
  sti(): void { this.emit("sti", ""); }
  cld(): void { this.emit("cld", ""); }
  pause(): void { this.emit("pause", ""); }
  cpuid(): void { this.emit("cpuid", ""); }
  rdtsc(): void { this.emit("rdtsc", ""); }
  rdmsr(): void { this.emit("rdmsr", ""); }
  wrmsr(): void { this.emit("wrmsr", ""); }
  mfence(): void { this.emit("mfence", ""); }
  lfence(): void { this.emit("lfence", ""); }
  sfence(): void { this.emit("sfence", ""); }
  iretq(): void { this.emit("iretq", ""); }
  /** in al/ax/eax, imm8|dx (size 1/2/4). */
  inPort(size: 1 | 2 | 4, port: number | "dx"): void {
    const acc = size === 1 ? "AL" : "eAX";
    if (port === "dx") this.emit("in", `${acc}, DX`, { size });
    else this.emit("in", `${acc}, imm8`, { size, imms: [portNumber(port)] });
  }
  /** out imm8|dx, al/ax/eax (size 1/2/4). */
  outPort(size: 1 | 2 | 4, port: number | "dx"): void {
    const acc = size === 1 ? "AL" : "eAX";
    if (port === "dx") this.emit("out", `DX, ${acc}`, { size });
    else this.emit("out", `imm8, ${acc}`, { size, imms: [portNumber(port)] });
  }
  /** mov crN, reg / mov reg, crN (0F 22 / 0F 20), reg is 32-bit outside 64-bit mode. */
  movToCr(cr: 0 | 2 | 3 | 4 | 8, src: Reg): void {
    this.emit("mov", "CR, r64", { reg: controlRegister(cr), rm: plainRegister(src, "movToCr") });
  }
  movFromCr(dst: Reg, cr: 0 | 2 | 3 | 4 | 8): void {
    this.emit("mov", "r64, CR", { reg: controlRegister(cr), rm: plainRegister(dst, "movFromCr") });
  }
  /** mov sreg, r16 (8E /r); sreg: 0=es 1=cs 2=ss 3=ds 4=fs 5=gs. */
  movToSreg(sreg: number, src: Reg): void {
    if (!isInt(sreg) || sreg < 0 || sreg > 5 || sreg === 1) throw new Error(`x86: mov sreg ${sreg}: not es/ss/ds/fs/gs`);
    this.emit("mov", "Sreg, r/m16", { reg: sreg, rm: plainRegister(src, "movToSreg") });
  }
  lgdt(m: Mem): void {
    if (!isMem(m)) throw new Error("x86: lgdt needs a memory operand");
    this.emit("lgdt", "m", { rm: m });
  }
  lidt(m: Mem): void {
    if (!isMem(m)) throw new Error("x86: lidt needs a memory operand");
    this.emit("lidt", "m", { rm: m });
  }
  /** ltr r/m16 (0F 00 /3): task register = TSS selector; the CPU marks the descriptor busy. */
  ltr(src: Reg | Mem): void {
    this.emit("ltr", "r/m16", { rm: isMem(src) ? src : plainRegister(src as Reg, "ltr") });
  }
  /** rep movsb / rep movsd(size 4) / rep movsq; in 16-bit mode with 0x67 (esi, edi, ecx). */
  repMovs(size: 1 | 4 | 8): void {
    if (size === 1) this.emit("rep movsb", "", { implicitMem: true });
    else this.emit("rep movs", "", { size, implicitMem: true });
  }
  /** rep stosb / rep stosd(size 4) / rep stosq; in 16-bit mode with 0x67 (edi, ecx). */
  repStos(size: 1 | 4 | 8): void {
    if (size === 1) this.emit("rep stosb", "", { implicitMem: true });
    else this.emit("rep stos", "", { size, implicitMem: true });
  }

  // ---- SSE2 / SSE4.1 scalar floating point (extensions) ----
  /** movd xmm, r/m32 (size 4) / movq xmm, r/m64 (size 8). */
  movToXmm(size: 4 | 8, dst: Xmm, src: RM): void {
    this.emit("movd", "xmm, r/m", { size: sseSize(size), reg: dst, rm: src });
  }
  /** movd r/m32, xmm (size 4) / movq r/m64, xmm (size 8). */
  movFromXmm(size: 4 | 8, dst: RM, src: Xmm): void {
    this.emit("movd", "r/m, xmm", { size: sseSize(size), reg: src, rm: dst });
  }
  /** movss xmm, xmm/m32 | m32, xmm. */
  movss(dst: XmmRM, src: XmmRM): void {
    this.xmmMove("movss", "m32", dst, src);
  }
  /** movsd xmm, xmm/m64 | m64, xmm (the SSE2 scalar double move, not the string instruction). */
  movsd(dst: XmmRM, src: XmmRM): void {
    this.xmmMove("movsd", "m64", dst, src);
  }
  /** movaps xmm, xmm/m128 | m128, xmm (memory must be 16-byte aligned). */
  movaps(dst: XmmRM, src: XmmRM): void {
    this.xmmMove("movaps", "m128", dst, src);
  }
  /** movapd xmm, xmm/m128 | m128, xmm (memory must be 16-byte aligned). */
  movapd(dst: XmmRM, src: XmmRM): void {
    this.xmmMove("movapd", "m128", dst, src);
  }
  /** Two-operand scalar/packed SSE op: `op xmm, xmm/mem`. */
  sse(op: SseOp, dst: Xmm, src: XmmRM): void {
    const operands = SSE_SOURCE[op];
    if (operands === undefined) throw new Error(`x86: unknown SSE op ${op}`);
    if (isMem(dst)) throw new Error(`x86: ${op}: destination must be an xmm register`);
    this.emit(op, operands, { reg: dst, rm: src });
  }
  /** cvtsi2ss xmm, r/m32 (srcSize 4) | r/m64 (srcSize 8). */
  cvtsi2ss(srcSize: 4 | 8, dst: Xmm, src: RM): void {
    this.emit("cvtsi2ss", "xmm, r/m", { size: sseSize(srcSize), reg: dst, rm: src });
  }
  /** cvtsi2sd xmm, r/m32 (srcSize 4) | r/m64 (srcSize 8). */
  cvtsi2sd(srcSize: 4 | 8, dst: Xmm, src: RM): void {
    this.emit("cvtsi2sd", "xmm, r/m", { size: sseSize(srcSize), reg: dst, rm: src });
  }
  /** cvttss2si r32|r64, xmm/m32 (truncating). */
  cvttss2si(dstSize: 4 | 8, dst: Reg, src: XmmRM): void {
    this.emit("cvttss2si", "r, xmm/m32", { size: sseSize(dstSize), reg: dst, rm: src });
  }
  /** cvttsd2si r32|r64, xmm/m64 (truncating). */
  cvttsd2si(dstSize: 4 | 8, dst: Reg, src: XmmRM): void {
    this.emit("cvttsd2si", "r, xmm/m64", { size: sseSize(dstSize), reg: dst, rm: src });
  }
  /** roundss xmm, xmm/m32, imm8 (SSE4.1; imm8 bits 0-1 rounding mode, bit 2 use MXCSR, bit 3 suppress precision). */
  roundss(dst: Xmm, src: XmmRM, mode: number): void {
    this.emit("roundss", "xmm, xmm/m32, imm8", { reg: dst, rm: src, imms: [roundMode(mode)] });
  }
  /** roundsd xmm, xmm/m64, imm8 (SSE4.1). */
  roundsd(dst: Xmm, src: XmmRM, mode: number): void {
    this.emit("roundsd", "xmm, xmm/m64, imm8", { reg: dst, rm: src, imms: [roundMode(mode)] });
  }

  /** Resolve fixups; the bytes of everything emitted. */
  finish(): Uint8Array {
    const out = Uint8Array.from(this.buf);
    const unbound = [...new Set(this.fixups.filter((f) => f.label.address === undefined).map((f) => f.label.name))];
    if (unbound.length > 0) {
      throw new Error(`x86: unbound label${unbound.length > 1 ? "s" : ""}: ${unbound.map((n) => `"${n}"`).join(", ")}`);
    }
    for (const f of this.fixups) {
      const target = f.label.address! + f.addend;
      let value: number;
      let n: number;
      let ok: boolean;
      switch (f.kind) {
        case "rel16": case "rel32": case "rel32w":
          value = target - (this.origin + f.end);
          n = f.kind === "rel16" ? 2 : 4;
          // 16/32-bit modes: (E)IP wraps, so any target within one wrap of the next instruction is reachable.
          ok = f.kind === "rel32" ? fitsField(value, 4, true) : Math.abs(value) < 2 ** (8 * n);
          break;
        case "abs16": value = target; n = 2; ok = value >= 0 && value <= 0xffff; break;
        case "abs32": value = target; n = 4; ok = fitsField(value, 4, false); break;
        case "abs32s": value = target; n = 4; ok = fitsField(value, 4, true); break;
        case "abs64": value = target; n = 8; ok = true; break;
      }
      if (!ok) {
        throw new Error(`x86: ${f.what} at offset ${hex(f.at)}: label "${f.label.name}" (${hex(target)}) gives ${hex(value)}, which does not fit ${f.kind}`);
      }
      out.set(le(value, n), f.at);
    }
    return out;
  }

  // ---- the generic emitter ----

  private xmmMove(mnemonic: string, m: string, dst: XmmRM, src: XmmRM): void {
    if (!isMem(dst)) this.emit(mnemonic, `xmm, xmm/${m}`, { reg: dst, rm: src });
    else if (!isMem(src)) this.emit(mnemonic, `xmm/${m}, xmm`, { reg: src, rm: dst });
    else throw new Error(`x86: ${mnemonic}: memory to memory`);
  }

  /**
   * Encode one instruction: [66][67][mandatory prefixes][REX] opcode [ModRM [SIB] [disp]] [imm] [rel|ptr]
   * (SDM Vol. 2 §2.1 figure 2-1, §2.2.1 REX).
   */
  private emit(mnemonic: string, operands: string, o: Operands = {}): void {
    const e: Encoding = cachedForm(mnemonic, operands);
    emitObserver?.(e);
    const bits = this.bits;
    const out: number[] = [];
    const fix: { kind: FixupKind; at: number; label: Label; addend: number }[] = [];

    // Operand size: 0x66 and REX.W.
    const size = o.size;
    let W = e.rexW;
    if (size === 8) W = true;
    if (W && bits !== 64) this.fail(mnemonic, operands, "64-bit operand size needs 64-bit mode");
    if ((size === 2 && bits !== 16) || (size === 4 && bits === 16)) out.push(0x66);
    const opSize16 = size === 2 || (size === undefined && bits === 16);
    const m = isMem(o.rm) ? (o.rm as Mem) : null;
    if (bits === 16 && (m !== null || o.implicitMem === true)) out.push(0x67);
    out.push(...e.prefixes);

    let rex = W ? 0x48 : 0;
    let forceRex = false;

    // Opcode, with +r / +cc.
    const opcode = [...e.opcode];
    if (e.plus === "r") {
      const r = this.regOperand(o.opreg, o.reg8 === true, "opcode register", mnemonic, operands);
      if (o.reg8 === true && r >= 4 && r < 8) forceRex = true;
      if (r & 8) rex |= 0x41;
      opcode[opcode.length - 1] += r & 7;
    } else if (e.plus === "cc") {
      if (o.cc === undefined) this.fail(mnemonic, operands, "missing condition code");
      opcode[opcode.length - 1] += o.cc!;
    }

    // ModRM / SIB / displacement.
    let dispFix: { label: Label; addend: number; kind: FixupKind } | null = null;
    let modrmBytes: number[] = [];
    if (e.modrm !== null) {
      let regField: number;
      if (e.modrm === "r") {
        const r = this.regOperand(o.reg, o.reg8 === true, "reg", mnemonic, operands);
        if (o.reg8 === true && r >= 4 && r < 8) forceRex = true;
        if (r & 8) rex |= 0x44;
        regField = r & 7;
      } else {
        regField = e.modrm;
      }
      if (o.rm === undefined) this.fail(mnemonic, operands, "missing r/m operand");
      if (m === null) {
        const r = this.regOperand(o.rm as Reg, o.rm8 === true, "r/m", mnemonic, operands);
        if (o.rm8 === true && r >= 4 && r < 8) forceRex = true;
        if (r & 8) rex |= 0x41;
        modrmBytes = [0xc0 | (regField << 3) | (r & 7)];
      } else {
        const addr = this.address(m, regField, mnemonic, operands);
        rex |= addr.rex;
        modrmBytes = addr.bytes;
        dispFix = addr.fix;
      }
    } else if (o.rm !== undefined) {
      this.fail(mnemonic, operands, "form has no ModRM");
    }

    if ((rex !== 0 || forceRex) && bits !== 64) this.fail(mnemonic, operands, "needs a REX prefix, which exists only in 64-bit mode");
    if (rex !== 0 || forceRex) out.push(rex | 0x40);
    out.push(...opcode);
    if (dispFix !== null) {
      fix.push({ kind: dispFix.kind, at: out.length + modrmBytes.length - 4, label: dispFix.label, addend: dispFix.addend });
    }
    out.push(...modrmBytes);

    // Immediates.
    const imms = o.imms ?? [];
    if (imms.length !== e.imms.length) this.fail(mnemonic, operands, `expects ${e.imms.length} immediate(s), got ${imms.length}`);
    e.imms.forEach((t, i) => {
      const v = imms[i];
      const n = t === "ib" ? 1 : t === "iw" ? 2 : t === "id" ? 4 : t === "io" ? 8 : opSize16 ? 2 : 4;
      const signedOnly = t === "iz" && size === 8;
      if (v instanceof Label) {
        const kind: FixupKind = n === 8 ? "abs64" : n === 2 ? "abs16" : signedOnly ? "abs32s" : "abs32";
        if (n === 1) this.fail(mnemonic, operands, "a label cannot be an 8-bit immediate");
        fix.push({ kind, at: out.length, label: v, addend: 0 });
        out.push(...new Array<number>(n).fill(0));
      } else {
        if (typeof v === "number" && !isInt(v)) this.fail(mnemonic, operands, `immediate ${v} is not an integer`);
        if (!fitsField(v, n, signedOnly)) this.fail(mnemonic, operands, `immediate ${v} does not fit ${n * 8} bits`);
        out.push(...le(v, n));
      }
    });

    // Relative branch target.
    if (e.rel) {
      if (!(o.rel instanceof Label)) this.fail(mnemonic, operands, "missing label");
      fix.push({ kind: opSize16 ? "rel16" : bits === 64 ? "rel32" : "rel32w", at: out.length, label: o.rel!, addend: 0 });
      out.push(...new Array<number>(opSize16 ? 2 : 4).fill(0));
    }

    // Far pointer: offset then selector.
    if (e.farPointer) {
      const far = o.far;
      if (far === undefined) return this.fail(mnemonic, operands, "missing far pointer");
      if (!isInt(far.selector) || far.selector < 0 || far.selector > 0xffff) this.fail(mnemonic, operands, `selector ${far.selector} is not 16-bit`);
      const n = opSize16 ? 2 : 4;
      if (far.offset instanceof Label) {
        fix.push({ kind: n === 2 ? "abs16" : "abs32", at: out.length, label: far.offset, addend: 0 });
        out.push(...new Array<number>(n).fill(0));
      } else {
        if (!isInt(far.offset) || far.offset < 0 || !fitsField(far.offset, n, false)) this.fail(mnemonic, operands, `offset ${far.offset} does not fit ${n * 8} bits`);
        out.push(...le(far.offset, n));
      }
      out.push(...le(far.selector, 2));
    }

    const start = this.buf.length;
    if (fix.length) {
      const what = `${mnemonic} ${operands}`.trim();
      for (const f of fix) this.fixups.push({ ...f, at: start + f.at, end: start + out.length, what });
    }
    for (const b of out) this.buf.push(b);
  }

  private fail(mnemonic: string, operands: string, why: string): never {
    throw new Error(`x86: ${`${mnemonic} ${operands}`.trim()} (${this.bits}-bit): ${why}`);
  }

  /** A register operand's number (0..15), checked against the mode. */
  private regOperand(r: Reg | undefined, isByte: boolean, role: string, mnemonic: string, operands: string): number {
    if (r === undefined || isMem(r)) return this.fail(mnemonic, operands, `${role} must be a register`);
    const n = Number(r);
    if (!isInt(n) || n < 0 || n > 15) return this.fail(mnemonic, operands, `${role} register ${String(r)} is not 0..15`);
    if (n >= 8 && this.bits !== 64) this.fail(mnemonic, operands, `register ${n} (${role}) needs 64-bit mode`);
    if (isByte && n >= 4 && n < 8 && this.bits !== 64) {
      this.fail(mnemonic, operands, `byte register spl/bpl/sil/dil (${role}) needs 64-bit mode (ah..bh are not supported)`);
    }
    return n;
  }

  /** A base or index register's number, checked against the mode. */
  private regNum(r: Reg, role: string, mnemonic: string, operands: string): number {
    const n = Number(r);
    if (!isInt(n) || n < 0 || n > 15) this.fail(mnemonic, operands, `${role} register ${String(r)} is not 0..15`);
    if (n >= 8 && this.bits !== 64) this.fail(mnemonic, operands, `${role} register ${REG64[n]} needs 64-bit mode`);
    return n;
  }

  /** ModRM (+SIB, +disp) for a memory operand with 32/64-bit addressing (SDM Vol. 2 §2.1.5, §2.2.1.6). */
  private address(
    m: Mem, regField: number, mnemonic: string, operands: string,
  ): { bytes: number[]; rex: number; fix: { label: Label; addend: number; kind: FixupKind } | null } {
    const bits = this.bits;
    const base = m.base === null ? null : this.regNum(m.base, "base", mnemonic, operands);
    const index = m.index === null ? null : this.regNum(m.index, "index", mnemonic, operands);
    if (index === 4) this.fail(mnemonic, operands, "rsp cannot be an index register");
    if (!(m.scale in SCALE_BITS)) this.fail(mnemonic, operands, `scale ${m.scale} is not 1, 2, 4 or 8`);
    let rex = 0;
    if (base !== null && base & 8) rex |= 0x41;
    if (index !== null && index & 8) rex |= 0x42;

    // Displacement: a label (always disp32 with a fixup) or a number.
    const isLabel = m.disp instanceof Label;
    const disp = isLabel ? 0 : (m.disp as number) + m.addend;
    if (!isLabel) {
      if (!isInt(disp)) this.fail(mnemonic, operands, `displacement ${disp} is not an integer`);
      if (!fitsField(disp, 4, bits === 64)) this.fail(mnemonic, operands, `displacement ${hex(disp)} does not fit ${bits === 64 ? "a sign-extended " : ""}32 bits`);
    }
    const fix = isLabel ? { label: m.disp as Label, addend: m.addend, kind: (bits === 64 ? "abs32s" : "abs32") as FixupKind } : null;

    if (base === null) {
      if (index === null) {
        // [disp32]: in 64-bit mode mod=00 rm=101 would be RIP-relative, so use SIB base=101 index=100.
        const bytes = bits === 64 ? [(regField << 3) | 4, 0x25] : [(regField << 3) | 5];
        return { bytes: [...bytes, ...le(disp, 4)], rex, fix };
      }
      // [index*scale + disp32]: SIB with base=101 and mod=00.
      return { bytes: [(regField << 3) | 4, sib(m.scale, index, 5), ...le(disp, 4)], rex, fix };
    }
    let mod: number;
    let dispBytes: number[];
    if (isLabel) { mod = 2; dispBytes = [0, 0, 0, 0]; }
    else if (disp === 0 && (base & 7) !== 5) { mod = 0; dispBytes = []; } // rbp/r13 with mod=00 mean "no base"
    else if (disp >= -128 && disp <= 127) { mod = 1; dispBytes = le(disp, 1); }
    else { mod = 2; dispBytes = le(disp, 4); }
    if (index !== null || (base & 7) === 4) {
      // rsp/r12 as base need a SIB (rm=100 means "SIB follows"); index=100 (no REX.X) means none.
      return { bytes: [(mod << 6) | (regField << 3) | 4, sib(m.scale, index ?? 4, base), ...dispBytes], rex, fix };
    }
    return { bytes: [(mod << 6) | (regField << 3) | (base & 7), ...dispBytes], rex, fix };
  }
}

// ---- operand helpers ----

/** lookupForm by mnemonic, then operands: no key string is built per instruction. */
const FORM_CACHE = new Map<string, Map<string, Encoding>>();
function cachedForm(mnemonic: string, operands: string): Encoding {
  let byOperands = FORM_CACHE.get(mnemonic);
  if (!byOperands) FORM_CACHE.set(mnemonic, (byOperands = new Map()));
  let e = byOperands.get(operands);
  if (!e) byOperands.set(operands, (e = lookupForm(mnemonic, operands)));
  return e;
}

/** SIB byte (SDM Vol. 2 §2.1.5 table 2-3). */
function sib(scale: number, idx: number, b: number): number {
  return (SCALE_BITS[scale as 1 | 2 | 4 | 8] << 6) | ((idx & 7) << 3) | (b & 7);
}

/** In a register-or-immediate position a plain number is an immediate, a boxed `R` value a register. */
function isImmediate(x: unknown): x is number {
  return typeof x === "number";
}

/** Check an immediate against the operand size; returns it unchanged. */
function immForSize(op: string, size: Size, v: number): number {
  if (!isInt(v)) throw new Error(`x86: ${op}: immediate ${v} is not an integer`);
  // Size 8 immediates are sign-extended 32-bit; smaller sizes accept signed or unsigned spellings.
  const ok = size === 8 ? fitsField(v, 4, true) : fitsField(v, size, false);
  if (!ok) throw new Error(`x86: ${op}: immediate ${hex(v)} does not fit a ${size * 8}-bit operand${size === 8 ? " (sign-extended imm32)" : ""}`);
  return v;
}

/** The imm8 (sign-extended to the operand size) form represents `v`. */
function fitsImm8(v: number, size: Size): boolean {
  const s = signedAt(v, size);
  return s >= -128 && s <= 127;
}

function condCode(cc: Cond): number {
  const n = CC[cc];
  if (n === undefined) throw new Error(`x86: unknown condition "${cc}"`);
  return n;
}

function portNumber(port: number): number {
  if (!isInt(port) || port < 0 || port > 255) throw new Error(`x86: port ${port} is not 0..255 (use "dx")`);
  return port;
}

function controlRegister(cr: number): number {
  if (cr !== 0 && cr !== 2 && cr !== 3 && cr !== 4 && cr !== 8) throw new Error(`x86: cr${cr} is not cr0/2/3/4/8`);
  return cr;
}

function plainRegister(r: Reg, what: string): Reg {
  if (isMem(r)) throw new Error(`x86: ${what} needs a register`);
  return r;
}

function sseSize(size: 4 | 8): Size | undefined {
  if (size !== 4 && size !== 8) throw new Error(`x86: size ${size} is not 4 or 8`);
  // Size 4 is the default operand size of these forms: no 0x66 may be added (66 is their mandatory prefix).
  return size === 8 ? 8 : undefined;
}

function roundMode(mode: number): number {
  if (!isInt(mode) || mode < 0 || mode > 15) throw new Error(`x86: rounding mode ${mode} is not 0..15`);
  return mode;
}
