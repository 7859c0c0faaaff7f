// IPv4 headers. RFC 791 "Internet Protocol" §3.1 "Internet Header Format"; validity checks after
// RFC 1122 §3.2.1 (version, header checksum, lengths).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |Type of Service|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options                    |    Padding    |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// May import: ./checksum.

import { finish, sum, verify } from "./checksum";

// Field offsets.
// @ts-ignore: decorator
@inline const VER_IHL: usize = 0;
// @ts-ignore: decorator
@inline const DSCP_ECN: usize = 1;
// @ts-ignore: decorator
@inline const LENGTH: usize = 2;
// @ts-ignore: decorator
@inline const IDENT: usize = 4;
// @ts-ignore: decorator
@inline const FLG_OFF: usize = 6;
// @ts-ignore: decorator
@inline const TTL: usize = 8;
// @ts-ignore: decorator
@inline const PROTOCOL: usize = 9;
// @ts-ignore: decorator
@inline const CHECKSUM: usize = 10;
// @ts-ignore: decorator
@inline const SRC_ADDR: usize = 12;
// @ts-ignore: decorator
@inline const DST_ADDR: usize = 16;

/** Bytes of a header without options (DST_ADDR is the last field). */
// @ts-ignore: decorator
@inline export const IPV4_HEADER_LEN: i32 = <i32>DST_ADDR + 4;

/** "More fragments" flag and fragment offset mask within the flags/offset field. */
// @ts-ignore: decorator
@inline const FLAG_MF: u16 = 0x2000;
// @ts-ignore: decorator
@inline const FLAG_DF: u16 = 0x4000;
// @ts-ignore: decorator
@inline const OFFSET_MASK: u16 = 0x1fff;

/** The limited broadcast address 255.255.255.255. */
// @ts-ignore: decorator
@inline export const IPV4_BROADCAST: u32 = 0xffff_ffff;

/** IP protocol numbers (RFC 790 / IANA). */
export const enum IpProtocol {
  ICMP = 1,
  TCP = 6,
  UDP = 17,
}

/** A view over an IPv4 packet. */
export class Ipv4Packet {
  ptr: usize = 0;
  len: i32 = 0;

