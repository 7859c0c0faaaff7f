/**
 * The image's first code, at IMAGE_BASE (0x100000): two 32-bit entry points (PVH and BIOS), the
 * switch to IA-32e (long) mode, the CPU-exception gates and the call into the wasm entry sequence.
 *
 * Contract: tools/link/ABI.md ("Entry", "Boot info", "Traps"). Sources:
 *  - Intel SDM Vol. 3A §9.8.5 "Initializing IA-32e Mode" (the order PAE -> CR3 -> EFER.LME -> CR0.PG,
 *    identity-mapped code while switching, far jump into a 64-bit code segment).
 *  - Intel SDM Vol. 3A §4.5 "4-Level Paging" (tables 4-15 .. 4-20: PML4E, PDPTE, PDE 2 MiB, PTE 4 KiB).
 *  - Intel SDM Vol. 3A §3.4.5 (segment descriptors), §5.2.1 (code segments in IA-32e mode: L, D bits),
 *    §6.14.1 (64-bit IDT gate descriptors), §6.14.2 (64-bit interrupt stack frame), Table 6-1
 *    (which exceptions push an error code), §13.1.3 / §2.5 (CR0.MP/EM, CR4.OSFXSR/OSXMMEXCPT for SSE).
 *  - PVH boot protocol: xen/include/public/arch-x86/hvm/start_info.h (hvm_start_info) and Linux
 *    Documentation/x86/boot.rst / Xen docs/misc/pvh.pandoc: entered in 32-bit protected mode, paging
 *    off, flat CS/DS/ES/SS, IF = 0, ebx = physical address of hvm_start_info, esp undefined.
 *
 * Control flow:
 * ```
 *   entry32Pvh  (PVH loader)  ─┐ record tsc, source, start info   ┐
 *   entry32Bios (boot/bios.ts) ┘ record tsc, source, E820 copy   ─┴─> common32: GDT, page tables,
 *      PAE/SSE, CR3, EFER.LME/NXE, CR0.PG ──far jmp──> entry64: segments, rsp, IDT, tsc, call wasmMain,
 *      exit status 0 via isa-debug-exit, halt
 * ```
 *
 * bss policy: the PVH loader zeroes an ELF's bss, the BIOS stub zeroes only what the linker declares
 * as `memSize` (see boot/bios.ts). So this code zeroes every bss block it owns (boot info, page
 * tables, IDT) itself before writing to them; the boot stack needs no zeroing.
 */
import { Assembler, Label, R, abs, mem } from "../tools/x86/assembler.ts";
import { STUB_BYTES, emitGateFill, emitInterruptGates, emitInterruptStubs } from "./interrupts.ts";
import {
  emitIstAndTss, emitProtectedGdt, emitProtectedPageTables, PAGE_TABLE_BYTES_PROTECTED, type ProtectLayout,
} from "./protect.ts";

export interface EntryLayout {
  /** 4 KiB-aligned, >= 4 KiB of bss; record layout in ABI.md "Boot info". */
  bootInfo: Label;
  /** 4 KiB-aligned, 8 pages (32 KiB) of bss: PML4, PDPT, PD0..PD3, PT (one page spare). */
  pageTables: Label;
  gdt?: never;
  /** 16-byte-aligned top of the 64 KiB boot stack. */
  stackTop: Label;
  /** 4 KiB of bss for the 256-entry IDT. */
  idt: Label;
  /** 64-bit: the kernel's __trap(kind: i32, pc: u64, fp: u64), ABI calling convention. */
  trapEntry: Label;
  /** 64-bit: the whole wasm entry sequence; returns when the program is done. */
  wasmMain: Label;
  /**
   * W^X page tables, guard pages, uncached MMIO, TSS with IST stacks (boot/protect.ts). Without it:
   * everything RW and executable, no TSS. With it pageTables needs PAGE_TABLE_BYTES_PROTECTED.
   */
  protect?: ProtectLayout;
  /** 32 bytes of zeroed data: pending bits of vectors 32..255 (boot/interrupts.ts). Without it gates 32..255 stay empty. */
  interruptPending?: Label;
}

