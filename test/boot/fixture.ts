/**
 * A tiny bootable image for the boot-stub tests: emitEntry (boot/entry.ts) plus a hand-written
 * 64-bit `wasmMain` and `trapEntry` that report over COM1, wrapped as a PVH ELF and as an ISO.
 *
 * wasmMain prints, one item per line:
 * ```
 *   long mode ok
 *   sse ok                          (xorps ran: CR0.EM = 0, CR4.OSFXSR = 1)
 *   high ok                         (reads at 0x1000, 0x1FF000, 0x200000, 0xFFFFF000 did not fault)
 *   source=<16 hex> e820=<16 hex> startinfo=<16 hex> tsc0=<16 hex> tsc1=<16 hex>
 *     bigtail=<16 hex> segdata=<16 hex> segbss=<16 hex>   (ISO payload checks, 0 under PVH)
 *   startmagic=<16 hex>             (PVH only: hvm_start_info.magic, 0x336ec578)
 *   e820type0=<16 hex>              (BIOS only: type of the first E820 entry)
 * ```
 * and returns (exit status 0). The "null" variant dereferences address 0 after the first line
 * (#PF: the CPU pushes an error code), the "ud2" variant executes ud2 (#UD: no error code);
 * trapEntry prints `trap <kind> pc <pc> fp <fp>` and exits with status 9 - except in the "nested"
 * variant, where it then dereferences 0 itself (the entry code must exit with status 4).
 */
import { Assembler, Label, R, abs, mem } from "../../tools/x86/assembler.ts";
import { writeElf64 } from "../../tools/image/elf64.ts";
import { writeIso9660 } from "../../tools/image/iso9660.ts";
import { emitEntry } from "../../boot/entry.ts";
import { buildBiosBootFile } from "../../boot/bios.ts";

export const IMAGE_BASE = 0x100000;
export const BSS_BASE = 0x110000; // text must stay below this
export const BOOT_INFO = 0x110000; // 4 KiB
export const PAGE_TABLES = 0x111000; // 32 KiB
export const IDT = 0x119000; // 4 KiB
export const STACK_BOTTOM = 0x11a000; // 64 KiB
export const STACK_TOP = 0x12a000;
export const IMAGE_END = STACK_TOP;
export const TRAP_STATUS = 9;
const COM1 = 0x3f8;

export interface TestImage {
  text: Uint8Array;
  entry32Pvh: number;
  entry32Bios: number;
  /** Address of the instruction that dereferences 0 (variant "null"). */
  faultPc?: number;
  /** rbp inside wasmMain (its frame). */
  wasmMainFp: number;
}

export type Variant = "ok" | "null" | "ud2" | "nested";

/** ISO only: a large segment (SeaBIOS must load the whole boot file) ending in a marker ... */
export const BIG_SEGMENT = 0x200000;
export const BIG_SEGMENT_BYTES = 0x74000; // stub + this stays under the 0x78000 limit
export const BIG_MARKER = 0x1122334455667788n; // last 8 bytes of the big segment
/** ... and two segments at the same address: 16 bytes 0xFF, then 8 bytes 0xAA with memSize 16. */
export const BSS_SEGMENT = 0x280000;