  reset(ptr: usize, len: i32): Ipv4Packet {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /**
   * True when the lengths are consistent: the buffer holds 20 bytes, the IHL is at least 5 and
   * its header fits in the buffer, and IHL*4 <= Total Length <= buffer length (the buffer may be
   * longer: Ethernet padding). Does not check the version or the checksum.
   */
  checkLen(): bool {
    if (this.len < IPV4_HEADER_LEN) return false;
    const hl = this.headerLen;
    if (hl < IPV4_HEADER_LEN || hl > this.len) return false;
    const total = <i32>this.totalLen;
    return total >= hl && total <= this.len;
  }

  // @ts-ignore: decorator
  @inline get version(): u8 { return load<u8>(this.ptr, VER_IHL) >> 4; }
  /** Header length in bytes (IHL * 4). */
  // @ts-ignore: decorator
  @inline get headerLen(): i32 { return (<i32>load<u8>(this.ptr, VER_IHL) & 0xf) << 2; }
  // @ts-ignore: decorator
  @inline get dscpEcn(): u8 { return load<u8>(this.ptr, DSCP_ECN); }
  // @ts-ignore: decorator
  @inline get totalLen(): u16 { return bswap<u16>(load<u16>(this.ptr, LENGTH)); }
  // @ts-ignore: decorator
  @inline get ident(): u16 { return bswap<u16>(load<u16>(this.ptr, IDENT)); }
  // @ts-ignore: decorator
  @inline get dontFragment(): bool { return (bswap<u16>(load<u16>(this.ptr, FLG_OFF)) & FLAG_DF) != 0; }
  // @ts-ignore: decorator
  @inline get moreFragments(): bool { return (bswap<u16>(load<u16>(this.ptr, FLG_OFF)) & FLAG_MF) != 0; }
  /** Fragment offset in 8-byte units. */
  // @ts-ignore: decorator
  @inline get fragOffset(): u16 { return bswap<u16>(load<u16>(this.ptr, FLG_OFF)) & OFFSET_MASK; }
  // @ts-ignore: decorator
  @inline get ttl(): u8 { return load<u8>(this.ptr, TTL); }
  // @ts-ignore: decorator
  @inline get protocol(): u8 { return load<u8>(this.ptr, PROTOCOL); }
  // @ts-ignore: decorator
  @inline get checksum(): u16 { return bswap<u16>(load<u16>(this.ptr, CHECKSUM)); }
  // @ts-ignore: decorator
  @inline get srcAddr(): u32 { return bswap<u32>(load<u32>(this.ptr, SRC_ADDR)); }
  // @ts-ignore: decorator
  @inline get dstAddr(): u32 { return bswap<u32>(load<u32>(this.ptr, DST_ADDR)); }
  /** First payload byte (after options). */
  // @ts-ignore: decorator
  @inline get payload(): usize { return this.ptr + <usize>this.headerLen; }
  /** Payload bytes per Total Length (padding excluded). */
  // @ts-ignore: decorator
  @inline get payloadLen(): i32 { return <i32>this.totalLen - this.headerLen; }

  /** True when the header checksum (over IHL*4 bytes) is correct. Needs checkLen. */
  verifyChecksum(): bool {
    return verify(this.ptr, this.headerLen);
  }

  /** Sets version 4 and IHL 5 (no options). */
  // @ts-ignore: decorator
  @inline setVersionIhl(): void { store<u8>(this.ptr, 0x45, VER_IHL); }
  // @ts-ignore: decorator
  @inline set dscpEcn(v: u8) { store<u8>(this.ptr, v, DSCP_ECN); }
  // @ts-ignore: decorator
  @inline set totalLen(v: u16) { store<u16>(this.ptr, bswap<u16>(v), LENGTH); }
  // @ts-ignore: decorator
  @inline set ident(v: u16) { store<u16>(this.ptr, bswap<u16>(v), IDENT); }
  /** Writes the flags/offset field: DF as given, MF clear, offset 0 (we never fragment). */
  // @ts-ignore: decorator
  @inline setUnfragmented(dontFragment: bool): void {
    store<u16>(this.ptr, bswap<u16>(dontFragment ? FLAG_DF : 0), FLG_OFF);
  }
  // @ts-ignore: decorator
  @inline set ttl(v: u8) { store<u8>(this.ptr, v, TTL); }
  // @ts-ignore: decorator
  @inline set protocol(v: u8) { store<u8>(this.ptr, v, PROTOCOL); }
  // @ts-ignore: decorator
  @inline set checksum(v: u16) { store<u16>(this.ptr, bswap<u16>(v), CHECKSUM); }
  // @ts-ignore: decorator
  @inline set srcAddr(v: u32) { store<u32>(this.ptr, bswap<u32>(v), SRC_ADDR); }
  // @ts-ignore: decorator
  @inline set dstAddr(v: u32) { store<u32>(this.ptr, bswap<u32>(v), DST_ADDR); }

  /** Computes and stores the header checksum (RFC 791 §3.1 "Header Checksum"). */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = finish(sum(this.ptr, this.headerLen));
  }
}

/** An IPv4 header (without options) as plain values. */
export class Ipv4Repr {
  srcAddr: u32 = 0;
  dstAddr: u32 = 0;
  protocol: u8 = 0;
  ttl: u8 = 64;
  ident: u16 = 0;
  dontFragment: bool = false;
  /** Payload bytes. */
  payloadLen: i32 = 0;

  /**
   * Reads an untrusted packet: false unless lengths are consistent, the version is 4 and the
   * checksum is right. Fragments are reported through `packet.moreFragments/fragOffset`, not here.
   */
  parse(packet: Ipv4Packet): bool {
    if (!packet.checkLen() || packet.version != 4 || !packet.verifyChecksum()) return false;
    this.srcAddr = packet.srcAddr;
    this.dstAddr = packet.dstAddr;
    this.protocol = packet.protocol;
    this.ttl = packet.ttl;
    this.ident = packet.ident;
    this.dontFragment = packet.dontFragment;
    this.payloadLen = packet.payloadLen;
    return true;
  }

  /** Writes IPV4_HEADER_LEN bytes, checksum included. */
  emit(packet: Ipv4Packet): void {
    packet.setVersionIhl();
    packet.dscpEcn = 0;
    packet.totalLen = <u16>(IPV4_HEADER_LEN + this.payloadLen);
    packet.ident = this.ident;
    packet.setUnfragmented(this.dontFragment);
    packet.ttl = this.ttl;
    packet.protocol = this.protocol;
    packet.srcAddr = this.srcAddr;
    packet.dstAddr = this.dstAddr;
    packet.fillChecksum();
  }
}
