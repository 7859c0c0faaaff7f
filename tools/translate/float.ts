/**
 * Floating-point operators (WebAssembly core spec §4.3.3 "Floating-Point Operations", §4.3.4
 * "Conversions") with SSE2 scalar instructions, operands in frame slots as raw bits.
 *
 * Semantics that need more than one instruction:
 *  - min/max: NaN if either operand is NaN, and min(-0, +0) = -0 / max(-0, +0) = +0 (x86 minsd
 *    returns the second operand in both cases).
 *  - ceil/floor/trunc/nearest: SSE4.1 roundss/roundsd when CPUID says the CPU has it (a cell the
 *    linker fills at boot), otherwise an exact software path (the 2^52 / 2^23 trick, ties to even).
 *  - trapping truncation: NaN traps "invalid conversion to integer", out of range "integer
 *    overflow"; saturating truncation clamps and maps NaN to 0.
 *  - u64 -> float: halve with the low bit kept sticky, convert, double (correctly rounded).
 * abs/neg/copysign are bit operations in general registers (they must not touch NaN payloads).
 */
import { Assembler, Label, R, abs, type Cond, type Mem } from "../x86/assembler.ts";
import type { ValType } from "../wasm/types.ts";
import { Trap, type TrapKind } from "./traps.ts";

/** What the float emitter needs from the function translator. */
export interface FloatHost {
  readonly asm: Assembler;
  pop(): Mem;
  top(n?: number): Mem;
  setTopType(t: ValType): void;
  trap(kind: TrapKind): Label;
  /** u64 cell, non-zero when the CPU has SSE4.1 (roundss/roundsd). */
  readonly sse41: Label;
}

const X0 = 0, X1 = 1, X2 = 2;
const SIGN32 = 0x80000000;
const SIGN64 = 0x8000000000000000n;

/** Exact bit patterns of the constants used below (through one scratch cell). */
const BITS = new DataView(new ArrayBuffer(8));
function f64bits(x: number): bigint {
  BITS.setFloat64(0, x, true);
  return BITS.getBigUint64(0, true);
}
function f32bits(x: number): number {
  BITS.setFloat32(0, x, true);
  return BITS.getUint32(0, true);
}

type Kind = "f32" | "f64";
const sz = (k: Kind) => (k === "f32" ? 4 : 8) as 4 | 8;

function loadConst(a: Assembler, xmm: number, k: Kind, x: number): void {
  if (k === "f64") {
    a.movabs(R.rax, f64bits(x));
    a.movToXmm(8, xmm, R.rax);
  } else {
    a.mov(4, R.rax, f32bits(x) | 0);
    a.movToXmm(4, xmm, R.rax);
  }
}
function loadX(a: Assembler, xmm: number, k: Kind, m: Mem): void {
  if (k === "f64") a.movsd(xmm, m);
  else a.movss(xmm, m);
}
/** Store an xmm result as bits, zero-extending f32 (slots hold zero-extended 32-bit values). */
function storeX(a: Assembler, m: Mem, k: Kind, xmm: number): void {
  a.movFromXmm(sz(k), R.rax, xmm);
  a.mov(8, m, R.rax);
}
function op(k: Kind, base: string): Parameters<Assembler["sse"]>[0] {
  return `${base}${k === "f32" ? "ss" : "sd"}` as Parameters<Assembler["sse"]>[0];
}
function ucomi(a: Assembler, k: Kind, x: number, y: number | Mem): void {
  a.sse(k === "f32" ? "ucomiss" : "ucomisd", x, y);
}

/** cvtsi2sd / cvtsi2ss of a 64-bit integer into X0. */
function cvtsi2s(a: Assembler, k: Kind, src: number | Mem): void {
  if (k === "f64") a.cvtsi2sd(8, X0, src);
  else a.cvtsi2ss(8, X0, src);
}
/** cvttsd2si / cvttss2si (truncating) of `src` into rax. */
function cvtts2si(a: Assembler, k: Kind, dst: 4 | 8, src: number): void {
  if (k === "f64") a.cvttsd2si(dst, R.rax, src);
  else a.cvttss2si(dst, R.rax, src);
}
/** A saturated conversion's result: rax = v (a `bits`-bit pattern), then on to `done`. */
function setResult(a: Assembler, bits: number, v: bigint, done: Label): void {
  if (bits === 32) a.mov(4, R.rax, Number(BigInt.asIntN(32, v)));
  else a.movabs(R.rax, BigInt.asIntN(64, v));
  a.jmp(done);
}

