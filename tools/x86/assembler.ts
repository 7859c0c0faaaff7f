/**
 * x86 assembler: the one encoder used by the translator (64-bit code) and by the boot stub
 * (16-bit real mode, 32-bit protected mode, 64-bit long mode).
 *
 * Source of truth: Intel SDM Vol. 2, ch. 2 (instruction format: prefixes, REX, ModRM, SIB,
 * displacement, immediate) and the per-instruction pages cited in `forms.ts`. Instruction forms
 * live in `forms.ts` as data (Intel opcode notation); `emit()` below is the one generic emitter
 * (`enc64` is its fast path for 64-bit mode with 32/64-bit operands: same checks, same bytes).
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
 *      `movups(dst, src)` xmm<-xmm/m128 or m128<-xmm, unaligned (0F 10/11)
 *      `sse(op, xmm, xmm/mem)` for op in SseOp: add/sub/mul/div/sqrt/min/max ss|sd, ucomiss/sd,
 *          cvtss2sd, cvtsd2ss, and/andn/or/xor ps|pd, punpcklqdq
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
  /** `number`: an anonymous label of `Assembler.label()`, named "L<number>" only when asked (most never are). */
  constructor(private readonly given: string | number) {}
  get name(): string {
    return typeof this.given === "string" ? this.given : `L${this.given}`;
  }
  /** The fixup list that last listed this label in its `labels`, and where (see Fixups.add). */
  referencedBy: object | undefined = undefined;
  referenceIndex = 0;
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
  | "xorps" | "xorpd" | "punpcklqdq";

const SSE_SOURCE: Record<SseOp, string> = {
  addss: "xmm, xmm/m32", addsd: "xmm, xmm/m64", subss: "xmm, xmm/m32", subsd: "xmm, xmm/m64",
  mulss: "xmm, xmm/m32", mulsd: "xmm, xmm/m64", divss: "xmm, xmm/m32", divsd: "xmm, xmm/m64",
  sqrtss: "xmm, xmm/m32", sqrtsd: "xmm, xmm/m64", minss: "xmm, xmm/m32", minsd: "xmm, xmm/m64",
  maxss: "xmm, xmm/m32", maxsd: "xmm, xmm/m64", ucomiss: "xmm, xmm/m32", ucomisd: "xmm, xmm/m64",
  cvtss2sd: "xmm, xmm/m32", cvtsd2ss: "xmm, xmm/m64", andps: "xmm, xmm/m128", andpd: "xmm, xmm/m128",
  andnps: "xmm, xmm/m128", andnpd: "xmm, xmm/m128", orps: "xmm, xmm/m128", orpd: "xmm, xmm/m128",
  xorps: "xmm, xmm/m128", xorpd: "xmm, xmm/m128", punpcklqdq: "xmm, xmm/m128",
};

/** What fixups belong to, for their error messages (Fixups.what): "dd", "dq", then each compiled form's `what`. */
const WHAT: string[] = ["dd", "dq", "placed code"];
const WHAT_DD = 0, WHAT_DQ = 1, WHAT_PLACED = 2;

/** Fixup kinds. rel16: IP wraps mod 64 KiB; rel32w: 32-bit mode, EIP wraps mod 4 GiB; rel32: 64-bit mode, signed. */
const REL16 = 0, REL32 = 1, REL32W = 2, ABS16 = 3, ABS32 = 4, ABS32S = 5, ABS64 = 6;
/** The label-field kinds of code made outside the assembler (`placeCode`): a 64-bit mode rel32
 *  (end of the instruction = field + 4), a sign-extended absolute disp32/imm32, an absolute imm64. */
export const FIELD_REL32 = REL32, FIELD_ABS32S = ABS32S, FIELD_ABS64 = ABS64;
const FIXUP_KIND_NAMES = ["rel16", "rel32", "rel32w", "abs16", "abs32", "abs32s", "abs64"];

/**
 * The fields `finish()` patches: fixup i is entry i of each array (typed arrays grown by doubling,
 * no object per fixup: a large image has tens of thousands). A rel field always ends its
 * instruction, so its end is at + its size.
 */
class Fixups {
  count = 0;
  kind = new Uint8Array(1024);
  /** Offset of the field in the output. */
  at = new Int32Array(1024);
  /** Index in `labels` of the label the field refers to. */
  label = new Int32Array(1024);
  addend = new Float64Array(1024);
  /** What the field belongs to, for error messages: an index in WHAT. */
  what = new Int32Array(1024);
  /** Every label referenced, once. */
  readonly labels: Label[] = [];

  add(kind: number, at: number, label: Label, addend: number, what: number): void {
    if (label.referencedBy !== this) {
      label.referencedBy = this;
      label.referenceIndex = this.labels.push(label) - 1;
    }
    const i = this.count++;
    if (i === this.at.length) this.grow();
    this.kind[i] = kind;
    this.at[i] = at;
    this.label[i] = label.referenceIndex;
    this.addend[i] = addend;
    this.what[i] = what;
  }
  private grow(): void {
    const n = this.at.length * 2;
    const kind = new Uint8Array(n), at = new Int32Array(n), label = new Int32Array(n), addend = new Float64Array(n), what = new Int32Array(n);
    kind.set(this.kind);
    at.set(this.at);
    label.set(this.label);
    addend.set(this.addend);
    what.set(this.what);
    this.kind = kind;
    this.at = at;
    this.label = label;
    this.addend = addend;
    this.what = what;
  }
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
const MIN_S64 = -(1n << 63n), MAX_S64 = (1n << 63n) - 1n, MAX_U64 = (1n << 64n) - 1n;
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
    if (n === 4) return v >= -TWO31 && v <= (signedOnly ? TWO31 - 1 : TWO32 - 1);
    if (n === 1) return v >= -128 && v <= (signedOnly ? 127 : 255);
    const half = 2 ** (n * 8 - 1);
    return v >= -half && v <= (signedOnly ? half - 1 : 2 * half - 1);
  }
  if (typeof v === "bigint" && n === 8) return v >= MIN_S64 && v <= (signedOnly ? MAX_S64 : MAX_U64);
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
    if (size === 8) return v; // a safe integer is its own 64-bit signed value
  }
  return Number(BigInt.asIntN(size * 8, BigInt(v)));
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** MULTI_BYTE_NOPS[k]: the recommended k-byte NOP (Intel SDM vol. 2B, "NOP", table 4-12). */
const MULTI_BYTE_NOPS: readonly number[][] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

export class Assembler {
  /** Current code mode; may be changed between instructions (boot code switches 16 -> 32 -> 64). */
  bits: Bits;
  /** Address of offset 0. */
  readonly origin: number;
  /** Output bytes [0, len); grown by doubling. */
  private buf: Uint8Array = new Uint8Array(4096);
  private len = 0;
  private readonly fixups = new Fixups();
  private labelCount = 0;

