/**
 * The quick tier: one pass over a function body's bytes that decodes, validates and emits x86-64
 * together, with no object per operator (WebAssembly core spec 2.0: §5.4 binary instructions,
 * §3.3 validation of instructions, §4.4 their execution). The design is a baseline compiler's
 * (V8's Liftoff, wasmtime's Winch) with a smaller register cache: every operand-stack entry has a
 * frame slot, and its value may be elsewhere until an operator needs it there:
 *   - `local.get` and constants are deferred (E_LOCAL, E_CONST): an operand reads the local or
 *     takes the immediate; stored only before control flow or before the local is written;
 *   - an operator's result stays in rax (E_RAX) while the next operators read it first;
 *   - a comparison's result stays in the flags (E_FLAGS) for an `if` / `br_if` right after it.
 * Every control operator stores what is deferred (`flush`), so deferred values never cross a
 * branch. The code is slower than the optimising tier's (function.ts) and about 1.4x its size, and
 * is produced several times as fast.
 *
 * It covers every operator but memory.init/data.drop, the table operators, ref.func and calls of
 * intrinsics (tools/translate/intrinsics.ts). A function with one of those (or an encoding it does
 * not expect) is refused as a whole: `translate` returns false having emitted nothing, and the
 * module translator gives that function to the optimising tier. Both tiers keep the same ABI
 * (tools/link/ABI.md), so their functions call each other; this tier writes no register the
 * optimising tier pins (r9, r10, r12-r15, xmm10-xmm15).
 *
 * Validation here is complete for what it accepts (a function it accepts is valid), so a module
 * read with lazy bodies need not be validated function by function beforehand: a refused function
 * is decoded and validated by the ordinary path, which reports the error if there is one.
 *
 * Frame: [rbp + 16 + 8*(n-1-i)] parameter i of n (ABI), [rbp - 8*(k+1)] declared local k, then
 * operand-stack entry d at [rbp - 8*(L + d + 1)] for L declared locals, or at [rsp + 8*d] when
 * L > 12 (the bottom of the frame: a disp8 away). Every slot holds 8 bytes: i32 and f32 values
 * zero-extended, as the ABI passes them.
 */
import type { Label } from "../../x86/assembler.ts";
import type { ValType } from "../../wasm/types.ts";
import { MAX_LOCALS } from "../../wasm/reader.ts";
import { OPCODE_INFO } from "../../wasm/opcodes.ts";
import type { ModuleContext } from "../context.ts";
import { Trap, type TrapKind } from "../traps.ts";
import {
  IN_RAX, IN_XMM0, RSP_BASE, CC_A, CC_AE, CC_B, CC_BE, CC_E, CC_G, CC_GE, CC_L, CC_LE, CC_NE, CC_NP, CC_O, CC_P, CC_S, QuickCode, RAX, RCX, RDI, RDX, RSI, R8, R11,
} from "./code.ts";

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, FUNCREF = 0x70, EXTERNREF = 0x6f, UNKNOWN = 0;
const TYPE_CODE: Record<ValType, number> = { i32: I32, i64: I64, f32: F32, f64: F64, v128: 0x7b, funcref: FUNCREF, externref: EXTERNREF };
const EMPTY = new Uint8Array(0);
const SINGLE: Uint8Array[] = [];
for (const t of [I32, I64, F32, F64, FUNCREF, EXTERNREF]) SINGLE[t] = Uint8Array.of(t);

/** Where an operand-stack entry's value is (QuickTranslator.ek). */
const E_SLOT = 0, E_LOCAL = 1, E_CONST = 2, E_RAX = 3, E_FLAGS = 4, E_XMM0 = 5;
/** Where a value held in a register (rax, xmm0) may be on the stack for an operator to take it
 *  (RAX_GUARD, XMM_GUARD; `keepsHeld`): nowhere (G_SPILL: stored first), the top entry, the top
 *  two, or anywhere (the operator emits nothing, or stores it itself). */
const G_SPILL = 0, G_TOP = 1, G_TWO = 2, G_ANY = 3;
/** For a value held in rax. */
const RAX_GUARD = new Uint8Array(256);
/** For a float held in xmm0. */
const XMM_GUARD = new Uint8Array(256);
/** Frame kinds on the control stack. */
const K_FUNC = 0, K_BLOCK = 2, K_LOOP = 3, K_IF = 4;
/** Thrown (never an Error: no stack trace) when the function is outside this tier. */
const REFUSED = { refused: true };
/** Deepest operand stack this tier takes (entries): beyond it, the optimising tier. */
const MAX_SLOTS = 1 << 16;

/** Fixed operand and result types of the numeric operators 0x45-0xc4 (from the opcode table). */
const NUM_P1 = new Uint8Array(256), NUM_P2 = new Uint8Array(256), NUM_R = new Uint8Array(256);
{
  const t = (s: string) => ({ i: I32, I: I64, f: F32, F: F64 })[s as "i"];
  // [first opcode, last opcode, operands, result]
  const ranges: [number, number, string, string][] = [
    [0x45, 0x45, "i", "i"], [0x46, 0x4f, "ii", "i"], [0x50, 0x50, "I", "i"], [0x51, 0x5a, "II", "i"],
    [0x5b, 0x60, "ff", "i"], [0x61, 0x66, "FF", "i"], [0x67, 0x69, "i", "i"], [0x6a, 0x78, "ii", "i"],
    [0x79, 0x7b, "I", "I"], [0x7c, 0x8a, "II", "I"], [0x8b, 0x91, "f", "f"], [0x92, 0x98, "ff", "f"],
    [0x99, 0x9f, "F", "F"], [0xa0, 0xa6, "FF", "F"], [0xa7, 0xa7, "I", "i"], [0xa8, 0xa9, "f", "i"],
    [0xaa, 0xab, "F", "i"], [0xac, 0xad, "i", "I"], [0xae, 0xaf, "f", "I"], [0xb0, 0xb1, "F", "I"],
    [0xb2, 0xb3, "i", "f"], [0xb4, 0xb5, "I", "f"], [0xb6, 0xb6, "F", "f"], [0xb7, 0xb8, "i", "F"],
    [0xb9, 0xba, "I", "F"], [0xbb, 0xbb, "f", "F"], [0xbc, 0xbc, "f", "i"], [0xbd, 0xbd, "F", "I"],
    [0xbe, 0xbe, "i", "f"], [0xbf, 0xbf, "I", "F"], [0xc0, 0xc1, "i", "i"], [0xc2, 0xc4, "I", "I"],
  ];
  for (const [lo, hi, p, r] of ranges) {
    for (let op = lo; op <= hi; op++) {
      NUM_P1[op] = t(p[0]);
      NUM_P2[op] = p.length > 1 ? t(p[1]) : 0;
      NUM_R[op] = t(r);
    }
  }
}
{
  // rax: control (they store it with the others), calls (they check), pushes that emit nothing, nop, drop.
  for (const op of [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x1a, 0x20, 0x41, 0x42, 0x43, 0x44, 0xd0]) RAX_GUARD[op] = G_ANY;
  // The top operand read first: select (its condition), local.set/tee, global.set, loads, memory.grow, ref.is_null, 0xFC.
  for (const op of [0x1b, 0x1c, 0x21, 0x22, 0x24, 0x40, 0xd1, 0xfc]) RAX_GUARD[op] = G_TOP;
  for (let op = 0x28; op <= 0x35; op++) RAX_GUARD[op] = G_TOP;
  // Numeric operators read their operands through ld/rm first: the top, and a binary one's left operand too.
  for (let op = 0x45; op <= 0xc4; op++) RAX_GUARD[op] = NUM_P2[op] ? G_TWO : G_TOP;
  for (let op = 0x36; op <= 0x3e; op++) RAX_GUARD[op] = G_TWO; // stores: the value or the address
  // xmm0: control, pushes that emit nothing (i64/f64 constants through r11), nop.
  for (const op of [0x01, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x20, 0x41, 0x42, 0x43, 0x44, 0xd0]) XMM_GUARD[op] = G_ANY;
  // Its top operand read first (through ld/rm, which take it from xmm0): local.set/tee, global.set, drop, f32/f64 stores, sqrt.
  for (const op of [0x1a, 0x21, 0x22, 0x24, 0x38, 0x39, 0x91, 0x9f]) XMM_GUARD[op] = G_TOP;
  // Float add, sub, mul, div: either operand.
  for (const op of [0x92, 0x93, 0x94, 0x95, 0xa0, 0xa1, 0xa2, 0xa3]) XMM_GUARD[op] = G_TWO;
}
/** Loads 0x28-0x35 and stores 0x36-0x3e: value type, natural alignment (log2). */
const MEM_TYPE = new Uint8Array(0x3f), MEM_ALIGN = new Uint8Array(0x3f);
{
  const rows: [number, number, number][] = [
    [0x28, I32, 2], [0x29, I64, 3], [0x2a, F32, 2], [0x2b, F64, 3], [0x2c, I32, 0], [0x2d, I32, 0],
    [0x2e, I32, 1], [0x2f, I32, 1], [0x30, I64, 0], [0x31, I64, 0], [0x32, I64, 1], [0x33, I64, 1],
    [0x34, I64, 2], [0x35, I64, 2], [0x36, I32, 2], [0x37, I64, 3], [0x38, F32, 2], [0x39, F64, 3],
    [0x3a, I32, 0], [0x3b, I32, 1], [0x3c, I64, 0], [0x3d, I64, 1], [0x3e, I64, 2],
  ];
  for (const [op, t, a] of rows) { MEM_TYPE[op] = t; MEM_ALIGN[op] = a; }
}
/** Load opcode -> [legacy prefix, REX.W, opcode] of `mov/movzx/movsx rax|eax, [rax + disp32]`. */
const LOAD_FORM: [number, number, number][] = [];
LOAD_FORM[0x28] = [0, 0, 0x8b]; LOAD_FORM[0x29] = [0, 1, 0x8b]; LOAD_FORM[0x2a] = [0, 0, 0x8b]; LOAD_FORM[0x2b] = [0, 1, 0x8b];
LOAD_FORM[0x2c] = [0, 0, 0x0fbe]; LOAD_FORM[0x2d] = [0, 0, 0x0fb6]; LOAD_FORM[0x2e] = [0, 0, 0x0fbf]; LOAD_FORM[0x2f] = [0, 0, 0x0fb7];
LOAD_FORM[0x30] = [0, 1, 0x0fbe]; LOAD_FORM[0x31] = [0, 0, 0x0fb6]; LOAD_FORM[0x32] = [0, 1, 0x0fbf]; LOAD_FORM[0x33] = [0, 0, 0x0fb7];
LOAD_FORM[0x34] = [0, 1, 0x63]; LOAD_FORM[0x35] = [0, 0, 0x8b];
/** Store opcode -> [legacy prefix, REX.W, opcode] of `mov [rax + disp32], rcx|ecx|cx|cl`. */
const STORE_FORM: [number, number, number][] = [];
STORE_FORM[0x36] = [0, 0, 0x89]; STORE_FORM[0x37] = [0, 1, 0x89]; STORE_FORM[0x38] = [0, 0, 0x89]; STORE_FORM[0x39] = [0, 1, 0x89];
STORE_FORM[0x3a] = [0, 0, 0x88]; STORE_FORM[0x3b] = [0x66, 0, 0x89]; STORE_FORM[0x3c] = [0, 0, 0x88]; STORE_FORM[0x3d] = [0x66, 0, 0x89];
STORE_FORM[0x3e] = [0, 0, 0x89];
/** Access size in bytes of loads/stores (the sandbox check's end). */
const MEM_BYTES = new Uint8Array(0x3f);
for (const [op, n] of [[0x28, 4], [0x29, 8], [0x2a, 4], [0x2b, 8], [0x2c, 1], [0x2d, 1], [0x2e, 2], [0x2f, 2], [0x30, 1], [0x31, 1], [0x32, 2], [0x33, 2], [0x34, 4], [0x35, 4], [0x36, 4], [0x37, 8], [0x38, 4], [0x39, 8], [0x3a, 1], [0x3b, 2], [0x3c, 1], [0x3d, 2], [0x3e, 4]]) MEM_BYTES[op] = n;
/** i32/i64 binary operators (offset from add): opcode of `op r, r/m` for the simple ones (0 = other). */
const INT_ALU = [0x03, 0x2b, 0x0faf, 0, 0, 0, 0, 0x23, 0x0b, 0x33];
/** Shift/rotate (offset from shl = 10): the /digit of D3 (shl /4, sar /7, shr /5, rol /0, ror /1). */
const SHIFT_DIGIT = [4, 7, 5, 0, 1];
/** Integer comparisons (offset from eq = 1): condition codes eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u. */
const INT_CC = [0, CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE];
/** Float arithmetic (offset from add): SSE opcode addss/sd 58, sub 5C, mul 59, div 5E (min/max refused). */
const FLOAT_ALU = [0x0f58, 0x0f5c, 0x0f59, 0x0f5e];

