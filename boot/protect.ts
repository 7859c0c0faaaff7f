/**
 * Memory protection for the boot stub (emitted into entry.ts's flow when the linker passes
 * `EntryLayout.protect`): W^X page tables with guard pages, uncached MMIO, and a TSS whose IST
 * stacks let #DF, NMI, #PF, #SS and #GP report through the panic screen even when the stack is gone.
 *
 * Sources:
 *  - Intel SDM Vol. 3A §4.5 "4-Level Paging", tables 4-17 (PDE 2 MiB), 4-19 (PTE): P, R/W, PWT, PCD,
 *    PS, XD (bit 63, only with IA32_EFER.NXE = 1, else reserved -> #PF). §4.6 (access rights: with
 *    CR0.WP = 1 supervisor writes to read-only pages fault; XD in any level forbids fetches below).
 *  - §4.9 / §11.12 (PAT off: PCD|PWT = 0b11 selects UC, strong uncacheable: MMIO).
 *  - §7.7 "Task Management in 64-bit Mode", Figure 7-11 (64-bit TSS: RSP0-2 at +4, IST1-7 at +36,
 *    I/O map base at +102), §3.5 / Figure 7-4 (16-byte TSS descriptor, type 0x9 available).
 *  - §6.14.5 "Interrupt Stack Table": the gate's IST field selects a stack the CPU always switches to.
 *
 * Physical map of the first 4 MiB (4 KiB pages, PT0 = 0..2 MiB, PT1 = 2..4 MiB); the image must end
 * below KERNEL_MEMORY_BASE (4 MiB), which the linker checks:
 * ```
 *   0x0000_0000  page 0               not present (null dereference faults)
 *   0x0000_1000  low RAM, BIOS data    RW NX
 *   0x000A_0000  VGA window, ROMs      RW NX PCD PWT (uncached)
 *   0x0010_0000  text                  R  X       <- the only executable pages
 *   rodataStart  rodata                R  NX
 *   dataStart    data, bss             RW NX
 *   stackGuard   guard page            not present (stack overflow -> #PF on the IST stack)
 *   ...          everything else       RW NX
 *   >= 4 MiB     2 MiB pages           RW NX; PCD PWT unless the whole 2 MiB is RAM per the memory map
 * ```
 * Every paging-structure entry above a leaf keeps XD = 0 (XD anywhere on the walk forbids fetches).
 */
import { Assembler, Label, R, abs, mem } from "../tools/x86/assembler.ts";

export interface ProtectLayout {
  /** First text byte (IMAGE_BASE), 4 KiB-aligned. */
  textStart: Label;
  /** First rodata byte = end of text, 4 KiB-aligned. */
  rodataStart: Label;
  /** First data byte = end of rodata, 4 KiB-aligned. */
  dataStart: Label;
  /** The page left unmapped under the boot stack. */
  stackGuard: Label;
  /** IST_STACKS * IST_STACK_BYTES of bss, 16-byte aligned, above the boot stack's limit. */
  istStacks: Label;
}

// ---- page-table block additions (entry.ts owns pages 0..7) ----
export const PT_PT1 = 0x8000; // PT for 2..4 MiB in 4 KiB pages
export const PAGE_TABLE_BYTES_PROTECTED = 0x9000; // 9 pages
// Scratch page (entry.ts PT_SCRATCH = 0x7000) layout used here: +0 belongs to trapCommon.
const SCRATCH = 0x7000;
const GDTR = SCRATCH + 0xf0; // u16 limit, u32 base (lgdt in 32-bit mode)
const GDT = SCRATCH + 0x100; // 5 descriptors: null, code64, data, TSS (16 bytes)
const TSS = SCRATCH + 0x200; // 104 bytes
const PT_PD0 = 0x2000;
const PT_PT0 = 0x6000;

export const SEL_TSS = 0x18;
const GDT_BYTES = 5 * 8;
const TSS_LIMIT = 103; // 104-byte TSS, no I/O permission bitmap
const TSS_IST1 = 36; // IST1..IST7 at +36, 8 bytes each
const TSS_IOMAP = 102; // u16 I/O map base
const TSS_DESCRIPTOR_TYPE = 0x89; // P = 1, DPL = 0, type 0x9 = available 64-bit TSS