// ---- boot info record (ABI.md "Boot info") ----
export const BOOT_INFO_TSC_ENTRY = 0; // u64 tsc at the very first instruction
export const BOOT_INFO_TSC_MAIN = 8; // u64 tsc just before the first wasm call
export const BOOT_INFO_SOURCE = 16; // u32 1 = BIOS, 2 = PVH
export const BOOT_INFO_E820_COUNT = 20; // u32 number of E820 entries at +64
export const BOOT_INFO_START_INFO = 24; // u64 physical address of hvm_start_info
export const BOOT_INFO_CMDLINE = 32; // u64 address of the copied kernel command line (PVH), else 0
export const BOOT_INFO_ERROR_CODE = 40; // u64 error code of the CPU exception being reported (trapCommon)
export const BOOT_INFO_E820 = 64; // E820 entries (BIOS) or the PVH memmap copy, 24 bytes each
export const BOOT_INFO_CMDLINE_COPY = 0x800; // the command line copy: NUL-terminated
export const BOOT_INFO_CMDLINE_MAX = 2047; // bytes before the NUL
// hvm_start_info fields (xen/include/public/arch-x86/hvm/start_info.h)
export const START_INFO_VERSION = 4; // u32
export const START_INFO_CMDLINE_PADDR = 24; // u64
export const START_INFO_MEMMAP_PADDR = 40; // u64 (version >= 1)
export const START_INFO_MEMMAP_ENTRIES = 48; // u32 (version >= 1)
export const BOOT_INFO_BYTES = 4096; // what this code zeroes
export const SOURCE_BIOS = 1;
export const SOURCE_PVH = 2;
export const E820_ENTRY_BYTES = 24; // u64 base, u64 length, u32 type, u32 ACPI 3.0 extended attributes
export const E820_MAX_ENTRIES = 64; // (4096 - 64) / 24 = 168 would fit; 64 is the ABI's limit

// ---- page-table block (pageTables label), one 4 KiB page each ----
export const PT_PML4 = 0x0000; // PML4: entry 0 -> PDPT (covers 0 .. 512 GiB)
export const PT_PDPT = 0x1000; // PDPT: entries 0..3 -> PD0..PD3 (1 GiB each)
export const PT_PD0 = 0x2000; // PD0..PD3 contiguous: 2048 PDEs of 2 MiB = 0 .. 4 GiB
export const PT_PT0 = 0x6000; // PT for the first 2 MiB in 4 KiB pages (page 0 not present)
export const PT_SCRATCH = 0x7000; // page 7: boot scratch; +0 = u8 "inside a trap" flag (nested-trap guard)
export const PAGE_TABLE_BYTES = 0x8000; // 8 pages reserved
export const IDT_BYTES = 4096; // 256 gates x 16 bytes

// ---- our GDT selectors (index << 3, TI = 0, RPL = 0) ----
export const SEL_CODE64 = 0x08;
export const SEL_DATA = 0x10;

// ---- control-register and MSR bits ----
const CR0_PE = 1 << 0; // protection enable (already set by both loaders)
const CR0_MP = 1 << 1; // monitor coprocessor: wait/fwait honour TS (SDM Vol. 3A §13.1.3 for SSE)
const CR0_EM = 1 << 2; // x87 emulation: must be 0 or every SSE instruction raises #UD
const CR0_TS = 1 << 3; // task switched: 0 so the first SSE instruction does not raise #NM
const CR0_NE = 1 << 5; // native x87 error reporting (#MF) instead of the legacy IRQ 13 path
const CR0_WP = 1 << 16; // supervisor writes honour read-only pages (W^X later)
const CR0_PG = 1 << 31; // paging: with EFER.LME set this activates IA-32e mode (SDM §9.8.5 step 4)
const CR4_PAE = 1 << 5; // physical address extension: required before IA-32e mode (§9.8.5 step 1)
const CR4_OSFXSR = 1 << 9; // OS supports fxsave/fxrstor: enables SSE instructions
const CR4_OSXMMEXCPT = 1 << 10; // OS handles #XM: unmasked SIMD FP exceptions raise #XM, not #UD
const MSR_EFER = 0xc0000080; // IA32_EFER (SDM Vol. 4, table 2-2)
const EFER_LME = 1 << 8; // long mode enable
const EFER_NXE = 1 << 11; // execute-disable bit usable in page-table entries (W^X later)
const CPUID_EXT_MAX = 0x80000000; // eax = highest extended leaf
const CPUID_EXT_FEATURES = 0x80000001; // edx bit 20 = NX (execute disable) supported
const CPUID_EDX_NX = 1 << 20;

