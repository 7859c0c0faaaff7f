/**
 * Linker: puts the boot entry, trap stubs, translated modules and their data into one image
 * (layout and conventions: tools/link/ABI.md) and writes it as a PVH ELF and an El Torito boot file.
 *
 *   IMAGE_BASE ─┬─ text   : entry32 (PVH, BIOS) → long mode → entry64 → wasmMain; trap stubs; code
 *               ├─ rodata : symbol table + names, passive data segment bytes
 *               ├─ data   : stack limit, multi-return area, globals, tables, memory state
 *               └─ bss    : boot info, page tables, IDT, guard page, stack
 *   KERNEL_MEMORY_BASE, GUEST_MEMORY_BASE: active data segments of the kernel / guest modules
 */
import { Assembler, Label, R, abs, mem } from "../x86/assembler.ts";
import { emitEntry } from "../../boot/entry.ts";
import { IST_STACKS, IST_STACK_BYTES, PAGE_TABLE_BYTES_PROTECTED } from "../../boot/protect.ts";
import { buildBiosBootFile } from "../../boot/bios.ts";
import { writeElf64, type ElfSegment, type ElfSymbol } from "../image/elf64.ts";
import type { WasmModule } from "../wasm/types.ts";
import { LinkError, UnsupportedError } from "../translate/errors.ts";
import { SignatureTable, TranslatedModule, PAGE, type FunctionSymbol, type ModuleOptions, type Tier, tierStats, type TierStats } from "../translate/module.ts";
import { ALL_TRAPS, type TrapKind } from "../translate/traps.ts";
import { GuestSpace } from "./guests.ts";

export const IMAGE_BASE = 0x100000;
export const KERNEL_MEMORY_BASE = 0x400000;
export const GUEST_MEMORY_BASE = 0x1000000;
/** The kernel's identity-mapped heap may grow up to the guest's memory. */
const KERNEL_MAX_PAGES = GUEST_MEMORY_BASE / PAGE;
/**
 * Without a guest the kernel may grow over all identity-mapped RAM (wasm32's 4 GiB): memory.grow is
 * only a counter; kernel/runtime/pages.ts hands out what the firmware memory map says exists.
 */
const KERNEL_MAX_PAGES_ALONE = 0x1_0000_0000 / PAGE;
/** Guest memory is limited to 256 MiB for now (the runner gives QEMU 512 MiB). */
export const GUEST_MAX_PAGES = 4096;
export const STACK_BYTES = 256 * 1024;
/** Stack kept free below the limit so a trap handler can still run after exhaustion. */
export const STACK_RESERVE = 64 * 1024;
export const MULTI_RETURN_SLOTS = 64;

export const GUEST_HOST_IMPORTS: Record<string, string> = {
  abort: "__host_abort",
  trace: "__host_trace",
  seed: "__host_seed",
};

export interface LinkInput {
  kernel: WasmModule;
  guest?: WasmModule;
  progress?: (message: string) => void;
  /** Also build the El Torito boot file (BIOS/ISO); default true. */
  bios?: boolean;
  /** Replaces `guest`: adds the guest instances and runs them (the spec test driver, tools/spec/driver.ts). */
  driver?: GuestDriver;
  /** Inline small functions (tools/translate/inline.ts); default true. False keeps every call, for gdb. */
  inline?: boolean;
  /** Translator tier of every module (ModuleOptions.tier); default "optimizing". */
  tier?: Tier;
}

/**
 * A native replacement for the guest's entry sequence inside `guest_run` (ABI.md "Test driver").
 * With a driver the image gets a recovery cell: while its pc is non-zero, a trap stub restores
 * rsp/rbp from it and jumps to pc with the trap kind in rax instead of calling __trap.
 */
export interface GuestDriver {
  /** Adds the guest instances, in instantiation order (GuestSpace.add; `spectest` is bound by default). */
  link(guests: GuestSpace): void;
  /** Emits the body of guest_run (inside its rbp frame); may emit out-of-line code after a jmp. */
  emitRun(asm: Assembler, env: DriverEnv): void;
}
export interface DriverEnv {
  multiReturn: Label;
  /** Recovery cell: u64 pc (0 = none), u64 rsp, u64 rbp. */
  recovery: Label;
  /** Emits output of the bytes [rsi, rsi + rdx); clobbers rax, rcx, rdx, rsi, rdi, r11. */
  emitWrite(asm: Assembler): void;
}

