/**
 * The El Torito boot file: a 16-bit stub followed by the image's segments. The BIOS loads the whole
 * file at 0x7C00 and jumps to it in real mode; the stub collects the E820 memory map, enables A20,
 * enters 32-bit protected mode, copies every segment to its physical address and jumps to the
 * image's `entry32Bios` (boot/entry.ts), which does the rest (long mode, IDT, wasm).
 *
 * Sources:
 *  - "El Torito" Bootable CD-ROM Format Specification 1.0 (Phoenix/IBM 1995), §2.0 / §5.3: a
 *    no-emulation boot image is loaded at load segment 0 (= 0x07C0) with "sector count" 512-byte
 *    virtual sectors and entered in real mode; CS:IP may be 0000:7C00 or 07C0:0000 (both seen in
 *    the wild), so the stub normalises with a far jump before using any absolute address.
 *  - ACPI 6.x §15.1 "INT 15H, E820H - Query System Address Map" (24-byte entries with the ACPI 3.0
 *    extended-attributes dword; continuation in ebx; 'SMAP' signature in eax on success).
 *  - A20: the "fast A20" System Control Port A (0x92 bit 1) and INT 15h AX=2401h; checked by
 *    writing through an address that would wrap to the same byte if A20 were masked.
 *  - Intel SDM Vol. 3A §9.9.1 "Switching to Protected Mode" (lgdt, CR0.PE, far jump at once).
 *
 * Memory used (tools/link/ABI.md "Physical layout"):
 * ```
 *   0x00800            A20 check scratch dword (also written at 0x100800 before segments are copied)
 *   0x01000 .. 0x01600  E820 buffer: up to 64 entries of 24 bytes
 *   ....... .. 0x07C00  real-mode and 32-bit stack (grows down from 0x7C00)
 *   0x07C00 .. +size    this file: stub, then the segments' bytes (<= 0x78000 bytes in total)
 * ```
 *
 * bss policy: a segment's bytes are copied with `rep movsb`; if the segment has `memSize` larger
 * than its data, the tail is zeroed with `rep stosb`. The entry code additionally zeroes the bss it
 * owns (boot info, page tables, IDT), so a linker that omits `memSize` still boots correctly as long
 * as nothing else relies on zeroed bss.
 */
import { Assembler, R, abs, mem } from "../tools/x86/assembler.ts";

export interface PayloadSegment {
  /** Physical destination address (>= 1 MiB, below 4 GiB). */
  addr: number;
  data: Uint8Array;
  /** Optional size in memory (>= data.length): the rest is zeroed by the stub. */
  memSize?: number;
}
export interface Payload {
  segments: PayloadSegment[];
  /** Absolute address of boot/entry.ts's entry32Bios. */
  entry32Bios: number;
}

export const BIOS_LOAD_ADDRESS = 0x7c00; // El Torito load segment 0 -> 0x07C0:0000
/** Largest boot file: 0x7C00 + 0x78000 = 0x7FC00, well below the EBDA and VGA memory at 0x9FC00/0xA0000. */
export const BIOS_MAX_FILE_BYTES = 0x78000;
export const BIOS_FILE_ALIGN = 2048; // file padded to whole CD sectors so sector count = size / 512 is exact
export const E820_BUFFER = 0x1000; // ABI.md: E820 buffer at 0x1000
export const E820_ENTRY_BYTES = 24;
export const E820_MAX_ENTRIES = 64;
const SMAP = 0x534d4150; // 'SMAP': E820 request/response signature
const STACK_TOP = 0x7c00; // stack grows down from just below the boot file
const A20_TEST_LOW = 0x000800; // any free low address ...
const A20_TEST_HIGH = 0x100800; // ... and the one 1 MiB above: the same byte when A20 is masked
const PAYLOAD_MIN_ADDR = 0x100000; // segments go at or above 1 MiB: never over the stub or the BIOS
const SEL_CODE32 = 0x08; // temporary GDT: flat 32-bit code
const SEL_DATA32 = 0x10; // temporary GDT: flat 32-bit data
const COM1 = 0x3f8;
const DEBUG_EXIT_PORT = 0xf4;
const STATUS_PANIC = 4; // ABI.md exit status 4 (no usable machine)