  constructor(opts: { bits?: Bits; origin?: number } = {}) {
    this.bits = opts.bits ?? 64;
    this.origin = opts.origin ?? 0;
    if (this.bits !== 16 && this.bits !== 32 && this.bits !== 64) throw new Error(`x86: bits ${this.bits}`);
    if (!isInt(this.origin)) throw new Error(`x86: origin ${this.origin} is not an integer`);
  }

  /** Current offset from origin. */
  get offset(): number {
    return this.len;
  }
  /** Current absolute address (origin + offset). */
  get here(): number {
    return this.origin + this.len;
  }
  label(name?: string): Label {
    return new Label(name ?? this.labelCount++);
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

  /** Room for `n` more bytes. */
  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  private put(b: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  // ---- data ----
  db(...values: number[]): void {
    for (const v of values) {
      if (!isInt(v) || !fitsField(v, 1, false)) throw new Error(`x86: db ${v} does not fit a byte`);
      this.put(v & 0xff);
    }
  }
  dw(value: number): void {
    if (!isInt(value) || !fitsField(value, 2, false)) throw new Error(`x86: dw ${value} does not fit 16 bits`);
    this.reserve(2);
    this.len = putLE(this.buf, this.len, value, 2);
  }
  dd(value: number | Label): void {
    if (value instanceof Label) {
      this.fixups.add(ABS32, this.offset, value, 0, WHAT_DD);
      this.reserve(4);
      this.len = putLE(this.buf, this.len, 0, 4);
      return;
    }
    if (!isInt(value) || !fitsField(value, 4, false)) throw new Error(`x86: dd ${value} does not fit 32 bits`);
    this.reserve(4);
    this.len = putLE(this.buf, this.len, value, 4);
  }
  dq(value: number | bigint | Label): void {
    if (value instanceof Label) {
      this.fixups.add(ABS64, this.offset, value, 0, WHAT_DQ);
      this.reserve(8);
      this.len = putLE(this.buf, this.len, 0, 8);
      return;
    }
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new Error(`x86: dq ${value} is not a safe integer (pass a bigint)`);
    }
    if (!fitsField(value, 8, false)) throw new Error(`x86: dq ${value} does not fit 64 bits`);
    this.reserve(8);
    this.len = putLE(this.buf, this.len, value, 8);
  }
  bytes(data: Uint8Array | number[]): void {
    if (data instanceof Uint8Array) {
      this.reserve(data.length);
      this.buf.set(data, this.len);
      this.len += data.length;
      return;
    }
    for (const b of data) {
      if (!isInt(b) || b < 0 || b > 255) throw new Error(`x86: bytes: ${b} is not a byte`);
      this.put(b);
    }
  }
  /**
   * Machine code encoded elsewhere (the quick tier, tools/translate/quick/): `code[0, n)` at the
   * current offset, then its label fields: field i at `at[i]` within it, of kind `kind[i]`
   * (FIELD_REL32 / FIELD_ABS32S / FIELD_ABS64), referring to `labels[i]` + `addend[i]`.
   */
  placeCode(code: Uint8Array, n: number, fields: number, at: Int32Array, kind: Uint8Array, labels: Label[], addend: Int32Array): void {
    const base = this.len;
    this.reserve(n);
    this.buf.set(code.subarray(0, n), base);
    this.len += n;
    for (let i = 0; i < fields; i++) this.fixups.add(kind[i], base + at[i], labels[i], addend[i], WHAT_PLACED);
  }
  /** Pad with `fill` (default 0x90 nop in code, pass 0 for data) until the address is a multiple of `n`. */
  align(n: number, fill: number = 0x90): void {
    if (!isInt(n) || n <= 0) throw new Error(`x86: align ${n}`);
    while (this.here % n !== 0) this.put(fill & 0xff);
  }

  /**
   * Pad code with the fewest multi-byte NOPs (Intel SDM vol. 2B, NOP: the recommended 1- to
   * 9-byte sequences) until the address is a multiple of `n`: for loop heads a CPU fetches best
   * from the start of an aligned block.
   */
  alignCode(n: number): void {
    if (!isInt(n) || n <= 0) throw new Error(`x86: alignCode ${n}`);
    let pad = (n - (this.here % n)) % n;
    while (pad > 0) {
      const k = Math.min(pad, MULTI_BYTE_NOPS.length - 1);
      for (const b of MULTI_BYTE_NOPS[k]) this.put(b);
      pad -= k;
    }
  }

  /** Overwrite the 4 bytes at `offset` (already emitted) with `value`, little-endian (e.g. a frame size known late). */
  patchI32(offset: number, value: number): void {
    if (!isInt(offset) || offset < 0 || offset + 4 > this.len) throw new Error(`x86: patchI32 at ${offset}: outside the ${this.len} bytes emitted`);
    if (!isInt(value) || !fitsField(value, 4, false)) throw new Error(`x86: patchI32 ${value} does not fit 32 bits`);
    putLE(this.buf, offset, value, 4);
  }

  // ---- integer ----
  /** r/m, reg | reg, r/m | r/m, imm (imm8 sign-extended form when it fits; imm32 otherwise). */
  alu(op: AluOp, size: Size, dst: RM, src: RM | number): void {
    const f = aluForms(op);
    if (isImmediate(src)) {
      const v = immForSize(op, size, src);
      const isRax = !isMem(dst) && regValue(dst) === 0;
      if (size === 1) {
        if (isRax) this.enc(f.al, size, undefined, undefined, undefined, -1, 0, v);
        else this.enc(f.rm8i8, size, undefined, dst, undefined, -1, F_RM8, v);
      } else if (fitsImm8(v, size)) {
        this.enc(f.rmi8, size, undefined, dst, undefined, -1, 0, signedAt(v, size));
      } else if (isRax) {
        this.enc(f.rax, size, undefined, undefined, undefined, -1, 0, v);
      } else {
        this.enc(f.rmi, size, undefined, dst, undefined, -1, 0, v);
      }
    } else if (isMem(src)) {
      if (isMem(dst)) throw new Error(`x86: ${op}: memory to memory`);
      if (size === 1) this.enc(f.r8rm8, size, dst, src, undefined, -1, F_REG8);
      else this.enc(f.rrm, size, dst, src, undefined, -1, 0);
    } else {
      if (size === 1) this.enc(f.rm8r8, size, src, dst, undefined, -1, F_REG8 | F_RM8);
      else this.enc(f.rmr, size, src, dst, undefined, -1, 0);
    }
  }
  test(size: Size, dst: RM, src: Reg | number): void {
    const f = TEST_FORMS;
    if (isImmediate(src)) {
      const v = immForSize("test", size, src);
      const isRax = !isMem(dst) && regValue(dst) === 0;
      if (size === 1) {
        if (isRax) this.enc(f.al, size, undefined, undefined, undefined, -1, 0, v);
        else this.enc(f.rm8i8, size, undefined, dst, undefined, -1, F_RM8, v);
      } else if (isRax) {
        this.enc(f.rax, size, undefined, undefined, undefined, -1, 0, v);
      } else {
        this.enc(f.rmi, size, undefined, dst, undefined, -1, 0, v);
      }
    } else if (size === 1) {
      this.enc(f.rm8r8, size, src, dst, undefined, -1, F_REG8 | F_RM8);
    } else {
      this.enc(f.rmr, size, src, dst, undefined, -1, 0);
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
        this.enc(size === 1 ? MOV.rm8i8 : MOV.rmi, size, undefined, dst, undefined, -1, 0, v);
      } else if (size === 1) {
        this.enc(MOV.r8i8, size, undefined, undefined, dst, -1, F_REG8, v);
      } else if (size === 8) {
        this.enc(MOV.rmi, size, undefined, dst, undefined, -1, 0, v);
      } else {
        this.enc(MOV.ri, size, undefined, undefined, dst, -1, 0, v);
      }
    } else if (isMem(src)) {
      if (isMem(dst)) throw new Error("x86: mov: memory to memory");
      if (size === 1) this.enc(MOV.r8rm8, size, dst, src, undefined, -1, F_REG8);
      else this.enc(MOV.rrm, size, dst, src, undefined, -1, 0);
    } else {
      if (size === 1) this.enc(MOV.rm8r8, size, src, dst, undefined, -1, F_REG8 | F_RM8);
      else this.enc(MOV.rmr, size, src, dst, undefined, -1, 0);
    }
  }
  /** mov reg64, imm64 (REX.W B8+r io); a Label means its absolute address. */
  movabs(dst: Reg, imm: number | bigint | Label): void {
    if (typeof imm === "number" && !Number.isSafeInteger(imm)) {
      throw new Error(`x86: movabs ${imm} is not a safe integer (pass a bigint)`);
    }
    if (!(imm instanceof Label) && !fitsField(imm, 8, false)) throw new Error(`x86: movabs ${imm} does not fit 64 bits`);
    this.enc(MOV.r64i64, 0, undefined, undefined, dst, -1, 0, imm);
  }
  /** movzx/movsx; srcSize 4 with movsx is movsxd. movzx with dstSize 8 from size 1/2 is fine. */
  movzx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2, src: RM): void {
    if (srcSize >= dstSize) throw new Error(`x86: movzx from size ${srcSize} to size ${dstSize}`);
    if (srcSize === 1) this.enc(MOVZX8, dstSize, dst, src, undefined, -1, F_RM8);
    else this.enc(MOVZX16, dstSize, dst, src, undefined, -1, 0);
  }
  movsx(dstSize: 2 | 4 | 8, dst: Reg, srcSize: 1 | 2 | 4, src: RM): void {
    if (srcSize >= dstSize) throw new Error(`x86: movsx from size ${srcSize} to size ${dstSize}`);
    if (srcSize === 4) this.enc(MOVSXD, 0, dst, src, undefined, -1, 0);
    else if (srcSize === 1) this.enc(MOVSX8, dstSize, dst, src, undefined, -1, F_RM8);
    else this.enc(MOVSX16, dstSize, dst, src, undefined, -1, 0);
  }
  lea(size: 2 | 4 | 8, dst: Reg, src: Mem): void {
    if (!isMem(src)) throw new Error("x86: lea needs a memory operand");
    this.enc(LEA, size, dst, src, undefined, -1, 0);
  }
  /** imul reg, r/m (0F AF /r). */
  imul(size: Size, dst: Reg, src: RM): void {
    if (size === 1) throw new Error("x86: imul reg, r/m has no byte form");
    this.enc(IMUL.rrm, size, dst, src, undefined, -1, 0);
  }
  /** imul reg, r/m, imm (6B /r ib or 69 /r id). */
  imul3(size: Size, dst: Reg, src: RM, imm: number): void {
    if (size === 1) throw new Error("x86: imul reg, r/m, imm has no byte form");
    const v = immForSize("imul", size, imm);
    if (fitsImm8(v, size)) this.enc(IMUL.rrmi8, size, dst, src, undefined, -1, 0, signedAt(v, size));
    else this.enc(IMUL.rrmi, size, dst, src, undefined, -1, 0, v);
  }
  /** F6/F7 group (not, neg, mul, imul one-operand, div, idiv) and FE/FF inc/dec. */
  unary(op: UnaryOp, size: Size, rm: RM): void {
    const f = unaryForms(op);
    if (size === 1) this.enc(f.rm8, size, undefined, rm, undefined, -1, F_RM8);
    else this.enc(f.rm, size, undefined, rm, undefined, -1, 0);
  }
  /** D2/D3 (by cl), D0/D1 (by 1), C0/C1 ib. */
  shift(op: ShiftOp, size: Size, rm: RM, count: "cl" | number): void {
    const f = shiftForms(op);
    const b = size === 1;
    if (count === "cl") this.enc(b ? f.rm8cl : f.rmcl, size, undefined, rm, undefined, -1, b ? F_RM8 : 0);
    else if (!isInt(count) || count < 0 || count > 255) throw new Error(`x86: ${op}: shift count ${count} is not 0..255`);
    else if (count === 1) this.enc(b ? f.rm81 : f.rm1, size, undefined, rm, undefined, -1, b ? F_RM8 : 0);
    else this.enc(b ? f.rm8i8 : f.rmi8, size, undefined, rm, undefined, -1, b ? F_RM8 : 0, count);
  }
  /** bsf/bsr (0F BC/BD), lzcnt/tzcnt (F3 0F BD/BC), popcnt (F3 0F B8). */
  bitscan(op: BitOp, size: 2 | 4 | 8, dst: Reg, src: RM): void {
    this.enc(opForm(BITSCAN, op, "r, r/m"), size, dst, src, undefined, -1, 0);
  }
  setcc(cc: Cond, dst: RM): void {
    this.enc(SETCC, 0, undefined, dst, undefined, condCode(cc), F_RM8);
  }
  cmovcc(cc: Cond, size: 2 | 4 | 8, dst: Reg, src: RM): void {
    this.enc(CMOVCC, size, dst, src, undefined, condCode(cc), 0);
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
    if (target instanceof Label) this.enc(JMP_REL, 0, undefined, undefined, undefined, -1, 0, undefined, target);
    else this.enc(JMP_RM, 0, undefined, target, undefined, -1, 0);
  }
  jcc(cc: Cond, target: Label): void {
    if (!(target instanceof Label)) throw new Error("x86: jcc needs a label");
    this.enc(JCC, 0, undefined, undefined, undefined, condCode(cc), 0, undefined, target);
  }
  call(target: Label | RM): void {
    if (target instanceof Label) this.enc(CALL_REL, 0, undefined, undefined, undefined, -1, 0, undefined, target);
    else this.enc(CALL_RM, 0, undefined, target, undefined, -1, 0);
  }
  ret(): void {
    this.enc(RET, 0, undefined, undefined, undefined, -1, 0);
  }
  push(src: Reg | number | Mem): void {
    if (isMem(src)) {
      this.enc(PUSH.rm, 0, undefined, src, undefined, -1, 0);
    } else if (isImmediate(src)) {
      const size: Size = this.bits === 16 ? 2 : 4;
      const v = this.bits === 64 ? immForSize("push", 8, src) : immForSize("push", size, src);
      if (fitsImm8(v, this.bits === 64 ? 8 : size)) this.enc(PUSH.i8, 0, undefined, undefined, undefined, -1, 0, signedAt(v, size));
      else this.enc(PUSH.i, 0, undefined, undefined, undefined, -1, 0, v);
    } else {
      this.enc(PUSH.r, 0, undefined, undefined, src, -1, 0);
    }
  }
  pop(dst: Reg | Mem): void {
    if (isMem(dst)) this.enc(POP.rm, 0, undefined, dst, undefined, -1, 0);
    else this.enc(POP.r, 0, undefined, undefined, dst, -1, 0);
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
    this.enc(MOVD.toXmm, sseSize(size) ?? 0, dst, src, undefined, -1, 0);
  }
  /** movd r/m32, xmm (size 4) / movq r/m64, xmm (size 8). */
  movFromXmm(size: 4 | 8, dst: RM, src: Xmm): void {
    this.enc(MOVD.fromXmm, sseSize(size) ?? 0, src, dst, undefined, -1, 0);
  }
  /** movss xmm, xmm/m32 | m32, xmm. */
  movss(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.movss, "movss", dst, src);
  }
  /** movsd xmm, xmm/m64 | m64, xmm (the SSE2 scalar double move, not the string instruction). */
  movsd(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.movsd, "movsd", dst, src);
  }
  /** movaps xmm, xmm/m128 | m128, xmm (memory must be 16-byte aligned). */
  movaps(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.movaps, "movaps", dst, src);
  }
  /** movapd xmm, xmm/m128 | m128, xmm (memory must be 16-byte aligned). */
  movapd(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.movapd, "movapd", dst, src);
  }
  /** movups xmm, xmm/m128 | m128, xmm (any alignment). */
  movups(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.movups, "movups", dst, src);
  }
  /** vmovdqu ymm, ymm/m256 | m256, ymm (AVX, any alignment; registers numbered as xmm). */
  vmovdqu(dst: XmmRM, src: XmmRM): void {
    this.xmmMove(XMM_MOVE.vmovdqu, "vmovdqu", dst, src);
  }
  /** vmovdqa m256, ymm (AVX; the memory must be 32-byte aligned). */
  vmovdqaStore(dst: Mem, src: Xmm): void {
    this.enc(VMOVDQA_STORE, 0, src, dst, undefined, -1, 0);
  }
  /** vzeroupper (AVX): the upper halves of the ymm registers zeroed, so later SSE code runs
   *  without the AVX-to-SSE transition penalty. */
  vzeroupper(): void { this.emit("vzeroupper", ""); }
  /** xgetbv: edx:eax = XCR[ecx] (the OS-enabled state components, ecx = 0). */
  xgetbv(): void { this.emit("xgetbv", ""); }
  /** Two-operand scalar/packed SSE op: `op xmm, xmm/mem`. */
  sse(op: SseOp, dst: Xmm, src: XmmRM): void {
    const operands = SSE_SOURCE[op];
    if (operands === undefined) throw new Error(`x86: unknown SSE op ${op}`);
    if (isMem(dst)) throw new Error(`x86: ${op}: destination must be an xmm register`);
    this.enc(opForm(SSE, op, operands), 0, dst, src, undefined, -1, 0);
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
    const out = this.buf.slice(0, this.len);
    const { count, kind, at, label: labelIndex, labels, addend, what } = this.fixups;
    const unbound = [...new Set(labels.filter((l) => l.address === undefined).map((l) => l.name))];
    if (unbound.length > 0) {
      throw new Error(`x86: unbound label${unbound.length > 1 ? "s" : ""}: ${unbound.map((n) => `"${n}"`).join(", ")}`);
    }
    for (let i = 0; i < count; i++) {
      const label = labels[labelIndex[i]];
      const target = label.address! + addend[i];
      let value: number;
      let n: number;
      let ok: boolean;
      switch (kind[i]) {
        case REL16: case REL32: case REL32W:
          n = kind[i] === REL16 ? 2 : 4;
          value = target - (this.origin + at[i] + n);
          // 16/32-bit modes: (E)IP wraps, so any target within one wrap of the next instruction is reachable.
          ok = kind[i] === REL32 ? fitsField(value, 4, true) : Math.abs(value) < 2 ** (8 * n);
          break;
        case ABS16: value = target; n = 2; ok = value >= 0 && value <= 0xffff; break;
        case ABS32: value = target; n = 4; ok = fitsField(value, 4, false); break;
        case ABS32S: value = target; n = 4; ok = fitsField(value, 4, true); break;
        default: value = target; n = 8; ok = true; break; // ABS64
      }
      if (!ok) {
        throw new Error(`x86: ${WHAT[what[i]]} at offset ${hex(at[i])}: label "${label.name}" (${hex(target)}) gives ${hex(value)}, which does not fit ${FIXUP_KIND_NAMES[kind[i]]}`);
      }
      putLE(out, at[i], value, n);
    }
    return out;
  }

  // ---- the generic emitter ----

  private xmmMove(f: { load: Compiled; store: Compiled }, mnemonic: string, dst: XmmRM, src: XmmRM): void {
    if (!isMem(dst)) this.enc(f.load, 0, dst, src, undefined, -1, 0);
    else if (!isMem(src)) this.enc(f.store, 0, src, dst, undefined, -1, 0);
    else throw new Error(`x86: ${mnemonic}: memory to memory`);
  }

  /** `emit` by operand object: the less frequent instructions. */
  private emit(mnemonic: string, operands: string, o: Operands = {}): void {
    const c = compiledForm(mnemonic, operands);
    const imms = o.imms;
    if (imms !== undefined && imms.length > 1) {
      emitObserver?.(c.e);
      this.fail(c, `expects ${c.immCount} immediate(s), got ${imms.length}`);
    }
    const flags = (o.reg8 === true ? F_REG8 : 0) | (o.rm8 === true ? F_RM8 : 0) | (o.implicitMem === true ? F_IMPLICIT_MEM : 0);
    this.enc(c, o.size ?? 0, o.reg, o.rm, o.opreg, o.cc ?? -1, flags, imms?.[0], o.rel, o.far);
  }

  /**
   * Encode one instruction: [66][67][mandatory prefixes][REX] opcode [ModRM [SIB] [disp]] [imm] [rel|ptr]
   * (SDM Vol. 2 §2.1 figure 2-1, §2.2.1 REX). Every operand is checked before the first byte is
   * written, so a failing instruction leaves nothing behind. `size` 0: the mode's default operand
   * size; `cc` -1: none; `flags`: F_REG8 / F_RM8 / F_IMPLICIT_MEM.
   */
  private enc(
    c: Compiled, size: number, reg: Reg | undefined, rm: RM | undefined, opreg: Reg | undefined, cc: number, flags: number,
    imm?: number | bigint | Label, rel?: Label, far?: { selector: number; offset: number | Label },
  ): void {
    if (this.bits === 64 && flags === 0 && (size === 0 || size === 4 || size === 8) && !c.far &&
      (imm === undefined || typeof imm === "number") && this.enc64(c, size, reg, rm, opreg, cc, imm, rel)) return;
    if (emitObserver !== null) emitObserver(c.e);
    const bits = this.bits;

    // Operand size: 0x66 and REX.W.
    const W = c.rexW || size === 8;
    if (W && bits !== 64) this.fail(c, "64-bit operand size needs 64-bit mode");
    const opSize16 = size === 2 || (size === 0 && bits === 16);

    let rex = W ? 0x48 : 0;
    let forceRex = false;

    // Opcode, with +r / +cc.
    let last = c.last;
    if (c.plus === PLUS_R) {
      const r = this.regOperand(opreg, (flags & F_REG8) !== 0, "opcode register", c);
      if ((flags & F_REG8) !== 0 && r >= 4 && r < 8) forceRex = true;
      if (r & 8) rex |= 0x41;
      last += r & 7;
    } else if (c.plus === PLUS_CC) {
      if (cc < 0) this.fail(c, "missing condition code");
      last += cc;
    }

    // ModRM operands.
    let m: Mem | null = null;
    let regField = 0;
    let rmField = 0;
    if (c.modrm !== NO_MODRM) {
      if (c.modrm === MODRM_R) {
        const r = this.regOperand(reg, (flags & F_REG8) !== 0, "reg", c);
        if ((flags & F_REG8) !== 0 && r >= 4 && r < 8) forceRex = true;
        if (r & 8) rex |= 0x44;
        regField = r & 7;
      } else {
        regField = c.modrm;
      }
      if (rm === undefined) this.fail(c, "missing r/m operand");
      if (isMem(rm)) {
        m = rm;
        rex |= this.checkAddress(m, c);
      } else {
        const r = this.regOperand(rm, (flags & F_RM8) !== 0, "r/m", c);
        if ((flags & F_RM8) !== 0 && r >= 4 && r < 8) forceRex = true;
        if (r & 8) rex |= 0x41;
        rmField = r & 7;
      }
    } else if (rm !== undefined) {
      this.fail(c, "form has no ModRM");
    }
    if ((rex !== 0 || forceRex) && bits !== 64) this.fail(c, "needs a REX prefix, which exists only in 64-bit mode");
    if (c.vexLpp >= 0 && (bits !== 64 || size !== 0)) this.fail(c, "VEX forms are encoded in 64-bit mode, with their own operand size");

    // Immediate, branch target and far pointer checks.
    const nImms = imm === undefined ? 0 : 1;
    if (nImms !== c.immCount) this.fail(c, `expects ${c.immCount} immediate(s), got ${nImms}`);
    let immN = 0;
    let signedOnly = false;
    if (imm !== undefined) {
      immN = c.imm === IMM_Z ? (opSize16 ? 2 : 4) : c.imm;
      signedOnly = c.imm === IMM_Z && size === 8;
      if (imm instanceof Label) {
        if (immN === 1) this.fail(c, "a label cannot be an 8-bit immediate");
      } else {
        if (typeof imm === "number" && !isInt(imm)) this.fail(c, `immediate ${imm} is not an integer`);
        if (!fitsField(imm, immN, signedOnly)) this.fail(c, `immediate ${imm} does not fit ${immN * 8} bits`);
      }
    }
    if (c.rel && !(rel instanceof Label)) this.fail(c, "missing label");
    if (c.far) {
      if (far === undefined) return this.fail(c, "missing far pointer");
      if (!isInt(far.selector) || far.selector < 0 || far.selector > 0xffff) this.fail(c, `selector ${far.selector} is not 16-bit`);
      const n = opSize16 ? 2 : 4;
      if (!(far.offset instanceof Label) && (!isInt(far.offset) || far.offset < 0 || !fitsField(far.offset, n, false))) {
        this.fail(c, `offset ${far.offset} does not fit ${n * 8} bits`);
      }
    }

    // Bytes.
    this.reserve(32);
    const b = this.buf;
    let p = this.len;
    if ((size === 2 && bits !== 16) || (size === 4 && bits === 16)) b[p++] = 0x66;
    if (bits === 16 && (m !== null || (flags & F_IMPLICIT_MEM) !== 0)) b[p++] = 0x67;
    if (c.vexLpp >= 0) {
      // SDM Vol. 2 §2.3.5: R, X, B inverted; the 2-byte form (C5) when X, B, W are 0 and the map is 0F.
      const R_ = (rex & 4) === 0 ? 0x80 : 0, X_ = (rex & 2) === 0 ? 0x40 : 0, B_ = (rex & 1) === 0 ? 0x20 : 0;
      if (X_ !== 0 && B_ !== 0 && c.vexMap === 1 && c.vexW === 0) {
        b[p++] = 0xc5;
        b[p++] = R_ | c.vexLpp;
      } else {
        b[p++] = 0xc4;
        b[p++] = R_ | X_ | B_ | c.vexMap;
        b[p++] = (c.vexW << 7) | c.vexLpp;
      }
    } else {
      const prefixes = c.prefixes;
      for (let i = 0; i < prefixes.length; i++) b[p++] = prefixes[i];
      if (rex !== 0 || forceRex) b[p++] = rex | 0x40;
    }
    const head = c.head;
    for (let i = 0; i < head.length; i++) b[p++] = head[i];
    b[p++] = last;
    if (c.modrm !== NO_MODRM) {
      if (m === null) b[p++] = 0xc0 | (regField << 3) | rmField;
      else p = this.writeAddress(m, regField, p, c);
    }
    if (imm !== undefined) {
      if (imm instanceof Label) {
        this.fixups.add(immN === 8 ? ABS64 : immN === 2 ? ABS16 : signedOnly ? ABS32S : ABS32, p, imm, 0, c.whatIndex);
        p = putLE(b, p, 0, immN);
      } else {
        p = putLE(b, p, imm, immN);
      }
    }
    if (c.rel) {
      this.fixups.add(opSize16 ? REL16 : bits === 64 ? REL32 : REL32W, p, rel!, 0, c.whatIndex);
      p = putLE(b, p, 0, opSize16 ? 2 : 4);
    }
    if (c.far) {
      const n = opSize16 ? 2 : 4;
      const offset = far!.offset;
      if (offset instanceof Label) {
        this.fixups.add(n === 2 ? ABS16 : ABS32, p, offset, 0, c.whatIndex);
        p = putLE(b, p, 0, n);
      } else {
        p = putLE(b, p, offset, n);
      }
      p = putLE(b, p, far!.selector, 2);
    }
    this.len = p;
  }

  /**
   * `enc` for what the translator emits almost exclusively, byte for byte the same: 64-bit mode,
   * operand size 4, 8 or the default (no 0x66), no byte registers, no far pointer, no label as the
   * immediate. It checks the operands as `enc` does, but returns false before emitting anything
   * when one is wrong, and `enc` then reports it.
   */
  private enc64(
    c: Compiled, size: number, reg: Reg | undefined, rm: RM | undefined, opreg: Reg | undefined, cc: number,
    imm: number | undefined, rel: Label | undefined,
  ): boolean {
    if (c.vexLpp >= 0) return false;
    let rex = c.rexW || size === 8 ? 0x48 : 0;
    let last = c.last;
    if (c.plus === PLUS_R) {
      const r = regValue(opreg);
      if (!isRegNumber(r)) return false;
      if (r & 8) rex |= 0x41;
      last += r & 7;
    } else if (c.plus === PLUS_CC) {
      if (cc < 0) return false;
      last += cc;
    }
    let m: Mem | null = null;
    let regField = 0;
    let rmField = 0;
    if (c.modrm !== NO_MODRM) {
      if (c.modrm === MODRM_R) {
        const r = regValue(reg);
        if (!isRegNumber(r)) return false;
        if (r & 8) rex |= 0x44;
        regField = r & 7;
      } else {
        regField = c.modrm;
      }
      if (rm === undefined) return false;
      if (isMem(rm)) {
        m = rm;
        if (m.base !== null) {
          const b = regValue(m.base);
          if (!isRegNumber(b)) return false;
          if (b & 8) rex |= 0x41;
        }
        if (m.index !== null) {
          const x = regValue(m.index);
          if (!isRegNumber(x) || x === 4) return false;
          if (x & 8) rex |= 0x42;
        }
        const s = m.scale;
        if (s !== 1 && s !== 2 && s !== 4 && s !== 8) return false;
        if (!(m.disp instanceof Label)) {
          const disp = (m.disp as number) + m.addend;
          if ((disp | 0) !== disp) return false; // a sign-extended 32-bit displacement
        }
      } else {
        const r = regValue(rm);
        if (!isRegNumber(r)) return false;
        if (r & 8) rex |= 0x41;
        rmField = r & 7;
      }
    } else if (rm !== undefined) {
      return false;
    }
    if ((imm === undefined ? 0 : 1) !== c.immCount) return false;
    const immN = c.imm === IMM_Z ? 4 : c.imm;
    if (imm !== undefined && (!isInt(imm) || !fitsField(imm, immN, c.imm === IMM_Z && size === 8))) return false;
    if (c.rel && !(rel instanceof Label)) return false;

    if (emitObserver !== null) emitObserver(c.e);
    this.reserve(32);
    const b = this.buf;
    let p = this.len;
    const prefixes = c.prefixes;
    for (let i = 0; i < prefixes.length; i++) b[p++] = prefixes[i];
    if (rex !== 0) b[p++] = rex | 0x40;
    const head = c.head;
    for (let i = 0; i < head.length; i++) b[p++] = head[i];
    b[p++] = last;
    if (c.modrm !== NO_MODRM) {
      if (m === null) b[p++] = 0xc0 | (regField << 3) | rmField;
      else p = this.writeAddress(m, regField, p, c);
    }
    if (imm !== undefined) p = putLE(b, p, imm, immN);
    if (c.rel) {
      this.fixups.add(REL32, p, rel!, 0, c.whatIndex);
      p = putLE(b, p, 0, 4);
    }
    this.len = p;
    return true;
  }

  private fail(c: Compiled, why: string): never {
    throw new Error(`x86: ${c.what} (${this.bits}-bit): ${why}`);
  }

  /** A register operand's number (0..15), checked against the mode. */
  private regOperand(r: Reg | undefined, isByte: boolean, role: string, c: Compiled): number {
    let n: number;
    if (typeof r === "number") n = r;
    else if (r === undefined || isMem(r)) return this.fail(c, `${role} must be a register`);
    else n = regValue(r);
    if (!isInt(n) || n < 0 || n > 15) return this.fail(c, `${role} register ${String(r)} is not 0..15`);
    if (n >= 8 && this.bits !== 64) this.fail(c, `register ${n} (${role}) needs 64-bit mode`);
    if (isByte && n >= 4 && n < 8 && this.bits !== 64) {
      this.fail(c, `byte register spl/bpl/sil/dil (${role}) needs 64-bit mode (ah..bh are not supported)`);
    }
    return n;
  }

  /** A base or index register's number, checked against the mode. */
  private regNum(r: Reg, role: string, c: Compiled): number {
    const n = regValue(r);
    if (!isInt(n) || n < 0 || n > 15) this.fail(c, `${role} register ${String(r)} is not 0..15`);
    if (n >= 8 && this.bits !== 64) this.fail(c, `${role} register ${REG64[n]} needs 64-bit mode`);
    return n;
  }

  /** Check a memory operand (32/64-bit addressing); its REX.B/X bits. */
  private checkAddress(m: Mem, c: Compiled): number {
    const bits = this.bits;
    const base = m.base === null ? -1 : this.regNum(m.base, "base", c);
    const index = m.index === null ? -1 : this.regNum(m.index, "index", c);
    if (index === 4) this.fail(c, "rsp cannot be an index register");
    const s = m.scale;
    if (s !== 1 && s !== 2 && s !== 4 && s !== 8 && !(s in SCALE_BITS)) this.fail(c, `scale ${m.scale} is not 1, 2, 4 or 8`);
    let rex = 0;
    if (base >= 0 && base & 8) rex |= 0x41;
    if (index >= 0 && index & 8) rex |= 0x42;
    if (!(m.disp instanceof Label)) {
      const disp = (m.disp as number) + m.addend;
      if (!isInt(disp)) this.fail(c, `displacement ${disp} is not an integer`);
      if (!fitsField(disp, 4, bits === 64)) this.fail(c, `displacement ${hex(disp)} does not fit ${bits === 64 ? "a sign-extended " : ""}32 bits`);
    }
    return rex;
  }

  private dispFixup(m: Mem, at: number, c: Compiled): void {
    this.fixups.add(this.bits === 64 ? ABS32S : ABS32, at, m.disp as Label, m.addend, c.whatIndex);
  }

  /** ModRM (+SIB, +disp) of a checked memory operand at `p` (SDM Vol. 2 §2.1.5, §2.2.1.6); the new end. */
  private writeAddress(m: Mem, regField: number, p: number, c: Compiled): number {
    const b = this.buf;
    const isLabel = m.disp instanceof Label;
    const disp = isLabel ? 0 : (m.disp as number) + m.addend;
    if (m.base === null) {
      if (m.index === null) {
        // [disp32]: in 64-bit mode mod=00 rm=101 would be RIP-relative, so use SIB base=101 index=100.
        if (this.bits === 64) { b[p++] = (regField << 3) | 4; b[p++] = 0x25; } else b[p++] = (regField << 3) | 5;
      } else {
        // [index*scale + disp32]: SIB with base=101 and mod=00.
        b[p++] = (regField << 3) | 4;
        b[p++] = sib(m.scale, regValue(m.index), 5);
      }
      if (isLabel) this.dispFixup(m, p, c);
      return putLE(b, p, disp, 4);
    }
    const base = regValue(m.base);
    let mod: number;
    if (isLabel) mod = 2;
    else if (disp === 0 && (base & 7) !== 5) mod = 0; // rbp/r13 with mod=00 mean "no base"
    else if (disp >= -128 && disp <= 127) mod = 1;
    else mod = 2;
    if (m.index !== null || (base & 7) === 4) {
      // rsp/r12 as base need a SIB (rm=100 means "SIB follows"); index=100 (no REX.X) means none.
      b[p++] = (mod << 6) | (regField << 3) | 4;
      b[p++] = sib(m.scale, m.index === null ? 4 : regValue(m.index), base);
    } else {
      b[p++] = (mod << 6) | (regField << 3) | (base & 7);
    }
    if (mod === 1) b[p++] = disp & 0xff;
    else if (mod === 2) {
      if (isLabel) this.dispFixup(m, p, c);
      p = putLE(b, p, disp, 4);
    }
    return p;
  }
}

