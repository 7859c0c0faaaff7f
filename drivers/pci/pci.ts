// PCI: enumeration, BARs, capability lists, command register.
//
// After: PCI Local Bus Specification 3.0
//   §6.1   configuration space organisation (type 0 header below)
//   §6.2.2 Command register (I/O space, memory space, bus master, interrupt disable)
//   §6.2.5 Base Address Registers: decoding and sizing (write all ones, read back)
//   §6.7   Capabilities list (Status bit 4, pointer at 0x34, [id, next] chain)
// and PCI-to-PCI Bridge Architecture Specification 1.2 §3.2 (type 1 header: secondary bus 0x19).
// Configuration cycles go through kernel/arch/x86_64/pci_config.ts (mechanism #1, pc and q35).
//
//   type 0 header (offsets in bytes)
//   0x00 +-----------+-----------+     0x10..0x24  BAR0..BAR5
//        | device id | vendor id |     0x2C        subsystem vendor id (u16)
//   0x04 +-----------+-----------+     0x2E        subsystem id (u16)
//        |  status   |  command  |     0x34        capabilities pointer (u8)
//   0x08 +-----+-----+-----+-----+     0x3C        interrupt line (u8)
//        |class| sub |prog | rev |     0x3D        interrupt pin (u8)
//   0x0C +-----+-----+-----+-----+
//        |BIST |htype| lat |cache|     htype bit 7: multi-function device
//        +-----+-----+-----+-----+
//
//   BAR (32 bits)                         memory:  31..4 address | 3 prefetchable | 2..1 type | 0 = 0
//                                          I/O:     31..2 address | 1 reserved      | 0 = 1
//   type 00 = 32-bit, 10 = 64-bit (the next BAR holds address bits 63..32)
//
// Functions found are kept in a fixed table (no heap), in scan order: bus 0 first, bridges
// followed depth first. Everything here runs at start-up; nothing is on the packet path.

import {
  pciBdf, pciConfigRead8, pciConfigRead16, pciConfigRead32, pciConfigWrite16, pciConfigWrite32,
} from "../../kernel/arch/x86_64/pci_config";

export { pciBdf } from "../../kernel/arch/x86_64/pci_config";

// ---- configuration space offsets (type 0 header) ----
@inline export const PCI_VENDOR_ID: u32 = 0x00;
@inline export const PCI_DEVICE_ID: u32 = 0x02;
@inline export const PCI_COMMAND: u32 = 0x04;
@inline export const PCI_STATUS: u32 = 0x06;
@inline export const PCI_REVISION: u32 = 0x08;
@inline export const PCI_HEADER_TYPE: u32 = 0x0e;
@inline export const PCI_BAR0: u32 = 0x10;
@inline export const PCI_SUBSYSTEM_VENDOR_ID: u32 = 0x2c;
@inline export const PCI_SUBSYSTEM_ID: u32 = 0x2e;
@inline export const PCI_CAPABILITIES_POINTER: u32 = 0x34;
@inline export const PCI_INTERRUPT_LINE: u32 = 0x3c;
@inline export const PCI_INTERRUPT_PIN: u32 = 0x3d;
/** Type 1 (bridge) header: secondary bus number. */
@inline const PCI_SECONDARY_BUS: u32 = 0x19;

// ---- command register bits (§6.2.2) ----
@inline export const PCI_COMMAND_IO: u16 = 1 << 0;
@inline export const PCI_COMMAND_MEMORY: u16 = 1 << 1;
@inline export const PCI_COMMAND_BUS_MASTER: u16 = 1 << 2;
@inline export const PCI_COMMAND_INTX_DISABLE: u16 = 1 << 10;
/** Status register bit 4: the capabilities pointer at 0x34 is valid. */
@inline const PCI_STATUS_CAPABILITIES: u16 = 1 << 4;

// ---- capability ids (PCI Code and ID Assignment Specification, §2) ----
@inline export const PCI_CAP_MSI: u8 = 0x05;
@inline export const PCI_CAP_VENDOR: u8 = 0x09;
@inline export const PCI_CAP_PCIE: u8 = 0x10;
@inline export const PCI_CAP_MSIX: u8 = 0x11;

/** Vendor id read from an empty slot. */
@inline const NO_DEVICE: u16 = 0xffff;
/** Header type bit 7: the device has functions 1-7. */
@inline const HEADER_MULTI_FUNCTION: u8 = 0x80;
@inline const HEADER_TYPE_MASK: u8 = 0x7f;
@inline const HEADER_TYPE_BRIDGE: u8 = 0x01;
/** Capacity of the function table. */
@inline export const PCI_MAX_FUNCTIONS: i32 = 64;
/** Bound on capability-chain length, so a looping chain cannot hang the kernel. */
@inline const MAX_CAPABILITIES: i32 = 48;

/** What a Base Address Register decodes. */
export const enum BarKind { NONE = 0, IO = 1, MEM32 = 2, MEM64 = 3 }