// ---- page-table entry bits (SDM Vol. 3A §4.5, tables 4-15 .. 4-20) ----
const PTE_P = 1 << 0; // present
const PTE_RW = 1 << 1; // writable
const PTE_PS = 1 << 7; // in a PDE: maps a 2 MiB page instead of pointing at a PT
const PAGE_2M = 0x200000;
const PAGE_4K = 0x1000;

// ---- IDT ----
const EXCEPTION_VECTORS = 32; // vectors 0..31 are reserved for CPU exceptions (SDM §6.3)
/** Vectors for which the CPU pushes an error code (SDM Vol. 3A Table 6-1): #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
export const VECTORS_WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
export const TRAP_KIND_CPU_EXCEPTION_BASE = 32; // ABI.md "Traps": kind 32 + v

// ---- isa-debug-exit (QEMU exits with (status << 1) | 1) ----
const DEBUG_EXIT_PORT = 0xf4;
const STATUS_PANIC = 4; // ABI.md: panic (CPU exception) - used when __trap itself faults
const COM1 = 0x3f8; // nested-trap message goes straight to the UART data register
export const NESTED_TRAP_MESSAGE = "\nboot: CPU exception inside __trap\n";

/**
 * Emits both 32-bit entry points and everything they lead to at the current position.
 * `asm.bits` is left at 64 afterwards.
 */
