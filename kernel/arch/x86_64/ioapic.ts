// I/O APIC: routes a global system interrupt (GSI: an input pin) to a vector on a local APIC.
//
// Source: Intel 82093AA I/O Advanced Programmable Interrupt Controller (IOAPIC) data sheet
// (order 290566): §3.0 register access through IOREGSEL (base + 0x00) and IOWIN (base + 0x10);
// §3.2.2 IOAPICVER (index 1: bits 23:16 = highest redirection entry); §3.2.4 the redirection table
// (index 0x10 + 2n: low dword, 0x11 + 2n: high dword).
//
// The base is the conventional 0xFEC00000 (ACPI MADT would say otherwise on exotic machines). On
// QEMU `pc` the ISA IRQs 0..15 are GSIs 0..15 (IRQ 0 is GSI 2); PCI INTx lines are level-triggered
// (on i440fx they reach GSIs 5/9/10/11 through the PIIX PIRQ router, on q35 GSIs 16..23).
// microvm has an IOAPIC at the same address (virtio-mmio devices on GSIs 16..).
//
// Redirection entry (64 bits):
// ```
//  63      56 55        17 16 15 14 13 12 11 10  8 7        0
// ┌──────────┬────────────┬──┬──┬──┬──┬──┬──┬─────┬──────────┐
// │ dest APIC│  reserved  │M │TM│RI│PP│DS│DM│ DLM │  vector  │  M = masked, TM = 1 level,
// └──────────┴────────────┴──┴──┴──┴──┴──┴──┴─────┴──────────┘  PP = 1 active low, DM = 0 physical
// ```

import { mmioRead32, mmioWrite32 } from "./intrinsics";

/** Default physical base of the first IOAPIC. */
export const IOAPIC_DEFAULT_BASE: u64 = 0xfec0_0000;
@inline const IOREGSEL: u64 = 0x00;
@inline const IOWIN: u64 = 0x10;
@inline const REG_ID: u32 = 0x00;
@inline const REG_VERSION: u32 = 0x01;
@inline const REG_REDIRECTION: u32 = 0x10;
@inline const ENTRY_MASKED: u32 = 1 << 16;
@inline const ENTRY_LEVEL: u32 = 1 << 15;
@inline const ENTRY_ACTIVE_LOW: u32 = 1 << 13;

/** Trigger mode and polarity of a line. */
export const enum IrqTrigger { EDGE_HIGH = 0, LEVEL_LOW = 1, LEVEL_HIGH = 2, EDGE_LOW = 3 }

let base: u64 = IOAPIC_DEFAULT_BASE;

function readReg(index: u32): u32 {
  mmioWrite32(base + IOREGSEL, index);
  return mmioRead32(base + IOWIN);
}

function writeReg(index: u32, v: u32): void {
  mmioWrite32(base + IOREGSEL, index);
  mmioWrite32(base + IOWIN, v);
}

/** Uses the IOAPIC at `physBase` instead of the default (from ACPI MADT, when someone parses it). */
export function ioapicSetBase(physBase: u64): void { base = physBase; }

/** Number of redirection entries (pins); 0 when nothing answers at the base. */
export function ioapicPins(): u32 {
  const v = readReg(REG_VERSION);
  if (v == 0xffff_ffff) return 0;
  return ((v >> 16) & 0xff) + 1;
}

/** IOAPIC id register (bits 27:24). */
export function ioapicId(): u32 { return (readReg(REG_ID) >> 24) & 0xf; }

/** Masks every pin (done once at boot: nothing is routed until a driver asks). */
export function ioapicMaskAll(): void {
  const pins = ioapicPins();
  for (let pin: u32 = 0; pin < pins; pin++) writeReg(REG_REDIRECTION + 2 * pin, ENTRY_MASKED);
}

/**
 * Routes pin `gsi` to `vector` on the local APIC `destApicId` (physical destination, fixed
 * delivery) with the given trigger mode, unmasked. Level-triggered lines stay asserted until the
 * driver acknowledges its device; the event loop's EOI after the handler keeps that safe.
 */
export function ioapicRoute(gsi: u32, vector: u8, trigger: IrqTrigger, destApicId: u32 = 0): void {
  let low = <u32>vector;
  if (trigger == IrqTrigger.LEVEL_LOW || trigger == IrqTrigger.LEVEL_HIGH) low |= ENTRY_LEVEL;
  if (trigger == IrqTrigger.LEVEL_LOW || trigger == IrqTrigger.EDGE_LOW) low |= ENTRY_ACTIVE_LOW;
  writeReg(REG_REDIRECTION + 2 * gsi, ENTRY_MASKED); // masked while changing the destination
  writeReg(REG_REDIRECTION + 2 * gsi + 1, destApicId << 24);
  writeReg(REG_REDIRECTION + 2 * gsi, low);
}

/** Masks (true) or unmasks (false) pin `gsi`, keeping its routing. */
export function ioapicSetMasked(gsi: u32, masked: bool): void {
  const low = readReg(REG_REDIRECTION + 2 * gsi);
  writeReg(REG_REDIRECTION + 2 * gsi, masked ? low | ENTRY_MASKED : low & ~ENTRY_MASKED);
}

/** The low dword of pin `gsi`'s redirection entry (for diagnostics and tests). */
export function ioapicEntryLow(gsi: u32): u32 { return readReg(REG_REDIRECTION + 2 * gsi); }
