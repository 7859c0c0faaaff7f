// Intrinsics that exist only to prove protections in should-panic tests (test/kernel-memory/).
// Nothing in the kernel proper may import this file.
//
// callAddress(addr): a plain `call` to a raw address (Intel SDM Vol. 2A "CALL"): with the boot
// stub's W^X page tables (boot/protect.ts) any address outside the image's text must fault with a
// #PF whose error code has the instruction-fetch bit set.

@external("x86", "callAddress") declare function x86_callAddress(addr: u64): void;

/** Jumps (calls) into `addr` as if it were code. */
export function callAddress(addr: u64): void { x86_callAddress(addr); }