export function emitEntry(asm: Assembler, layout: EntryLayout): { entry32Pvh: Label; entry32Bios: Label } {
  const { bootInfo, pageTables, stackTop, idt, trapEntry, wasmMain } = layout;
  checkAligned("bootInfo", bootInfo, 4096);
  checkAligned("pageTables", pageTables, 4096);
  checkAligned("idt", idt, 4096);
  checkAligned("stackTop", stackTop, 16);
  const entry32Pvh = asm.label("entry32Pvh");
  const entry32Bios = asm.label("entry32Bios");
  const common32 = asm.label("boot.common32");
  const entry64 = asm.label("boot.entry64");
  const gdt = asm.label("boot.gdt");
  const gdtr = asm.label("boot.gdtr");
  const idtr = asm.label("boot.idtr");
  const stubs = asm.label("boot.exceptionStubs");
  const trapCommon = asm.label("boot.trapCommon");

  // =============================== 32-bit: PVH entry ===============================
  // State (PVH doc): protected mode, paging off, flat CS/DS/ES/SS, IF = 0, ebx = &hvm_start_info,
  // esp undefined (no stack until entry64), direction flag unspecified.
  asm.bits = 32;
  asm.align(16);
  asm.bind(entry32Pvh);
  asm.rdtsc(); // first instruction: edx:eax = time stamp at entry (boot info +0)
  asm.mov(4, R.rbp, R.rax); // keep tsc low in ebp: zeroing bss below clobbers eax, ecx, edi
  asm.mov(4, R.rsi, R.rdx); // keep tsc high in esi; ebx (start info) survives zeroing too
  emitZeroOwnedBss(asm, layout);
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_ENTRY), R.rbp); // tsc low
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_ENTRY + 4), R.rsi); // tsc high
  asm.mov(4, abs(bootInfo, BOOT_INFO_SOURCE), SOURCE_PVH); // source = 2
  asm.mov(4, abs(bootInfo, BOOT_INFO_START_INFO), R.rbx); // hvm_start_info address (high dword stays 0)
  // Copy what the kernel needs out of the loader's records now, while paging is off: QEMU puts
  // hvm_start_info, its memory map and the command line in low memory, page 0 included, which the
  // kernel cannot read once page 0 is unmapped.
  const noMemmap = asm.label("boot.pvhNoMemmap");
  const memmapCountOk = asm.label("boot.pvhMemmapCountOk");
  asm.alu("cmp", 4, mem(R.rbx, START_INFO_VERSION), 1); // memmap fields exist from version 1 on
  asm.jcc("b", noMemmap);
  asm.mov(4, R.rcx, mem(R.rbx, START_INFO_MEMMAP_ENTRIES)); // ecx = number of entries
  asm.alu("cmp", 4, R.rcx, E820_MAX_ENTRIES); // never copy more than the record holds
  asm.jcc("be", memmapCountOk);
  asm.mov(4, R.rcx, E820_MAX_ENTRIES); // clamp
  asm.bind(memmapCountOk);
  asm.mov(4, abs(bootInfo, BOOT_INFO_E820_COUNT), R.rcx); // same layout as E820 entries (24 bytes)
  asm.imul3(4, R.rcx, R.rcx, E820_ENTRY_BYTES); // bytes to copy
  asm.mov(4, R.rsi, mem(R.rbx, START_INFO_MEMMAP_PADDR)); // source: the loader's memmap (low dword; < 4 GiB)
  asm.lea(4, R.rdi, abs(bootInfo, BOOT_INFO_E820)); // destination: boot info +64
  asm.repMovs(1); // DF = 0 (cld in emitZeroOwnedBss)
  asm.bind(noMemmap);
  // Command line: NUL-terminated string, copied to boot info +0x800 (at most 2047 bytes + NUL).
  const noCmdline = asm.label("boot.pvhNoCmdline");
  const cmdLoop = asm.label("boot.pvhCmdLoop");
  const cmdDone = asm.label("boot.pvhCmdDone");
  asm.mov(4, R.rsi, mem(R.rbx, START_INFO_CMDLINE_PADDR)); // esi = cmdline (0 when there is none)
  asm.test(4, R.rsi, R.rsi);
  asm.jcc("e", noCmdline);
  asm.lea(4, R.rdi, abs(bootInfo, BOOT_INFO_CMDLINE_COPY)); // edi = our copy
  asm.mov(4, abs(bootInfo, BOOT_INFO_CMDLINE), R.rdi); // boot info +32 = its address
  asm.mov(4, R.rcx, BOOT_INFO_CMDLINE_MAX); // room left
  asm.bind(cmdLoop);
  asm.mov(1, R.rax, mem(R.rsi)); // al = next byte
  asm.mov(1, mem(R.rdi), R.rax); // store it (the terminating NUL too)
  asm.test(1, R.rax, R.rax);
  asm.jcc("e", cmdDone); // end of string
  asm.unary("inc", 4, R.rsi);
  asm.unary("inc", 4, R.rdi);
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", cmdLoop);
  asm.mov(1, mem(R.rdi), 0); // truncated: terminate
  asm.bind(cmdDone);
  asm.bind(noCmdline);
  asm.jmp(common32);

  // =============================== 32-bit: BIOS entry ==============================
  // State (boot/bios.ts): flat 32-bit protected mode, paging off, IF = 0, a stack below 0x7C00,
  // edx:eax = tsc at the stub's first instruction, esi = E820 buffer, edi = entry count, ebx = 0.
  asm.align(16);
  asm.bind(entry32Bios);
  asm.mov(4, R.rbp, R.rax); // keep tsc low in ebp (edx, esi survive the zeroing)
  asm.mov(4, R.rbx, R.rdi); // keep the E820 count in ebx: zeroing uses edi
  emitZeroOwnedBss(asm, layout);
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_ENTRY), R.rbp); // tsc low
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_ENTRY + 4), R.rdx); // tsc high
  asm.mov(4, abs(bootInfo, BOOT_INFO_SOURCE), SOURCE_BIOS); // source = 1
  const countOk = asm.label("boot.e820CountOk");
  asm.alu("cmp", 4, R.rbx, E820_MAX_ENTRIES); // never copy more than the record holds
  asm.jcc("be", countOk); // unsigned: count <= 64
  asm.mov(4, R.rbx, E820_MAX_ENTRIES); // clamp
  asm.bind(countOk);
  asm.mov(4, abs(bootInfo, BOOT_INFO_E820_COUNT), R.rbx); // entry count
  asm.imul3(4, R.rcx, R.rbx, E820_ENTRY_BYTES); // bytes to copy = count * 24
  asm.lea(4, R.rdi, abs(bootInfo, BOOT_INFO_E820)); // destination: boot info +64 (esi = source already)
  asm.repMovs(1); // copy the entries (DF = 0 from emitZeroOwnedBss's cld)
  asm.jmp(common32);

  // =============================== 32-bit: common ==================================
  asm.align(16);
  asm.bind(common32);
  // Our GDT (diagram at emitGdt): 0x08 = 64-bit code, 0x10 = flat data. lgdt with a 32-bit base
  // (operand size 32). CS keeps its cached 32-bit descriptor until the far jump below.
  // With protection the GDT (and a TSS descriptor) is built in writable bss instead (boot/protect.ts).
  if (layout.protect) emitProtectedGdt(asm, pageTables, layout.protect);
  else asm.lgdt(abs(gdtr));

  // ---- page tables (SDM §4.5): 0..4 GiB identity-mapped, page 0 not present ----
  asm.lea(4, R.rax, abs(pageTables, PT_PDPT + (PTE_P | PTE_RW))); // PML4E: PDPT address | P | RW
  asm.mov(4, abs(pageTables, PT_PML4), R.rax); // PML4[0] -> PDPT (upper dword 0 from zeroing)
  for (let i = 0; i < 4; i++) {
    asm.lea(4, R.rax, abs(pageTables, PT_PD0 + i * 0x1000 + (PTE_P | PTE_RW))); // PDPTE: PD_i | P | RW
    asm.mov(4, abs(pageTables, PT_PDPT + 8 * i), R.rax); // PDPT[i] -> PD_i covers i GiB .. i+1 GiB
  }
  // The four PDs are contiguous: 2048 PDEs, entry i maps 2 MiB at i * 2 MiB (all below 4 GiB, so
  // every PDE's upper dword - address bits 32..51 and XD - is 0 from zeroing).
  const pdLoop = asm.label("boot.pdLoop");
  asm.lea(4, R.rdi, abs(pageTables, PT_PD0)); // edi = &PD0[0]
  asm.mov(4, R.rax, PTE_P | PTE_RW | PTE_PS); // eax = PDE for physical 0: P | RW | PS(2 MiB)
  asm.mov(4, R.rcx, 4 * 512); // 2048 entries = 4 GiB
  asm.bind(pdLoop);
  asm.mov(4, mem(R.rdi), R.rax); // PD[i] = (i << 21) | P | RW | PS
  asm.alu("add", 4, R.rax, PAGE_2M); // next 2 MiB frame
  asm.alu("add", 4, R.rdi, 8); // next PDE
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", pdLoop);
  // PD0[0] instead points at a PT, so the first 2 MiB are mapped in 4 KiB pages and page 0 can be
  // left out: a null dereference faults (#PF, trap kind 46).
  asm.lea(4, R.rax, abs(pageTables, PT_PT0 + (PTE_P | PTE_RW))); // PDE: PT address | P | RW (PS = 0)
  asm.mov(4, abs(pageTables, PT_PD0), R.rax); // PD0[0] -> PT
  const ptLoop = asm.label("boot.ptLoop");
  asm.lea(4, R.rdi, abs(pageTables, PT_PT0 + 8)); // edi = &PT[1]; PT[0] stays 0 = not present
  asm.mov(4, R.rax, PAGE_4K | PTE_P | PTE_RW); // PTE for physical 0x1000: P | RW
  asm.mov(4, R.rcx, 511); // entries 1..511
  asm.bind(ptLoop);
  asm.mov(4, mem(R.rdi), R.rax); // PT[i] = (i << 12) | P | RW
  asm.alu("add", 4, R.rax, PAGE_4K); // next 4 KiB frame
  asm.alu("add", 4, R.rdi, 8); // next PTE
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", ptLoop);
  // W^X, guard pages, XD, uncached non-RAM on top of the flat map (boot/protect.ts header).
  if (layout.protect) emitProtectedPageTables(asm, pageTables, bootInfo, layout.protect);

  // ---- SDM §9.8.5 step 1: CR4.PAE (plus SSE enables, §13.1.3) ----
  asm.movFromCr(R.rax, 4);
  asm.alu("or", 4, R.rax, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT); // PAE: 64-bit PTEs; OSFXSR/OSXMMEXCPT: SSE usable
  asm.movToCr(4, R.rax);
  // ---- step 2: CR3 = PML4 physical address (bits 3/4 PWT/PCD = 0: write-back) ----
  asm.lea(4, R.rax, abs(pageTables, PT_PML4));
  asm.movToCr(3, R.rax);
  // ---- step 3: EFER.LME (and NXE when the CPU has NX; setting it otherwise would #GP) ----
  const noNx = asm.label("boot.noNx");
  asm.alu("xor", 4, R.rsi, R.rsi); // esi = extra EFER bits, 0 unless NX is supported
  asm.mov(4, R.rax, CPUID_EXT_MAX | 0); // cpuid 0x80000000: highest extended leaf
  asm.cpuid();
  asm.alu("cmp", 4, R.rax, CPUID_EXT_FEATURES | 0);
  asm.jcc("b", noNx); // no leaf 0x80000001 -> no NX
  asm.mov(4, R.rax, CPUID_EXT_FEATURES | 0);
  asm.cpuid(); // edx = extended feature flags
  asm.test(4, R.rdx, CPUID_EDX_NX); // NX supported?
  asm.jcc("e", noNx);
  asm.mov(4, R.rsi, EFER_NXE); // yes: also set EFER.NXE
  asm.bind(noNx);
  asm.mov(4, R.rcx, MSR_EFER | 0); // ecx = IA32_EFER
  asm.rdmsr(); // edx:eax = EFER
  asm.alu("or", 4, R.rax, EFER_LME); // long mode enable (IA-32e active once CR0.PG = 1)
  asm.alu("or", 4, R.rax, R.rsi); // NXE if supported
  asm.wrmsr();
  // ---- step 4: CR0.PG (IA-32e mode becomes active: compatibility mode until the far jump) ----
  asm.movFromCr(R.rax, 0);
  asm.alu("and", 4, R.rax, ~(CR0_EM | CR0_TS)); // EM = 0, TS = 0: SSE instructions execute
  asm.alu("or", 4, R.rax, CR0_PG | CR0_PE | CR0_MP | CR0_NE | CR0_WP); // paging on (this code is identity-mapped)
  asm.movToCr(0, R.rax);
  // Far jump loads CS from our GDT: the 64-bit code descriptor (L = 1) -> 64-bit mode (SDM §9.8.5 step 5).
  asm.jmpFar(SEL_CODE64, entry64);

  // =============================== 64-bit ==========================================
  asm.bits = 64;
  asm.align(16);
  asm.bind(entry64);
  asm.mov(4, R.rax, SEL_DATA); // flat data selector
  asm.movToSreg(3, R.rax); // ds (base/limit are ignored in 64-bit mode, but a valid selector
  asm.movToSreg(0, R.rax); // es  avoids stale real-mode/loader descriptors surviving in
  asm.movToSreg(2, R.rax); // ss  the hidden parts; ss must be null or writable data)
  asm.movToSreg(4, R.rax); // fs (base 0)
  asm.movToSreg(5, R.rax); // gs (base 0)
  asm.movabs(R.rsp, stackTop); // rsp = top of the boot stack (16-byte aligned)
  asm.alu("xor", 4, R.rbp, R.rbp); // rbp = 0: the outermost frame (backtraces stop here)

  // ---- fill IDT gates 0..31 (diagram at emitIdtDiagram), gates 32..255 stay 0 = not present ----
  asm.movabs(R.rdi, idt); // rdi = &gate[0]
  asm.movabs(R.rsi, stubs); // rsi = stub for vector 0 (stub v at stubs + 16 * v)
  emitGateFill(asm, "boot.idtLoop", EXCEPTION_VECTORS, SEL_CODE64);
  // ---- gates 32..255: device/timer vectors -> set a pending bit, iretq (boot/interrupts.ts) ----
  const irqStubs = asm.label("boot.irqStubsRef");
  if (layout.interruptPending) emitInterruptGates(asm, idt, irqStubs, SEL_CODE64);
  asm.lidt(abs(idtr)); // IDTR = { limit 4095, base idt }
  // IST stacks for #DF, NMI, #PF, #SS, #GP and the task register (boot/protect.ts).
  if (layout.protect) emitIstAndTss(asm, idt);

  // ---- boot info +8: tsc just before the first wasm call ----
  asm.rdtsc();
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_MAIN), R.rax); // tsc low
  asm.mov(4, abs(bootInfo, BOOT_INFO_TSC_MAIN + 4), R.rdx); // tsc high
  asm.call(wasmMain); // rsp = stackTop - 8 inside, like a SysV function entry
  // ---- normal completion: isa-debug-exit status 0, then halt forever (real hardware) ----
  asm.alu("xor", 4, R.rax, R.rax); // status 0
  asm.outPort(4, DEBUG_EXIT_PORT); // QEMU exits with code 1
  emitHaltForever(asm, "boot.done");

  emitExceptionStubs(asm, stubs, trapCommon);
  if (layout.interruptPending) emitInterruptStubs(asm, layout.interruptPending, irqStubs);
  emitTrapCommon(asm, trapCommon, trapEntry, pageTables, bootInfo);
  emitGdt(asm, gdt, gdtr);
  emitIdtr(asm, idtr, idt);
  return { entry32Pvh, entry32Bios };
}

