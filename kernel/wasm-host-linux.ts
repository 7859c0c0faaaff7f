// Kernel entry module of hosted (`npm run wasm -- --hosted`) images: the same kernel and host
// functions as kernel/wasm-host.ts, for a Linux x86-64 process instead of a VM.
//
// Platform selection at build time: this file defines the global KERNEL_HOSTED_LINUX, so
// kernel/console.ts writes through kernel/arch/linux/console.ts (write(2) on fd 1) and
// kernel/arch/x86_64/debug_exit.ts ends the process with exit_group(2) instead of isa-debug-exit.
// There is no UART to program and no boot report line: `_start` only exists for the entry
// sequence (tools/link/ABI.md "Hosted Linux target").

/** Read with isDefined() by kernel/console.ts and kernel/arch/x86_64/debug_exit.ts. */
@global export const KERNEL_HOSTED_LINUX: bool = true;

export { __trap } from "./panic";
export { __host_abort, __host_trace, __host_seed } from "./host";
import { exit } from "./arch/x86_64/debug_exit";

/** Runs the guest module; the linker provides it. */
@external("guest", "run") declare function guestRun(): void;

/** First call of the entry sequence: nothing to initialise in a process. */
export function _start(): void {}

/** Ends the process with `status`. */
export function _exit(status: i32): void {
  exit(status);
}

/** Called by the native entry after `_start`. */
export function main(): void {
  guestRun();
}
