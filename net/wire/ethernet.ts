// Ethernet II frames (IEEE 802.3 / RFC 894 "A Standard for the Transmission of IP Datagrams over
// Ethernet Networks"): destination, source, EtherType, payload. No 802.1Q tags, no FCS (the
// device strips and appends it).
// May import: ./bytes.

import { loadMac, storeMac } from "./bytes";

// Field offsets.
// @ts-ignore: decorator
@inline const DST: usize = 0;
// @ts-ignore: decorator
@inline const SRC: usize = 6;
// @ts-ignore: decorator
@inline const ETHERTYPE: usize = 12;

/** Bytes before the payload (EtherType is the last field). */
// @ts-ignore: decorator
@inline export const ETHERNET_HEADER_LEN: i32 = <i32>ETHERTYPE + 2;

/** EtherType values this stack knows. */
export const enum EtherType {
  IPV4 = 0x0800,
  ARP = 0x0806,
}

/** A view over an Ethernet frame: re-pointed with `reset`, never allocated per packet. */
export class EthernetFrame {
  ptr: usize = 0;
  len: i32 = 0;

  /** Points the view at `len` bytes at `ptr` (unchecked until `checkLen`). */
  reset(ptr: usize, len: i32): EthernetFrame {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /** True when the buffer holds the whole header; required before any getter on untrusted input. */
  checkLen(): bool {
    return this.len >= ETHERNET_HEADER_LEN;
  }

  // @ts-ignore: decorator
  @inline get dstAddr(): u64 { return loadMac(this.ptr + DST); }
  // @ts-ignore: decorator
  @inline get srcAddr(): u64 { return loadMac(this.ptr + SRC); }
  // @ts-ignore: decorator
  @inline get etherType(): u16 { return bswap<u16>(load<u16>(this.ptr, ETHERTYPE)); }

  // @ts-ignore: decorator
  @inline set dstAddr(v: u64) { storeMac(this.ptr + DST, v); }
  // @ts-ignore: decorator
  @inline set srcAddr(v: u64) { storeMac(this.ptr + SRC, v); }
  // @ts-ignore: decorator
  @inline set etherType(v: u16) { store<u16>(this.ptr, bswap<u16>(v), ETHERTYPE); }

  /** First payload byte. */
  // @ts-ignore: decorator
  @inline get payload(): usize { return this.ptr + <usize>ETHERNET_HEADER_LEN; }
  /** Payload bytes (including any padding up to the 60-byte minimum). */
  // @ts-ignore: decorator
  @inline get payloadLen(): i32 { return this.len - ETHERNET_HEADER_LEN; }
}

/** The header as plain values. */
export class EthernetRepr {
  srcAddr: u64 = 0;
  dstAddr: u64 = 0;
  etherType: u16 = 0;

  /** Reads a frame that passed `checkLen`. */
  parse(frame: EthernetFrame): bool {
    if (!frame.checkLen()) return false;
    this.srcAddr = frame.srcAddr;
    this.dstAddr = frame.dstAddr;
    this.etherType = frame.etherType;
    return true;
  }

  /** Writes the header (ETHERNET_HEADER_LEN bytes) into `frame`. */
  emit(frame: EthernetFrame): void {
    frame.dstAddr = this.dstAddr;
    frame.srcAddr = this.srcAddr;
    frame.etherType = this.etherType;
  }
}
