// The Internet checksum. RFC 1071 "Computing the Internet Checksum" §1-§2 (and RFC 791 §3.1
// "Header Checksum", RFC 768 pseudo header, RFC 792 ICMP checksum).
//
// The 16-bit ones'-complement sum is byte-order independent (RFC 1071 §2(B)): we add the data
// as little-endian 32-bit words into a 64-bit accumulator (deferred carries, §2(C)), fold to 16
// bits, and swap once at the end to get the sum in network order. An odd trailing byte is padded
// with zero on the right (§1 step 1), which is exactly what a little-endian u8 load adds.
// Partial sums in network order combine by plain addition followed by `fold`.
// May import: nothing.

/** Folds a wide ones'-complement accumulator to 16 bits (end-around carry). */
// @ts-ignore: decorator
@inline export function fold(acc: u64): u32 {
  acc = (acc & 0xffff_ffff) + (acc >> 32); // <= 2^33
  acc = (acc & 0xffff_ffff) + (acc >> 32); // <= 2^32
  let s = <u32>(acc & 0xffff) + <u32>(acc >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (s & 0xffff) + (s >> 16);
}

/**
 * Ones'-complement sum of `len` bytes at `ptr`, folded to 16 bits and in network order, plus
 * `initial` (another folded partial sum, e.g. the pseudo header's).
 */
export function sum(ptr: usize, len: i32, initial: u32 = 0): u32 {
  let acc: u64 = 0;
  let n = <usize>max(len, 0);
  while (n >= 4) {
    acc += <u64>load<u32>(ptr);
    ptr += 4; n -= 4;
  }
  if (n >= 2) {
    acc += <u64>load<u16>(ptr);
    ptr += 2; n -= 2;
  }
  if (n > 0) acc += <u64>load<u8>(ptr);
  const le = fold(acc);
  return fold(<u64>bswap<u16>(<u16>le) + <u64>initial);
}

/** The checksum field value for a folded sum: its ones' complement. */
// @ts-ignore: decorator
@inline export function finish(folded: u32): u16 {
  return <u16>(~folded & 0xffff);
}

/** True when data that includes its checksum field sums to 0xffff (RFC 1071 §1 step 3). */
// @ts-ignore: decorator
@inline export function verify(ptr: usize, len: i32, initial: u32 = 0): bool {
  return sum(ptr, len, initial) == 0xffff;
}

/** Partial sum of the TCP/UDP pseudo header (RFC 768 "Fields": src, dst, zero, protocol, length). */
export function pseudoHeaderSum(srcAddr: u32, dstAddr: u32, protocol: u8, length: u32): u32 {
  const acc: u64 = <u64>(srcAddr >> 16) + <u64>(srcAddr & 0xffff) +
    <u64>(dstAddr >> 16) + <u64>(dstAddr & 0xffff) + <u64>protocol + <u64>length;
  return fold(acc);
}