export function buildTestImage(variant: Variant, overrides: { idt?: number } = {}): TestImage {
  const asm = new Assembler({ bits: 32, origin: IMAGE_BASE });
  const at = (name: string, addr: number): Label => {
    const l = asm.label(name);
    asm.defineAbsolute(l, addr);
    return l;
  };
  const bootInfo = at("bootInfo", BOOT_INFO);
  const wasmMain = asm.label("wasmMain");
  const trapEntry = asm.label("trapEntry");
  const { entry32Pvh, entry32Bios } = emitEntry(asm, {
    bootInfo,
    pageTables: at("pageTables", PAGE_TABLES),
    stackTop: at("stackTop", STACK_TOP),
    idt: at("idt", overrides.idt ?? IDT),
    trapEntry,
    wasmMain,
  });

  asm.bits = 64;
  const puts = asm.label("puts");
  const printHex = asm.label("printHex");
  const strings = new Map<string, Label>();
  const str = (s: string): Label => {
    let l = strings.get(s);
    if (!l) strings.set(s, (l = asm.label(`str${strings.size}`)));
    return l;
  };
  const print = (s: string) => {
    asm.movabs(R.rsi, str(s));
    asm.call(puts);
  };
  const printField = (name: string, load: () => void) => {
    print(name);
    load(); // value into rax
    asm.call(printHex);
  };

  // ---- wasmMain: ABI frame, then the report ----
  let faultPc: Label | undefined;
  asm.align(16);
  asm.bind(wasmMain);
  asm.push(R.rbp);
  asm.mov(8, R.rbp, R.rsp);
  print("long mode ok\n");
  if (variant === "null" || variant === "nested") {
    faultPc = asm.label("faultPc");
    asm.bind(faultPc);
    asm.mov(8, R.rax, abs(0)); // page 0 is not present: #PF
    print("null read did not fault\n");
  }
  if (variant === "ud2") {
    faultPc = asm.label("faultPc");
    asm.bind(faultPc);
    asm.ud2(); // #UD: vector 6, no CPU error code (the stub pushes a dummy)
    print("ud2 did not fault\n");
  }
  asm.db(0x0f, 0x57, 0xc0); // xorps xmm0, xmm0: #UD unless SSE is enabled
  print("sse ok\n");
  asm.mov(8, R.rax, abs(0x1000)); // page 1: first present 4 KiB page of the PT
  asm.mov(8, R.rax, abs(0x1ff000)); // page 511: last entry of the PT
  asm.mov(8, R.rax, abs(0x200000)); // PD0[1]: first 2 MiB page
  asm.mov(4, R.rax, 0xfffff000 | 0); // zero-extends: 0x00000000FFFFF000
  asm.mov(8, R.rax, mem(R.rax)); // last 4 KiB below 4 GiB (must not fault)
  print("high ok\n");
  printField("source=", () => asm.mov(4, R.rax, abs(bootInfo, 16)));
  printField(" e820=", () => asm.mov(4, R.rax, abs(bootInfo, 20)));
  printField(" startinfo=", () => asm.mov(8, R.rax, abs(bootInfo, 24)));
  printField(" tsc0=", () => asm.mov(8, R.rax, abs(bootInfo, 0)));
  printField(" tsc1=", () => asm.mov(8, R.rax, abs(bootInfo, 8)));
  printField(" bigtail=", () => asm.mov(8, R.rax, abs(BIG_SEGMENT + BIG_SEGMENT_BYTES - 8)));
  printField(" segdata=", () => asm.mov(8, R.rax, abs(BSS_SEGMENT)));
  printField(" segbss=", () => asm.mov(8, R.rax, abs(BSS_SEGMENT + 8)));
  print("\n");
  const notPvh = asm.label("notPvh");
  const done = asm.label("done");
  asm.mov(8, R.rax, abs(bootInfo, 24));
  asm.test(8, R.rax, R.rax);
  asm.jcc("e", notPvh);
  printField("startmagic=", () => {
    asm.mov(8, R.rax, abs(bootInfo, 24));
    asm.mov(4, R.rax, mem(R.rax)); // hvm_start_info.magic
  });
  print("\n");
  asm.jmp(done);
  asm.bind(notPvh);
  printField("e820type0=", () => asm.mov(4, R.rax, abs(bootInfo, 64 + 16)));
  print("\n");
  asm.bind(done);
  asm.pop(R.rbp);
  asm.ret();

  // ---- trapEntry(kind, pc, fp): ABI frame; params at rbp+32, rbp+24, rbp+16 ----
  asm.align(16);
  asm.bind(trapEntry);
  asm.push(R.rbp);
  asm.mov(8, R.rbp, R.rsp);
  printField("trap ", () => asm.mov(8, R.rax, mem(R.rbp, 32)));
  printField(" pc ", () => asm.mov(8, R.rax, mem(R.rbp, 24)));
  printField(" fp ", () => asm.mov(8, R.rax, mem(R.rbp, 16)));
  print("\n");
  if (variant === "nested") asm.mov(8, R.rax, abs(0)); // fault again inside __trap
  asm.mov(4, R.rax, TRAP_STATUS);
  asm.outPort(4, 0xf4);
  asm.hlt();

  // ---- puts(rsi = NUL-terminated string); clobbers rax, rdx, rsi ----
  const putsLoop = asm.label("putsLoop");
  const putsDone = asm.label("putsDone");
  asm.bind(puts);
  asm.mov(4, R.rdx, COM1);
  asm.bind(putsLoop);
  asm.movzx(4, R.rax, 1, mem(R.rsi));
  asm.test(4, R.rax, R.rax);
  asm.jcc("e", putsDone);
  asm.outPort(1, "dx"); // QEMU's UART needs no setup and never backs up
  asm.alu("add", 8, R.rsi, 1);
  asm.jmp(putsLoop);
  asm.bind(putsDone);
  asm.ret();

  // ---- printHex(rax): 16 hex digits; clobbers rax, rbx, rcx, rdx ----
  const hexLoop = asm.label("hexLoop");
  const isDigit = asm.label("isDigit");
  asm.bind(printHex);
  asm.mov(8, R.rbx, R.rax);
  asm.mov(4, R.rcx, 16);
  asm.mov(4, R.rdx, COM1);
  asm.bind(hexLoop);
  asm.shift("rol", 8, R.rbx, 4); // next nibble into the low bits
  asm.mov(4, R.rax, R.rbx);
  asm.alu("and", 4, R.rax, 15);
  asm.alu("cmp", 4, R.rax, 10);
  asm.jcc("b", isDigit);
  asm.alu("add", 4, R.rax, "a".charCodeAt(0) - 10 - "0".charCodeAt(0));
  asm.bind(isDigit);
  asm.alu("add", 4, R.rax, "0".charCodeAt(0));
  asm.outPort(1, "dx");
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", hexLoop);
  asm.ret();

  for (const [s, l] of strings) {
    asm.bind(l);
    asm.bytes(new TextEncoder().encode(s + "\0"));
  }

  const text = asm.finish();
  if (IMAGE_BASE + text.length > BSS_BASE) throw new Error("test image text overlaps its bss");
  return {
    text,
    entry32Pvh: entry32Pvh.address!,
    entry32Bios: entry32Bios.address!,
    faultPc: faultPc?.address,
    wasmMainFp: STACK_TOP - 8 - 8, // return address, saved rbp
  };
}