// ---- operand helpers ----

/** Little-endian `value` truncated to `n` bytes into `b` at `p`; the new end. */
function putLE(b: Uint8Array, p: number, value: number | bigint, n: number): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    const lo = value >>> 0;
    b[p] = lo;
    if (n === 1) return p + 1;
    b[p + 1] = lo >>> 8;
    if (n === 2) return p + 2;
    if (n === 4) {
      b[p + 2] = lo >>> 16;
      b[p + 3] = lo >>> 24;
      return p + 4;
    }
    if (n === 8) {
      const hi = Math.floor(value / TWO32) >>> 0;
      b[p + 2] = lo >>> 16;
      b[p + 3] = lo >>> 24;
      b[p + 4] = hi;
      b[p + 5] = hi >>> 8;
      b[p + 6] = hi >>> 16;
      b[p + 7] = hi >>> 24;
      return p + 8;
    }
  }
  if (typeof value === "bigint" && n === 8) {
    // A 64-bit pattern as two 32-bit halves (no per-byte BigInt arithmetic).
    const u = BigInt.asUintN(64, value);
    p = putLE(b, p, Number(u & 0xffffffffn), 4);
    return putLE(b, p, Number(u >> 32n), 4);
  }
  b.set(le(value, n), p);
  return p + n;
}