/** Output to COM1, polling LSR.THRE before each byte (a full FIFO drops bytes): DriverEnv.emitWrite on metal. */
export function emitSerialWrite(asm: Assembler): void {
  const loop = asm.label(), done = asm.label(), wait = asm.label();
  asm.mov(8, R.rcx, R.rdx);
  asm.bind(loop);
  asm.test(8, R.rcx, R.rcx);
  asm.jcc("e", done);
  asm.mov(4, R.rdx, 0x3fd); // COM1 line status register
  asm.bind(wait);
  asm.inPort(1, "dx");
  asm.test(1, R.rax, 0x20); // transmit holding register empty?
  asm.jcc("e", wait);
  asm.mov(4, R.rdx, 0x3f8); // COM1 data register
  asm.movzx(4, R.rax, 1, mem(R.rsi));
  asm.outPort(1, "dx");
  asm.alu("add", 8, R.rsi, 1);
  asm.alu("sub", 8, R.rcx, 1);
  asm.jmp(loop);
  asm.bind(done);
}

/**
 * Trap stubs (ABI.md "Traps"): called from a landing pad in the trapping function (return address
 * = pc + 1). With `recovery`, a set recovery cell wins (driver mode). `halt` ends a stub whose
 * __trap returned.
 */
export function emitTrapStubs(
  asm: Assembler, traps: Map<TrapKind, Label>,
  o: { stackGuard: Label; stackLimit: Label; trapEntry: Label; recovery?: Label; halt: (asm: Assembler) => void },
): void {
  for (const [kind, label] of traps) {
    asm.align(16, 0xcc);
    asm.bind(label);
    if (o.recovery) {
      const report = asm.label();
      asm.mov(8, R.rcx, abs(o.recovery)); // recovery pc
      asm.test(8, R.rcx, R.rcx);
      asm.jcc("e", report);
      asm.mov(8, R.rsp, abs(o.recovery, 8)); // the driver's frame
      asm.mov(8, R.rbp, abs(o.recovery, 16));
      asm.mov(4, R.rax, kind); // tell the driver which trap
      asm.jmp(R.rcx);
      asm.bind(report);
    }
    asm.pop(R.rax); // return address inside the trapping function
    asm.unary("dec", 8, R.rax); // point into the call instruction itself
    asm.movabs(R.rcx, o.stackGuard); // let the panic code use the reserve: limit = guard page top
    asm.alu("add", 8, R.rcx, 4096);
    asm.mov(8, abs(o.stackLimit), R.rcx);
    asm.push(kind); // __trap(kind,
    asm.push(R.rax); //        pc,
    asm.push(R.rbp); //        fp)
    asm.call(o.trapEntry);
    o.halt(asm);
  }
}

/**
 * The cells every image's translated code reads (ABI.md): the u64 stack limit (0 here: its offset
 * is returned, to be patched once the stack's address is known), the SSE4.1 and AVX flags, the multi-return
 * area and, in driver mode, the recovery cell (u64 pc, rsp, rbp).
 */
export function emitRuntimeCells(asm: Assembler, c: { stackLimit: Label; sse41: Label; avx: Label; multiReturn: Label; recovery?: Label }): number {
  asm.bind(c.stackLimit);
  asm.dq(0);
  const stackLimitCell = asm.offset - 8;
  asm.bind(c.sse41);
  asm.dq(0);
  asm.bind(c.avx);
  asm.dq(0);
  asm.bind(c.multiReturn);
  for (let i = 0; i < MULTI_RETURN_SLOTS; i++) asm.dq(0);
  if (c.recovery) {
    asm.bind(c.recovery);
    asm.dq(0); asm.dq(0); asm.dq(0);
  }
  return stackLimitCell;
}

/** The refusal of an image whose code and data would end at `end`, past KERNEL_MEMORY_BASE. */
export function imageTooLarge(end: number, tier: Tier | undefined): string {
  const room = (KERNEL_MEMORY_BASE - IMAGE_BASE) / (1 << 20);
  return `image too large: its code and data would end at 0x${end.toString(16)}, past 0x${KERNEL_MEMORY_BASE.toString(16)} where the kernel's memory starts ` +
    `(${room} MiB for the image)` + (tier === "quick" ? "; the quick tier's code is about 1.4x the optimising tier's: without --quick it may fit" : "");
}

