// Number formatting like JavaScript's String(number), from the f64 bit pattern, integers only.
//
// The kernel never does float arithmetic (the translator does not support it yet), so an f64 is
// taken apart into significand f and exponent e (v = f * 2^e) and printed with exact big-integer
// arithmetic:
//  - integers below 2^53 take a fast path (their digits are exactly the shortest form);
//  - everything else uses the shortest round-trip digit generation of Steele & White / Burger &
//    Dybvig ("Printing floating-point numbers quickly and accurately", PLDI 1996), in the exact
//    shape of V8's bignum-dtoa.cc GenerateShortestDigits (boundaries inclusive when f is even, the
//    last digit rounded to nearest, ties to even), which is what V8 falls back to when Grisu3
//    gives up. So the digits equal V8's for every double;
//  - the digits are laid out per ECMA-262 Number::toString (§6.1.6.1.20): plain notation for
//    decimal exponents -6 < n <= 21, otherwise d.ddde+x / d.ddde-x.
// Cost: a few thousand word operations per number; meant for trace output, not hot paths.
//
// Bignums: fixed LIMBS little-endian u32 limbs in static memory (no heap). Largest value reached:
// about 2^1140 (denormals scaled by 10^324), below LIMBS * 32 = 1280 bits.

import { printUtf8 } from "./console";

@inline const LIMBS = 40;
@inline const BN_BYTES: usize = LIMBS * 4;

const bnR = memory.data(<i32>BN_BYTES);      // numerator r: v = r / s * 10^k
const bnS = memory.data(<i32>BN_BYTES);      // denominator s
const bnMPlus = memory.data(<i32>BN_BYTES);  // distance to the upper rounding boundary, scaled like r
const bnMMinus = memory.data(<i32>BN_BYTES); // distance to the lower rounding boundary
const bnTmp = memory.data(<i32>BN_BYTES);
/** Decimal digits as ASCII (at most 17 for shortest output). */
const digits = memory.data(24);
/** Formatted text (the longest is 25 bytes: "-0.0000012345678901234567"). */
const textBuf = memory.data(32);

// ---- bignum helpers ----

// Plain loops rather than memory.fill/copy: the module stays free of bulk-memory operators.
function bnSetU64(a: usize, v: u64): void {
  store<u32>(a, <u32>v);
  store<u32>(a, <u32>(v >> 32), 4);
  for (let i: usize = 8; i < BN_BYTES; i += 8) store<u64>(a + i, 0);
}

/** a <<= bits. */
function bnShiftLeft(a: usize, bits: i32): void {
  const words = bits >>> 5;
  const rest = <u64>(bits & 31);
  for (let i = LIMBS - 1; i >= 0; i--) {
    const from = i - words;
    let v: u64 = 0;
    if (from >= 0) v = <u64>load<u32>(a + (<usize>from << 2)) << rest;
    if (from - 1 >= 0 && rest != 0) v |= <u64>load<u32>(a + (<usize>(from - 1) << 2)) >> (32 - rest);
    store<u32>(a + (<usize>i << 2), <u32>v);
  }
}

/** a *= m. */
function bnMulSmall(a: usize, m: u32): void {
  let carry: u64 = 0;
  for (let i = 0; i < LIMBS; i++) {
    const p = a + (<usize>i << 2);
    const t = <u64>load<u32>(p) * <u64>m + carry;
    store<u32>(p, <u32>t);
    carry = t >> 32;
  }
}

/** a *= 10^k (k >= 0). */
function bnMulPow10(a: usize, k: i32): void {
  while (k >= 9) {
    bnMulSmall(a, 1_000_000_000);
    k -= 9;
  }
  let m: u32 = 1;
  while (k > 0) {
    m *= 10;
    k--;
  }
  if (m != 1) bnMulSmall(a, m);
}

/** dst = a + b (dst may alias a or b). */
function bnAdd(dst: usize, a: usize, b: usize): void {
  let carry: u64 = 0;
  for (let i = 0; i < LIMBS; i++) {
    const off = <usize>i << 2;
    const t = <u64>load<u32>(a + off) + <u64>load<u32>(b + off) + carry;
    store<u32>(dst + off, <u32>t);
    carry = t >> 32;
  }
}

