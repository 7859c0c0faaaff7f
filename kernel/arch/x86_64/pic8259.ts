// Legacy 8259A programmable interrupt controllers (master at 0x20, slave at 0xA0): remapped away
// from the CPU exception vectors and then fully masked. Device interrupts go through the local
// APIC and the IOAPIC instead (lapic.ts, ioapic.ts).
//
// Source: Intel 8259A data sheet (order 231468): ICW1..ICW4 initialisation sequence, OCW1 (the
// interrupt mask register). After the BIOS, IRQ 0..7 would land on vectors 8..15, which are CPU
// exceptions in protected mode; remapping first means even a stray IRQ can never look like a #DF.
// With every line masked the 8259 raises nothing but, rarely, a spurious IRQ 7/15: the local
// APIC's LINT0 is masked too (lapic.ts), so not even those reach the CPU.

import { outb, inb } from "./intrinsics";

@inline const MASTER_CMD: u16 = 0x20;
@inline const MASTER_DATA: u16 = 0x21;
@inline const SLAVE_CMD: u16 = 0xa0;
@inline const SLAVE_DATA: u16 = 0xa1;
/** ICW1: initialisation, edge triggered, cascade mode, ICW4 follows. */
@inline const ICW1_INIT_ICW4: u8 = 0x11;
/** ICW3 (master): a slave on IR2. */
@inline const ICW3_MASTER_SLAVE_ON_IR2: u8 = 0x04;
/** ICW3 (slave): its cascade identity is 2. */
@inline const ICW3_SLAVE_ID: u8 = 0x02;
/** ICW4: 8086/8088 mode, normal EOI. */
@inline const ICW4_8086: u8 = 0x01;
/** First vector of the master (IRQ 0..7 -> 0x20..0x27) and of the slave (IRQ 8..15 -> 0x28..0x2F). */
export const PIC_MASTER_VECTOR: u8 = 0x20;
export const PIC_SLAVE_VECTOR: u8 = 0x28;

/** Remaps both PICs to vectors 0x20..0x2F and masks all 16 lines. */
export function picRemapAndMask(): void {
  outb(MASTER_CMD, ICW1_INIT_ICW4);
  ioWait();
  outb(SLAVE_CMD, ICW1_INIT_ICW4);
  ioWait();
  outb(MASTER_DATA, PIC_MASTER_VECTOR); // ICW2: vector offset
  ioWait();
  outb(SLAVE_DATA, PIC_SLAVE_VECTOR);
  ioWait();
  outb(MASTER_DATA, ICW3_MASTER_SLAVE_ON_IR2);
  ioWait();
  outb(SLAVE_DATA, ICW3_SLAVE_ID);
  ioWait();
  outb(MASTER_DATA, ICW4_8086);
  ioWait();
  outb(SLAVE_DATA, ICW4_8086);
  ioWait();
  outb(MASTER_DATA, 0xff); // OCW1: mask IRQ 0..7
  outb(SLAVE_DATA, 0xff); // OCW1: mask IRQ 8..15
}

/** The interrupt mask registers (slave << 8 | master): 0xFFFF after picRemapAndMask. */
export function picMask(): u16 {
  return (<u16>inb(SLAVE_DATA) << 8) | <u16>inb(MASTER_DATA);
}

/** A write to an unused port: gives an old 8259 time between initialisation words. */
@inline function ioWait(): void {
  outb(0x80, 0);
}