/** Symbol table (ABI.md "Symbol table") at `symtab`: functions, then inlined ranges, then names. */
export function emitSymbolTable(asm: Assembler, symtab: Label, functions: FunctionSymbol[]): void {
  const byStart = (x: { start: Label }, y: { start: Label }) => x.start.address! - y.start.address!;
  const inlined: FunctionSymbolRange[] = [];
  for (const f of functions) if (f.inlined) for (const r of f.inlined) inlined.push(r);
  inlined.sort(byStart);
  const entries = [...functions, ...inlined];
  const names = entries.map((f) => Buffer.from(f.name, "utf8"));
  asm.bind(symtab);
  asm.dd(functions.length);
  asm.dd(inlined.length);
  // The names follow the table in order, so each one's address is known here.
  let name = asm.here + 16 * entries.length;
  entries.forEach((f, i) => {
    asm.dd(f.start);
    asm.dd(f.end);
    asm.dd(name);
    asm.dd(names[i].length);
    name += names[i].length;
  });
  for (const n of names) asm.bytes(n);
}

export interface LinkedImage {
  elf: Uint8Array;
  /** El Torito boot file (16-bit stub + payload) for the ISO; absent when not asked for. */
  bootFile?: Uint8Array;
  symbols: ElfSymbol[];
  textBytes: number;
  entry32Pvh: number;
  /** Functions defined by the kernel and guest modules, how many the quick tier translated. */
  functions: TierStats;
}

