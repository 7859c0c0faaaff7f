// Kernel entry module of every bare-metal image: `_start`, `_exit` and the trap handler.
//
// The boot stub's entry64 runs, in order: this module's start section (top-level statements),
// the export `_start`, the export `main` (the application's, from <app>/main.ts, compiled into the
// same module), the export `_run` (the event loop: until no timer or poller is left), then exits
// with status 0 (tools/link/ABI.md "Entry").
//
// Boot report line, e.g.:
//   [    0.012345] info: boot: PVH, RAM 130036 KiB (125500 KiB free), TSC 2994 MHz, 8123 us from stub to _start

import { uartInit } from "./arch/x86_64/uart16550";
import { readTsc, tscFrequencyHz, ticksToMicros } from "./arch/x86_64/tsc";
import { exit } from "./arch/x86_64/debug_exit";
import { bootSourceName, bootTscAtStub, totalRamBytes } from "./bootinfo";
import { LogLevel, logBegin, newline, print, printU64, printHex0x } from "./console";
import { interruptsInit, ioapicPinsFound } from "./arch/x86_64/interrupts";
import { lapicBase, lapicId, lapicTscDeadline, lapicTimerHz } from "./arch/x86_64/lapic";
import { run } from "./events/loop";
import { pagesInit, pagesTotal, pagesUsed } from "./runtime/pages";

export { __trap } from "./panic";

/** Kernel entry: serial console up, then one boot report line. */
export function _start(): void {
  // Read first: the boot-time figure must not include our own initialisation.
  const tscAtStart = readTsc();
  // The console writes to COM1; nothing may print before this.
  uartInit();
  // May calibrate against the PIT (~10 ms); every timestamp needs it.
  const hz = tscFrequencyHz();
  const stubTsc = bootTscAtStub();
  const bootMicros = tscAtStart > stubTsc ? ticksToMicros(tscAtStart - stubTsc) : 0;

  logBegin(LogLevel.INFO);
  print("boot: ");
  print(bootSourceName());
  print(", RAM ");
  printU64(totalRamBytes() >> 10);
  print(" KiB");
  if (totalRamBytes() > 0) {
    // Free = pages the kernel's page allocator can still hand out (heap, pools, DMA buffers).
    pagesInit();
    print(" (");
    printU64((pagesTotal() - pagesUsed()) << 2);
    print(" KiB free)");
  }
  print(", TSC ");
  printU64(hz / 1_000_000);
  print(" MHz, ");
  printU64(bootMicros);
  print(" us from stub to _start");
  newline();

  // 8259 remapped + masked, local APIC, IOAPIC pins masked, APIC timer measured (~5 ms).
  // Needs the TSC rate; interrupts stay off until the event loop first idles.
  if (interruptsInit(hz)) reportInterrupts();
}

/** After the application's main: the event loop, until no timer or poller is left. */
export function _run(): void {
  run();
}

/** One log line: "irq: local APIC 0 at 0xfee00000, timer TSC-deadline, IOAPIC 24 pins". */
function reportInterrupts(): void {
  logBegin(LogLevel.INFO);
  print("irq: local APIC ");
  printU64(lapicId());
  print(" at ");
  printHex0x(lapicBase());
  if (lapicTscDeadline()) {
    print(", timer TSC-deadline");
  } else {
    print(", timer one-shot ");
    printU64(lapicTimerHz() / 1000);
    print(" kHz");
  }
  print(", IOAPIC ");
  printU64(ioapicPinsFound());
  print(" pins");
  newline();
}

/** Ends the VM with `status` through isa-debug-exit (see ABI.md "Exit status"). */
export function _exit(status: i32): void {
  exit(status);
}
