// ARP for IPv4 over Ethernet. RFC 826 "An Ethernet Address Resolution Protocol", "Packet
// format" (hardware type 1, protocol type 0x0800, hlen 6, plen 4; opcodes 1 request, 2 reply).
// May import: ./bytes, ./ethernet.

import { loadMac, storeMac } from "./bytes";

// Field offsets.
// @ts-ignore: decorator
@inline const HTYPE: usize = 0;
// @ts-ignore: decorator
@inline const PTYPE: usize = 2;
// @ts-ignore: decorator
@inline const HLEN: usize = 4;
// @ts-ignore: decorator
@inline const PLEN: usize = 5;
// @ts-ignore: decorator
@inline const OPER: usize = 6;
// @ts-ignore: decorator
@inline const SHA: usize = 8;
// @ts-ignore: decorator
@inline const SPA: usize = 14;
// @ts-ignore: decorator
@inline const THA: usize = 18;
// @ts-ignore: decorator
@inline const TPA: usize = 24;

/** Bytes of an Ethernet/IPv4 ARP packet (TPA is the last field). */
// @ts-ignore: decorator
@inline export const ARP_HEADER_LEN: i32 = <i32>TPA + 4;

export const enum ArpOperation {
  REQUEST = 1,
  REPLY = 2,
}

/** A view over an ARP packet. */
export class ArpPacket {
  ptr: usize = 0;
  len: i32 = 0;

  reset(ptr: usize, len: i32): ArpPacket {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /** True when the buffer holds a whole Ethernet/IPv4 ARP packet. */
  checkLen(): bool {
    return this.len >= ARP_HEADER_LEN;
  }

  // @ts-ignore: decorator
  @inline get hardwareType(): u16 { return bswap<u16>(load<u16>(this.ptr, HTYPE)); }
  // @ts-ignore: decorator
  @inline get protocolType(): u16 { return bswap<u16>(load<u16>(this.ptr, PTYPE)); }
  // @ts-ignore: decorator
  @inline get hardwareLen(): u8 { return load<u8>(this.ptr, HLEN); }
  // @ts-ignore: decorator
  @inline get protocolLen(): u8 { return load<u8>(this.ptr, PLEN); }
  // @ts-ignore: decorator
  @inline get operation(): u16 { return bswap<u16>(load<u16>(this.ptr, OPER)); }
  // @ts-ignore: decorator
  @inline get senderHardwareAddr(): u64 { return loadMac(this.ptr + SHA); }
  // @ts-ignore: decorator
  @inline get senderProtocolAddr(): u32 { return bswap<u32>(load<u32>(this.ptr, SPA)); }
  // @ts-ignore: decorator
  @inline get targetHardwareAddr(): u64 { return loadMac(this.ptr + THA); }
  // @ts-ignore: decorator
  @inline get targetProtocolAddr(): u32 { return bswap<u32>(load<u32>(this.ptr, TPA)); }

  // @ts-ignore: decorator
  @inline set hardwareType(v: u16) { store<u16>(this.ptr, bswap<u16>(v), HTYPE); }
  // @ts-ignore: decorator
  @inline set protocolType(v: u16) { store<u16>(this.ptr, bswap<u16>(v), PTYPE); }
  // @ts-ignore: decorator
  @inline set hardwareLen(v: u8) { store<u8>(this.ptr, v, HLEN); }
  // @ts-ignore: decorator
  @inline set protocolLen(v: u8) { store<u8>(this.ptr, v, PLEN); }
  // @ts-ignore: decorator
  @inline set operation(v: u16) { store<u16>(this.ptr, bswap<u16>(v), OPER); }
  // @ts-ignore: decorator
  @inline set senderHardwareAddr(v: u64) { storeMac(this.ptr + SHA, v); }
  // @ts-ignore: decorator
  @inline set senderProtocolAddr(v: u32) { store<u32>(this.ptr, bswap<u32>(v), SPA); }
  // @ts-ignore: decorator
  @inline set targetHardwareAddr(v: u64) { storeMac(this.ptr + THA, v); }
  // @ts-ignore: decorator
  @inline set targetProtocolAddr(v: u32) { store<u32>(this.ptr, bswap<u32>(v), TPA); }
}

/** An Ethernet/IPv4 ARP packet as plain values. */
export class ArpRepr {
  operation: u16 = 0;
  senderHardwareAddr: u64 = 0;
  senderProtocolAddr: u32 = 0;
  targetHardwareAddr: u64 = 0;
  targetProtocolAddr: u32 = 0;

  /**
   * Reads an untrusted packet. False when it is too short or not Ethernet/IPv4 (RFC 826:
   * "?Do I have the hardware type in ar$hrd? ... ?Do I speak the protocol in ar$pro?").
   * The opcode is not checked here (the interface counts unknown opcodes separately).
   */
  parse(packet: ArpPacket): bool {
    if (!packet.checkLen()) return false;
    if (packet.hardwareType != 1 || packet.protocolType != 0x0800) return false;
    if (packet.hardwareLen != 6 || packet.protocolLen != 4) return false;
    this.operation = packet.operation;
    this.senderHardwareAddr = packet.senderHardwareAddr;
    this.senderProtocolAddr = packet.senderProtocolAddr;
    this.targetHardwareAddr = packet.targetHardwareAddr;
    this.targetProtocolAddr = packet.targetProtocolAddr;
    return true;
  }

  /** Writes ARP_HEADER_LEN bytes. */
  emit(packet: ArpPacket): void {
    packet.hardwareType = 1;
    packet.protocolType = 0x0800;
    packet.hardwareLen = 6;
    packet.protocolLen = 4;
    packet.operation = this.operation;
    packet.senderHardwareAddr = this.senderHardwareAddr;
    packet.senderProtocolAddr = this.senderProtocolAddr;
    packet.targetHardwareAddr = this.targetHardwareAddr;
    packet.targetProtocolAddr = this.targetProtocolAddr;
  }
}