export function linkImage(input: LinkInput): LinkedImage {
  const log = input.progress ?? (() => {});
  const asm = new Assembler({ bits: 64, origin: IMAGE_BASE });
  const L = (n: string) => asm.label(n);

  const bootInfo = L("boot_info"), pageTables = L("page_tables"), idt = L("idt");
  const stackGuard = L("stack_guard"), stackTop = L("stack_top"), stackLimit = L("stack_limit");
  const multiReturn = L("multi_return"), sse41 = L("cpu_sse41"), avx = L("cpu_avx"), symtab = L("symbol_table");
  const wasmMain = L("wasm_main"), guestRun = L("guest_run");
  const interruptPending = L("interrupt_pending"); // 32 bytes: boot/interrupts.ts
  const traps = new Map<TrapKind, Label>(ALL_TRAPS.map((k) => [k, L(`trap_${k}`)]));
  const signatures = new SignatureTable();
  const hasGuests = !!input.guest || !!input.driver;
  const imageSymbols = new Map<string, Label | number>([
    ["bootInfo", bootInfo], ["symbolTable", symtab], ["stackTop", stackTop], ["stackLimit", stackLimit],
    ["guestMemoryBase", hasGuests ? GUEST_MEMORY_BASE : 0],
    ["interruptPending", interruptPending],
  ]);
  const guestBytes = L("guest.memory.bytes");
  imageSymbols.set("guestMemoryBytes", hasGuests ? guestBytes : 0);

  // Modules first (their constructors refuse unsupported shapes before anything is emitted).
  const { kernel, guests, guest, trapEntry } = translateModules(input, {
    kernelMaxPages: hasGuests ? KERNEL_MAX_PAGES : KERNEL_MAX_PAGES_ALONE,
    guestMode: "sandbox", guestTotalPages: GUEST_MAX_PAGES, guestRun, guestBytes, what: "a module run on bare metal",
    module: { traps, multiReturn, stackLimit, sse41, avx, imageSymbols, signatures, inline: input.inline, tier: input.tier },
  });

  // ---- text: boot entry (32-bit, then 64-bit), wasm entry sequence, trap stubs, code.
  log("link: boot entry");
  // W^X boundaries for the page tables (boot/protect.ts); bound below as the sections are laid out.
  const textStartL = L("text_start"), rodataStartL = L("rodata_start"), dataStartL = L("data_start");
  const istStacks = L("ist_stacks");
  asm.defineAbsolute(textStartL, IMAGE_BASE);
  const protect = { textStart: textStartL, rodataStart: rodataStartL, dataStart: dataStartL, stackGuard, istStacks };
  const entry = emitEntry(asm, { bootInfo, pageTables, stackTop, idt, trapEntry: trapEntry.label, wasmMain, interruptPending, protect });
  asm.bits = 64;

  const stubs: FunctionSymbolRange[] = [];
  emitFramedStub(asm, stubs, "wasm_main", wasmMain, () => {
    emitCpuFeatureProbe(asm, sse41, avx);
    callEntrySequence(asm, kernel, KERNEL_ENTRY_EXPORTS);
  });
  const recovery = input.driver ? L("driver_recovery") : undefined;
  emitFramedStub(asm, stubs, "guest_run", guestRun, () => {
    if (input.driver) input.driver.emitRun(asm, { multiReturn, recovery: recovery!, emitWrite: emitSerialWrite });
    else if (guest) callEntrySequence(asm, guest);
  });

  emitTrapStubs(asm, traps, {
    stackGuard, stackLimit, trapEntry: trapEntry.label, recovery,
    halt: (a) => {
      const spin = a.label();
      a.bind(spin);
      a.cli();
      a.hlt();
      a.jmp(spin);
    },
  });

  log(`translate: kernel (${input.kernel.funcs.length} functions)`);
  kernel.emitCode(asm);
  if (guests.modules.length) {
    log(`translate: guests (${guests.modules.reduce((n, m) => n + m.mod.funcs.length, 0)} functions)`);
    guests.emitCode(asm);
  }
  const textEnd = asm.here;

  // ---- rodata: symbol table (ABI.md) and passive segment bytes.
  asm.align(4096, 0);
  const rodataStart = asm.here;
  asm.bind(rodataStartL);
  const functions = [
    ...stubs,
    ...kernel.functions,
    ...guests.functions(),
  ];
  emitSymbolTable(asm, symtab, functions);
  kernel.emitRodata(asm);
  guests.emitRodata(asm);
  const rodataEnd = asm.here;

  // ---- data
  asm.align(4096, 0);
  const dataStart = asm.here;
  asm.bind(dataStartL);
  const stackLimitCell = emitRuntimeCells(asm, { stackLimit, sse41, avx, multiReturn, recovery }); // stack limit set below
  asm.bind(interruptPending); // 8-byte aligned here; zero at load (in the file, not bss)
  for (let i = 0; i < 4; i++) asm.dq(0);
  kernel.emitData(asm);
  guests.emitData(asm);
  const dataEnd = asm.here;
  asm.align(4096, 0);
  const fileEnd = asm.here;

  // ---- bss (not in the file; the entry code zeroes what it owns)
  let bss = fileEnd;
  const place = (l: Label, bytes: number) => {
    asm.defineAbsolute(l, bss);
    bss += bytes;
  };
  place(bootInfo, 4096);
  place(pageTables, PAGE_TABLE_BYTES_PROTECTED);
  place(idt, 4096);
  place(stackGuard, 4096);
  bss += STACK_BYTES;
  asm.defineAbsolute(stackTop, bss);
  // IST stacks above the boot stack: above its limit too, so the panic code's prologue checks pass.
  place(istStacks, IST_STACKS * IST_STACK_BYTES);
  const bssEnd = bss;
  const limit = (stackTop.address! - STACK_BYTES) + STACK_RESERVE;
  asm.patchI32(stackLimitCell, limit);

  if (bssEnd > KERNEL_MEMORY_BASE) {
    throw new LinkError(imageTooLarge(bssEnd, input.tier));
  }

  const bytes = asm.finish();
  const at = (addr: number) => addr - IMAGE_BASE;
  const segments: ElfSegment[] = [
    // Each segment's file bytes stop where its contents end; the page padding up to the next
    // segment is zero-filled by the loader (memSize), so the file carries no padding.
    { vaddr: IMAGE_BASE, data: bytes.subarray(0, at(textEnd)), memSize: rodataStart - IMAGE_BASE, flags: "rx" },
    { vaddr: rodataStart, data: bytes.subarray(at(rodataStart), at(rodataEnd)), memSize: dataStart - rodataStart, flags: "r" },
    { vaddr: dataStart, data: bytes.subarray(at(dataStart), at(dataEnd)), memSize: bssEnd - dataStart, flags: "rw" },
  ];
  const memorySegments = [...kernel.activeData, ...guests.activeData()];
  for (const d of mergeSegments(memorySegments)) segments.push({ vaddr: d.addr, data: d.bytes, flags: "rw" });

  const symbols: ElfSymbol[] = functions.map((f) => ({
    name: f.name, addr: f.start.address!, size: f.end.address! - f.start.address!, kind: "func",
  }));
  for (const [name, l] of [["entry32_pvh", entry.entry32Pvh], ["entry32_bios", entry.entry32Bios]] as const) {
    symbols.push({ name, addr: l.address!, size: 0, kind: "func" });
  }
  for (const [kind, l] of traps) symbols.push({ name: `trap_${kind}`, addr: l.address!, size: 0, kind: "func" });
  for (const [name, l] of [["boot_info", bootInfo], ["page_tables", pageTables], ["stack_top", stackTop], ["symbol_table", symtab]] as const) {
    symbols.push({ name, addr: l.address!, size: 0, kind: "object" });
  }

  // segmentAlign 16: PVH loaders read segments by offset and size, so no page padding in the file.
  const elf = writeElf64({ entry: entry.entry32Pvh.address!, segments, symbols, pvhEntry: entry.entry32Pvh.address!, segmentAlign: 16 });
  const bootFile = input.bios === false ? undefined : buildBiosBootFile({
    segments: segments.filter((s) => s.data.length > 0).map((s) => ({ addr: s.vaddr, data: s.data, memSize: s.memSize })),
    entry32Bios: entry.entry32Bios.address!,
  });
  return { elf, bootFile, symbols, textBytes: textEnd - IMAGE_BASE, entry32Pvh: entry.entry32Pvh.address!, functions: tierStats([kernel, ...guests.modules]) };
}

