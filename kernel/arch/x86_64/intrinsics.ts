// x86-64 intrinsics: the only place the kernel declares `x86.*` imports.
//
// Each import is not a call on bare metal: the translator expands it inline into the
// instruction(s) named in tools/link/ABI.md ("Intrinsics"). Everything else in the kernel calls
// the typed, inlined helpers exported here, never the raw declarations. Under Node the same
// imports are JavaScript functions (see test/kernel/), which is how the kernel is unit-tested.

// ---- port I/O (in/out) ----
@external("x86", "outb") declare function x86_outb(port: u16, v: u8): void;
@external("x86", "outw") declare function x86_outw(port: u16, v: u16): void;
@external("x86", "outl") declare function x86_outl(port: u16, v: u32): void;
@external("x86", "inb") declare function x86_inb(port: u16): u8;
@external("x86", "inw") declare function x86_inw(port: u16): u16;
@external("x86", "inl") declare function x86_inl(port: u16): u32;

// ---- CPU identification, timing, control ----
@external("x86", "rdtsc") declare function x86_rdtsc(): u64;
@external("x86", "cpuid") declare function x86_cpuid(leaf: u32, subleaf: u32, reg: u32): u32;
@external("x86", "pause") declare function x86_pause(): void;
@external("x86", "hlt") declare function x86_hlt(): void;
@external("x86", "cli") declare function x86_cli(): void;
@external("x86", "sti") declare function x86_sti(): void;
@external("x86", "stiHlt") declare function x86_stiHlt(): void;
@external("x86", "xchg32") declare function x86_xchg32(addr: usize, v: u32): u32;
@external("x86", "mfence") declare function x86_mfence(): void;
@external("x86", "lfence") declare function x86_lfence(): void;
@external("x86", "sfence") declare function x86_sfence(): void;
@external("x86", "rdmsr") declare function x86_rdmsr(msr: u32): u64;
@external("x86", "wrmsr") declare function x86_wrmsr(msr: u32, v: u64): void;
@external("x86", "readCr2") declare function x86_readCr2(): u64;
@external("x86", "readCr3") declare function x86_readCr3(): u64;
@external("x86", "readFramePointer") declare function x86_readFramePointer(): u64;

// ---- MMIO with a 64-bit physical address (reaches above 4 GiB) ----
@external("x86", "mmioRead8") declare function x86_mmioRead8(addr: u64): u8;
@external("x86", "mmioRead16") declare function x86_mmioRead16(addr: u64): u16;
@external("x86", "mmioRead32") declare function x86_mmioRead32(addr: u64): u32;
@external("x86", "mmioRead64") declare function x86_mmioRead64(addr: u64): u64;
@external("x86", "mmioWrite8") declare function x86_mmioWrite8(addr: u64, v: u8): void;
@external("x86", "mmioWrite16") declare function x86_mmioWrite16(addr: u64, v: u16): void;
@external("x86", "mmioWrite32") declare function x86_mmioWrite32(addr: u64, v: u32): void;
@external("x86", "mmioWrite64") declare function x86_mmioWrite64(addr: u64, v: u64): void;

/** CPUID output register selector for `cpuid()`. */
export const enum CpuidReg { EAX = 0, EBX = 1, ECX = 2, EDX = 3 }

@inline export function outb(port: u16, v: u8): void { x86_outb(port, v); }
@inline export function outw(port: u16, v: u16): void { x86_outw(port, v); }
@inline export function outl(port: u16, v: u32): void { x86_outl(port, v); }
@inline export function inb(port: u16): u8 { return x86_inb(port); }
@inline export function inw(port: u16): u16 { return x86_inw(port); }
@inline export function inl(port: u16): u32 { return x86_inl(port); }

/** Time-stamp counter (`rdtsc`), edx:eax combined. */
@inline export function rdtsc(): u64 { return x86_rdtsc(); }
/** One register of `cpuid leaf, subleaf`. */
@inline export function cpuid(leaf: u32, subleaf: u32, reg: CpuidReg): u32 { return x86_cpuid(leaf, subleaf, <u32>reg); }
/** Spin-wait hint. */
@inline export function pause(): void { x86_pause(); }
/** Halt until the next interrupt. */
@inline export function hlt(): void { x86_hlt(); }
/** Mask maskable interrupts. */
@inline export function cli(): void { x86_cli(); }
/** Unmask maskable interrupts. */
@inline export function sti(): void { x86_sti(); }
/** `sti; hlt` as one sequence: an interrupt already pending at the sti still wakes the hlt. */
@inline export function stiHlt(): void { x86_stiHlt(); }
/** Atomic swap of the u32 at `addr` (`xchg` is implicitly locked): returns the old value. */
@inline export function xchg32(addr: usize, v: u32): u32 { return x86_xchg32(addr, v); }
@inline export function mfence(): void { x86_mfence(); }
@inline export function lfence(): void { x86_lfence(); }
@inline export function sfence(): void { x86_sfence(); }
@inline export function rdmsr(msr: u32): u64 { return x86_rdmsr(msr); }
@inline export function wrmsr(msr: u32, v: u64): void { x86_wrmsr(msr, v); }
/** Faulting linear address of the last page fault. */
@inline export function readCr2(): u64 { return x86_readCr2(); }
/** Physical address of the active PML4. */
@inline export function readCr3(): u64 { return x86_readCr3(); }
/** `rbp` of the calling wasm function (start of a backtrace). */
@inline export function readFramePointer(): u64 { return x86_readFramePointer(); }

@inline export function mmioRead8(addr: u64): u8 { return x86_mmioRead8(addr); }
@inline export function mmioRead16(addr: u64): u16 { return x86_mmioRead16(addr); }
@inline export function mmioRead32(addr: u64): u32 { return x86_mmioRead32(addr); }
@inline export function mmioRead64(addr: u64): u64 { return x86_mmioRead64(addr); }
@inline export function mmioWrite8(addr: u64, v: u8): void { x86_mmioWrite8(addr, v); }
@inline export function mmioWrite16(addr: u64, v: u16): void { x86_mmioWrite16(addr, v); }
@inline export function mmioWrite32(addr: u64, v: u32): void { x86_mmioWrite32(addr, v); }
@inline export function mmioWrite64(addr: u64, v: u64): void { x86_mmioWrite64(addr, v); }