/** Emits `name` if it is a float operator; returns false otherwise. */
export function translateFloat(h: FloatHost, name: string): boolean {
  const a = h.asm;
  const k = name.slice(0, 3) as Kind;
  const rest = name.slice(4);
  if (k !== "f32" && k !== "f64") {
    return translateToInt(h, name);
  }
  switch (rest) {
    case "add": case "sub": case "mul": case "div": {
      const y = h.pop(), x = h.top();
      loadX(a, X0, k, x);
      a.sse(op(k, rest), X0, y);
      storeX(a, x, k, X0);
      return true;
    }
    case "sqrt": {
      const x = h.top();
      a.sse(op(k, "sqrt"), X0, x);
      storeX(a, x, k, X0);
      return true;
    }
    case "min": case "max": {
      const y = h.pop(), x = h.top();
      const nan = a.label(), normal = a.label(), done = a.label();
      loadX(a, X0, k, x);
      loadX(a, X1, k, y);
      ucomi(a, k, X0, X1);
      a.jcc("p", nan);
      a.jcc("ne", normal);
      // Equal: only ±0 differ; or the sign bits for min (-0 wins), and them for max (+0 wins).
      a.sse(rest === "min" ? (k === "f32" ? "orps" : "orpd") : (k === "f32" ? "andps" : "andpd"), X0, X1);
      a.jmp(done);
      a.bind(nan);
      a.sse(op(k, "add"), X0, X1); // NaN + anything = a quiet NaN
      a.jmp(done);
      a.bind(normal);
      a.sse(op(k, rest), X0, X1);
      a.bind(done);
      storeX(a, x, k, X0);
      return true;
    }
    case "abs": case "neg": {
      const x = h.top();
      a.mov(8, R.rax, x);
      if (k === "f32") {
        if (rest === "abs") a.alu("and", 4, R.rax, 0x7fffffff);
        else a.alu("xor", 4, R.rax, SIGN32 | 0);
      } else {
        a.movabs(R.rcx, rest === "abs" ? 0x7fffffffffffffffn : SIGN64);
        a.alu(rest === "abs" ? "and" : "xor", 8, R.rax, R.rcx);
      }
      a.mov(8, x, R.rax);
      return true;
    }
    case "copysign": {
      const y = h.pop(), x = h.top();
      a.mov(8, R.rax, x);
      a.mov(8, R.rdx, y);
      if (k === "f32") {
        a.alu("and", 4, R.rax, 0x7fffffff);
        a.alu("and", 4, R.rdx, SIGN32 | 0);
        a.alu("or", 4, R.rax, R.rdx);
      } else {
        a.movabs(R.rcx, SIGN64);
        a.alu("and", 8, R.rdx, R.rcx);
        a.unary("not", 8, R.rcx);
        a.alu("and", 8, R.rax, R.rcx);
        a.alu("or", 8, R.rax, R.rdx);
      }
      a.mov(8, x, R.rax);
      return true;
    }
    case "ceil": case "floor": case "trunc": case "nearest":
      rounding(h, k, rest);
      return true;
    case "eq": case "ne": case "lt": case "gt": case "le": case "ge": {
      const y = h.pop(), x = h.top();
      loadX(a, X0, k, x);
      loadX(a, X1, k, y);
      if (rest === "eq" || rest === "ne") {
        ucomi(a, k, X0, X1);
        // Unordered sets ZF=PF=CF=1: eq needs ZF=1 and PF=0; ne is its negation.
        a.setcc(rest === "eq" ? "e" : "ne", R.rax);
        a.setcc(rest === "eq" ? "np" : "p", R.rcx);
        a.alu(rest === "eq" ? "and" : "or", 1, R.rax, R.rcx);
      } else {
        // lt/le compare swapped so "above (or equal)" is false for unordered (CF=1).
        const swapped = rest === "lt" || rest === "le";
        ucomi(a, k, swapped ? X1 : X0, swapped ? X0 : X1);
        const cc: Cond = rest === "lt" || rest === "gt" ? "a" : "ae";
        a.setcc(cc, R.rax);
      }
      a.movzx(4, R.rax, 1, R.rax);
      a.mov(8, x, R.rax);
      h.setTopType("i32");
      return true;
    }
    case "demote_f64": {
      const x = h.top();
      a.sse("cvtsd2ss", X0, x);
      storeX(a, x, "f32", X0);
      h.setTopType("f32");
      return true;
    }
    case "promote_f32": {
      const x = h.top();
      a.sse("cvtss2sd", X0, x);
      storeX(a, x, "f64", X0);
      h.setTopType("f64");
      return true;
    }
    case "convert_i32_s": case "convert_i32_u": case "convert_i64_s": {
      const x = h.top();
      // i32 slots are zero-extended, so convert_i32_u is a signed 64-bit conversion.
      const srcSize = rest === "convert_i32_s" ? 4 : 8;
      if (k === "f64") a.cvtsi2sd(srcSize, X0, x);
      else a.cvtsi2ss(srcSize, X0, x);
      storeX(a, x, k, X0);
      h.setTopType(k);
      return true;
    }
    case "convert_i64_u": {
      const x = h.top();
      const big = a.label(), done = a.label();
      a.mov(8, R.rax, x);
      a.test(8, R.rax, R.rax);
      a.jcc("s", big);
      cvtsi2s(a, k, R.rax);
      a.jmp(done);
      a.bind(big);
      // x >= 2^63: halve keeping the low bit sticky, convert, double.
      a.mov(8, R.rcx, R.rax);
      a.shift("shr", 8, R.rcx, 1);
      a.alu("and", 4, R.rax, 1);
      a.alu("or", 8, R.rcx, R.rax);
      cvtsi2s(a, k, R.rcx);
      a.sse(op(k, "add"), X0, X0);
      a.bind(done);
      storeX(a, x, k, X0);
      h.setTopType(k);
      return true;
    }
    case "reinterpret_i32": case "reinterpret_i64":
      h.setTopType(k);
      return true;
  }
  return false;
}

