// Kernel entry module of `npm run wasm` images: the kernel plus host functions for one guest.
//
// Exports everything kernel/start.ts does, `main` (which runs the guest through the import
// `guest.run`: its start section, `_start`, then `main`) and the guest's host functions
// `__host_abort`, `__host_trace`, `__host_seed` (tools/link/ABI.md "Host imports of a guest module").

export { _start, _exit, __trap } from "./start";
export { __host_abort, __host_trace, __host_seed } from "./host";

/** Runs the guest module; the linker provides it. */
@external("guest", "run") declare function guestRun(): void;

/** Called by the boot stub after `_start`. */
export function main(): void {
  guestRun();
}