const NO_MODRM = -1, MODRM_R = -2;
const PLUS_NONE = 0, PLUS_R = 1, PLUS_CC = 2;
const IMM_Z = -1;
const F_REG8 = 1, F_RM8 = 2, F_IMPLICIT_MEM = 4;

/** A form prepared for `enc`: the parsed `Encoding` as plain numbers, and its name for messages. */
interface Compiled {
  readonly e: Encoding;
  /** "mnemonic operands", for error messages and fixups. */
  readonly what: string;
  /** Index of `what` in WHAT (a fixup records this number). */
  readonly whatIndex: number;
  readonly prefixes: readonly number[];
  /** Opcode bytes before the last one. */
  readonly head: readonly number[];
  /** Last opcode byte (the one +r / +cc apply to). */
  readonly last: number;
  readonly plus: number;
  /** NO_MODRM, MODRM_R or the /digit. */
  readonly modrm: number;
  /** Number of immediates (0 or 1). */
  readonly immCount: number;
  /** Immediate size in bytes, or IMM_Z (by operand size). */
  readonly imm: number;
  readonly rexW: boolean;
  readonly rel: boolean;
  readonly far: boolean;
  /** A VEX form's second prefix byte without R/X/B (2-byte form: vvvv=1111, L, pp), its map and
   *  W; -1 for a legacy form. */
  readonly vexLpp: number;
  readonly vexMap: number;
  readonly vexW: number;
}