/** Alignment is checked here when the linker has already placed the label (else it is its duty). */
function checkAligned(name: string, l: Label, n: number): void {
  if (l.address !== undefined && l.address % n !== 0) {
    throw new Error(`emitEntry: ${name} at 0x${l.address.toString(16)} is not ${n}-byte aligned`);
  }
}

/** cld, then zero boot info, page tables and IDT. Clobbers eax, ecx, edi (32-bit code). */
function emitZeroOwnedBss(asm: Assembler, layout: EntryLayout): void {
  asm.cld(); // rep stos/movs go upwards (DF is unspecified on PVH entry)
  asm.alu("xor", 4, R.rax, R.rax); // fill value 0
  const blocks: [Label, number][] = [
    [layout.bootInfo, BOOT_INFO_BYTES],
    [layout.pageTables, layout.protect ? PAGE_TABLE_BYTES_PROTECTED : PAGE_TABLE_BYTES],
    [layout.idt, IDT_BYTES],
  ];
  for (const [block, bytes] of blocks) {
    asm.lea(4, R.rdi, abs(block)); // edi = block start
    asm.mov(4, R.rcx, bytes / 4); // dword count
    asm.repStos(4); // rep stosd
  }
}

function emitHaltForever(asm: Assembler, name: string): void {
  const halt = asm.label(name);
  asm.bind(halt);
  asm.cli(); // no interrupt wakes us (NMI/SMI still might: loop)
  asm.hlt();
  asm.jmp(halt);
}