/** IST stacks: 1 = #DF, 2 = NMI, 3 = #PF, 4 = #SS and #GP. */
export const IST_STACKS = 4;
export const IST_STACK_BYTES = 16 * 1024;
/** vector -> IST index (SDM Table 6-1 numbering). */
export const IST_OF_VECTOR: ReadonlyMap<number, number> = new Map([[8, 1], [2, 2], [14, 3], [12, 4], [13, 4]]);

// ---- entry bits ----
const P = 1 << 0;
const RW = 1 << 1;
const PWT = 1 << 3;
const PCD = 1 << 4;
const PS = 1 << 7;
const XD_HIGH = 1 << 31; // bit 63 as seen in the upper dword
const PAGE_4K = 0x1000;
const PAGE_2M = 0x200000;
const LEGACY_HOLE_START = 0xa0000; // VGA memory, then option/system ROMs up to 1 MiB
const LEGACY_HOLE_END = 0x100000;
const E820_RAM = 1;
const BOOT_INFO_E820_COUNT = 20;
const BOOT_INFO_E820 = 64;

/**
 * 32-bit, paging off, no stack: builds the GDT with a TSS descriptor and the TSS (IST pointers) in
 * the scratch page and loads it. Replaces entry.ts's `lgdt` of its read-only text GDT: `ltr` later
 * sets the descriptor's busy bit, a write the CPU must be allowed to make. Clobbers eax, edx.
 */
export function emitProtectedGdt(asm: Assembler, pageTables: Label, p: ProtectLayout): void {
  const g = (off: number) => abs(pageTables, GDT + off);
  asm.mov(4, g(0x08), 0x0000ffff); // 0x08 code64: 0x00AF9A00_0000FFFF (entry.ts emitGdt diagram)
  asm.mov(4, g(0x0c), 0x00af9a00);
  asm.mov(4, g(0x10), 0x0000ffff); // 0x10 flat data: 0x00CF9200_0000FFFF
  asm.mov(4, g(0x14), 0x00cf9200);
  // 0x18 TSS descriptor (16 bytes): limit 15:0 | base 23:0 | type/P | limit 19:16 | base 31:24 | base 63:32
  asm.lea(4, R.rax, abs(pageTables, TSS)); // eax = TSS base (< 4 GiB: upper 8 bytes stay 0)
  asm.mov(4, R.rdx, R.rax);
  asm.shift("shl", 4, R.rdx, 16); // base 15:0 into bits 31:16
  asm.alu("or", 4, R.rdx, TSS_LIMIT); // limit 15:0
  asm.mov(4, g(0x18), R.rdx);
  asm.mov(4, R.rdx, R.rax);
  asm.shift("shr", 4, R.rdx, 16);
  asm.alu("and", 4, R.rdx, 0xff); // base 23:16 in bits 7:0
  asm.alu("and", 4, R.rax, 0xff000000 | 0); // base 31:24 stays in bits 31:24
  asm.alu("or", 4, R.rdx, R.rax);
  asm.alu("or", 4, R.rdx, TSS_DESCRIPTOR_TYPE << 8); // P, DPL 0, type 9 in bits 15:8; limit 19:16 = 0, G = 0
  asm.mov(4, g(0x1c), R.rdx);
  // TSS: IST k = top of stack k (stacks grow down; upper dwords 0 from zeroing)
  for (let k = 1; k <= IST_STACKS; k++) {
    asm.lea(4, R.rax, abs(p.istStacks, k * IST_STACK_BYTES));
    asm.mov(4, abs(pageTables, TSS + TSS_IST1 + 8 * (k - 1)), R.rax);
  }
  asm.mov(2, abs(pageTables, TSS + TSS_IOMAP), TSS_LIMIT + 1); // I/O map base beyond the limit: no bitmap
  // GDTR = { limit, 32-bit base } (operand size 32 in this mode)
  asm.mov(2, abs(pageTables, GDTR), GDT_BYTES - 1);
  asm.lea(4, R.rax, abs(pageTables, GDT));
  asm.mov(4, abs(pageTables, GDTR + 2), R.rax);
  asm.lgdt(abs(pageTables, GDTR));
}

/**
 * 32-bit, after entry.ts built the flat identity map (0..4 GiB, PT0 for the first 2 MiB): applies
 * the protection bits above. Clobbers eax, ecx, edx, edi, ebp, ebx; preserves esi.
 */