function compile(e: Encoding): Compiled {
  if (e.imms.length > 1) throw new Error(`x86: form ${e.mnemonic} ${e.operands}: more than one immediate`);
  const t = e.imms[0];
  const what = `${e.mnemonic} ${e.operands}`.trim();
  return {
    e, what, whatIndex: WHAT.push(what) - 1, prefixes: e.prefixes, head: e.opcode.slice(0, -1),
    last: e.opcode[e.opcode.length - 1], plus: e.plus === "r" ? PLUS_R : e.plus === "cc" ? PLUS_CC : PLUS_NONE,
    modrm: e.modrm === null ? NO_MODRM : e.modrm === "r" ? MODRM_R : e.modrm,
    immCount: e.imms.length, imm: t === undefined ? 0 : t === "ib" ? 1 : t === "iw" ? 2 : t === "id" ? 4 : t === "io" ? 8 : IMM_Z,
    rexW: e.rexW, rel: e.rel, far: e.farPointer,
    vexLpp: e.vex === null ? -1 : 0x78 | (e.vex.L << 2) | e.vex.pp, vexMap: e.vex?.map ?? 0, vexW: e.vex?.W ?? 0,
  };
}

/** lookupForm by mnemonic, then operands, compiled once: no key string is built per instruction. */
const FORM_CACHE = new Map<string, Map<string, Compiled>>();
function compiledForm(mnemonic: string, operands: string): Compiled {
  let byOperands = FORM_CACHE.get(mnemonic);
  if (!byOperands) FORM_CACHE.set(mnemonic, (byOperands = new Map()));
  let c = byOperands.get(operands);
  if (!c) byOperands.set(operands, (c = compile(lookupForm(mnemonic, operands))));
  return c;
}

