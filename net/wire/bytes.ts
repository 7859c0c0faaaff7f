// Byte helpers shared by the wire views: 48-bit MAC addresses, IPv4 addresses, copy and fill.
//
// Addresses live in registers in "network order as a number": a MAC address is a u64 whose
// low 48 bits read ab:cd:ef:... from the most significant byte down, an IPv4 address is a u32
// whose most significant byte is the first dotted-quad octet (10.0.2.15 = 0x0a00020f).
// Copy and fill are plain loops on purpose: the kernel module must not contain bulk-memory
// operators (memory.copy / memory.fill) until the translator supports them.
// May import: nothing.

/** The Ethernet broadcast address ff:ff:ff:ff:ff:ff. */
// @ts-ignore: decorator
@inline export const MAC_BROADCAST: u64 = 0xffff_ffff_ffff;

/** Reads a 6-byte MAC address at `p`. */
// @ts-ignore: decorator
@inline export function loadMac(p: usize): u64 {
  return (<u64>bswap<u32>(load<u32>(p)) << 16) | <u64>bswap<u16>(load<u16>(p, 4));
}

/** Writes a 6-byte MAC address at `p`. */
// @ts-ignore: decorator
@inline export function storeMac(p: usize, mac: u64): void {
  store<u32>(p, bswap<u32>(<u32>(mac >> 16)));
  store<u16>(p, bswap<u16>(<u16>mac), 4);
}

/** Reads a big-endian u16 at `p + offset`. */
// @ts-ignore: decorator
@inline export function loadBe16(p: usize): u16 {
  return bswap<u16>(load<u16>(p));
}

/** Reads a big-endian u32 at `p`. */
// @ts-ignore: decorator
@inline export function loadBe32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Copies `len` bytes from `src` to `dst` (the ranges must not overlap). */
export function copyBytes(dst: usize, src: usize, len: i32): void {
  let n = <usize>max(len, 0);
  while (n >= 8) {
    store<u64>(dst, load<u64>(src));
    dst += 8; src += 8; n -= 8;
  }
  while (n > 0) {
    store<u8>(dst, load<u8>(src));
    dst++; src++; n--;
  }
}

/** Sets `len` bytes at `dst` to `value`. */
export function fillBytes(dst: usize, value: u8, len: i32): void {
  let n = <usize>max(len, 0);
  while (n > 0) {
    store<u8>(dst, value);
    dst++; n--;
  }
}

/** True when the `len` bytes at `a` and `b` are equal. */
export function bytesEqual(a: usize, b: usize, len: i32): bool {
  for (let i = 0; i < len; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

/**
 * A zero-filled StaticArray<T> of `length` elements, built without the StaticArray constructor
 * (whose memory.fill the translator does not support yet). Construction-time use only.
 */
export function zeroedArray<T>(length: i32): StaticArray<T> {
  const bytes = <usize>max(length, 0) << alignof<T>();
  const p = __new(bytes, idof<StaticArray<T>>());
  fillBytes(p, 0, <i32>bytes);
  return changetype<StaticArray<T>>(p);
}
