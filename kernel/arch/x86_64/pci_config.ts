// PCI configuration space access through configuration mechanism #1 (ports 0xCF8 / 0xCFC).
//
// After: PCI Local Bus Specification 3.0, §3.2.2.3.2 "Software Generation of Configuration
// Transactions" (CONFIG_ADDRESS / CONFIG_DATA). Present on QEMU pc and q35 (q35 also has ECAM,
// which this file does not use). QEMU microvm has no port-based PCI at all.
//
//   CONFIG_ADDRESS (0xCF8, 32-bit write)
//    31    30..24    23..16   15..11    10..8      7..2         1..0
//   +----+----------+--------+--------+----------+-------------+-----+
//   | EN | reserved |  bus   | device | function | dword index | 00  |
//   +----+----------+--------+--------+----------+-------------+-----+
//   CONFIG_DATA (0xCFC..0xCFF): the addressed dword; byte/word lanes at 0xCFC + (offset & 3).
//
// A device is named by its "bdf": bus << 8 | device << 3 | function (the low 16 bits of the
// address above, shifted down by 8). Only the kernel runs, never re-entered from an interrupt,
// so the two-step address/data sequence needs no lock.

import { outl, inl, inw, inb, outw, outb } from "./intrinsics";

@inline const CONFIG_ADDRESS: u16 = 0xcf8;
@inline const CONFIG_DATA: u16 = 0xcfc;
/** Bit 31 of CONFIG_ADDRESS: enable the configuration cycle. */
@inline const CONFIG_ENABLE: u32 = 0x8000_0000;

/** Builds a bdf from bus (0-255), device (0-31) and function (0-7). */
@inline export function pciBdf(bus: u32, device: u32, fn: u32): u32 {
  return ((bus & 0xff) << 8) | ((device & 0x1f) << 3) | (fn & 7);
}

@inline function selectDword(bdf: u32, offset: u32): void {
  outl(CONFIG_ADDRESS, CONFIG_ENABLE | ((bdf & 0xffff) << 8) | (offset & 0xfc));
}

/** Reads the dword at `offset` (rounded down to 4) of the function `bdf`. */
export function pciConfigRead32(bdf: u32, offset: u32): u32 {
  selectDword(bdf, offset);
  return inl(CONFIG_DATA);
}

/** Reads the word at `offset` (2-aligned). */
export function pciConfigRead16(bdf: u32, offset: u32): u16 {
  selectDword(bdf, offset);
  return inw(CONFIG_DATA + <u16>(offset & 2));
}

/** Reads the byte at `offset`. */
export function pciConfigRead8(bdf: u32, offset: u32): u8 {
  selectDword(bdf, offset);
  return inb(CONFIG_DATA + <u16>(offset & 3));
}

/** Writes the dword at `offset` (rounded down to 4). */
export function pciConfigWrite32(bdf: u32, offset: u32, v: u32): void {
  selectDword(bdf, offset);
  outl(CONFIG_DATA, v);
}

/** Writes the word at `offset` (2-aligned). */
export function pciConfigWrite16(bdf: u32, offset: u32, v: u16): void {
  selectDword(bdf, offset);
  outw(CONFIG_DATA + <u16>(offset & 2), v);
}

/** Writes the byte at `offset`. */
export function pciConfigWrite8(bdf: u32, offset: u32, v: u8): void {
  selectDword(bdf, offset);
  outb(CONFIG_DATA + <u16>(offset & 3), v);
}