/** a -= b, requires a >= b. */
function bnSub(a: usize, b: usize): void {
  let borrow: u64 = 0;
  for (let i = 0; i < LIMBS; i++) {
    const off = <usize>i << 2;
    const t = <u64>load<u32>(a + off) - <u64>load<u32>(b + off) - borrow;
    store<u32>(a + off, <u32>t);
    borrow = (t >> 63) & 1;
  }
}

/** Sign of a - b. */
function bnCompare(a: usize, b: usize): i32 {
  for (let i = LIMBS - 1; i >= 0; i--) {
    const off = <usize>i << 2;
    const x = load<u32>(a + off);
    const y = load<u32>(b + off);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Sign of (a + b) - c. */
function bnPlusCompare(a: usize, b: usize, c: usize): i32 {
  bnAdd(bnTmp, a, b);
  return bnCompare(bnTmp, c);
}

// ---- shortest digits ----

let decimalExponent: i32 = 0; // n: value = 0.d1d2...dk * 10^n

/**
 * Writes the shortest digits of the positive finite value f * 2^e to `digits` and sets
 * decimalExponent; returns the digit count. `lowerCloser`: the gap below v is half the gap above
 * (v is a power of two above the smallest normal).
 */
function shortestDigits(f: u64, e: i32, lowerCloser: bool): i32 {
  const even = (f & 1) == 0;
  // Burger & Dybvig table 1: v = r/s, boundaries v +- m/s (halfway to the neighbours).
  if (e >= 0) {
    bnSetU64(bnR, f);
    bnShiftLeft(bnR, e + (lowerCloser ? 2 : 1));
    bnSetU64(bnS, lowerCloser ? 4 : 2);
    bnSetU64(bnMPlus, 1);
    bnShiftLeft(bnMPlus, e + (lowerCloser ? 1 : 0));
    bnSetU64(bnMMinus, 1);
    bnShiftLeft(bnMMinus, e);
  } else {
    bnSetU64(bnR, f << (lowerCloser ? 2 : 1));
    bnSetU64(bnS, 1);
    bnShiftLeft(bnS, (lowerCloser ? 2 : 1) - e);
    bnSetU64(bnMPlus, lowerCloser ? 2 : 1);
    bnSetU64(bnMMinus, 1);
  }
  // Estimate k ~ ceil(log10 v) from floor(log2 v); 1233/4096 ~ log10(2). Off by at most one,
  // which the fixups below correct.
  let bitLen = 64 - <i32>clz(f);
  let k = (((bitLen + e) * 1233) >> 12) + 1;
  if (k >= 0) bnMulPow10(bnS, k);
  else {
    bnMulPow10(bnR, -k);
    bnMulPow10(bnMPlus, -k);
    bnMulPow10(bnMMinus, -k);
  }
  // Fixup: smallest k with high boundary < 10^k (<= when the boundary itself is excluded).
  while (true) {
    const c = bnPlusCompare(bnR, bnMPlus, bnS);
    if (even ? c >= 0 : c > 0) {
      bnMulSmall(bnS, 10);
      k++;
    } else break;
  }
  while (true) {
    bnAdd(bnTmp, bnR, bnMPlus);
    bnMulSmall(bnTmp, 10);
    const c = bnCompare(bnTmp, bnS);
    if (even ? c < 0 : c <= 0) {
      bnMulSmall(bnR, 10);
      bnMulSmall(bnMPlus, 10);
      bnMulSmall(bnMMinus, 10);
      k--;
    } else break;
  }
  decimalExponent = k;
  // Digit loop (after: V8 src/base/numbers/bignum-dtoa.cc, GenerateShortestDigits).
  let n = 0;
  while (true) {
    bnMulSmall(bnR, 10);
    bnMulSmall(bnMPlus, 10);
    bnMulSmall(bnMMinus, 10);
    let d: u32 = 0;
    while (bnCompare(bnR, bnS) >= 0) {
      bnSub(bnR, bnS);
      d++;
    }
    store<u8>(digits + n, <u8>(0x30 + d));
    n++;
    const cLow = bnCompare(bnR, bnMMinus);
    const inLow = even ? cLow <= 0 : cLow < 0;
    const cHigh = bnPlusCompare(bnR, bnMPlus, bnS);
    const inHigh = even ? cHigh >= 0 : cHigh > 0;
    if (!inLow && !inHigh) continue;
    let roundUp = false;
    if (inLow && inHigh) {
      const half = bnPlusCompare(bnR, bnR, bnS);
      roundUp = half > 0 || (half == 0 && (d & 1) != 0);
    } else if (inHigh) {
      roundUp = true;
    }
    if (roundUp) store<u8>(digits + n - 1, <u8>(0x30 + d + 1));
    return n;
  }
}

/** Writes the decimal digits of integer v to `digits`; returns the count. */
function integerDigits(v: u64): i32 {
  let n = 0;
  let t = v;
  do {
    n++;
    t /= 10;
  } while (t != 0);
  for (let i = n - 1; i >= 0; i--) {
    store<u8>(digits + i, <u8>(0x30 + <u32>(v % 10)));
    v /= 10;
  }
  return n;
}

// ---- layout ----

let outLen: i32 = 0;

@inline function emit(c: u8): void {
  store<u8>(textBuf + outLen, c);
  outLen++;
}

function emitText(s: string): void {
  for (let i = 0; i < s.length; i++) emit(<u8>s.charCodeAt(i));
}

/** Writes "e+x" / "e-x". */
function emitExponent(x: i32): void {
  emit(0x65); // 'e'
  emit(x < 0 ? 0x2d : 0x2b);
  const a = x < 0 ? -x : x;
  if (a >= 100) emit(<u8>(0x30 + a / 100));
  if (a >= 10) emit(<u8>(0x30 + (a / 10) % 10));
  emit(<u8>(0x30 + a % 10));
}

/** ECMA-262 Number::toString step 6-12 for digits d1..dk and exponent n. */
function layout(k: i32, n: i32): void {
  if (k <= n && n <= 21) {
    for (let i = 0; i < k; i++) emit(load<u8>(digits + i));
    for (let i = k; i < n; i++) emit(0x30);
  } else if (0 < n && n <= 21) {
    for (let i = 0; i < n; i++) emit(load<u8>(digits + i));
    emit(0x2e);
    for (let i = n; i < k; i++) emit(load<u8>(digits + i));
  } else if (-6 < n && n <= 0) {
    emit(0x30);
    emit(0x2e);
    for (let i = n; i < 0; i++) emit(0x30);
    for (let i = 0; i < k; i++) emit(load<u8>(digits + i));
  } else {
    emit(load<u8>(digits));
    if (k > 1) {
      emit(0x2e);
      for (let i = 1; i < k; i++) emit(load<u8>(digits + i));
    }
    emitExponent(n - 1);
  }
}

/**
 * Formats the f64 with bit pattern `bits` as JavaScript's String(number) does. The text is in a
 * static buffer: returns its length; its address is formattedAddress(). Valid until the next call.
 */
export function formatF64Bits(bits: u64): i32 {
  outLen = 0;
  const negative = (bits >> 63) != 0;
  const biased = <i32>((bits >> 52) & 0x7ff);
  const fraction = bits & 0x000f_ffff_ffff_ffff;
  if (biased == 0x7ff) {
    if (fraction != 0) emitText("NaN");
    else emitText(negative ? "-Infinity" : "Infinity");
    return outLen;
  }
  if (biased == 0 && fraction == 0) {
    emit(0x30); // both +0 and -0 print as "0"
    return outLen;
  }
  if (negative) emit(0x2d);
  // v = f * 2^e
  const f = biased == 0 ? fraction : fraction | (<u64>1 << 52);
  const e = (biased == 0 ? 1 : biased) - 1075;
  let k: i32;
  if (e <= 0 && e >= -52 && (e == 0 || (f & ((<u64>1 << <u64>(-e)) - 1)) == 0)) {
    // Integer below 2^53: its digits are exactly the shortest form.
    const v = e == 0 ? f : f >> <u64>(-e);
    k = integerDigits(v);
    decimalExponent = k;
  } else {
    k = shortestDigits(f, e, fraction == 0 && biased > 1);
  }
  layout(k, decimalExponent);
  return outLen;
}

/** Address of the text written by the last formatF64Bits(). */
export function formattedAddress(): usize {
  return textBuf;
}

/** Prints the f64 with bit pattern `bits` like JavaScript's String(number). */
export function printF64Bits(bits: u64): void {
  const n = formatF64Bits(bits);
  printUtf8(textBuf, <usize>n);
}