/** f64 bounds of float-to-int truncation, exclusive (the f32 operand is widened first, exactly):
 *  [target] -> [below, above]: s32 (-2^31-1, 2^31), u32 (-1, 2^32), s64 (the double below -2^63, 2^63), u64 (-1, 2^64). */
const TRUNC_BOUNDS: [number, number][] = [[-2147483649, 2147483648], [-1, 4294967296], [-9223372036854777856, 9223372036854775808], [-1, 18446744073709551616]];
const f64Bits = (x: number) => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x, true); return v.getBigUint64(0, true); };
const TWO63 = f64Bits(9223372036854775808);
/** The bounds' bit patterns, and the rounding constants (2^52 / 2^23 as f32, 1.0), made once. */
const TRUNC_BITS = TRUNC_BOUNDS.map(([lo, hi]) => [f64Bits(lo), f64Bits(hi)]);
const ROUND_BIG = [0x4b000000n, f64Bits(2 ** 52)], ROUND_ONE = [0x3f800000n, f64Bits(1)];

/** A module as this tier needs it: types as byte codes, looked up once. */
interface QuickModule {
  ctx: ModuleContext;
  typeParams: Uint8Array[];
  typeResults: Uint8Array[];
  /** Type index of every function in the index space. */
  funcTypeIndex: Int32Array;
  /** Functions this tier may call (not intrinsics). */
  callable: Uint8Array;
  globalType: Uint8Array;
  globalMutable: Uint8Array;
  tableElem: Uint8Array;
}

export class QuickTranslator {
  readonly code = new QuickCode();
  /** Offset in the module of the operator the last refused function stopped at, or -1 when it
   *  stopped before its first operator (its locals); for diagnostics (`refusal`). */
  refusedAt = -1;
  private opStart = -1;
  /** Why the last function was refused, when the operator's name does not say it. */
  private why = "";
  private readonly m: QuickModule;
  // the body being read
  private bytes: Uint8Array = EMPTY;
  private p = 0;
  private end = 0;
  // locals
  private localType = new Uint8Array(256);
  private localDisp = new Int32Array(256);
  private nLocals = 0;
  private declared = 0;
  // operand stack (types) and its frame slots
  private ts = new Uint8Array(1024);
  /** Where each entry's value is (E_SLOT: its frame slot; E_LOCAL: local `ev` not read yet;
   *  E_CONST: the 32-bit value `ev`, sign-extended for i64/f64, not stored yet). Deferred entries
   *  live only within straight-line code: every control operator stores them first (`flush`). */
  private ek = new Uint8Array(1024);
  private ev = new Int32Array(1024);
  /** Lowest entry that may be deferred (flush starts there). */
  private deferredLow = 0;
  /** The entry whose value is in rax (E_RAX: an operator's result not stored yet), or -1. */
  private raxHeld = -1;
  /** The entry that is a comparison's result still in the flags (E_FLAGS: condition code `ev`), or
   *  -1: an `if` or `br_if` right after it jumps on the flags (no setcc, movzx, test). */
  private flagsHeld = -1;
  /** The condition code of the comparison numeric() just emitted, or -1 (its result is in rax). */
  private resultCC = -1;
  /** The entry whose value is in xmm0 (E_XMM0: a float operator's result not stored yet), or -1. */
  private xmmHeld = -1;
  /** numeric() left its (float) result in xmm0. */
  private resultXmm = false;
  private sp = 0;
  private maxSp = 0;
  // control stack
  private cKind = new Uint8Array(256);
  private cHeight = new Int32Array(256);
  private cUnreachable = new Uint8Array(256);
  /** Loops: the offset of their first instruction; others: the head of their list of forward jumps. */
  private cPos = new Int32Array(256);
  private cJumps = new Int32Array(256);
  /** `if`: the jcc over its then arm (-1 once an else took it). */
  private cElse = new Int32Array(256);
  /** `if` with parameters: how many entries below its height hold the parameters for its else arm. */
  private cHidden = new Int32Array(256);
  private cParams: Uint8Array[] = [];
  private cResults: Uint8Array[] = [];
  private csp = 0;
  // forward jumps: a linked list per frame in two typed arrays
  private jumpAt = new Int32Array(1024);
  private jumpNext = new Int32Array(1024);
  private jumps = 0;
  // trap pads: the jcc/jmp fields that reach each kind's pad, a linked list per kind
  private padHead = new Int32Array(16);

  constructor(ctx: ModuleContext) {
    const mod = ctx.mod;
    const types = mod.types;
    const code = (ts: ValType[]) => ts.length === 0 ? EMPTY : ts.length === 1 ? SINGLE[TYPE_CODE[ts[0]]] ?? Uint8Array.of(TYPE_CODE[ts[0]]) : Uint8Array.from(ts, (t) => TYPE_CODE[t]);
    const nf = ctx.funcTypes.length;
    const funcTypeIndex = new Int32Array(nf);
    const callable = new Uint8Array(nf);
    let k = 0;
    for (const imp of mod.imports) if (imp.desc.kind === "func") funcTypeIndex[k++] = imp.desc.typeIndex;
    for (const f of mod.funcs) funcTypeIndex[k++] = f.typeIndex;
    for (let i = 0; i < nf; i++) callable[i] = ctx.funcLabels[i] !== undefined && (i >= ctx.importBindings.length || ctx.importBindings[i].kind === "call") ? 1 : 0;
    this.m = {
      ctx,
      typeParams: types.map((t) => code(t.params)),
      typeResults: types.map((t) => code(t.results)),
      funcTypeIndex,
      callable,
      globalType: Uint8Array.from(ctx.globalTypes, (g) => TYPE_CODE[g.type]),
      globalMutable: Uint8Array.from(ctx.globalTypes, (g) => (g.mutable ? 1 : 0)),
      tableElem: Uint8Array.from(ctx.tables, (t) => TYPE_CODE[t.elem]),
    };
  }

  /**
   * Translate the body of function `funcIndex`: its bytes `bytes[start, end)` (the locals
   * declaration, then the expression). Returns false, having emitted nothing, when the function is
   * outside this tier; else the code is in `this.code` with its label fields.
   */
  translate(funcIndex: number, bytes: Uint8Array, start: number, end: number): boolean {
    this.bytes = bytes;
    this.p = start;
    this.end = end;
    this.code.reset();
    this.opStart = -1;
    this.why = "";
    try {
      this.body(funcIndex);
      return true;
    } catch (e) {
      if (e === REFUSED) { this.refusedAt = this.opStart; return false; }
      throw e;
    }
  }

  /** What stopped the last refused function: the operator's name (or the byte), or "locals". */
  refusal(): string {
    if (this.why) return this.why;
    const at = this.refusedAt;
    if (at < 0) return "locals";
    const b = this.bytes[at];
    let op = b;
    if (b === 0xfc) { this.p = at + 1; op = 0xfc00 | this.u32(); }
    return OPCODE_INFO.get(op)?.name ?? `opcode 0x${op.toString(16)}`;
  }

  // ---------------------------------------------------------------- decoding (§5.2.2 LEB128)

  private u32(): number {
    const b = this.bytes;
    let x = b[this.p++];
    if (x < 0x80) return x;
    let r = x & 0x7f;
    for (let s = 7; s < 35; s += 7) {
      x = b[this.p++];
      if (s === 28 && x > 0x0f) throw REFUSED; // 5th byte: 4 value bits, no continuation
      r |= (x & 0x7f) << s;
      if (x < 0x80) return r >>> 0;
    }
    throw REFUSED;
  }
  private s32(): number {
    const b = this.bytes;
    let r = 0, s = 0, x;
    do {
      if (s === 35) throw REFUSED;
      x = b[this.p++];
      if (s === 28 && !(x === (x & 0x07) || (x & 0x78) === 0x78) ) throw REFUSED; // sign bits must agree with bit 31
      r |= (x & 0x7f) << s;
      s += 7;
    } while (x & 0x80);
    if (s < 32 && (x & 0x40)) r |= -1 << s;
    return r | 0;
  }
  /** An s64 into `lo` / `hi` (two's complement halves). */
  private lo = 0;
  private hi = 0;
  private s64(): void {
    const b = this.bytes;
    let lo = 0, hi = 0, s = 0, x;
    do {
      if (s === 70) throw REFUSED;
      x = b[this.p++];
      if (s === 63 && x !== 0 && x !== 0x7f) throw REFUSED; // 10th byte: sign bits only
      const v = x & 0x7f;
      if (s < 32) {
        lo |= v << s;
        if (s > 25) hi |= v >>> (32 - s);
      } else hi |= v << (s - 32);
      s += 7;
    } while (x & 0x80);
    if (s < 64 && (x & 0x40)) {
      if (s < 32) { lo |= -1 << s; hi = -1; } else hi |= -1 << (s - 32);
    }
    this.lo = lo | 0;
    this.hi = hi | 0;
  }
  private byte(): number {
    if (this.p >= this.end) throw REFUSED;
    return this.bytes[this.p++];
  }

  // ---------------------------------------------------------------- validation (§3.3)

