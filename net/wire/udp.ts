// UDP headers. RFC 768 "User Datagram Protocol" (format, pseudo header, checksum 0 = none,
// a computed 0 is sent as all ones); RFC 1122 §4.1.3.4 (a host MUST discard a datagram whose
// non-zero checksum is wrong).
//
//    0      7 8     15 16    23 24    31
//   |     Source      |   Destination   |
//   |     Length      |    Checksum     |
// May import: ./checksum.

import { finish, pseudoHeaderSum, sum } from "./checksum";

// Field offsets.
// @ts-ignore: decorator
@inline const SRC_PORT: usize = 0;
// @ts-ignore: decorator
@inline const DST_PORT: usize = 2;
// @ts-ignore: decorator
@inline const LENGTH: usize = 4;
// @ts-ignore: decorator
@inline const CHECKSUM: usize = 6;

/** Bytes of the header (CHECKSUM is the last field). */
// @ts-ignore: decorator
@inline export const UDP_HEADER_LEN: i32 = <i32>CHECKSUM + 2;

/** A view over a UDP datagram. */
export class UdpPacket {
  ptr: usize = 0;
  len: i32 = 0;

  reset(ptr: usize, len: i32): UdpPacket {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /** True when the header fits and 8 <= Length <= buffer length (the IP payload may be longer). */
  checkLen(): bool {
    if (this.len < UDP_HEADER_LEN) return false;
    const l = <i32>this.length;
    return l >= UDP_HEADER_LEN && l <= this.len;
  }

  // @ts-ignore: decorator
  @inline get srcPort(): u16 { return bswap<u16>(load<u16>(this.ptr, SRC_PORT)); }
  // @ts-ignore: decorator
  @inline get dstPort(): u16 { return bswap<u16>(load<u16>(this.ptr, DST_PORT)); }
  // @ts-ignore: decorator
  @inline get length(): u16 { return bswap<u16>(load<u16>(this.ptr, LENGTH)); }
  // @ts-ignore: decorator
  @inline get checksum(): u16 { return bswap<u16>(load<u16>(this.ptr, CHECKSUM)); }
  // @ts-ignore: decorator
  @inline get payload(): usize { return this.ptr + <usize>UDP_HEADER_LEN; }
  /** Payload bytes per the Length field. */
  // @ts-ignore: decorator
  @inline get payloadLen(): i32 { return <i32>this.length - UDP_HEADER_LEN; }

  // @ts-ignore: decorator
  @inline set srcPort(v: u16) { store<u16>(this.ptr, bswap<u16>(v), SRC_PORT); }
  // @ts-ignore: decorator
  @inline set dstPort(v: u16) { store<u16>(this.ptr, bswap<u16>(v), DST_PORT); }
  // @ts-ignore: decorator
  @inline set length(v: u16) { store<u16>(this.ptr, bswap<u16>(v), LENGTH); }
  // @ts-ignore: decorator
  @inline set checksum(v: u16) { store<u16>(this.ptr, bswap<u16>(v), CHECKSUM); }

  /** True when the checksum is absent (0) or right over Length bytes and the pseudo header. */
  verifyChecksum(srcAddr: u32, dstAddr: u32): bool {
    if (this.checksum == 0) return true;
    const l = <i32>this.length;
    return sum(this.ptr, l, pseudoHeaderSum(srcAddr, dstAddr, 17, <u32>l)) == 0xffff;
  }

  /** Computes and stores the checksum over Length bytes (0 is sent as 0xffff). */
  fillChecksum(srcAddr: u32, dstAddr: u32): void {
    const l = <i32>this.length;
    this.checksum = 0;
    const c = finish(sum(this.ptr, l, pseudoHeaderSum(srcAddr, dstAddr, 17, <u32>l)));
    this.checksum = c == 0 ? 0xffff : c;
  }
}

/** A UDP header as plain values; the payload stays in the buffer. */
export class UdpRepr {
  srcPort: u16 = 0;
  dstPort: u16 = 0;
  payload: usize = 0;
  payloadLen: i32 = 0;

  /** Reads an untrusted datagram: false unless the lengths are consistent and the checksum right. */
  parse(packet: UdpPacket, srcAddr: u32, dstAddr: u32): bool {
    if (!packet.checkLen() || !packet.verifyChecksum(srcAddr, dstAddr)) return false;
    this.srcPort = packet.srcPort;
    this.dstPort = packet.dstPort;
    this.payload = packet.payload;
    this.payloadLen = packet.payloadLen;
    return true;
  }

  /** Writes the header and checksum; the payload must already follow the header. */
  emit(packet: UdpPacket, srcAddr: u32, dstAddr: u32): void {
    packet.srcPort = this.srcPort;
    packet.dstPort = this.dstPort;
    packet.length = <u16>(UDP_HEADER_LEN + this.payloadLen);
    packet.fillChecksum(srcAddr, dstAddr);
  }
}
