/**
 * A growable byte writer for building binary file images (ELF64, ISO 9660) on the host.
 *
 * Little-endian by default (ELF64 x86-64 psABI, ISO 9660 "7.2.1/7.3.1" fields); the `*be`
 * methods write big-endian and `u16both`/`u32both` write the ISO 9660 both-byte-order forms
 * (ECMA-119 §7.2.3 and §7.3.3: little-endian copy first, then big-endian copy).
 *
 * Every integer write checks its range and throws instead of silently truncating; 64-bit values
 * are taken as numbers (safe integers, < 2^53) or bigints.
 */

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Number of bytes written so far (the write position is always the end). */
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Make room for `n` more bytes past `length` (new bytes are zero). */
  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    checkUint(v, 8);
    this.reserve(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    checkUint(v, 16);
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    checkUint(v, 32);
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
    return this;
  }
  u64(v: number | bigint): this {
    const b = toU64(v);
    this.reserve(8);
    this.view.setBigUint64(this.length, b, true);
    this.length += 8;
    return this;
  }
  u16be(v: number): this {
    checkUint(v, 16);
    this.reserve(2);
    this.view.setUint16(this.length, v, false);
    this.length += 2;
    return this;
  }
  u32be(v: number): this {
    checkUint(v, 32);
    this.reserve(4);
    this.view.setUint32(this.length, v, false);
    this.length += 4;
    return this;
  }
  /** ISO 9660 both-byte-order 16-bit field (4 bytes: LE then BE). */
  u16both(v: number): this {
    return this.u16(v).u16be(v);
  }
  /** ISO 9660 both-byte-order 32-bit field (8 bytes: LE then BE). */
  u32both(v: number): this {
    return this.u32(v).u32be(v);
  }

  bytes(data: ArrayLike<number>): this {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
    return this;
  }
  /** ASCII text (every char must be < 0x80), no terminator. */
  ascii(s: string): this {
    return this.bytes(asciiBytes(s));
  }
  /** ASCII text padded with `pad` (or truncated is an error) to exactly `width` bytes. */
  asciiPadded(s: string, width: number, pad = 0x20): this {
    if (s.length > width) throw new Error(`text "${s}" is longer than its ${width}-byte field`);
    this.ascii(s);
    return this.fill(width - s.length, pad);
  }
  zeros(n: number): this {
    return this.fill(n, 0);
  }
  fill(n: number, value: number): this {
    if (!Number.isInteger(n) || n < 0) throw new Error(`bad fill length ${n}`);
    checkUint(value, 8);
    this.reserve(n);
    this.buf.fill(value, this.length, this.length + n);
    this.length += n;
    return this;
  }
  /** Pad with zeros up to a multiple of `alignment`. */
  align(alignment: number): this {
    const rem = this.length % alignment;
    return rem === 0 ? this : this.zeros(alignment - rem);
  }
  /** Pad with zeros up to absolute position `pos` (which must not be behind the end). */
  padTo(pos: number): this {
    if (pos < this.length) throw new Error(`padTo(${pos}) is behind the write position ${this.length}`);
    return this.zeros(pos - this.length);
  }

  /** Overwrite a little-endian u16 already written at `offset`. */
  patchU16(offset: number, v: number): void {
    checkUint(v, 16);
    this.checkPatch(offset, 2);
    this.view.setUint16(offset, v, true);
  }
  /** Overwrite a little-endian u32 already written at `offset`. */
  patchU32(offset: number, v: number): void {
    checkUint(v, 32);
    this.checkPatch(offset, 4);
    this.view.setUint32(offset, v, true);
  }
  /** Overwrite a little-endian u64 already written at `offset`. */
  patchU64(offset: number, v: number | bigint): void {
    const b = toU64(v);
    this.checkPatch(offset, 8);
    this.view.setBigUint64(offset, b, true);
  }
  private checkPatch(offset: number, n: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + n > this.length) {
      throw new Error(`patch at ${offset} (+${n}) is outside the ${this.length} bytes written`);
    }
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) throw new Error(`non-ASCII character in "${s}"`);
    out[i] = c;
  }
  return out;
}

function checkUint(v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new Error(`value ${v} does not fit an unsigned ${bits}-bit field`);
  }
}

function toU64(v: number | bigint): bigint {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`value ${v} is not a safe unsigned integer`);
    return BigInt(v);
  }
  if (v < 0n || v >= 1n << 64n) throw new Error(`value ${v} does not fit an unsigned 64-bit field`);
  return v;
}