export function emitProtectedPageTables(asm: Assembler, pageTables: Label, bootInfo: Label, p: ProtectLayout): void {
  // ebx = XD in the upper dword when CPUID.80000001H:EDX.NX (bit 20) says the CPU has it; setting
  // XD without EFER.NXE would make every walk fault with a reserved-bit #PF.
  const noNx = asm.label("protect.noNx");
  asm.alu("xor", 4, R.rbx, R.rbx);
  asm.mov(4, R.rax, 0x80000000 | 0);
  asm.cpuid(); // eax = highest extended leaf
  asm.alu("cmp", 4, R.rax, 0x80000001 | 0);
  asm.jcc("b", noNx);
  asm.mov(4, R.rax, 0x80000001 | 0);
  asm.cpuid();
  asm.test(4, R.rdx, 1 << 20);
  asm.jcc("e", noNx);
  asm.mov(4, R.rbx, XD_HIGH);
  asm.bind(noNx);

  // ---- 2 MiB PDEs: XD everywhere; PCD|PWT (uncached) unless a memory map says it is RAM ----
  const noMap = asm.label("protect.noMap");
  asm.alu("xor", 4, R.rbp, R.rbp); // ebp = cache bits for "not known to be RAM"
  asm.alu("cmp", 4, abs(bootInfo, BOOT_INFO_E820_COUNT), 0);
  asm.jcc("e", noMap); // no map: leave everything write-back rather than make RAM uncached
  asm.mov(4, R.rbp, PCD | PWT);
  asm.bind(noMap);
  const pdLoop = asm.label("protect.pdLoop");
  asm.lea(4, R.rdi, abs(pageTables, PT_PD0));
  asm.mov(4, R.rax, P | RW | PS);
  asm.alu("or", 4, R.rax, R.rbp);
  asm.mov(4, R.rcx, 2048);
  asm.bind(pdLoop);
  asm.mov(4, mem(R.rdi, 0), R.rax); // address | P | RW | PS | (PCD | PWT)
  asm.mov(4, mem(R.rdi, 4), R.rbx); // XD
  asm.alu("add", 4, R.rax, PAGE_2M);
  asm.alu("add", 4, R.rdi, 8);
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", pdLoop);

  // Usable-RAM entries of the memory map: PDEs wholly inside one are write-back again.
  const ramLoop = asm.label("protect.ramLoop");
  const ramNext = asm.label("protect.ramNext");
  const ramDone = asm.label("protect.ramDone");
  const endKnown = asm.label("protect.ramEndKnown");
  const inner = asm.label("protect.ramInner");
  asm.mov(4, R.rcx, abs(bootInfo, BOOT_INFO_E820_COUNT)); // <= 64 (clamped by the entries)
  asm.lea(4, R.rdx, abs(bootInfo, BOOT_INFO_E820)); // edx = entry: u64 base, u64 length, u32 type
  asm.bind(ramLoop);
  asm.test(4, R.rcx, R.rcx);
  asm.jcc("e", ramDone);
  asm.alu("cmp", 4, mem(R.rdx, 16), E820_RAM);
  asm.jcc("ne", ramNext);
  asm.alu("cmp", 4, mem(R.rdx, 4), 0); // base >= 4 GiB: beyond these tables
  asm.jcc("ne", ramNext);
  asm.mov(4, R.rax, mem(R.rdx, 0));
  asm.alu("add", 4, R.rax, PAGE_2M - 1); // first whole 2 MiB page: round the base up
  asm.jcc("b", ramNext); // carry (jb = jc): base rounds past 4 GiB
  asm.shift("shr", 4, R.rax, 21); // eax = first PDE index
  asm.mov(4, R.rbp, mem(R.rdx, 0));
  asm.alu("add", 4, R.rbp, mem(R.rdx, 8)); // end = base + length (low dword) ...
  asm.mov(4, R.rdi, mem(R.rdx, 12));
  asm.alu("adc", 4, R.rdi, 0); // ... carry into the high dword
  asm.shift("shr", 4, R.rbp, 21); // last PDE index (exclusive), rounded down
  asm.test(4, R.rdi, R.rdi);
  asm.jcc("e", endKnown);
  asm.mov(4, R.rbp, 2048); // ends at or above 4 GiB
  asm.bind(endKnown);
  asm.lea(4, R.rdi, abs(pageTables, PT_PD0));
  asm.bind(inner);
  asm.alu("cmp", 4, R.rax, R.rbp);
  asm.jcc("ae", ramNext);
  asm.alu("and", 4, mem(R.rdi, 0, R.rax, 8), ~(PCD | PWT)); // write-back
  asm.unary("inc", 4, R.rax);
  asm.jmp(inner);
  asm.bind(ramNext);
  asm.alu("add", 4, R.rdx, 24);
  asm.unary("dec", 4, R.rcx);
  asm.jmp(ramLoop);
  asm.bind(ramDone);

  // PD0[0] -> PT0, PD0[1] -> PT1: non-leaf entries, XD = 0 (text lies below them), write-back.
  asm.lea(4, R.rax, abs(pageTables, PT_PT0 + (P | RW)));
  asm.mov(4, abs(pageTables, PT_PD0), R.rax);
  asm.mov(4, abs(pageTables, PT_PD0 + 4), 0);
  asm.lea(4, R.rax, abs(pageTables, PT_PT1 + (P | RW)));
  asm.mov(4, abs(pageTables, PT_PD0 + 8), R.rax);
  asm.mov(4, abs(pageTables, PT_PD0 + 12), 0);

  // ---- PT0, PT1: 1024 4 KiB pages classified as in the header diagram ----
  for (const [pt, first] of [[PT_PT0, 0], [PT_PT1, PAGE_2M]] as const) {
    const loop = asm.label(`protect.pt${pt}`);
    const notText = asm.label(), notRodata = asm.label(), cached = asm.label(), store = asm.label();
    const absent = asm.label(), next = asm.label();
    asm.lea(4, R.rdi, abs(pageTables, pt));
    asm.mov(4, R.rax, first); // eax = physical address of the page
    asm.mov(4, R.rcx, 512);
    asm.bind(loop);
    asm.lea(4, R.rbp, abs(p.textStart));
    asm.alu("cmp", 4, R.rax, R.rbp);
    asm.jcc("b", notText);
    asm.lea(4, R.rbp, abs(p.rodataStart));
    asm.alu("cmp", 4, R.rax, R.rbp);
    asm.jcc("ae", notText);
    asm.lea(4, R.rdx, mem(R.rax, P)); // text: present, read-only, executable
    asm.mov(4, mem(R.rdi, 0), R.rdx);
    asm.mov(4, mem(R.rdi, 4), 0);
    asm.jmp(next);
    asm.bind(notText);
    asm.test(4, R.rax, R.rax);
    asm.jcc("e", absent); // page 0
    asm.lea(4, R.rbp, abs(p.stackGuard));
    asm.alu("cmp", 4, R.rax, R.rbp);
    asm.jcc("e", absent); // guard page under the boot stack
    asm.lea(4, R.rdx, mem(R.rax, P | RW));
    asm.lea(4, R.rbp, abs(p.rodataStart));
    asm.alu("cmp", 4, R.rax, R.rbp);
    asm.jcc("b", notRodata);
    asm.lea(4, R.rbp, abs(p.dataStart));
    asm.alu("cmp", 4, R.rax, R.rbp);
    asm.jcc("ae", notRodata);
    asm.alu("and", 4, R.rdx, ~RW); // rodata: read-only
    asm.bind(notRodata);
    asm.alu("cmp", 4, R.rax, LEGACY_HOLE_START);
    asm.jcc("b", cached);
    asm.alu("cmp", 4, R.rax, LEGACY_HOLE_END);
    asm.jcc("ae", cached);
    asm.alu("or", 4, R.rdx, PCD | PWT); // legacy VGA / ROM window: uncached
    asm.bind(cached);
    asm.bind(store);
    asm.mov(4, mem(R.rdi, 0), R.rdx);
    asm.mov(4, mem(R.rdi, 4), R.rbx); // XD: not code
    asm.jmp(next);
    asm.bind(absent);
    asm.mov(4, mem(R.rdi, 0), 0);
    asm.mov(4, mem(R.rdi, 4), 0);
    asm.bind(next);
    asm.alu("add", 4, R.rax, PAGE_4K);
    asm.alu("add", 4, R.rdi, 8);
    asm.unary("dec", 4, R.rcx);
    asm.jcc("ne", loop);
  }
}

/**
 * 64-bit, after the exception gates are written: IST indices into the gates of IST_OF_VECTOR and
 * `ltr` of the TSS. Clobbers eax.
 */
export function emitIstAndTss(asm: Assembler, idt: Label): void {
  for (const [vector, ist] of IST_OF_VECTOR) {
    asm.mov(1, abs(idt, 16 * vector + 4), ist); // gate byte 4, bits 2:0 = IST
  }
  asm.mov(4, R.rax, SEL_TSS);
  asm.ltr(R.rax); // TR = TSS (descriptor becomes busy)
}