/** The kernel module's entry exports, in call order: init, the application, the event loop. */
export const KERNEL_ENTRY_EXPORTS = ["_start", "main", "_run"];

/**
 * Translates (lays out) the kernel module and the guest instances the same way for both targets:
 * the kernel's only non-intrinsic import is `guest.run`; guests may import env.abort/trace/seed,
 * bound to the kernel's `__host_*` exports (ABI.md "Host imports of a guest module").
 */
export function translateModules(
  input: { kernel: WasmModule; guest?: WasmModule; driver?: GuestDriver },
  o: {
    kernelMaxPages: number;
    /** How guest accesses are kept in bounds (context.ts MemoryConfig). */
    guestMode: "sandbox" | "guarded";
    guestTotalPages: number;
    guestRun: Label;
    guestBytes: Label;
    /** How the refusal of another import names the target ("a module run on bare metal"). */
    what: string;
    module: Omit<ModuleOptions, "name" | "memory" | "resolveImport">;
  },
): { kernel: TranslatedModule; guests: GuestSpace; guest: TranslatedModule | undefined; trapEntry: { label: Label } } {
  const hasGuests = !!input.guest || !!input.driver;
  const kernel = new TranslatedModule(input.kernel, {
    ...o.module,
    name: "kernel",
    memory: { mode: "identity", base: 0, maxPages: o.kernelMaxPages },
    resolveImport: (imp) => {
      if (imp.module === "guest" && imp.name === "run" && hasGuests) return { kind: "call", target: o.guestRun };
      throw new UnsupportedError(`kernel: unsupported import: ${imp.module}.${imp.name}`);
    },
  });
  const guests = new GuestSpace({
    mode: o.guestMode, base: GUEST_MEMORY_BASE, totalPages: o.guestTotalPages, maxPages: GUEST_MAX_PAGES, firstBytes: o.guestBytes,
    module: o.module,
    host: (imp) => {
      const target = imp.module === "env" && imp.desc.kind === "func" ? GUEST_HOST_IMPORTS[imp.name] : undefined;
      if (!target) {
        throw new UnsupportedError(
          `unsupported import: ${imp.module}.${imp.name} (${o.what} may import env.abort, env.trace and env.seed)`,
        );
      }
      const f = kernel.exportedFunc(target);
      if (!f) throw new Error(`kernel does not export ${target}`);
      return { kind: "call", target: f.label };
    },
  });
  if (input.driver) input.driver.link(guests);
  else if (input.guest) guests.add(input.guest, "guest");
  const guest = input.driver ? undefined : guests.modules[0];
  const trapEntry = kernel.exportedFunc("__trap");
  if (!trapEntry) throw new Error("kernel module does not export __trap(kind: i32, pc: u64, fp: u64)");
  return { kernel, guests, guest, trapEntry };
}