/**
 * One stub per exception vector, each padded to 16 bytes. They make the stack look the same for
 * every vector before joining trapCommon:
 * ```
 *   [rsp+48] SS          ┐
 *   [rsp+40] RSP         │ pushed by the CPU (SDM §6.14.2: in 64-bit mode always all five,
 *   [rsp+32] RFLAGS      │ rsp aligned to 16 first)
 *   [rsp+24] CS          │
 *   [rsp+16] RIP         ┘ faulting instruction (fault) or the next one (trap, e.g. #BP)
 *   [rsp+8]  error code    CPU-pushed for vectors in VECTORS_WITH_ERROR_CODE, else a dummy 0
 *   [rsp+0]  vector        pushed by the stub
 * ```
 */
function emitExceptionStubs(asm: Assembler, stubs: Label, trapCommon: Label): void {
  asm.align(STUB_BYTES);
  asm.bind(stubs);
  for (let v = 0; v < EXCEPTION_VECTORS; v++) {
    const start = asm.offset;
    if (!VECTORS_WITH_ERROR_CODE.has(v)) asm.push(0); // dummy error code: one frame shape for all
    asm.push(v); // vector number
    asm.jmp(trapCommon);
    const size = asm.offset - start;
    if (size > STUB_BYTES) throw new Error(`exception stub ${v} is ${size} bytes, more than ${STUB_BYTES}`);
    asm.align(STUB_BYTES, 0xcc); // pad with int3: never executed
  }
}

