// isa-debug-exit: ends the VM with a status (QEMU exits with (status << 1) | 1).
//
// Statuses are fixed in tools/link/ABI.md ("Exit status"). The device sits at port 0xF4 with a
// 4-byte register (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`). Without the device the
// write is ignored and the CPU halts forever with interrupts off.

import { outl, cli, hlt } from "./intrinsics";
import { linuxExit } from "../linux/console";
import { uartFlush } from "./uart16550";

@inline export const DEBUG_EXIT_PORT: u16 = 0xf4;

/** Normal completion. */
@inline export const EXIT_OK: i32 = 0;
/** abort() was called. */
@inline export const EXIT_ABORT: i32 = 1;
/** A WebAssembly trap (kinds 1-10). */
@inline export const EXIT_TRAP: i32 = 2;
/** Refused before boot (host side only; listed for completeness). */
@inline export const EXIT_REFUSED: i32 = 3;
/** Panic: CPU exception. */
@inline export const EXIT_PANIC: i32 = 4;

/** Writes `status` to isa-debug-exit, then halts forever. Does not return on a VM. */
export function exit(status: i32): void {
  // Hosted Linux build (kernel/wasm-host-linux.ts defines the global): flush stdout, exit_group.
  if (isDefined(KERNEL_HOSTED_LINUX)) linuxExit(status);
  uartFlush(); // the console's last bytes out first
  outl(DEBUG_EXIT_PORT, <u32>status);
  while (true) {
    cli();
    hlt();
  }
}
