// 16550 UART on COM1 (I/O port 0x3F8): polled transmit, the kernel's console output.
//
// Register map after: National Semiconductor PC16550D datasheet, table II.
//
//   port  DLAB=0 read/write     DLAB=1
//   +0    RBR / THR             DLL (divisor low)
//   +1    IER                   DLM (divisor high)
//   +2    IIR / FCR
//   +3    LCR  (bit 7 = DLAB, bits 0-1 = word length, bit 2 = stop bits, bits 3-5 = parity)
//   +4    MCR  (bit 0 = DTR, bit 1 = RTS, bit 3 = OUT2)
//   +5    LSR  (bit 0 = data ready, bit 5 = THR empty, bit 6 = transmitter idle)

import { outb, inb, pause } from "./intrinsics";

/** COM1 base port. */
@inline export const COM1: u16 = 0x3f8;
@inline const THR: u16 = 0;           // transmit holding register (DLAB=0)
@inline const IER: u16 = 1;           // interrupt enable
@inline const DLL: u16 = 0;           // divisor latch low (DLAB=1)
@inline const DLM: u16 = 1;           // divisor latch high (DLAB=1)
@inline const FCR: u16 = 2;           // FIFO control
@inline const LCR: u16 = 3;           // line control
@inline const MCR: u16 = 4;           // modem control
@inline const LSR: u16 = 5;           // line status
@inline const LSR_THR_EMPTY: u8 = 0x20;
@inline const LSR_TX_IDLE: u8 = 0x40;  // transmitter empty: FIFO and shift register
@inline const LCR_DLAB: u8 = 0x80;
@inline const LCR_8N1: u8 = 0x03;     // 8 data bits, no parity, 1 stop bit
@inline const FCR_ENABLE_CLEAR: u8 = 0xc7; // enable FIFOs, clear RX/TX, 14-byte RX threshold
@inline const MCR_DTR_RTS: u8 = 0x03;
/** 115200 baud = 1.8432 MHz / 16 / 1. */
@inline const DIVISOR_115200: u16 = 1;
/** Polls of LSR before giving up on one byte, so a missing UART cannot hang the kernel. */
@inline const MAX_SPINS: i32 = 1 << 20;

/** Programs COM1 for 115200 baud 8N1, FIFOs on, interrupts off. */
export function uartInit(): void {
  outb(COM1 + IER, 0x00);                       // no interrupts: we poll
  outb(COM1 + LCR, LCR_DLAB);                   // expose the divisor latch
  outb(COM1 + DLL, <u8>(DIVISOR_115200 & 0xff));
  outb(COM1 + DLM, <u8>(DIVISOR_115200 >> 8));
  outb(COM1 + LCR, LCR_8N1);                    // also clears DLAB
  outb(COM1 + FCR, FCR_ENABLE_CLEAR);
  outb(COM1 + MCR, MCR_DTR_RTS);
}

/** Sends one byte, waiting until the transmit holding register is empty. */
export function uartPutc(byte: u8): void {
  for (let spins = 0; spins < MAX_SPINS; spins++) {
    if (inb(COM1 + LSR) & LSR_THR_EMPTY) break;
    pause();
  }
  outb(COM1 + THR, byte);
}

/** Waits until the last byte has left the transmitter (LSR bit 6: FIFO and shift register empty),
 *  at most MAX_SPINS polls: before the VM is powered off, so the console's last line is not cut. */
export function uartFlush(): void {
  for (let spins = 0; spins < MAX_SPINS; spins++) {
    if (inb(COM1 + LSR) & LSR_TX_IDLE) return;
    pause();
  }
}