/**
 * One entry of the function table.
 *
 *   +0  u32 bdf          +4  u16 vendor id     +6  u16 device id
 *   +8  u32 class code (class << 16 | subclass << 8 | prog-if)
 *   +12 u16 subsystem id +14 u8 header type    +15 u8 interrupt line
 */
@unmanaged export class PciFunction {
  bdf: u32;
  vendorId: u16;
  deviceId: u16;
  classCode: u32;
  subsystemId: u16;
  headerType: u8;
  interruptLine: u8;

  get bus(): u32 { return this.bdf >> 8; }
  get device(): u32 { return (this.bdf >> 3) & 0x1f; }
  get fn(): u32 { return this.bdf & 7; }
}

@inline const RECORD_BYTES: usize = 16;
const table = memory.data(<i32>RECORD_BYTES * PCI_MAX_FUNCTIONS, 8);
let count: i32 = 0;

/** Scans every bus reachable from bus 0 and fills the function table; returns how many it found. */
export function pciEnumerate(): i32 {
  count = 0;
  scanBus(0, 0);
  return count;
}

/** Number of functions found by the last `pciEnumerate()`. */
export function pciFunctionCount(): i32 {
  return count;
}

/** Entry `i` (0 <= i < pciFunctionCount()) of the function table. */
export function pciFunctionAt(i: i32): PciFunction {
  return changetype<PciFunction>(table + <usize>i * RECORD_BYTES);
}

/** Index of the first function at or after `from` with this vendor and device id, or -1. */
export function pciFind(vendorId: u16, deviceId: u16, from: i32 = 0): i32 {
  for (let i = from; i < count; i++) {
    const f = pciFunctionAt(i);
    if (f.vendorId == vendorId && f.deviceId == deviceId) return i;
  }
  return -1;
}

function scanBus(bus: u32, depth: i32): void {
  for (let dev: u32 = 0; dev < 32; dev++) {
    const bdf0 = pciBdf(bus, dev, 0);
    if (pciConfigRead16(bdf0, PCI_VENDOR_ID) == NO_DEVICE) continue;
    const multi = (pciConfigRead8(bdf0, PCI_HEADER_TYPE) & HEADER_MULTI_FUNCTION) != 0;
    const fns: u32 = multi ? 8 : 1;
    for (let fn: u32 = 0; fn < fns; fn++) {
      const bdf = pciBdf(bus, dev, fn);
      if (pciConfigRead16(bdf, PCI_VENDOR_ID) == NO_DEVICE) continue;
      record(bdf);
      const type = pciConfigRead8(bdf, PCI_HEADER_TYPE) & HEADER_TYPE_MASK;
      if (type == HEADER_TYPE_BRIDGE && depth < 8) {
        const secondary = <u32>pciConfigRead8(bdf, PCI_SECONDARY_BUS);
        // An unconfigured bridge reads 0; following it would rescan bus 0 forever.
        if (secondary > bus) scanBus(secondary, depth + 1);
      }
    }
  }
}

function record(bdf: u32): void {
  if (count >= PCI_MAX_FUNCTIONS) return;
  const f = pciFunctionAt(count++);
  const id = pciConfigRead32(bdf, PCI_VENDOR_ID);
  f.bdf = bdf;
  f.vendorId = <u16>id;
  f.deviceId = <u16>(id >> 16);
  f.classCode = pciConfigRead32(bdf, PCI_REVISION) >> 8;
  f.headerType = pciConfigRead8(bdf, PCI_HEADER_TYPE);
  f.subsystemId = (f.headerType & HEADER_TYPE_MASK) == 0 ? pciConfigRead16(bdf, PCI_SUBSYSTEM_ID) : 0;
  f.interruptLine = pciConfigRead8(bdf, PCI_INTERRUPT_LINE);
}

// ---- Base Address Registers (§6.2.5.1) ----

@inline const BAR_IO_SPACE: u32 = 1;
@inline const BAR_MEM_TYPE_MASK: u32 = 0x6;
@inline const BAR_MEM_TYPE_64: u32 = 0x4;
@inline const BAR_IO_ADDRESS_MASK: u32 = 0xffff_fffc;
@inline const BAR_MEM_ADDRESS_MASK: u32 = 0xffff_fff0;

/** What BAR `index` (0-5) of `bdf` decodes. The upper half of a 64-bit BAR reads as NONE. */
export function pciBarKind(bdf: u32, index: u32): BarKind {
  // Walk from BAR0: a 64-bit BAR takes two registers, the second being no BAR of its own.
  let i: u32 = 0;
  while (i <= 5) {
    const raw = pciConfigRead32(bdf, PCI_BAR0 + i * 4);
    // Type bits are hardwired, so 0 is either unimplemented or a 32-bit BAR not yet assigned.
    const kind = raw == 0 && pciBarSize(bdf, i) == 0 ? BarKind.NONE : kindOf(raw);
    if (i == index) return kind;
    i += kind == BarKind.MEM64 ? 2 : 1;
  }
  return BarKind.NONE;
}