/** PVH ELF: one rwx-ish segment (text + bss) as "rx" (the ELF writer requires the entry in rx). */
export function testElf(img: TestImage): Uint8Array {
  return writeElf64({
    entry: img.entry32Pvh,
    pvhEntry: img.entry32Pvh,
    segments: [
      { vaddr: IMAGE_BASE, data: img.text, memSize: BSS_BASE - IMAGE_BASE, flags: "rx" },
      { vaddr: BSS_BASE, data: new Uint8Array(0), memSize: IMAGE_END - BSS_BASE, flags: "rw" },
    ],
  });
}

/** El Torito ISO: the BIOS boot file carrying the text (bss left to the entry code / memSize). */
export function testIso(img: TestImage): { iso: Uint8Array; bootFile: Uint8Array } {
  const big = new Uint8Array(BIG_SEGMENT_BYTES);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  new DataView(big.buffer).setBigUint64(big.length - 8, BIG_MARKER, true);
  const bootFile = buildBiosBootFile({
    segments: [
      { addr: IMAGE_BASE, data: img.text },
      { addr: BIG_SEGMENT, data: big },
      { addr: BSS_SEGMENT, data: new Uint8Array(16).fill(0xff) },
      { addr: BSS_SEGMENT, data: new Uint8Array(8).fill(0xaa), memSize: 16 }, // tail 8 bytes -> 0
    ],
    entry32Bios: img.entry32Bios,
  });
  const iso = writeIso9660({ volumeId: "BOOTTEST", files: [{ name: "BOOT.BIN", data: bootFile }], boot: { file: "BOOT.BIN" } });
  return { iso, bootFile };
}