function rounding(h: FloatHost, k: Kind, mode: "ceil" | "floor" | "trunc" | "nearest"): void {
  const a = h.asm;
  const x = h.top();
  const soft = a.label(), done = a.label();
  const imm = { nearest: 0, floor: 1, ceil: 2, trunc: 3 }[mode] | 8; // bit 3: no precision exception
  a.alu("cmp", 8, abs(h.sse41), 0);
  a.jcc("e", soft);
  if (k === "f64") a.roundsd(X0, x, imm);
  else a.roundss(X0, x, imm);
  a.jmp(done);

  // Software path: values with |x| >= 2^52 (2^23 for f32), infinities and NaN are already integral.
  a.bind(soft);
  loadX(a, X0, k, x);
  const big = k === "f64" ? 2 ** 52 : 2 ** 23;
  // X1 = |x|
  a.mov(8, R.rax, x);
  if (k === "f64") {
    a.movabs(R.rcx, 0x7fffffffffffffffn);
    a.alu("and", 8, R.rax, R.rcx);
  } else a.alu("and", 4, R.rax, 0x7fffffff);
  a.movToXmm(sz(k), X1, R.rax);
  loadConst(a, X2, k, big);
  ucomi(a, k, X1, X2);
  a.jcc("p", done); // NaN
  a.jcc("ae", done); // |x| >= big (infinities included)
  if (mode === "nearest") {
    // r = (|x| + 2^52) - 2^52 rounds to nearest, ties to even (default MXCSR mode).
    a.sse(op(k, "add"), X1, X2);
    a.sse(op(k, "sub"), X1, X2);
    a.movaps(X0, X1);
  } else {
    // t = trunc(x) via integer conversion (|x| < 2^52 fits in i64).
    if (k === "f64") {
      a.cvttsd2si(8, R.rax, X0);
      a.cvtsi2sd(8, X1, R.rax);
    } else {
      a.cvttss2si(8, R.rax, X0);
      a.cvtsi2ss(8, X1, R.rax);
    }
    if (mode !== "trunc") {
      const ok = a.label();
      loadConst(a, X2, k, 1);
      ucomi(a, k, X1, X0);
      if (mode === "floor") {
        a.jcc("be", ok); // t <= x
        a.sse(op(k, "sub"), X1, X2);
      } else {
        a.jcc("ae", ok); // t >= x
        a.sse(op(k, "add"), X1, X2);
      }
      a.bind(ok);
    }
    a.movaps(X0, X1);
  }
  // Result takes the sign of x (so -0.5 -> -0, and -0 stays -0).
  a.movFromXmm(sz(k), R.rax, X0);
  a.mov(8, R.rdx, x);
  if (k === "f64") {
    a.movabs(R.rcx, SIGN64);
    a.alu("and", 8, R.rdx, R.rcx);
    a.unary("not", 8, R.rcx);
    a.alu("and", 8, R.rax, R.rcx);
    a.alu("or", 8, R.rax, R.rdx);
  } else {
    a.alu("and", 4, R.rdx, SIGN32 | 0);
    a.alu("and", 4, R.rax, 0x7fffffff);
    a.alu("or", 4, R.rax, R.rdx);
  }
  a.movToXmm(sz(k), X0, R.rax);
  a.bind(done);
  storeX(a, x, k, X0);
}