/** One compiled form per op of a family (looked up lazily, so an unknown op fails like lookupForm). */
function opForm<K extends string>(table: Map<string, Compiled>, op: K, operands: string): Compiled {
  let c = table.get(op);
  if (c === undefined) table.set(op, (c = compiledForm(op, operands)));
  return c;
}
const BITSCAN = new Map<string, Compiled>();

interface AluForms { al: Compiled; rax: Compiled; rm8i8: Compiled; rmi: Compiled; rmi8: Compiled; rm8r8: Compiled; rmr: Compiled; r8rm8: Compiled; rrm: Compiled }
const ALU = new Map<string, AluForms>();
function aluForms(op: string): AluForms {
  let f = ALU.get(op);
  if (f === undefined) {
    f = {
      al: compiledForm(op, "AL, imm8"), rax: compiledForm(op, "rAX, imm"), rm8i8: compiledForm(op, "r/m8, imm8"),
      rmi: compiledForm(op, "r/m, imm"), rmi8: compiledForm(op, "r/m, imm8"), rm8r8: compiledForm(op, "r/m8, r8"),
      rmr: compiledForm(op, "r/m, r"), r8rm8: compiledForm(op, "r8, r/m8"), rrm: compiledForm(op, "r, r/m"),
    };
    ALU.set(op, f);
  }
  return f;
}
const UNARY = new Map<string, { rm8: Compiled; rm: Compiled }>();
function unaryForms(op: string): { rm8: Compiled; rm: Compiled } {
  let f = UNARY.get(op);
  if (f === undefined) UNARY.set(op, (f = { rm8: compiledForm(op, "r/m8"), rm: compiledForm(op, "r/m") }));
  return f;
}
interface ShiftForms { rm8cl: Compiled; rmcl: Compiled; rm81: Compiled; rm1: Compiled; rm8i8: Compiled; rmi8: Compiled }
const SHIFT = new Map<string, ShiftForms>();
function shiftForms(op: string): ShiftForms {
  let f = SHIFT.get(op);
  if (f === undefined) {
    f = {
      rm8cl: compiledForm(op, "r/m8, CL"), rmcl: compiledForm(op, "r/m, CL"), rm81: compiledForm(op, "r/m8, 1"),
      rm1: compiledForm(op, "r/m, 1"), rm8i8: compiledForm(op, "r/m8, imm8"), rmi8: compiledForm(op, "r/m, imm8"),
    };
    SHIFT.set(op, f);
  }
  return f;
}
const SSE = new Map<string, Compiled>();