/**
 * Calls __trap(kind = 32 + vector, pc = faulting RIP, fp = rbp of the interrupted code) under the
 * ABI convention: arguments pushed first to last, caller pops. __trap prints the panic screen and
 * exits; if it returns we halt (there is nothing sane to resume). An exception raised while a
 * previous one is still being reported (inside __trap) would recurse until the stack overflows and
 * the machine triple-faults silently, so a flag in the boot scratch page turns it into a one-line
 * message on COM1 and exit status 4 (panic).
 */
function emitTrapCommon(asm: Assembler, trapCommon: Label, trapEntry: Label, pageTables: Label, bootInfo: Label): void {
  const nested = asm.label("boot.nestedTrap");
  const message = asm.label("boot.nestedTrapMessage");
  const printLoop = asm.label("boot.nestedTrapPrint");
  const printDone = asm.label("boot.nestedTrapPrinted");
  asm.align(16);
  asm.bind(trapCommon);
  asm.alu("cmp", 1, abs(pageTables, PT_SCRATCH), 0); // already reporting an exception?
  asm.jcc("ne", nested);
  asm.mov(1, abs(pageTables, PT_SCRATCH), 1); // from now on, yes (never cleared: __trap does not return)
  asm.mov(8, R.rax, mem(R.rsp, 0)); // vector
  asm.alu("add", 8, R.rax, TRAP_KIND_CPU_EXCEPTION_BASE); // kind = 32 + vector
  asm.mov(8, R.rcx, mem(R.rsp, 16)); // RIP from the interrupt frame
  asm.mov(8, R.rdx, mem(R.rsp, 8)); // error code (0 for vectors without one)
  asm.mov(8, abs(bootInfo, BOOT_INFO_ERROR_CODE), R.rdx); // boot info +40: the panic screen decodes it
  asm.push(R.rax); // arg 0: kind
  asm.push(R.rcx); // arg 1: pc
  asm.push(R.rbp); // arg 2: fp (the CPU does not touch rbp: still the interrupted function's frame)
  asm.call(trapEntry);
  asm.alu("add", 8, R.rsp, 24); // caller pops the three arguments
  emitHaltForever(asm, "boot.trapReturned");

  asm.bind(nested);
  asm.movabs(R.rsi, message); // rsi = NUL-terminated message
  asm.mov(4, R.rdx, COM1); // dx = COM1 data register (polled output not needed under QEMU)
  asm.bind(printLoop);
  asm.movzx(4, R.rax, 1, mem(R.rsi)); // next byte
  asm.test(4, R.rax, R.rax);
  asm.jcc("e", printDone); // NUL: done
  asm.outPort(1, "dx");
  asm.alu("add", 8, R.rsi, 1);
  asm.jmp(printLoop);
  asm.bind(printDone);
  asm.mov(4, R.rax, STATUS_PANIC);
  asm.outPort(4, DEBUG_EXIT_PORT); // QEMU exits with (4 << 1) | 1 = 9
  emitHaltForever(asm, "boot.nestedTrapHalt");
  asm.bind(message);
  asm.bytes(new TextEncoder().encode(NESTED_TRAP_MESSAGE + "\0"));
}