@inline function kindOf(raw: u32): BarKind {
  if (raw & BAR_IO_SPACE) return BarKind.IO;
  return (raw & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 ? BarKind.MEM64 : BarKind.MEM32;
}

/**
 * Address BAR `index` decodes: an I/O port base for I/O BARs, a physical address (possibly above
 * 4 GiB) for memory BARs; 0 when unassigned.
 */
export function pciBarAddress(bdf: u32, index: u32): u64 {
  if (index > 5) return 0;
  const raw = pciConfigRead32(bdf, PCI_BAR0 + index * 4);
  if (raw & BAR_IO_SPACE) return <u64>(raw & BAR_IO_ADDRESS_MASK);
  let address = <u64>(raw & BAR_MEM_ADDRESS_MASK);
  if ((raw & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 && index < 5) {
    address |= <u64>pciConfigRead32(bdf, PCI_BAR0 + (index + 1) * 4) << 32;
  }
  return address;
}

/**
 * Size in bytes BAR `index` decodes (0 when not implemented), found by writing all ones and
 * reading back. Decoding is switched off around the probe so the device never answers at the
 * transient address, and the original value is restored.
 */
export function pciBarSize(bdf: u32, index: u32): u64 {
  if (index > 5) return 0;
  const offset = PCI_BAR0 + index * 4;
  const command = pciConfigRead16(bdf, PCI_COMMAND);
  pciConfigWrite16(bdf, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
  const raw = pciConfigRead32(bdf, offset);
  pciConfigWrite32(bdf, offset, 0xffff_ffff);
  const low = pciConfigRead32(bdf, offset);
  pciConfigWrite32(bdf, offset, raw);
  let size: u64 = 0;
  if (raw & BAR_IO_SPACE) {
    const mask = low & BAR_IO_ADDRESS_MASK & 0xffff; // I/O space is 64 KiB on x86
    size = mask == 0 ? 0 : <u64>((~mask + 1) & 0xffff);
  } else if ((raw & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64 && index < 5) {
    const highOffset = offset + 4;
    const rawHigh = pciConfigRead32(bdf, highOffset);
    pciConfigWrite32(bdf, highOffset, 0xffff_ffff);
    const high = pciConfigRead32(bdf, highOffset);
    pciConfigWrite32(bdf, highOffset, rawHigh);
    const mask = (<u64>high << 32) | <u64>(low & BAR_MEM_ADDRESS_MASK);
    size = mask == 0 ? 0 : ~mask + 1;
  } else {
    const mask = low & BAR_MEM_ADDRESS_MASK;
    size = mask == 0 ? 0 : <u64>(~mask + 1);
  }
  pciConfigWrite16(bdf, PCI_COMMAND, command);
  return size;
}

// ---- capabilities (§6.7) ----

/** Offset of the first capability of `bdf`, or 0 when it has none. */
export function pciFirstCapability(bdf: u32): u32 {
  if ((pciConfigRead16(bdf, PCI_STATUS) & PCI_STATUS_CAPABILITIES) == 0) return 0;
  return <u32>pciConfigRead8(bdf, PCI_CAPABILITIES_POINTER) & 0xfc;
}

/** Offset of the capability after the one at `at`, or 0 at the end of the list. */
export function pciNextCapability(bdf: u32, at: u32): u32 {
  return <u32>pciConfigRead8(bdf, at + 1) & 0xfc;
}

/** Capability id of the capability at `at`. */
export function pciCapabilityId(bdf: u32, at: u32): u8 {
  return pciConfigRead8(bdf, at);
}

/**
 * Offset of the first capability with id `id` after offset `after` (0: from the start of the
 * list), or 0 when there is none. Call again with the result to find the next one.
 */
export function pciFindCapability(bdf: u32, id: u8, after: u32 = 0): u32 {
  let at = pciFirstCapability(bdf);
  let seen = 0;
  let passed = after == 0;
  while (at >= 0x40 && seen++ < MAX_CAPABILITIES) {
    if (passed && pciCapabilityId(bdf, at) == id) return at;
    if (at == after) passed = true;
    at = pciNextCapability(bdf, at);
  }
  return 0;
}

// ---- command register (§6.2.2) ----

/** Turns on I/O and memory decoding and bus mastering (the device may then DMA). */
export function pciEnableBusMastering(bdf: u32): void {
  const command = pciConfigRead16(bdf, PCI_COMMAND);
  pciConfigWrite16(bdf, PCI_COMMAND, command | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
}

/** Masks or unmasks the legacy INTx line (command bit 10). */
export function pciSetIntxDisabled(bdf: u32, disabled: bool): void {
  const command = pciConfigRead16(bdf, PCI_COMMAND);
  pciConfigWrite16(bdf, PCI_COMMAND, disabled ? command | PCI_COMMAND_INTX_DISABLE : command & ~PCI_COMMAND_INTX_DISABLE);
}

/** The command register (for tests and diagnostics). */
export function pciCommand(bdf: u32): u16 {
  return pciConfigRead16(bdf, PCI_COMMAND);
}