/** The boot file: 16-bit stub, then each segment's bytes, padded to a whole number of CD sectors. */
export function buildBiosBootFile(p: Payload): Uint8Array {
  for (const s of p.segments) {
    const memSize = s.memSize ?? s.data.length;
    if (memSize < s.data.length) throw new Error(`bios: segment at 0x${hex(s.addr)}: memSize < data length`);
    if (s.addr < PAYLOAD_MIN_ADDR || s.addr + memSize > 0x1_0000_0000) {
      throw new Error(`bios: segment at 0x${hex(s.addr)} (+0x${hex(memSize)}) must lie between 1 MiB and 4 GiB`);
    }
  }
  if (!(p.entry32Bios >= PAYLOAD_MIN_ADDR && p.entry32Bios < 0x1_0000_0000)) {
    throw new Error(`bios: entry32Bios 0x${hex(p.entry32Bios)} must lie between 1 MiB and 4 GiB`);
  }

  const asm = new Assembler({ bits: 16, origin: BIOS_LOAD_ADDRESS });
  const start16 = asm.label("bios.start16");
  const e820Loop = asm.label("bios.e820Loop");
  const e820Done = asm.label("bios.e820Done");
  const a20On = asm.label("bios.a20On");
  const pm32 = asm.label("bios.pm32");
  const a20Fail = asm.label("bios.a20Fail");
  const tscSave = asm.label("bios.tscSave");
  const e820Count = asm.label("bios.e820Count");
  const gdt = asm.label("bios.gdt");
  const gdtr = asm.label("bios.gdtr");
  const a20Message = asm.label("bios.a20Message");
  const segmentLabels = p.segments.map((_, i) => asm.label(`bios.segment${i}`));

  // ================================ 16-bit real mode ================================
  asm.rdtsc(); // very first instruction: edx:eax = tsc (boot info +0); position-independent
  asm.jmpFar(0, start16); // CS:IP = 0000:start16, whichever of 0000:7C00 / 07C0:0000 the BIOS used
  asm.bind(start16);
  asm.cli(); // no interrupt between setting ss and sp
  asm.alu("xor", 2, R.rcx, R.rcx); // cx = 0 (keeps edx:eax = tsc)
  asm.movToSreg(2, R.rcx); // ss = 0
  asm.mov(2, R.rsp, STACK_TOP); // sp = 0x7C00: stack below the boot file
  asm.movToSreg(3, R.rcx); // ds = 0: absolute addresses below 64 KiB as [disp32]
  asm.movToSreg(0, R.rcx); // es = 0: E820 writes to es:di
  asm.sti(); // the BIOS services below may need interrupts
  asm.mov(4, abs(tscSave), R.rax); // keep the tsc for entry32Bios (low)
  asm.mov(4, abs(tscSave, 4), R.rdx); // (high)
  asm.cld(); // string operations go upwards

  // ---- E820 (ACPI §15.1): int 15h, eax=E820h, edx='SMAP', ecx=24, es:di=buffer, ebx=continuation ----
  asm.mov(4, R.rdi, E820_BUFFER); // es:di = 0000:1000
  asm.alu("xor", 4, R.rbx, R.rbx); // ebx = 0: first call
  asm.alu("xor", 4, R.rbp, R.rbp); // ebp = entries stored
  asm.bind(e820Loop);
  asm.mov(4, mem(R.rdi, 20), 1); // ext. attributes preset to 1 (valid) for BIOSes returning 20 bytes
  asm.mov(4, R.rax, 0xe820); // function
  asm.mov(4, R.rcx, E820_ENTRY_BYTES); // buffer size: ask for the ACPI 3.0 24-byte form
  asm.mov(4, R.rdx, SMAP); // signature
  asm.int(0x15);
  asm.jcc("b", e820Done); // CF = 1: unsupported, or past the last entry
  asm.mov(4, R.rdx, SMAP);
  asm.alu("cmp", 4, R.rax, R.rdx); // eax = 'SMAP' on success
  asm.jcc("ne", e820Done);
  asm.unary("inc", 4, R.rbp); // entry accepted
  asm.alu("add", 4, R.rdi, E820_ENTRY_BYTES); // next slot
  asm.test(4, R.rbx, R.rbx); // ebx = 0: that was the last entry
  asm.jcc("e", e820Done);
  asm.alu("cmp", 4, R.rbp, E820_MAX_ENTRIES); // buffer full?
  asm.jcc("b", e820Loop);
  asm.bind(e820Done);
  asm.mov(4, abs(e820Count), R.rbp); // keep the count for entry32Bios

  // ---- A20: ask the BIOS (int 15h, ax=2401h), then System Control Port A; checked in 32-bit mode ----
  asm.mov(2, R.rax, 0x2401); // "enable A20 gate" (result ignored: the check below decides)
  asm.int(0x15);
  asm.inPort(1, 0x92); // al = System Control Port A
  asm.test(1, R.rax, 0x02); // bit 1 = A20 already enabled?
  asm.jcc("ne", a20On); // yes: do not write the port (some chipsets dislike it)
  asm.alu("or", 1, R.rax, 0x02); // bit 1: A20 gate on
  asm.alu("and", 1, R.rax, 0xfe); // bit 0 = 0: writing 1 would reset the machine
  asm.outPort(1, 0x92);
  asm.bind(a20On);

  // ---- protected mode (SDM §9.9.1) ----
  asm.cli(); // no real-mode interrupt handlers from here on (IF stays 0 into entry32Bios)
  asm.lgdt(abs(gdtr)); // temporary flat GDT (16-bit operand size loads a 24-bit base: fine below 16 MiB)
  asm.movFromCr(R.rax, 0);
  asm.alu("or", 4, R.rax, 1); // CR0.PE
  asm.movToCr(0, R.rax);
  asm.jmpFar(SEL_CODE32, pm32); // reload CS from the GDT: 32-bit code from here

  // ================================ 32-bit protected mode ===========================
  asm.bits = 32;
  asm.bind(pm32);
  asm.mov(4, R.rax, SEL_DATA32); // flat data, base 0, limit 4 GiB
  asm.movToSreg(3, R.rax); // ds
  asm.movToSreg(0, R.rax); // es (rep movsb/stosb destination)
  asm.movToSreg(2, R.rax); // ss
  asm.movToSreg(4, R.rax); // fs
  asm.movToSreg(5, R.rax); // gs
  asm.mov(4, R.rsp, STACK_TOP); // same stack, now flat 32-bit

  // ---- A20 check: if bit 20 is masked, 0x100800 aliases 0x000800 ----
  asm.mov(4, R.rdi, A20_TEST_LOW);
  asm.mov(4, R.rsi, A20_TEST_HIGH);
  asm.mov(4, mem(R.rdi), R.rdi); // [low] = low
  asm.mov(4, mem(R.rsi), R.rsi); // [high] = high (lands on [low] when A20 is off)
  asm.mov(4, R.rax, mem(R.rdi));
  asm.alu("cmp", 4, R.rax, R.rdi); // low copy unchanged?
  asm.jcc("ne", a20Fail);

  // ---- copy each segment from this file to its address (DF = 0 from cld above) ----
  for (let i = 0; i < p.segments.length; i++) {
    const s = p.segments[i];
    const memSize = s.memSize ?? s.data.length;
    if (s.data.length > 0) {
      asm.lea(4, R.rsi, abs(segmentLabels[i])); // source: the segment's bytes inside this file
      asm.mov(4, R.rdi, s.addr | 0); // destination: its physical address
      asm.mov(4, R.rcx, s.data.length); // byte count
      asm.repMovs(1); // rep movsb
    } else {
      asm.mov(4, R.rdi, s.addr | 0); // nothing to copy: zeroing starts at the segment start
    }
    if (memSize > s.data.length) {
      asm.alu("xor", 4, R.rax, R.rax); // fill value 0
      asm.mov(4, R.rcx, memSize - s.data.length); // bss bytes (edi already at the end of the data)
      asm.repStos(1); // rep stosb
    }
  }

  // ---- hand over to entry32Bios (boot/entry.ts): edx:eax = tsc, esi = E820 buffer, edi = count ----
  asm.mov(4, R.rax, abs(tscSave)); // tsc low
  asm.mov(4, R.rdx, abs(tscSave, 4)); // tsc high
  asm.mov(4, R.rsi, E820_BUFFER); // E820 entries
  asm.mov(4, R.rdi, abs(e820Count)); // their count
  asm.alu("xor", 4, R.rbx, R.rbx); // ebx = 0: no hvm_start_info (ABI.md "Entry")
  asm.jmpFar(SEL_CODE32, p.entry32Bios | 0); // absolute far jump into the copied image

  // ---- A20 could not be enabled: say so on COM1 and stop ----
  const printLoop = asm.label("bios.printLoop");
  const printDone = asm.label("bios.printDone");
  asm.bind(a20Fail);
  asm.lea(4, R.rsi, abs(a20Message));
  asm.mov(4, R.rdx, COM1); // dx = COM1 data register (QEMU needs no UART setup)
  asm.bind(printLoop);
  asm.movzx(4, R.rax, 1, mem(R.rsi)); // next byte
  asm.test(4, R.rax, R.rax);
  asm.jcc("e", printDone); // NUL terminator
  asm.outPort(1, "dx");
  asm.unary("inc", 4, R.rsi);
  asm.jmp(printLoop);
  asm.bind(printDone);
  asm.mov(4, R.rax, STATUS_PANIC);
  asm.outPort(4, DEBUG_EXIT_PORT); // under QEMU: exit now; elsewhere harmless
  const halt = asm.label("bios.halt");
  asm.bind(halt);
  asm.cli();
  asm.hlt();
  asm.jmp(halt);

  // ================================ data =============================================
  // Temporary GDT (SDM §3.4.5; field diagram in boot/entry.ts emitGdt):
  //   0x08 code32: 0x00CF9A000000FFFF  G=1 D=1 (32-bit) P=1 DPL=0 type=0xA execute/read, base 0, 4 GiB
  //   0x10 data32: 0x00CF92000000FFFF  G=1 B=1 P=1 DPL=0 type=0x2 read/write, base 0, 4 GiB
  asm.align(8, 0);
  asm.bind(gdt);
  asm.dq(0n); // null descriptor
  asm.dq(0x00cf9a000000ffffn); // 0x08 flat 32-bit code
  asm.dq(0x00cf92000000ffffn); // 0x10 flat 32-bit data
  asm.dw(0); // padding: base below 4-byte aligned
  asm.bind(gdtr);
  asm.dw(3 * 8 - 1); // limit
  asm.dd(gdt); // base (< 16 MiB, as a 16-bit lgdt requires)
  asm.align(8, 0);
  asm.bind(tscSave);
  asm.dq(0n); // tsc at the first instruction
  asm.bind(e820Count);
  asm.dd(0); // E820 entries collected
  asm.bind(a20Message);
  asm.bytes(new TextEncoder().encode("boot: cannot enable the A20 line\n\0"));

  // ================================ payload ==========================================
  for (let i = 0; i < p.segments.length; i++) {
    asm.align(16, 0);
    asm.bind(segmentLabels[i]);
    asm.bytes(p.segments[i].data);
  }

  const code = asm.finish();
  const size = Math.ceil(code.length / BIOS_FILE_ALIGN) * BIOS_FILE_ALIGN;
  if (size > BIOS_MAX_FILE_BYTES) {
    throw new Error(
      `bios: boot file would be 0x${hex(size)} bytes (stub + segments), more than the 0x${hex(BIOS_MAX_FILE_BYTES)} ` +
        `bytes a BIOS can load below 0xA0000 at 0x7C00; the image's loaded segments must total less than ~480 KiB`,
    );
  }
  const file = new Uint8Array(size);
  file.set(code);
  return file;
}

function hex(n: number): string {
  return n.toString(16);
}