/**
 * Our GDT (SDM Vol. 3A §3.4.5, §5.2.1), in the text (the CPU only reads it: no TSS, so no busy bit).
 * ```
 *  63      56 55 54 53 52 51   48 47 46 45 44 43  40 39      16 15        0
 * ┌──────────┬──┬──┬──┬───┬───────┬──┬─────┬──┬──────┬──────────┬───────────┐
 * │base 31:24│G │D │L │AVL│lim19:16│P │ DPL │S │ type │base 23:0 │limit 15:0 │
 * └──────────┴──┴──┴──┴───┴───────┴──┴─────┴──┴──────┴──────────┴───────────┘
 *  0x08 code64: 0x00AF9A000000FFFF  G=1 D=0 L=1 P=1 DPL=0 S=1 type=0xA (execute/read)
 *  0x10 data:   0x00CF92000000FFFF  G=1 D/B=1 L=0 P=1 DPL=0 S=1 type=0x2 (read/write), base 0, 4 GiB
 * ```
 * (L=1 requires D=0; in 64-bit mode base and limit of code/data segments are ignored.)
 */
function emitGdt(asm: Assembler, gdt: Label, gdtr: Label): void {
  asm.align(8, 0);
  asm.bind(gdt);
  asm.dq(0n); // 0x00: null descriptor (required)
  asm.dq(0x00af9a000000ffffn); // 0x08: 64-bit code, DPL 0
  asm.dq(0x00cf92000000ffffn); // 0x10: flat data, DPL 0
  const gdtBytes = 3 * 8;
  asm.align(4, 0);
  asm.dw(0); // padding so the base below is 4-byte aligned
  asm.bind(gdtr);
  asm.dw(gdtBytes - 1); // limit (bytes - 1)
  asm.dd(gdt); // 32-bit base: lgdt runs in 32-bit mode (operand size 32)
}

/**
 * IDTR for lidt in 64-bit mode: u16 limit, u64 base. Each gate (SDM Vol. 3A §6.14.1, Figure 6-8):
 * ```
 *  127                         96 95                              64
 * ┌─────────────────────────────┬──────────────────────────────────┐
 * │        reserved (0)         │          offset 63:32            │
 * └─────────────────────────────┴──────────────────────────────────┘
 *  63            48 47 46 45 44 43  40 39  35 34 32 31          16 15           0
 * ┌───────────────┬──┬─────┬──┬──────┬──────┬─────┬──────────────┬──────────────┐
 * │ offset 31:16  │P │ DPL │0 │ type │  0   │ IST │  selector    │ offset 15:0  │
 * └───────────────┴──┴─────┴──┴──────┴──────┴─────┴──────────────┴──────────────┘
 *  P=1 DPL=0 type=0xE (64-bit interrupt gate: IF cleared on entry), IST=0, selector 0x08
 * ```
 */
function emitIdtr(asm: Assembler, idtr: Label, idt: Label): void {
  asm.align(8, 0);
  asm.dw(0); // padding: keeps the 8-byte base naturally aligned
  asm.dw(0);
  asm.dw(0);
  asm.bind(idtr);
  asm.dw(IDT_BYTES - 1); // limit: 256 gates
  asm.dq(idt); // 64-bit base
}