  private push(t: number): void {
    const sp = this.sp++;
    this.ts[sp] = t;
    this.ek[sp] = E_SLOT;
    if (sp >= this.maxSp) {
      this.maxSp = sp + 1;
      if (this.maxSp + 4 > this.ts.length) {
        if (this.ts.length >= MAX_SLOTS) throw REFUSED;
        const n = this.ts.length * 2;
        const ts = new Uint8Array(n), ek = new Uint8Array(n), ev = new Int32Array(n);
        ts.set(this.ts); ek.set(this.ek); ev.set(this.ev);
        this.ts = ts; this.ek = ek; this.ev = ev;
      }
    }
  }
  /** Push the value in rax (an operator's result): stored only if rax is needed first (`guardRax`). */
  private pushRax(t: number): void {
    this.pushDeferred(t, E_RAX, 0);
    this.raxHeld = this.sp - 1;
  }
  /** A comparison's result in the flags, condition code `cc` (rax holds nothing then). */
  private pushFlags(cc: number): void {
    this.pushDeferred(I32, E_FLAGS, cc); // it becomes a value in rax unless a branch takes it
    this.flagsHeld = this.sp - 1;
    this.raxHeld = -1;
  }
  /** Before operator `op`: a result in the flags survives only into `if`, `br_if` and `i32.eqz`
   *  right after it; else it becomes a value in rax (setcc al; movzx eax, al). */
  private guardFlags(op: number): void {
    const h = this.flagsHeld;
    this.flagsHeld = -1;
    if (h >= this.sp || this.ek[h] !== E_FLAGS) return;
    if (h === this.sp - 1 && (op === 0x04 || op === 0x0d || op === 0x45)) { this.flagsHeld = h; return; }
    this.code.setccEax(this.ev[h]);
    this.ek[h] = E_RAX;
    this.raxHeld = h;
  }
  /** The condition code under which entry `i` (an i32 condition) is true: its comparison's, when it is
   *  in the flags (consumed); else it is loaded into eax and tested, and the code is "not zero". */
  private conditionOf(i: number): number {
    if (this.ek[i] === E_FLAGS) { // taken by the branch (the entry is popped: no stale kind left above the stack)
      this.flagsHeld = -1;
      this.ek[i] = E_SLOT;
      return this.ev[i];
    }
    this.ld(0, RAX, i);
    this.code.room(); this.code.b(0x85); this.code.b(0xc0); // test eax, eax
    return CC_NE;
  }
  /** Push the float in xmm0 (an operator's result): stored only if xmm0 is needed first (`guardXmm`). */
  private pushXmm(t: number): void {
    this.pushDeferred(t, E_XMM0, 0);
    this.xmmHeld = this.sp - 1;
  }
  /**
   * Before operator `op`: the float held in xmm0 survives into operators that emit nothing, control
   * operators (they store it with the others), float arithmetic and sqrt that take it as an operand,
   * and operators that read their top operand through ld/rm before touching xmm0 (local.set/tee,
   * global.set, drop, f32/f64 stores); else it is stored now.
   */
  private guardXmm(op: number): void {
    const h = this.xmmHeld;
    if (h >= this.sp || this.ek[h] !== E_XMM0) this.xmmHeld = -1;
    else if (!this.keepsHeld(XMM_GUARD[op], h)) this.materialize(h);
  }
  /** Whether an operator of guard level `g` (G_*) takes the held entry `h` as it is. */
  private keepsHeld(g: number, h: number): boolean {
    return g === G_ANY || (g >= G_TOP && h === this.sp - 1) || (g === G_TWO && h === this.sp - 2);
  }
  /** Store the value held in rax to its slot (if it is still an entry of the stack). */
  private spillRax(): void {
    const h = this.raxHeld;
    if (h >= 0 && h < this.sp && this.ek[h] === E_RAX) this.materialize(h);
    this.raxHeld = -1;
  }
  /**
   * Before operator `op`: the value held in rax survives only into operators that read it before
   * they write rax. Control operators store it with the others (`flush`); calls keep it only as an
   * argument (`call`); an operator that pushes without emitting code keeps it; the top entry goes
   * into every operator that reads its operands through ld/rm first; the one below the top into
   * binary numeric operators and stores; else it is stored now.
   */
  private guardRax(op: number): void {
    const h = this.raxHeld;
    if (h >= this.sp || this.ek[h] !== E_RAX) this.raxHeld = -1;
    else if (!this.keepsHeld(RAX_GUARD[op], h)) this.materialize(h);
  }
  /** Push an entry whose value is not in its slot yet (`kind`: a local, a constant, rax, xmm0, the
   *  flags; `v`: the local, the constant, the condition code): `flush` stores it. */
  private pushDeferred(t: number, kind: number, v: number): void {
    const i = this.sp;
    this.push(t);
    this.ek[i] = kind;
    this.ev[i] = v;
    if (i < this.deferredLow) this.deferredLow = i;
  }
  /** Pop an operand of type `t` (UNKNOWN: any); returns its type (UNKNOWN below a polymorphic base). */
  private pop(t: number): number {
    const f = this.csp - 1;
    if (this.sp === this.cHeight[f]) {
      if (this.cUnreachable[f]) return UNKNOWN;
      throw REFUSED;
    }
    const x = this.ts[--this.sp];
    if (x !== t && x !== UNKNOWN && t !== UNKNOWN) throw REFUSED;
    return x;
  }
  private popTypes(ts: Uint8Array): void {
    for (let i = ts.length - 1; i >= 0; i--) this.pop(ts[i]);
  }
  /** Check the top of the stack against `ts` without popping (br_if, br_table). */
  private checkTop(ts: Uint8Array): void {
    const f = this.csp - 1, n = ts.length;
    for (let i = 0; i < n; i++) {
      const at = this.sp - n + i;
      if (at < this.cHeight[f]) { if (this.cUnreachable[f]) continue; throw REFUSED; }
      const x = this.ts[at];
      if (x !== ts[i] && x !== UNKNOWN) throw REFUSED;
    }
  }
  /** After br, br_table, return, unreachable: the rest of the frame is dead (stack polymorphic). */
  private deadEnd(): void {
    this.raxHeld = -1;
    this.xmmHeld = -1;
    this.flagsHeld = -1;
    const f = this.csp - 1;
    this.cUnreachable[f] = 1;
    this.sp = this.cHeight[f];
  }

  /** Frame slot of operand-stack entry `d`: below the locals from rbp, or (many locals: `rspSlots`)
   *  up from rsp at the bottom of the frame, `pushed` arguments of a call being pushed accounted for. */
  private slot(d: number): number {
    return this.rspSlots ? RSP_BASE + 8 * (d + this.pushed) : -8 * (this.declared + d + 1);
  }
  private rspSlots = false;
  private pushed = 0;

  // ---------------------------------------------------------------- deferred entries

  /** Store deferred entry `i` to its slot (through r11, which holds nothing across operators). */
  private materialize(i: number): void {
    const c = this.code, k = this.ek[i], v = this.ev[i], d = this.slot(i);
    if (k === E_FLAGS) throw new Error("quick tier: a result in the flags outlived its operator");
    if (k === E_XMM0) { // movd r11d / movq r11, xmm0 (f32 zero-extended); mov [slot], r11
      c.regs(0x66, this.is64(i) ? 1 : 0, 0x0f7e, 0, R11);
      c.store(d, R11);
      this.xmmHeld = -1;
    } else if (k === E_RAX) {
      c.store(d, RAX);
      this.raxHeld = -1;
    } else if (k === E_LOCAL) {
      c.load(1, R11, this.localDisp[v]);
      c.store(d, R11);
    } else if (v >= 0 || this.is64(i)) c.storeImm(d, v); // sign-extended: right for i64/f64, and for non-negative 32-bit values
    else { c.movImm32(R11, v); c.store(d, R11); } // mov r11d, imm32 (zero-extends)
    this.ek[i] = E_SLOT;
  }
  private is64(i: number): boolean {
    const t = this.ts[i];
    return t === I64 || t === F64;
  }
  /** Every deferred entry below `limit` to its slot (before control flow: values must be in their slots). */
  private flush(limit: number = this.sp): void {
    for (let i = this.deferredLow; i < limit; i++) if (this.ek[i] !== E_SLOT) this.materialize(i);
    this.deferredLow = limit;
  }
  /** Entry `i`'s value into `reg` (32 bits zero-extended when w = 0). */
  private ld(w: number, reg: number, i: number): void {
    const c = this.code, k = this.ek[i];
    if (k === E_FLAGS) throw new Error("quick tier: a result in the flags read as a value");
    if (k === E_SLOT) c.load(w, reg, this.slot(i));
    else if (k === E_XMM0) c.regs(0x66, this.is64(i) ? 1 : 0, 0x0f7e, 0, reg); // movd/movq reg, xmm0
    else if (k === E_RAX) { if (reg !== RAX) c.regs(0, 1, 0x8b, reg, RAX); } // mov reg, rax (32-bit values are zero-extended)
    else if (k === E_LOCAL) c.load(w, reg, this.localDisp[this.ev[i]]);
    else if (w && this.is64(i)) { c.regs(0, 1, 0xc7, 0, reg); c.d(this.ev[i]); } // mov r64, simm32
    else c.movImm32(reg, this.ev[i]);
  }
  /** A frame operand holding entry `i`'s value: its slot, or the local's (a constant is stored first). */
  private rm(i: number): number {
    const k = this.ek[i];
    if (k === E_LOCAL) return this.localDisp[this.ev[i]];
    if (k !== E_SLOT) this.materialize(i);
    return this.slot(i);
  }
  /** As rm, but a float held in xmm0 stays there: IN_XMM0 (for SSE forms, whose register 0 is xmm0). */
  private rmX(i: number): number {
    return this.ek[i] === E_XMM0 ? IN_XMM0 : this.rm(i);
  }
  /** As rm, but a value held in rax stays there: IN_RAX (for `c.load` into rax and register forms). */
  private rmA(i: number): number {
    return this.ek[i] === E_RAX ? IN_RAX : this.rm(i);
  }
  /** Before local `k` is written: the entries still reading it take its old value now. */
  private beforeLocalWrite(k: number): void {
    for (let i = this.deferredLow; i < this.sp; i++) if (this.ek[i] === E_LOCAL && this.ev[i] === k) this.materialize(i);
  }

  /** §5.4.1 blocktype: empty, one value type, or a type index (s33). */
  private blockType(): number {
    const b = this.bytes[this.p];
    if (b === 0x40) { this.p++; return -1; }
    if (b === I32 || b === I64 || b === F32 || b === F64 || b === FUNCREF || b === EXTERNREF) { this.p++; return -2 - b; }
    const i = this.s32();
    if (i < 0 || i >= this.m.typeParams.length) throw REFUSED;
    return i;
  }
  private bParams(bt: number): Uint8Array {
    return bt >= 0 ? this.m.typeParams[bt] : EMPTY;
  }
  private bResults(bt: number): Uint8Array {
    return bt >= 0 ? this.m.typeResults[bt] : bt === -1 ? EMPTY : SINGLE[-2 - bt];
  }

  private pushFrame(kind: number, params: Uint8Array, results: Uint8Array): void {
    this.popTypes(params);
    const f = this.csp++;
    if (f === this.cKind.length) this.growControl();
    this.cKind[f] = kind;
    this.cHeight[f] = this.sp;
    this.cUnreachable[f] = 0;
    this.cPos[f] = this.code.n;
    this.cJumps[f] = -1;
    this.cElse[f] = -1;
    this.cHidden[f] = 0;
    this.cParams[f] = params;
    this.cResults[f] = results;
    for (let i = 0; i < params.length; i++) this.push(params[i]);
  }
  private growControl(): void {
    const n = this.cKind.length * 2;
    const k = new Uint8Array(n), h = new Int32Array(n), u = new Uint8Array(n), p = new Int32Array(n), j = new Int32Array(n), e = new Int32Array(n), x = new Int32Array(n);
    k.set(this.cKind); h.set(this.cHeight); u.set(this.cUnreachable); p.set(this.cPos); j.set(this.cJumps); e.set(this.cElse); x.set(this.cHidden);
    this.cKind = k; this.cHeight = h; this.cUnreachable = u; this.cPos = p; this.cJumps = j; this.cElse = e; this.cHidden = x;
  }