/** i32/i64 <- f32/f64: trapping (`trunc_*`) and saturating (`trunc_sat_*`) truncation, reinterpret. */
function translateToInt(h: FloatHost, name: string): boolean {
  const a = h.asm;
  if (name === "i32.reinterpret_f32") {
    const x = h.top();
    a.mov(4, R.rax, x); // zero-extend the 32-bit pattern
    a.mov(8, x, R.rax);
    h.setTopType("i32");
    return true;
  }
  if (name === "i64.reinterpret_f64") {
    h.setTopType("i64");
    return true;
  }
  const m = /^(i32|i64)\.trunc_(sat_)?(f32|f64)_([su])$/.exec(name);
  if (!m) return false;
  const to = m[1] as "i32" | "i64", sat = !!m[2], k = m[3] as Kind, signed = m[4] === "s";
  const x = h.top();
  const bits = to === "i32" ? 32 : 64;
  // Valid inputs: lo < x (or lo <= x when lo is exact) and x < hi.
  const hi = signed ? 2 ** (bits - 1) : 2 ** bits;
  const loExact = signed ? -(2 ** (bits - 1)) : -1;
  const loInclusive = signed && !(k === "f64" && bits === 32); // -2^31-1 is exact in f64 only
  const lo = loInclusive ? loExact : signed ? loExact - 1 : loExact;
  const done = a.label();
  loadX(a, X0, k, x);
  const nanL = a.label(), lowL = a.label(), highL = a.label();
  ucomi(a, k, X0, X0);
  a.jcc("p", nanL);
  loadConst(a, X1, k, lo);
  ucomi(a, k, X0, X1);
  a.jcc(loInclusive ? "b" : "be", lowL);
  loadConst(a, X1, k, hi);
  ucomi(a, k, X0, X1);
  a.jcc("ae", highL);
  // In range: convert.
  if (bits === 32) {
    cvtts2si(a, k, signed ? 4 : 8, X0);
    a.mov(4, R.rax, R.rax);
  } else if (signed) {
    cvtts2si(a, k, 8, X0);
  } else {
    // [0, 2^64): values >= 2^63 are converted after subtracting 2^63, then the top bit is set.
    const small = a.label(), conv = a.label();
    loadConst(a, X1, k, 2 ** 63);
    ucomi(a, k, X0, X1);
    a.jcc("b", small);
    a.sse(op(k, "sub"), X0, X1);
    cvtts2si(a, k, 8, X0);
    a.movabs(R.rcx, SIGN64);
    a.alu("xor", 8, R.rax, R.rcx);
    a.jmp(conv);
    a.bind(small);
    cvtts2si(a, k, 8, X0);
    a.bind(conv);
  }
  a.jmp(done);
  if (sat) {
    const minV = signed ? -(2n ** BigInt(bits - 1)) : 0n;
    const maxV = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
    a.bind(nanL);
    a.alu("xor", 4, R.rax, R.rax);
    a.jmp(done);
    a.bind(lowL);
    setResult(a, bits, minV, done);
    a.bind(highL);
    setResult(a, bits, maxV, done);
  } else {
    a.bind(nanL);
    a.jmp(h.trap(Trap.invalidConversion));
    a.bind(lowL);
    a.bind(highL);
    a.jmp(h.trap(Trap.integerOverflow));
  }
  a.bind(done);
  a.mov(8, x, R.rax);
  h.setTopType(to);
  return true;
}