/** A linker-made function (entry sequence, guest runner) and the range the symbol table names. */
export interface FunctionSymbolRange { name: string; start: Label; end: Label }

/**
 * Emits `body` as a function with a frame (so backtraces walk through it) at `start`, and records
 * its range in `stubs` for the symbol table.
 */
export function emitFramedStub(asm: Assembler, stubs: FunctionSymbolRange[], name: string, start: Label, body: () => void): void {
  asm.align(16, 0xcc);
  asm.bind(start);
  asm.push(R.rbp);
  asm.mov(8, R.rbp, R.rsp);
  body();
  asm.mov(8, R.rsp, R.rbp);
  asm.pop(R.rbp);
  asm.ret();
  const end = new Label(`${name}.end`);
  asm.bind(end);
  stubs.push({ name, start, end });
}

/**
 * Fills the CPU-feature cells the translated code dispatches on: SSE4.1 = CPUID.1:ECX bit 19; AVX
 * usable = CPUID.1:ECX bits 27 (OSXSAVE: the OS set CR4.OSXSAVE) and 28 (AVX) and XCR0 bits 1-2
 * (the OS saves SSE and AVX state), SDM Vol. 1 §14.3 "Detection of Intel AVX instructions". On bare
 * metal the boot code does not set CR4.OSXSAVE, so AVX stays off there. Clobbers rax, rbx, rcx, rdx.
 */
export function emitCpuFeatureProbe(asm: Assembler, sse41: Label, avx: Label): void {
  const noAvx = asm.label();
  asm.mov(4, R.rax, 1);
  asm.alu("xor", 4, R.rcx, R.rcx);
  asm.cpuid(); // clobbers rbx, which no translated code keeps live across this
  asm.mov(4, R.rax, R.rcx);
  asm.shift("shr", 4, R.rax, 19);
  asm.alu("and", 4, R.rax, 1);
  asm.mov(8, abs(sse41), R.rax);
  asm.alu("and", 4, R.rcx, (1 << 27) | (1 << 28));
  asm.alu("cmp", 4, R.rcx, (1 << 27) | (1 << 28));
  asm.jcc("ne", noAvx);
  asm.alu("xor", 4, R.rcx, R.rcx);
  asm.xgetbv(); // edx:eax = XCR0
  asm.alu("and", 4, R.rax, 6);
  asm.alu("cmp", 4, R.rax, 6);
  asm.jcc("ne", noAvx);
  asm.mov(8, abs(avx), 1);
  asm.bind(noAvx);
}

/** Instantiation function (segments that run, and may trap, before the start function), start
 *  section, then the `exports` (default `_start`, `main`), each if present, results discarded. */
export function callEntrySequence(asm: Assembler, m: TranslatedModule, exports: string[] = ["_start", "main"]): void {
  const init = m.initFunc();
  if (init) asm.call(init);
  const start = m.startFunc();
  if (start) asm.call(start);
  for (const name of exports) {
    const f = m.exportedFunc(name);
    if (!f) continue;
    if (f.type.params.length) {
      throw new UnsupportedError(`${m.ctx.name}: export ${name} takes parameters; it must be () -> ()`);
    }
    asm.call(f.label);
  }
}

/** Merge adjacent or overlapping active data segments (later ones win) into contiguous runs. */
export function mergeSegments(segs: { addr: number; bytes: Uint8Array }[]): { addr: number; bytes: Uint8Array }[] {
  if (segs.length === 0) return [];
  const sorted = [...segs].sort((x, y) => x.addr - y.addr);
  const runs: { addr: number; end: number; parts: { addr: number; bytes: Uint8Array }[] }[] = [];
  for (const s of sorted) {
    const last = runs[runs.length - 1];
    if (last && s.addr <= last.end + 64) {
      last.parts.push(s);
      last.end = Math.max(last.end, s.addr + s.bytes.length);
    } else runs.push({ addr: s.addr, end: s.addr + s.bytes.length, parts: [s] });
  }
  // Apply in the original order so a later segment overwrites an earlier one, as instantiation does.
  return runs.map((r) => {
    const out = new Uint8Array(r.end - r.addr);
    for (const s of segs) if (r.parts.includes(s)) out.set(s.bytes, s.addr - r.addr);
    return { addr: r.addr, bytes: out };
  });
}

// `mem` kept for symmetry with other emitters that address through registers.
void mem;
