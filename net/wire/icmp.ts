// ICMP for IPv4: the common header and echo messages. RFC 792 "Internet Control Message
// Protocol", "Echo or Echo Reply Message" and "Destination Unreachable Message"; RFC 1122 §3.2.2.
//
//    0                   1                   2                   3
//   |     Type      |     Code      |          Checksum             |
//   |           Identifier          |        Sequence Number        |   (echo; "unused" otherwise)
//   |     Data ...
// May import: ./checksum.

import { finish, sum, verify } from "./checksum";

// Field offsets.
// @ts-ignore: decorator
@inline const TYPE: usize = 0;
// @ts-ignore: decorator
@inline const CODE: usize = 1;
// @ts-ignore: decorator
@inline const CHECKSUM: usize = 2;
// @ts-ignore: decorator
@inline const IDENT: usize = 4;
// @ts-ignore: decorator
@inline const SEQ_NO: usize = 6;

/** Bytes of the fixed header (SEQ_NO is the last field; for non-echo types it is "unused"). */
// @ts-ignore: decorator
@inline export const ICMP_HEADER_LEN: i32 = <i32>SEQ_NO + 2;

export const enum IcmpType {
  ECHO_REPLY = 0,
  DEST_UNREACHABLE = 3,
  ECHO_REQUEST = 8,
}

/** Destination-unreachable codes (RFC 792). */
export const enum IcmpUnreachable {
  PROTOCOL = 2,
  PORT = 3,
}

/** A view over an ICMP message. */
export class IcmpPacket {
  ptr: usize = 0;
  len: i32 = 0;

  reset(ptr: usize, len: i32): IcmpPacket {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /** True when the buffer holds the 8-byte header. */
  checkLen(): bool {
    return this.len >= ICMP_HEADER_LEN;
  }

  // @ts-ignore: decorator
  @inline get msgType(): u8 { return load<u8>(this.ptr, TYPE); }
  // @ts-ignore: decorator
  @inline get code(): u8 { return load<u8>(this.ptr, CODE); }
  // @ts-ignore: decorator
  @inline get checksum(): u16 { return bswap<u16>(load<u16>(this.ptr, CHECKSUM)); }
  // @ts-ignore: decorator
  @inline get echoIdent(): u16 { return bswap<u16>(load<u16>(this.ptr, IDENT)); }
  // @ts-ignore: decorator
  @inline get echoSeqNo(): u16 { return bswap<u16>(load<u16>(this.ptr, SEQ_NO)); }
  // @ts-ignore: decorator
  @inline get data(): usize { return this.ptr + <usize>ICMP_HEADER_LEN; }
  // @ts-ignore: decorator
  @inline get dataLen(): i32 { return this.len - ICMP_HEADER_LEN; }

  // @ts-ignore: decorator
  @inline set msgType(v: u8) { store<u8>(this.ptr, v, TYPE); }
  // @ts-ignore: decorator
  @inline set code(v: u8) { store<u8>(this.ptr, v, CODE); }
  // @ts-ignore: decorator
  @inline set checksum(v: u16) { store<u16>(this.ptr, bswap<u16>(v), CHECKSUM); }
  // @ts-ignore: decorator
  @inline set echoIdent(v: u16) { store<u16>(this.ptr, bswap<u16>(v), IDENT); }
  // @ts-ignore: decorator
  @inline set echoSeqNo(v: u16) { store<u16>(this.ptr, bswap<u16>(v), SEQ_NO); }
  /** The 32-bit "unused" word of error messages. */
  // @ts-ignore: decorator
  @inline clearRest(): void { store<u32>(this.ptr, 0, IDENT); }

  /** True when the checksum over the whole message (`len` bytes) is right. */
  verifyChecksum(): bool {
    return verify(this.ptr, this.len);
  }

  /** Computes and stores the checksum over `len` bytes (RFC 792: "starting with the ICMP Type"). */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = finish(sum(this.ptr, this.len));
  }
}

/** An echo request or reply as plain values; the data stays in the buffer (`data`, `dataLen`). */
export class IcmpEchoRepr {
  msgType: u8 = 0;
  ident: u16 = 0;
  seqNo: u16 = 0;
  data: usize = 0;
  dataLen: i32 = 0;

  /** Reads an untrusted message: false unless long enough, an echo, code 0 and checksum right. */
  parse(packet: IcmpPacket): bool {
    if (!packet.checkLen() || !packet.verifyChecksum()) return false;
    const t = packet.msgType;
    if ((t != IcmpType.ECHO_REQUEST && t != IcmpType.ECHO_REPLY) || packet.code != 0) return false;
    this.msgType = t;
    this.ident = packet.echoIdent;
    this.seqNo = packet.echoSeqNo;
    this.data = packet.data;
    this.dataLen = packet.dataLen;
    return true;
  }

  /**
   * Writes the header and checksum. The data is not copied: it must already follow the header,
   * and `packet.len` must be ICMP_HEADER_LEN + dataLen.
   */
  emit(packet: IcmpPacket): void {
    packet.msgType = this.msgType;
    packet.code = 0;
    packet.echoIdent = this.ident;
    packet.echoSeqNo = this.seqNo;
    packet.fillChecksum();
  }
}