const TEST_FORMS = {
  al: compiledForm("test", "AL, imm8"), rax: compiledForm("test", "rAX, imm"), rm8i8: compiledForm("test", "r/m8, imm8"),
  rmi: compiledForm("test", "r/m, imm"), rm8r8: compiledForm("test", "r/m8, r8"), rmr: compiledForm("test", "r/m, r"),
};
const MOV = {
  rm8r8: compiledForm("mov", "r/m8, r8"), rmr: compiledForm("mov", "r/m, r"), r8rm8: compiledForm("mov", "r8, r/m8"),
  rrm: compiledForm("mov", "r, r/m"), r8i8: compiledForm("mov", "r8, imm8"), ri: compiledForm("mov", "r, imm"),
  r64i64: compiledForm("mov", "r64, imm64"), rm8i8: compiledForm("mov", "r/m8, imm8"), rmi: compiledForm("mov", "r/m, imm"),
};
const MOVZX8 = compiledForm("movzx", "r, r/m8"), MOVZX16 = compiledForm("movzx", "r, r/m16");
const MOVSX8 = compiledForm("movsx", "r, r/m8"), MOVSX16 = compiledForm("movsx", "r, r/m16");
const MOVSXD = compiledForm("movsxd", "r64, r/m32");
const LEA = compiledForm("lea", "r, m");
const IMUL = { rrm: compiledForm("imul", "r, r/m"), rrmi8: compiledForm("imul", "r, r/m, imm8"), rrmi: compiledForm("imul", "r, r/m, imm") };
const SETCC = compiledForm("setcc", "r/m8"), CMOVCC = compiledForm("cmovcc", "r, r/m");
const JMP_REL = compiledForm("jmp", "rel"), JMP_RM = compiledForm("jmp", "r/m"), JCC = compiledForm("jcc", "rel");
const CALL_REL = compiledForm("call", "rel"), CALL_RM = compiledForm("call", "r/m"), RET = compiledForm("ret", "");
const PUSH = { r: compiledForm("push", "r"), i8: compiledForm("push", "imm8"), i: compiledForm("push", "imm"), rm: compiledForm("push", "r/m") };
const POP = { r: compiledForm("pop", "r"), rm: compiledForm("pop", "r/m") };
const MOVD = { toXmm: compiledForm("movd", "xmm, r/m"), fromXmm: compiledForm("movd", "r/m, xmm") };
const XMM_MOVE = {
  movss: { load: compiledForm("movss", "xmm, xmm/m32"), store: compiledForm("movss", "xmm/m32, xmm") },
  movsd: { load: compiledForm("movsd", "xmm, xmm/m64"), store: compiledForm("movsd", "xmm/m64, xmm") },
  movaps: { load: compiledForm("movaps", "xmm, xmm/m128"), store: compiledForm("movaps", "xmm/m128, xmm") },
  movapd: { load: compiledForm("movapd", "xmm, xmm/m128"), store: compiledForm("movapd", "xmm/m128, xmm") },
  movups: { load: compiledForm("movups", "xmm, xmm/m128"), store: compiledForm("movups", "xmm/m128, xmm") },
  vmovdqu: { load: compiledForm("vmovdqu", "ymm, ymm/m256"), store: compiledForm("vmovdqu", "ymm/m256, ymm") },
};
const VMOVDQA_STORE = compiledForm("vmovdqa", "ymm/m256, ymm");

/** SIB byte (SDM Vol. 2 §2.1.5 table 2-3). */
function sib(scale: number, idx: number, b: number): number {
  return (SCALE_BITS[scale as 1 | 2 | 4 | 8] << 6) | ((idx & 7) << 3) | (b & 7);
}

/** The number of a register operand, plain or boxed (valueOf unboxes far faster than Number()). */
function regValue(r: unknown): number {
  return typeof r === "number" ? r : r instanceof Number ? r.valueOf() : Number(r);
}

/** A register number 0..15. */
function isRegNumber(n: number): boolean {
  return n >= 0 && n <= 15 && (n | 0) === n;
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