  // ---------------------------------------------------------------- emission helpers

  /** A new node of the jump lists for the rel32 field at `at`, in front of list `next`; returns it. */
  private jumpNode(at: number, next: number): number {
    const i = this.jumps++;
    if (i === this.jumpAt.length) {
      const a = new Int32Array(i * 2), b = new Int32Array(i * 2);
      a.set(this.jumpAt); b.set(this.jumpNext);
      this.jumpAt = a; this.jumpNext = b;
    }
    this.jumpAt[i] = at;
    this.jumpNext[i] = next;
    return i;
  }
  /** Remember the rel32 field at `at` as a forward jump to the end of frame `f`. */
  private jumpToEnd(f: number, at: number): void {
    this.cJumps[f] = this.jumpNode(at, this.cJumps[f]);
  }
  /** jcc to the trap pad of `kind` (emitted after the body). */
  private trapIf(cc: number, kind: TrapKind): void {
    this.padJump(this.code.jcc(cc), kind);
  }
  private padJump(at: number, kind: TrapKind): void {
    this.padHead[kind] = this.jumpNode(at, this.padHead[kind]);
  }
  /** Entries [from, from + n) copied to [to, to + n), in their slots (through rcx; movs only, so
   *  the flags stay; front to back, right for a copy down or one that does not overlap). */
  private copySlots(from: number, to: number, n: number): void {
    const c = this.code;
    for (let i = 0; i < n; i++) {
      c.load(1, RCX, this.slot(from + i));
      c.store(this.slot(to + i), RCX);
    }
  }
  /**
   * Branch to frame `f`'s label carrying the `n` values on top of the stack (flushed), which move
   * to the label's entries first; `cc` >= 0: only when that condition holds (else: always).
   */
  private branch(f: number, n: number, cc: number): void {
    const from = this.sp - n, to = this.cHeight[f];
    if (n === 0 || from === to) { this.jumpTo(f, cc); return; }
    const c = this.code;
    const skip = cc >= 0 ? c.jcc(cc ^ 1) : -1; // the inverse condition (x86 pairs them by the low bit)
    this.copySlots(from, to, n);
    this.jumpTo(f, -1);
    if (skip >= 0) c.patchRel32(skip, c.n);
  }
  /** Values a branch to frame `f` carries: a loop's parameters, else its results. */
  private labelTypes(f: number): Uint8Array {
    return this.cKind[f] === K_LOOP ? this.cParams[f] : this.cResults[f];
  }
  /** Jump (after the values moved) to frame `f`'s label: back to a loop's start, else forward to its end. */
  private jumpTo(f: number, cc: number): void {
    const c = this.code;
    if (this.cKind[f] === K_LOOP) {
      if (cc < 0) c.jmpTo(this.cPos[f]); else c.jccTo(cc, this.cPos[f]);
    } else this.jumpToEnd(f, cc < 0 ? c.jmp() : c.jcc(cc));
  }
  private depthFrame(): number {
    const d = this.u32();
    if (d >= this.csp) throw REFUSED;
    return this.csp - 1 - d;
  }

  // ---------------------------------------------------------------- the function

  private body(funcIndex: number): void {
    const m = this.m, c = this.code;
    const ti = m.funcTypeIndex[funcIndex];
    const params = m.typeParams[ti], results = m.typeResults[ti];
    // Locals (§5.5.13): parameters, then the declared groups.
    const np = params.length;
    let nl = 0;
    for (let i = 0; i < np; i++) {
      this.localType[nl] = params[i];
      this.localDisp[nl++] = 16 + 8 * (np - 1 - i);
    }
    const groups = this.u32();
    for (let g = 0; g < groups; g++) {
      const n = this.u32();
      const t = this.byte();
      if (t !== I32 && t !== I64 && t !== F32 && t !== F64 && t !== FUNCREF && t !== EXTERNREF) throw REFUSED;
      if (nl + n > MAX_LOCALS) throw REFUSED; // the reader's limit: it reports the error
      if (nl + n > this.localType.length) {
        const size = Math.max(this.localType.length * 2, nl + n);
        const lt = new Uint8Array(size), ld = new Int32Array(size);
        lt.set(this.localType); ld.set(this.localDisp);
        this.localType = lt; this.localDisp = ld;
      }
      for (let k = 0; k < n; k++) {
        this.localType[nl] = t;
        this.localDisp[nl] = -8 * (nl - np + 1);
        nl++;
      }
    }
    this.nLocals = nl;
    this.declared = nl - np;
    this.rspSlots = this.declared > 12; // rbp-relative slots would mostly need a disp32
    this.pushed = 0;
    this.sp = 0;
    this.maxSp = 0;
    this.deferredLow = 0;
    this.raxHeld = -1;
    this.flagsHeld = -1;
    this.xmmHeld = -1;
    this.csp = 0;
    this.jumps = 0;
    this.padHead.fill(-1);

    // Prologue (ABI.md "Calling convention"): push rbp; mov rbp, rsp; sub rsp, frame (patched);
    // cmp rsp, [stackLimit]; jb trap 10; zero the declared locals.
    c.room();
    c.b(0x55); c.b(0x48); c.b(0x89); c.b(0xe5);
    c.b(0x48); c.b(0x81); c.b(0xec);
    const frameAt = c.n;
    c.d(0);
    c.absolute(0, 1, 0x3b, 4 /* rsp */, m.ctx.stackLimit);
    this.trapIf(CC_B, Trap.callStackExhausted);
    this.zeroLocals();

    this.pushFrame(K_FUNC, EMPTY, results);
    this.sequence();
    if (this.p !== this.end) throw REFUSED; // junk after the function's end

    // Trap pads: `call trap_K`, so the return address lies in this function.
    for (let kind = 1; kind < 16; kind++) {
      if (this.padHead[kind] < 0) continue;
      for (let i = this.padHead[kind]; i >= 0; i = this.jumpNext[i]) c.patchRel32(this.jumpAt[i], c.n);
      c.callLabel(m.ctx.traps.get(kind as TrapKind)!);
    }
    const frame = (8 * (this.declared + this.maxSp + 2) + 15) & ~15;
    const b = c.buf;
    b[frameAt] = frame; b[frameAt + 1] = frame >> 8; b[frameAt + 2] = frame >> 16; b[frameAt + 3] = frame >> 24;
  }

  /** Declared locals start at zero (§4.5.3.1 "Invocation"). */
  private zeroLocals(): void {
    const c = this.code, n = this.declared;
    if (n <= 8) {
      if (n) { c.room(); c.b(0x31); c.b(0xc0); } // xor eax, eax
      for (let k = 0; k < n; k++) c.store(-8 * (k + 1), RAX);
      return;
    }
    // lea rdi, [rbp - 8n]; mov ecx, n; xor eax, eax; rep stosq (the direction flag is clear: ABI)
    c.frame(0, 1, 0x8d, RDI, -8 * n);
    c.movImm32(RCX, n);
    c.room();
    c.b(0x31); c.b(0xc0);
    c.b(0xf3); c.b(0x48); c.b(0xab);
  }

  /** The operators up to the function's final `end`. */
  private sequence(): void {
    const c = this.code, m = this.m;
    while (this.csp > 0) {
      if (this.p >= this.end) throw REFUSED;
      this.opStart = this.p;
      const op = this.bytes[this.p++];
      if (this.flagsHeld >= 0) this.guardFlags(op);
      if (this.xmmHeld >= 0) this.guardXmm(op);
      if (this.raxHeld >= 0) this.guardRax(op);
      switch (op) {
        case 0x00: // unreachable: call trap_1
          this.padJump(c.jmp(), Trap.unreachable);
          this.deadEnd();
          break;
        case 0x01: break; // nop
        case 0x02: case 0x03: { // block, loop
          this.flush();
          const bt = this.blockType();
          this.pushFrame(op, this.bParams(bt), this.bResults(bt));
          break;
        }
        case 0x04: this.ifOp(); break;
        case 0x05: this.elseOp(); break;
        case 0x0b: this.endOp(); break;
        case 0x0c: { // br
          this.flush();
          const f = this.depthFrame();
          const ts = this.labelTypes(f);
          this.checkTop(ts);
          this.branch(f, ts.length, -1);
          this.deadEnd();
          break;
        }
        case 0x0d: this.brIf(); break;
        case 0x0e: this.brTable(); break;
        case 0x0f: { // return: a branch to the function's frame
          this.flush();
          const ts = this.cResults[0];
          this.checkTop(ts);
          this.branch(0, ts.length, -1);
          this.deadEnd();
          break;
        }
        case 0x10: { // call
          const fi = this.u32();
          if (fi >= m.funcTypeIndex.length) throw REFUSED;
          if (!m.callable[fi]) { this.why = "call of an intrinsic"; throw REFUSED; }
          this.call(m.funcTypeIndex[fi], m.ctx.funcLabels[fi]!);
          break;
        }
        case 0x11: this.callIndirect(); break;
        case 0x1a: this.pop(UNKNOWN); break; // drop
        case 0x1b: this.select(false); break;
        case 0x1c: this.select(true); break;
        case 0x20: { // local.get
          const i = this.u32();
          if (i >= this.nLocals) throw REFUSED;
          this.pushDeferred(this.localType[i], E_LOCAL, i); // read where it is used
          break;
        }
        case 0x21: case 0x22: { // local.set, local.tee
          const i = this.u32();
          if (i >= this.nLocals) throw REFUSED;
          const t = this.localType[i];
          this.pop(t);
          if (this.ek[this.sp] === E_LOCAL && this.ev[this.sp] === i) { // local.set k of local.get k
            if (op === 0x22) this.pushDeferred(t, E_LOCAL, i);
            break;
          }
          this.ld(1, RAX, this.sp);
          this.beforeLocalWrite(i);
          c.store(this.localDisp[i], RAX);
          if (op === 0x22) this.pushDeferred(t, E_LOCAL, i); // the value is the local's now
          break;
        }
        case 0x23: { // global.get: mov rax, [cell]
          const i = this.u32();
          if (i >= m.globalType.length) throw REFUSED;
          const t = m.globalType[i];
          c.absolute(0, t === I32 || t === F32 ? 0 : 1, 0x8b, RAX, m.ctx.globals[i]); // 32-bit values zero-extended
          this.pushRax(t);
          break;
        }
        case 0x24: { // global.set: mov [cell], rax
          const i = this.u32();
          if (i >= m.globalType.length || !m.globalMutable[i]) throw REFUSED;
          this.pop(m.globalType[i]);
          this.ld(1, RAX, this.sp);
          c.absolute(0, 1, 0x89, RAX, m.ctx.globals[i]);
          break;
        }
        case 0x28: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: case 0x2f:
        case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35:
          this.load(op);
          break;
        case 0x36: case 0x37: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x3d: case 0x3e:
          this.store(op);
          break;
        case 0x3f: { // memory.size: the pages cell
          if (this.byte() !== 0 || !m.ctx.memory) throw REFUSED;
          c.absolute(0, 1, 0x8b, RAX, m.ctx.memory.pages);
          this.pushRax(I32);
          break;
        }
        case 0x41: // i32.const: used as an immediate, or stored when needed
          this.pushDeferred(I32, E_CONST, this.s32());
          break;
        case 0x42: { // i64.const: deferred when it is a sign-extended imm32
          this.s64();
          if (this.hi === this.lo >> 31) this.pushDeferred(I64, E_CONST, this.lo);
          else { c.movabs(R11, this.lo, this.hi); c.store(this.slot(this.sp), R11); this.push(I64); }
          break;
        }
        case 0x43: { // f32.const: its bits
          if (this.p + 4 > this.end) throw REFUSED;
          const b = this.bytes, q = this.p;
          const v = b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24);
          this.p += 4;
          this.pushDeferred(F32, E_CONST, v);
          break;
        }
        case 0x44: { // f64.const: its bits
          if (this.p + 8 > this.end) throw REFUSED;
          const b = this.bytes, q = this.p;
          const lo = b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24);
          const hi = b[q + 4] | (b[q + 5] << 8) | (b[q + 6] << 16) | (b[q + 7] << 24);
          this.p += 8;
          if (hi === lo >> 31) this.pushDeferred(F64, E_CONST, lo);
          else { c.movabs(R11, lo, hi); c.store(this.slot(this.sp), R11); this.push(F64); }
          break;
        }
        case 0xd0: { // ref.null t
          const t = this.byte();
          if (t !== FUNCREF && t !== EXTERNREF) throw REFUSED;
          this.pushDeferred(t, E_CONST, 0);
          break;
        }
        case 0xd1: { // ref.is_null: cmp qword [slot], 0; sete
          const t = this.pop(UNKNOWN);
          if (t !== FUNCREF && t !== EXTERNREF && t !== UNKNOWN) throw REFUSED;
          c.frame(0, 1, 0x83, 7, this.rm(this.sp)); c.b(0);
          c.setccEax(CC_E);
          this.pushRax(I32);
          break;
        }
        case 0x40: this.memoryGrow(); break;
        case 0xfc: {
          const sub = this.u32();
          if (sub <= 7) { // trunc_sat: [f32|f64] -> [i32|i64]
            this.pop(sub & 2 ? F64 : F32);
            this.truncate(this.rm(this.sp), (sub & 2) !== 0, sub >= 4, (sub & 1) === 0, true);
            this.pushRax(sub >= 4 ? I64 : I32);
          } else if (sub === 10 || sub === 11) this.bulk(sub);
          else throw REFUSED; // memory.init, data.drop, table operators
          break;
        }
        default:
          if (op >= 0x45 && op <= 0xc4) this.numeric(op);
          else throw REFUSED;
      }
    }
  }

  // ---------------------------------------------------------------- control (§3.3.8, §4.4.8)

  /**
   * if: test, jump to the else arm. With parameters, the arms work on a copy of them made above
   * the originals, which stay for the else arm (entries [h - p, h) of a frame of height h, hidden);
   * the results land above them too and move down at the end.
   */
  private ifOp(): void {
    const bt = this.blockType();
    const params = this.bParams(bt);
    this.flush(this.sp - 1); // movs: the flags stay
    this.pop(I32);
    const c = this.code;
    const cc = this.conditionOf(this.sp);
    const p = params.length;
    if (p) {
      this.popTypes(params);
      const base = this.sp;
      for (let i = 0; i < p; i++) this.push(params[i]); // the originals, hidden below the frame
      for (let i = 0; i < p; i++) this.push(params[i]); // the copies, the frame's parameters
      this.copySlots(base, base + p, p); // movs: the flags stay
    }
    const skip = c.jcc(cc ^ 1); // the inverse condition (x86 pairs them by the low bit)
    this.pushFrame(K_IF, params, this.bResults(bt));
    this.cElse[this.csp - 1] = skip;
    this.cHidden[this.csp - 1] = p;
  }
  private elseOp(): void {
    this.flush();
    const f = this.csp - 1;
    if (this.cKind[f] !== K_IF || this.cElse[f] < 0) throw REFUSED;
    this.popTypes(this.cResults[f]);
    if (this.sp !== this.cHeight[f]) throw REFUSED;
    const c = this.code;
    this.jumpToEnd(f, c.jmp());
    c.patchRel32(this.cElse[f], c.n);
    this.cElse[f] = -2; // taken by this else
    this.cUnreachable[f] = 0;
    const p = this.cHidden[f];
    if (p) this.copySlots(this.cHeight[f] - p, this.cHeight[f], p);
    for (let i = 0; i < p; i++) this.push(this.cParams[f][i]);
  }
  private endOp(): void {
    this.flush();
    const f = this.csp - 1;
    const results = this.cResults[f];
    this.popTypes(results);
    if (this.sp !== this.cHeight[f]) throw REFUSED;
    const c = this.code;
    // An `if` without else: its (empty) else arm passes the parameters on as the results.
    const hidden = this.cHidden[f];
    if (this.cKind[f] === K_IF && this.cElse[f] >= 0) {
      const params = this.cParams[f];
      if (results.length !== params.length) throw REFUSED;
      for (let i = 0; i < params.length; i++) if (params[i] !== results[i]) throw REFUSED;
      if (hidden) {
        this.jumpToEnd(f, c.jmp());
        c.patchRel32(this.cElse[f], c.n);
        this.copySlots(this.cHeight[f] - hidden, this.cHeight[f], hidden);
      } else c.patchRel32(this.cElse[f], c.n);
    }
    if (this.cKind[f] !== K_LOOP) for (let i = this.cJumps[f]; i >= 0; i = this.jumpNext[i]) c.patchRel32(this.jumpAt[i], c.n);
    this.csp--;
    if (hidden) { // the results down over the parameters kept for the else arm
      this.copySlots(this.sp, this.sp - hidden, results.length);
      this.sp -= hidden;
    }
    for (let i = 0; i < results.length; i++) this.push(results[i]);
    if (f === 0) this.epilogue(results);
  }
  /** Results to rax and the multi-return area; leave; ret. */
  private epilogue(results: Uint8Array): void {
    const c = this.code;
    for (let i = 1; i < results.length; i++) {
      c.load(1, RAX, this.slot(i));
      c.absolute(0, 1, 0x89, RAX, this.m.ctx.multiReturn, 8 * (i - 1));
    }
    if (results.length) c.load(1, RAX, this.slot(0));
    c.room(); c.b(0xc9); c.b(0xc3); // leave; ret
  }
  private brIf(): void {
    this.flush(this.sp - 1);
    const f = this.depthFrame();
    this.pop(I32);
    const ts = this.labelTypes(f);
    this.popTypes(ts); // [t* i32] -> [t*] (§3.3.8): the values take the label's types
    for (let i = 0; i < ts.length; i++) this.push(ts[i]);
    this.branch(f, ts.length, this.conditionOf(this.sp)); // the condition, above the values (their types now the label's)
  }
  /** br_table: a compare and jump per target, then the default (linear: emitted as fast as read). */
  private brTable(): void {
    const n = this.u32();
    if (n > this.end - this.p) throw REFUSED;
    this.flush(this.sp - 1);
    this.pop(I32);
    const c = this.code;
    this.ld(0, RAX, this.sp);
    let arity = -1;
    for (let i = 0; i <= n; i++) {
      const f = this.depthFrame();
      const ts = this.labelTypes(f);
      if (arity < 0) arity = ts.length;
      else if (ts.length !== arity) throw REFUSED;
      this.checkTop(ts);
      if (i < n) { c.room(); c.b(0x3d); c.d(i); } // cmp eax, i
      this.branch(f, arity, i < n ? CC_E : -1); // the default: always
    }
    this.deadEnd();
  }

  // ---------------------------------------------------------------- calls (ABI.md)

  /** Push the arguments (first first), call, pop them, store the results. */
  private call(ti: number, target: Label | null): void {
    const m = this.m, c = this.code;
    const params = m.typeParams[ti], results = m.typeResults[ti];
    this.popTypes(params);
    const n = params.length;
    if (this.raxHeld >= 0 && this.raxHeld < this.sp) this.spillRax(); // not an argument: the call clobbers rax
    for (let i = 0; i < n; i++) {
      const x = this.sp + i;
      this.pushed = i; // rsp is 8i lower now
      if (this.ek[x] === E_RAX) { c.room(); c.b(0x50); } // push rax
      else if (this.ek[x] === E_CONST && (this.ev[x] >= 0 || this.is64(x))) { // push imm (sign-extended to 64 bits)
        const v = this.ev[x];
        c.room();
        if (v >= -128 && v < 128) { c.b(0x6a); c.b(v); } else { c.b(0x68); c.d(v); }
      } else c.frame(0, 0, 0xff, 6, this.rm(x)); // push qword [slot or local]
    }
    this.pushed = 0;
    if (target) c.callLabel(target);
    else { c.room(); c.b(0x41); c.b(0xff); c.b(0xd3); } // call r11
    if (n) { c.room(); c.b(0x48); c.b(0x81); c.b(0xc4); c.d(8 * n); } // add rsp, 8n
    for (let i = 0; i < results.length; i++) {
      const w = results[i] === I32 || results[i] === F32 ? 0 : 1; // 32-bit results zero-extended
      if (i) c.absolute(0, w, 0x8b, RAX, m.ctx.multiReturn, 8 * (i - 1));
      else if (!w) c.regs(0, 0, 0x89, RAX, RAX); // mov eax, eax
      if (results.length === 1) this.pushRax(results[i]);
      else { c.store(this.slot(this.sp), RAX); this.push(results[i]); }
    }
  }
  /** The entry (a funcref) checked: index < size (8), not null (9), signature (7); then the call through r11. */
  private callIndirect(): void {
    const m = this.m, c = this.code;
    const ti = this.u32();
    const table = this.u32();
    if (ti >= m.typeParams.length || table >= m.tableElem.length || m.tableElem[table] !== FUNCREF) throw REFUSED;
    const tc = m.ctx.tables[table];
    this.pop(I32);
    this.flush(this.sp); // the arguments in their slots: r11 holds the target from here on
    this.ld(0, RAX, this.sp);
    c.absolute(0, 1, 0x3b, RAX, tc.size); // cmp rax, [size]
    this.trapIf(CC_AE, Trap.undefinedElement);
    c.movabsLabel(RCX, tc.entries);
    c.room(); c.b(0x4c); c.b(0x8b); c.b(0x1c); c.b(0xc1); // mov r11, [rcx + rax*8]
    c.b(0x4d); c.b(0x85); c.b(0xdb); // test r11, r11
    this.trapIf(CC_E, Trap.uninitializedElement);
    c.room(); c.b(0x41); c.b(0x81); c.b(0x7b); c.b(0xf8); c.d(m.ctx.sigIds[ti]); // cmp dword [r11 - 8], sig
    this.trapIf(CC_NE, Trap.indirectCallTypeMismatch);
    this.call(ti, null);
  }

  // ---------------------------------------------------------------- parametric (§3.3.4)

  private select(typed: boolean): void {
    let t: number;
    if (typed) {
      if (this.u32() !== 1) throw REFUSED;
      t = this.byte();
      if (t !== I32 && t !== I64 && t !== F32 && t !== F64 && t !== FUNCREF && t !== EXTERNREF) throw REFUSED;
      this.pop(I32);
      this.pop(t);
      this.pop(t);
    } else {
      this.pop(I32);
      const t2 = this.pop(UNKNOWN);
      const t1 = this.pop(UNKNOWN);
      if (t1 === FUNCREF || t1 === EXTERNREF || t2 === FUNCREF || t2 === EXTERNREF) throw REFUSED; // untyped select is numeric
      if (t1 !== t2 && t1 !== UNKNOWN && t2 !== UNKNOWN) throw REFUSED;
      t = t1 !== UNKNOWN ? t1 : t2;
    }
    // mov ecx, [c]; mov rax, [a]; test ecx, ecx; cmovz rax, [b]
    const c = this.code;
    this.ld(0, RCX, this.sp + 2);
    this.ld(1, RAX, this.sp);
    c.room(); c.b(0x85); c.b(0xc9);
    c.frame(0, 1, 0x0f44, RAX, this.rm(this.sp + 1));
    this.pushRax(t);
  }

  // ---------------------------------------------------------------- memory (§4.4.7)

  /** memarg: alignment at most natural, offset; rax = the effective address's register part, the
   *  sandbox check made; returns the disp32 (base + offset). */
  private address(op: number, addr: number): number {
    const align = this.u32();
    const offset = this.u32();
    const mc = this.m.ctx.memory;
    if (!mc || align > MEM_ALIGN[op]) throw REFUSED;
    const disp = mc.base + offset;
    if (disp > 0x7fffffff) throw REFUSED;
    const c = this.code;
    this.ld(0, RAX, addr); // zero-extends: wasm addresses are unsigned
    if (mc.mode === "sandbox") {
      // lea rdx, [rax + offset + bytes]; cmp rdx, [bytes]; ja trap 5
      const end = offset + MEM_BYTES[op];
      if (end > 0x7fffffff) throw REFUSED;
      c.memory(0, 1, 0x8d, RDX, end);
      c.absolute(0, 1, 0x3b, RDX, mc.bytes);
      this.trapIf(CC_A, Trap.memoryOutOfBounds);
    }
    return disp;
  }
  private load(op: number): void {
    this.pop(I32);
    const disp = this.address(op, this.sp);
    const c = this.code;
    if (op === 0x2a || op === 0x2b) { // f32/f64: movss/movsd xmm0, [rax + disp], kept there
      c.memory(op === 0x2a ? 0xf3 : 0xf2, 0, 0x0f10, 0, disp);
      this.pushXmm(MEM_TYPE[op]);
      return;
    }
    const [prefix, w, opcode] = LOAD_FORM[op];
    c.memory(prefix, w, opcode, RAX, disp);
    this.pushRax(MEM_TYPE[op]);
  }
  private store(op: number): void {
    this.pop(MEM_TYPE[op]);
    this.pop(I32);
    const c = this.code;
    this.ld(1, RCX, this.sp + 1);
    const disp = this.address(op, this.sp);
    const [prefix, w, opcode] = STORE_FORM[op];
    c.memory(prefix, w, opcode, RCX, disp);
  }

  // ---------------------------------------------------------------- numeric (§4.4.1)

  private numeric(op: number): void {
    if (op === 0x45 && this.flagsHeld >= 0 && this.flagsHeld === this.sp - 1 && this.ek[this.sp - 1] === E_FLAGS) { // i32.eqz of a comparison: the inverse one
      const cc = this.ev[this.sp - 1];
      this.pop(I32);
      this.pushFlags(cc ^ 1);
      return;
    }
    const p2 = NUM_P2[op];
    if (p2) this.pop(p2);
    this.pop(NUM_P1[op]);
    this.resultCC = -1;
    this.resultXmm = false;
    if (p2 && this.ek[this.sp + 1] === E_CONST && this.withImmediate(op)) {
      this.pushResult(NUM_R[op]);
      return;
    }
    // Integer binary operators and comparisons read their left operand with `load rax`: it may stay in rax.
    const intBinary = (op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x5a) || (op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a);
    // Float arithmetic and sqrt read their operands with SSE forms: a value in xmm0 may stay there.
    const floatArith = (op >= 0x91 && op <= 0x95) || (op >= 0x9f && op <= 0xa3);
    const a = intBinary ? this.rmA(this.sp) : floatArith ? this.rmX(this.sp) : this.rm(this.sp);
    const b = p2 ? (floatArith ? this.rmX(this.sp + 1) : this.rm(this.sp + 1)) : 0;
    if (op <= 0x5a) this.compareInt(op, a, b);
    else if (op <= 0x66) this.compareFloat(op, a, b);
    else if (op <= 0x8a) this.integer(op, a, b);
    else if (op <= 0xa6) this.float(op, a, b);
    else this.conversion(op, a);
    this.pushResult(NUM_R[op]);
  }
  /** numeric's result: in the flags (a comparison that set resultCC) or in rax. */
  private pushResult(t: number): void {
    if (this.resultCC >= 0) this.pushFlags(this.resultCC);
    else if (this.resultXmm) this.pushXmm(t);
    else this.pushRax(t);
  }

  /**
   * An integer operator whose right operand is a constant (deferred, E_CONST), with the constant as
   * its immediate: add/sub/and/or/xor (81 /digit id, 83 /digit ib), mul (69 /r id), shifts (C1
   * /digit ib), comparisons (cmp, setcc). Returns false, emitting nothing, for the others.
   */
  private withImmediate(op: number): boolean {
    const c = this.code, v = this.ev[this.sp + 1];
    if ((op >= 0x46 && op <= 0x4f) || (op >= 0x51 && op <= 0x5a)) {
      const w = op >= 0x51 ? 1 : 0;
      this.ld(w, RAX, this.sp);
      this.aluImm(w, 7, v); // cmp
      this.resultCC = INT_CC[op - (w ? 0x50 : 0x45)];
      return true;
    }
    if (!((op >= 0x6a && op <= 0x78) || (op >= 0x7c && op <= 0x8a))) return false;
    const w = op >= 0x7c ? 1 : 0;
    const bin = op - (w ? 0x7c : 0x6a);
    if (bin >= 3 && bin <= 6) return false; // division and remainder: their traps
    const digit = [0, 5, 0, 0, 0, 0, 0, 4, 1, 6][bin]; // the /digit of add, sub, and, or, xor
    this.ld(w, RAX, this.sp);
    if (bin === 2) { c.regs(0, w, 0x69, RAX, RAX); c.d(v); } // imul rax, rax, imm32
    else if (bin < 10) this.aluImm(w, digit, v);
    else { c.regs(0, w, 0xc1, SHIFT_DIGIT[bin - 10], RAX); c.b(v & (w ? 63 : 31)); } // shl/sar/shr/rol/ror rax, imm8
    return true;
  }
  /** `op rax|eax, imm` for the ALU group (81 /digit id, or 83 /digit ib when it fits a byte). */
  private aluImm(w: number, digit: number, v: number): void {
    const c = this.code;
    if (v >= -128 && v < 128) { c.regs(0, w, 0x83, digit, RAX); c.b(v); }
    else { c.regs(0, w, 0x81, digit, RAX); c.d(v); }
  }

  /** eqz: cmp [a], 0; others: mov rax, [a]; cmp rax, [b]; the result in the flags (resultCC). */
  private compareInt(op: number, a: number, b: number): void {
    const c = this.code;
    const w = op >= 0x50 ? 1 : 0;
    const k = op - (w ? 0x50 : 0x45);
    if (k === 0) {
      c.frame(0, w, 0x83, 7, a); c.b(0); // cmp [a], 0
      this.resultCC = CC_E;
      return;
    }
    c.load(w, RAX, a);
    c.frame(0, w, 0x3b, RAX, b);
    this.resultCC = INT_CC[k];
  }

  /** ucomiss/ucomisd with the operands ordered so that unordered (CF = ZF = PF = 1) gives 0:
   *  eq = e and np, ne = ne or p, lt = b > a (a), gt = a > b (a), le = b >= a (ae), ge = a >= b (ae). */
  private compareFloat(op: number, a: number, b: number): void {
    const c = this.code;
    const d = op >= 0x61 ? 1 : 0;
    const k = op - (d ? 0x61 : 0x5b);
    const load = d ? 0xf2 : 0xf3, ucomi = d ? 0x66 : 0;
    const swap = k === 2 || k === 4;
    c.frame(load, 0, 0x0f10, 0, swap ? b : a); // movss/movsd xmm0, [x]
    c.frame(ucomi, 0, 0x0f2e, 0, swap ? a : b); // ucomiss/ucomisd xmm0, [y]
    c.room();
    if (k === 0 || k === 1) {
      // setcc al; setcc cl; and/or al, cl; movzx eax, al
      c.b(0x0f); c.b(0x90 | (k === 0 ? CC_E : CC_NE)); c.b(0xc0);
      c.b(0x0f); c.b(0x90 | (k === 0 ? CC_NP : CC_P)); c.b(0xc1);
      c.b(k === 0 ? 0x20 : 0x08); c.b(0xc8);
      c.b(0x0f); c.b(0xb6); c.b(0xc0);
    } else this.resultCC = k <= 3 ? CC_A : CC_AE;
  }

  private integer(op: number, a: number, b: number): void {
    const c = this.code;
    const w = op >= 0x79 ? 1 : 0;
    const k = op - (w ? 0x79 : 0x67);
    if (k === 0) { // clz: bsr; 2*width-1 when zero; xor width-1
      c.frame(0, w, 0x0fbd, RAX, a);
      c.movImm32(RCX, w ? 127 : 63);
      c.regs(0, w, 0x0f44, RAX, RCX); // cmovz
      c.room(); if (w) c.b(0x48); c.b(0x83); c.b(0xf0); c.b(w ? 63 : 31); // xor eax, 31|63
      return;
    }
    if (k === 1) { // ctz: bsf; width when zero
      c.frame(0, w, 0x0fbc, RAX, a);
      c.movImm32(RCX, w ? 64 : 32);
      c.regs(0, w, 0x0f44, RAX, RCX);
      return;
    }
    if (k === 2) { this.popcount(w, a); return; }
    const bin = k - 3; // add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr
    c.load(w, RAX, a);
    const alu = INT_ALU[bin];
    if (alu) { c.frame(0, w, alu, RAX, b); return; }
    if (bin >= 10) { // shifts: the count in cl (x86 masks it as wasm does)
      c.load(0, RCX, b);
      c.regs(0, w, 0xd3, SHIFT_DIGIT[bin - 10], RAX);
      return;
    }
    this.divide(bin, w, b);
  }

  /** div_s (3) div_u (4) rem_s (5) rem_u (6): rcx = divisor; zero traps 2; signed: -1 is special
   *  (div: -x, trapping 3 when x is the minimum, which `neg` flags with OF; rem: 0). */
  private divide(bin: number, w: number, b: number): void {
    const c = this.code;
    c.load(w, RCX, b);
    c.regs(0, w, 0x85, RCX, RCX); // test rcx, rcx
    this.trapIf(CC_E, Trap.divideByZero);
    const signed = bin === 3 || bin === 5;
    let done = -1;
    if (signed) {
      c.room(); if (w) c.b(0x48); c.b(0x83); c.b(0xf9); c.b(0xff); // cmp rcx, -1
      const ordinary = c.jcc(CC_NE);
      if (bin === 3) {
        c.regs(0, w, 0xf7, 3, RAX); // neg rax
        this.trapIf(CC_O, Trap.integerOverflow);
      } else { c.room(); c.b(0x31); c.b(0xc0); } // xor eax, eax
      done = c.jmp();
      c.patchRel32(ordinary, c.n);
      c.room(); if (w) c.b(0x48); c.b(0x99); // cdq / cqo
      c.regs(0, w, 0xf7, 7, RCX); // idiv rcx
    } else {
      c.room(); c.b(0x31); c.b(0xd2); // xor edx, edx
      c.regs(0, w, 0xf7, 6, RCX); // div rcx
    }
    if (bin >= 5) c.regs(0, w, 0x8b, RAX, RDX); // remainder: mov rax, rdx
    if (done >= 0) c.patchRel32(done, c.n);
  }

  private float(op: number, a: number, b: number): void {
    const c = this.code;
    const d = op >= 0x99 ? 1 : 0;
    const k = op - (d ? 0x99 : 0x8b); // abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign
    if (k === 0 || k === 1) { // abs / neg: the sign bit
      c.load(d, RAX, a);
      this.signBit(d, k === 1);
      return;
    }
    if (k === 13) { // copysign: a's magnitude, b's sign
      c.load(d, RAX, a);
      c.load(d, RCX, b);
      this.signFrom(d, RCX);
      return;
    }
    const prefix = d ? 0xf2 : 0xf3;
    if (k === 6) c.frame(prefix, 0, 0x0f51, 0, a); // sqrtss/sd xmm0, [a] (or xmm0)
    else if (k >= 7 && k <= 10) {
      const op = FLOAT_ALU[k - 7];
      if (b === IN_XMM0) { // the right operand is in xmm0
        if (k === 7 || k === 9) c.frame(prefix, 0, op, 0, a); // add/mul commute: op xmm0, [a]
        else {
          c.regs(0, 0, 0x0f28, 1, 0); // movaps xmm1, xmm0
          c.frame(prefix, 0, 0x0f10, 0, a); // movss/sd xmm0, [a]
          c.regs(prefix, 0, op, 0, 1); // sub/div xmm0, xmm1
        }
      } else {
        if (a !== IN_XMM0) c.frame(prefix, 0, 0x0f10, 0, a); // movss/sd xmm0, [a]
        c.frame(prefix, 0, op, 0, b); // op xmm0, [b]
      }
    } else if (k === 11 || k === 12) this.minMax(d, k === 11, a, b);
    else this.round(d, k, a); // ceil floor trunc nearest
    this.resultXmm = true;
  }

  /** The sign bit of the f32 (d = 0) / f64 (d = 1) bits in rax cleared, or flipped: btr/btc rax, 63
   *  (REX.W 0F BA /6 or /7 ib), and/xor eax, imm32 (25 / 35 id). */
  private signBit(d: number, flip: boolean): void {
    const c = this.code;
    c.room();
    if (d) { c.b(0x48); c.b(0x0f); c.b(0xba); c.b(flip ? 0xf8 : 0xf0); c.b(63); }
    else { c.b(flip ? 0x35 : 0x25); c.d(flip ? 0x80000000 | 0 : 0x7fffffff); }
  }
  /** rax = the magnitude of the float bits in rax with the sign of those in `r` (rcx or rdx; clobbered). */
  private signFrom(d: number, r: number): void {
    const c = this.code;
    this.signBit(d, false);
    if (d) {
      c.regs(0, 1, 0xc1, 5, r); c.b(63); // shr r, 63
      c.regs(0, 1, 0xc1, 4, r); c.b(63); // shl r, 63
    } else { c.regs(0, 0, 0x81, 4, r); c.d(0x80000000 | 0); } // and r32, 0x80000000
    c.regs(0, d, 0x09, r, RAX); // or rax, r
  }

  /** min/max (§4.3.3 fmin/fmax): NaN if either is NaN, -0 below +0; minss/maxss give neither, so:
   *  ucomis; unordered -> add (a NaN); equal -> or (min: -0 wins) / and (max: +0 wins); else minss/maxss. */
  private minMax(d: number, min: boolean, a: number, b: number): void {
    const c = this.code;
    const prefix = d ? 0xf2 : 0xf3, packed = d ? 0x66 : 0;
    c.frame(prefix, 0, 0x0f10, 0, a); // movss/sd xmm0, [a]
    c.frame(prefix, 0, 0x0f10, 1, b); // movss/sd xmm1, [b]
    c.regs(packed, 0, 0x0f2e, 0, 1); // ucomiss/sd xmm0, xmm1
    const nan = c.jcc(CC_P);
    const ordinary = c.jcc(CC_NE);
    c.regs(packed, 0, min ? 0x0f56 : 0x0f54, 0, 1); // orps/orpd or andps/andpd xmm0, xmm1
    const done1 = c.jmp();
    c.patchRel32(ordinary, c.n);
    c.regs(prefix, 0, min ? 0x0f5d : 0x0f5f, 0, 1); // minss/sd or maxss/sd xmm0, xmm1
    const done2 = c.jmp();
    c.patchRel32(nan, c.n);
    c.regs(prefix, 0, 0x0f58, 0, 1); // addss/sd xmm0, xmm1: a quiet NaN
    c.patchRel32(done1, c.n);
    c.patchRel32(done2, c.n);
  }

  /**
   * ceil (2) floor (3) trunc (4) nearest (5) of [a] into xmm0 (§4.3.3 fceil ...): roundss/roundsd
   * when the CPU has SSE4.1 (the cell set at start-up), else as the optimising tier's software path
   * (float.ts): |x| at or above 2^52 (2^23 for f32), infinities and NaN are integral already;
   * nearest adds and subtracts 2^52 (ties to even); the others truncate through an i64 and step by
   * one; the result takes x's sign (-0.5 -> -0).
   */
  private round(d: number, k: number, a: number): void {
    const c = this.code, m = this.m.ctx;
    const prefix = d ? 0xf2 : 0xf3, packed = d ? 0x66 : 0;
    const big = m.floatConstants.ref(ROUND_BIG[d]);
    const one = m.floatConstants.ref(ROUND_ONE[d]);
    c.absolute(0, 1, 0x83, 7, m.sse41); c.b(0); // cmp qword [sse41], 0
    const soft = c.jcc(CC_E);
    // roundss/roundsd xmm0, [a], mode | 8 (66 0F 3A 0A/0B /r ib; bit 3: no precision exception)
    c.frame(0x66, 0, d ? 0x0f3a0b : 0x0f3a0a, 0, a);
    c.b([0, 0, 2, 1, 3, 0][k] | 8);
    const done = c.jmp();
    c.patchRel32(soft, c.n);
    c.frame(prefix, 0, 0x0f10, 0, a); // movss/sd xmm0, [a]
    c.load(d, RAX, a);
    this.signBit(d, false); // |x|
    c.regs(0x66, d, 0x0f6e, 1, RAX); // movd/movq xmm1, rax
    c.absolute(packed, 0, 0x0f2e, 1, big.label, big.offset); // ucomis xmm1, [big]
    const nan = c.jcc(CC_P);
    const integral = c.jcc(CC_AE);
    if (k === 5) {
      c.absolute(prefix, 0, 0x0f58, 1, big.label, big.offset); // add xmm1, [big]
      c.absolute(prefix, 0, 0x0f5c, 1, big.label, big.offset); // sub xmm1, [big]
    } else {
      c.regs(prefix, 1, 0x0f2c, RAX, 0); // cvttss2si/cvttsd2si rax, xmm0
      c.regs(prefix, 1, 0x0f2a, 1, RAX); // cvtsi2ss/sd xmm1, rax
      if (k !== 4) {
        c.regs(packed, 0, 0x0f2e, 1, 0); // ucomis xmm1, xmm0
        const ok = c.jcc(k === 3 ? CC_BE : CC_AE); // floor: t <= x; ceil: t >= x
        c.absolute(prefix, 0, k === 3 ? 0x0f5c : 0x0f58, 1, one.label, one.offset); // sub/add xmm1, [1]
        c.patchRel32(ok, c.n);
      }
    }
    // the sign of x: rax = |r| | sign(x)
    c.regs(0x66, d, 0x0f7e, 1, RAX); // movd/movq rax, xmm1
    c.load(d, RDX, a);
    this.signFrom(d, RDX);
    c.regs(0x66, d, 0x0f6e, 0, RAX); // movd/movq xmm0, rax
    c.patchRel32(nan, c.n);
    c.patchRel32(integral, c.n);
    c.patchRel32(done, c.n);
  }

  /** SWAR population count (Hacker's Delight 5-1; popcnt is not in the x86-64 baseline) of [a] into rax. */
  private popcount(w: number, a: number): void {
    const c = this.code;
    const mask = (r: number, m32: number) => { // and r, m (m repeated to 64 bits through rdx when w)
      if (w) { c.movabs(RDX, m32, m32); c.regs(0, 1, 0x23, r, RDX); } else { c.regs(0, 0, 0x81, 4, r); c.d(m32); }
    };
    c.load(w, RAX, a);
    c.regs(0, w, 0x8b, RCX, RAX); c.regs(0, w, 0xc1, 5, RCX); c.b(1); // mov rcx, rax; shr rcx, 1
    mask(RCX, 0x55555555);
    c.regs(0, w, 0x2b, RAX, RCX); // sub rax, rcx
    c.regs(0, w, 0x8b, RCX, RAX); mask(RCX, 0x33333333); // rcx = x & 0x33..
    c.regs(0, w, 0xc1, 5, RAX); c.b(2); mask(RAX, 0x33333333); // rax = (x >> 2) & 0x33..
    c.regs(0, w, 0x03, RAX, RCX); // add rax, rcx
    c.regs(0, w, 0x8b, RCX, RAX); c.regs(0, w, 0xc1, 5, RCX); c.b(4); // rcx = x >> 4
    c.regs(0, w, 0x03, RAX, RCX); mask(RAX, 0x0f0f0f0f); // x = (x + (x >> 4)) & 0x0f..
    if (w) { c.movabs(RDX, 0x01010101, 0x01010101); c.regs(0, 1, 0x0faf, RAX, RDX); } // imul rax, rdx
    else { c.regs(0, 0, 0x69, RAX, RAX); c.d(0x01010101); } // imul eax, eax, 0x01010101
    c.regs(0, w, 0xc1, 5, RAX); c.b(w ? 56 : 24); // the top byte: the sum
  }

  /** u64 -> f32/f64 (§4.3.2 convert_u): below 2^63 as signed; else halved with the low bit kept
   *  (so the rounding is right), converted, doubled. */
  private convertU64(f64: boolean, a: number): void {
    const c = this.code;
    const prefix = f64 ? 0xf2 : 0xf3;
    c.load(1, RAX, a);
    c.regs(0, 1, 0x85, RAX, RAX); // test rax, rax
    const big = c.jcc(CC_S);
    c.regs(prefix, 1, 0x0f2a, 0, RAX); // cvtsi2ss/sd xmm0, rax
    const done = c.jmp();
    c.patchRel32(big, c.n);
    c.regs(0, 1, 0x8b, RCX, RAX); c.regs(0, 1, 0xc1, 5, RCX); c.b(1); // mov rcx, rax; shr rcx, 1
    c.room(); c.b(0x83); c.b(0xe0); c.b(1); // and eax, 1
    c.regs(0, 1, 0x0b, RCX, RAX); // or rcx, rax
    c.regs(prefix, 1, 0x0f2a, 0, RCX); // cvtsi2ss/sd xmm0, rcx
    c.regs(prefix, 0, 0x0f58, 0, 0); // addss/sd xmm0, xmm0
    c.patchRel32(done, c.n);
    this.resultXmm = true;
  }

  /**
   * Float-to-int truncation (§4.3.2 trunc, trunc_sat) of the f32/f64 at [a] into rax: widened to
   * f64, NaN -> trap 4 (sat: 0), at or beyond a bound (TRUNC_BOUNDS) -> trap 3 (sat: the bound's
   * integer), else cvttsd2si (u64 at or above 2^63: minus 2^63, converted, top bit set).
   */
  private truncate(a: number, fromF64: boolean, toI64: boolean, signed: boolean, sat: boolean): void {
    const c = this.code, fc = this.m.ctx.floatConstants;
    const target = (toI64 ? 2 : 0) + (signed ? 0 : 1);
    const lo = fc.ref(TRUNC_BITS[target][0]), hi = fc.ref(TRUNC_BITS[target][1]);
    if (fromF64) c.frame(0xf2, 0, 0x0f10, 0, a); // movsd xmm0, [a]
    else c.frame(0xf3, 0, 0x0f5a, 0, a); // cvtss2sd xmm0, [a] (exact)
    let nan = -1, low = -1, high = -1;
    if (sat) { c.room(); c.b(0x31); c.b(0xc0); } // xor eax, eax: NaN's result
    c.regs(0x66, 0, 0x0f2e, 0, 0); // ucomisd xmm0, xmm0
    if (sat) nan = c.jcc(CC_P); else this.trapIf(CC_P, Trap.invalidConversion);
    c.absolute(0x66, 0, 0x0f2e, 0, lo.label, lo.offset); // ucomisd xmm0, [below]
    if (sat) low = c.jcc(CC_BE); else this.trapIf(CC_BE, Trap.integerOverflow);
    c.absolute(0x66, 0, 0x0f2e, 0, hi.label, hi.offset); // ucomisd xmm0, [above]
    if (sat) high = c.jcc(CC_AE); else this.trapIf(CC_AE, Trap.integerOverflow);
    if (target === 3) { // u64
      const t = fc.ref(TWO63);
      c.absolute(0x66, 0, 0x0f2e, 0, t.label, t.offset); // ucomisd xmm0, [2^63]
      const big = c.jcc(CC_AE);
      c.regs(0xf2, 1, 0x0f2c, RAX, 0); // cvttsd2si rax, xmm0
      const done = c.jmp();
      c.patchRel32(big, c.n);
      c.absolute(0xf2, 0, 0x0f5c, 0, t.label, t.offset); // subsd xmm0, [2^63]
      c.regs(0xf2, 1, 0x0f2c, RAX, 0);
      this.signBit(1, true); // btc rax, 63
      c.patchRel32(done, c.n);
    } else c.regs(0xf2, target === 0 ? 0 : 1, 0x0f2c, RAX, 0); // cvttsd2si eax|rax, xmm0 (u32 through rax: < 2^32)
    if (!sat) return;
    const done = c.jmp();
    c.patchRel32(low, c.n);
    if (target === 0) c.movImm32(RAX, 0x80000000 | 0); // INT32_MIN
    else if (target === 2) c.movabs(RAX, 0, 0x80000000 | 0);
    else { c.room(); c.b(0x31); c.b(0xc0); } // unsigned: 0
    const done2 = c.jmp();
    c.patchRel32(high, c.n);
    if (target === 0) c.movImm32(RAX, 0x7fffffff);
    else if (target === 1) c.movImm32(RAX, -1); // 0xffffffff
    else if (target === 2) c.movabs(RAX, -1, 0x7fffffff);
    else c.movabs(RAX, -1, -1);
    c.patchRel32(nan, c.n);
    c.patchRel32(done, c.n);
    c.patchRel32(done2, c.n);
  }

  /** memory.grow (§4.4.7): old size, or -1 beyond the maximum; in guarded mode the new pages are
   *  made accessible with mprotect(2) first (its failure is -1 too). As the optimising tier. */
  private memoryGrow(): void {
    const c = this.code, mc = this.m.ctx.memory;
    if (this.byte() !== 0 || !mc) throw REFUSED;
    this.pop(I32);
    this.ld(0, RAX, this.sp); // delta pages
    c.absolute(0, 1, 0x8b, RCX, mc.pages); // rcx = old pages
    c.room(); c.b(0x48); c.b(0x8d); c.b(0x14); c.b(0x08); // lea rdx, [rax + rcx]
    c.regs(0, 1, 0x81, 7, RDX); c.d(mc.maxPages); // cmp rdx, maxPages
    const fail1 = c.jcc(CC_A);
    let fail2 = -1;
    if (mc.mode === "guarded") {
      // mprotect(base + old bytes, delta bytes, PROT_READ|PROT_WRITE): syscall 10 (clobbers rcx, r11)
      c.regs(0, 1, 0x8b, R8, RDX); // mov r8, rdx
      c.regs(0, 1, 0x8b, RSI, RAX); c.regs(0, 1, 0xc1, 4, RSI); c.b(16); // rsi = delta << 16
      c.regs(0, 1, 0x8b, RDI, RCX); c.regs(0, 1, 0xc1, 4, RDI); c.b(16); // rdi = old << 16
      if (mc.base > 0x7fffffff) throw REFUSED;
      c.room(); c.b(0x48); c.b(0x8d); c.b(0xbf); c.d(mc.base); // lea rdi, [rdi + base]
      c.movImm32(RDX, 3); // PROT_READ | PROT_WRITE
      c.movImm32(RAX, 10); // mprotect
      c.b(0x0f); c.b(0x05); // syscall
      c.regs(0, 1, 0x85, RAX, RAX);
      fail2 = c.jcc(CC_NE);
      c.absolute(0, 1, 0x8b, RCX, mc.pages);
      c.regs(0, 1, 0x8b, RDX, R8); // mov rdx, r8
    }
    c.absolute(0, 1, 0x89, RDX, mc.pages); // mov [pages], rdx
    c.regs(0, 1, 0xc1, 4, RDX); c.b(16); // shl rdx, 16
    c.absolute(0, 1, 0x89, RDX, mc.bytes); // mov [bytes], rdx
    c.regs(0, 0, 0x8b, RAX, RCX); // mov eax, ecx: the old size
    const done = c.jmp();
    c.patchRel32(fail1, c.n);
    if (fail2 >= 0) c.patchRel32(fail2, c.n);
    c.movImm32(RAX, -1);
    c.patchRel32(done, c.n);
    this.pushRax(I32);
  }

  /** memory.copy (10) / memory.fill (11): the range(s) checked (sandbox and guarded: trap before
   *  writing anything), the base added, then the module's memmove/memset (bulk.ts). */
  private bulk(sub: number): void {
    const c = this.code, mc = this.m.ctx.memory;
    if (this.byte() !== 0 || (sub === 10 && this.byte() !== 0) || !mc || mc.base > 0x7fffffff) throw REFUSED;
    this.pop(I32); this.pop(I32); this.pop(I32);
    const d = this.sp, v = this.sp + 1, n = this.sp + 2;
    this.ld(0, RCX, n);
    this.ld(0, RDI, d);
    if (sub === 10) this.ld(0, RSI, v);
    const check = (r: number) => { // lea rax, [r + rcx]; cmp rax, [bytes]; ja trap 5
      if (mc.mode === "identity") return;
      c.room(); c.b(0x48); c.b(0x8d); c.b(0x04); c.b(0x08 | (r & 7)); // lea rax, [r + rcx*1]
      c.absolute(0, 1, 0x3b, RAX, mc.bytes);
      this.trapIf(CC_A, Trap.memoryOutOfBounds);
    };
    check(RDI);
    if (sub === 10) check(RSI);
    if (mc.base !== 0) {
      c.room(); c.b(0x48); c.b(0x8d); c.b(0xbf); c.d(mc.base); // lea rdi, [rdi + base]
      if (sub === 10) { c.b(0x48); c.b(0x8d); c.b(0xb6); c.d(mc.base); } // lea rsi, [rsi + base]
    }
    if (sub === 11) { this.ld(0, RAX, v); c.room(); c.b(0x0f); c.b(0xb6); c.b(0xc0); } // movzx eax, al
    c.callLabel(sub === 10 ? this.m.ctx.bulkMemory.copy : this.m.ctx.bulkMemory.fill);
  }

  private conversion(op: number, a: number): void {
    const c = this.code;
    switch (op) {
      case 0xa7: c.load(0, RAX, a); return; // i32.wrap_i64: the low half
      case 0xac: c.frame(0, 1, 0x63, RAX, a); return; // i64.extend_i32_s: movsxd rax, [a]
      case 0xad: c.load(0, RAX, a); return; // i64.extend_i32_u
      case 0xbc: case 0xbe: c.load(0, RAX, a); return; // reinterpret (32 bits)
      case 0xbd: case 0xbf: c.load(1, RAX, a); return; // reinterpret (64 bits)
      case 0xc0: c.frame(0, 0, 0x0fbe, RAX, a); return; // i32.extend8_s: movsx eax, byte [a]
      case 0xc1: c.frame(0, 0, 0x0fbf, RAX, a); return; // i32.extend16_s
      case 0xc2: c.frame(0, 1, 0x0fbe, RAX, a); return; // i64.extend8_s
      case 0xc3: c.frame(0, 1, 0x0fbf, RAX, a); return; // i64.extend16_s
      case 0xc4: c.frame(0, 1, 0x63, RAX, a); return; // i64.extend32_s
      case 0xb2: case 0xb4: case 0xb7: case 0xb9: { // convert_i32_s / i64_s: cvtsi2ss/sd xmm0, [a]
        const f64 = op >= 0xb7;
        c.frame(f64 ? 0xf2 : 0xf3, op === 0xb4 || op === 0xb9 ? 1 : 0, 0x0f2a, 0, a);
        this.resultXmm = true;
        return;
      }
      case 0xb3: case 0xb8: { // convert_i32_u: the zero-extended value as a signed 64-bit one
        const f64 = op === 0xb8;
        c.load(0, RAX, a);
        c.regs(f64 ? 0xf2 : 0xf3, 1, 0x0f2a, 0, RAX);
        this.resultXmm = true;
        return;
      }
      case 0xb6: // f32.demote_f64: cvtsd2ss xmm0, [a]
        c.frame(0xf2, 0, 0x0f5a, 0, a);
        this.resultXmm = true;
        return;
      case 0xbb: // f64.promote_f32: cvtss2sd xmm0, [a]
        c.frame(0xf3, 0, 0x0f5a, 0, a);
        this.resultXmm = true;
        return;
    }
    if (op === 0xb5 || op === 0xba) { this.convertU64(op === 0xba, a); return; }
    if ((op >= 0xa8 && op <= 0xab) || (op >= 0xae && op <= 0xb1)) {
      // trunc: a8 f32>s32 a9 f32>u32 aa f64>s32 ab f64>u32 ae f32>s64 af f32>u64 b0 f64>s64 b1 f64>u64
      const k = op >= 0xae ? op - 0xae : op - 0xa8;
      this.truncate(a, k >= 2, op >= 0xae, (k & 1) === 0, false);
      return;
    }
    throw REFUSED;
  }
}
