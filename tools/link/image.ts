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
import { buildBiosBootFile } from "../../boot/bios.ts";
import { writeElf64, type ElfSegment, type ElfSymbol } from "../image/elf64.ts";
import type { WasmModule } from "../wasm/types.ts";
import { UnsupportedError } from "../translate/errors.ts";
import { SignatureTable, TranslatedModule, PAGE } from "../translate/module.ts";
import { ALL_TRAPS, type TrapKind } from "../translate/traps.ts";

export const IMAGE_BASE = 0x100000;
export const KERNEL_MEMORY_BASE = 0x400000;
export const GUEST_MEMORY_BASE = 0x1000000;
/** The kernel's identity-mapped heap may grow up to the guest's memory. */
const KERNEL_MAX_PAGES = GUEST_MEMORY_BASE / PAGE;
/** Guest memory is limited to 256 MiB for now (the runner gives QEMU 512 MiB). */
const GUEST_MAX_PAGES = 4096;
const STACK_BYTES = 256 * 1024;
/** Stack kept free below the limit so a trap handler can still run after exhaustion. */
const STACK_RESERVE = 64 * 1024;
const MULTI_RETURN_SLOTS = 64;

const GUEST_HOST_IMPORTS: Record<string, string> = {
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
}

export interface LinkedImage {
  elf: Uint8Array;
  /** El Torito boot file (16-bit stub + payload) for the ISO; absent when not asked for. */
  bootFile?: Uint8Array;
  symbols: ElfSymbol[];
  textBytes: number;
  entry32Pvh: number;
}

export function linkImage(input: LinkInput): LinkedImage {
  const log = input.progress ?? (() => {});
  const asm = new Assembler({ bits: 64, origin: IMAGE_BASE });
  const L = (n: string) => asm.label(n);

  const bootInfo = L("boot_info"), pageTables = L("page_tables"), idt = L("idt");
  const stackGuard = L("stack_guard"), stackTop = L("stack_top"), stackLimit = L("stack_limit");
  const multiReturn = L("multi_return"), sse41 = L("cpu_sse41"), symtab = L("symbol_table");
  const wasmMain = L("wasm_main"), guestRun = L("guest_run");
  const traps = new Map<TrapKind, Label>(ALL_TRAPS.map((k) => [k, L(`trap_${k}`)]));
  const signatures = new SignatureTable();
  const imageSymbols = new Map<string, Label | number>([
    ["bootInfo", bootInfo], ["symbolTable", symtab], ["stackTop", stackTop], ["stackLimit", stackLimit],
    ["guestMemoryBase", input.guest ? GUEST_MEMORY_BASE : 0],
  ]);
  const guestBytes = L("guest.memory.bytes");
  const guestHasMemory = !!input.guest && input.guest.memories.length > 0;
  imageSymbols.set("guestMemoryBytes", guestHasMemory ? guestBytes : 0);

  // Modules first (their constructors refuse unsupported shapes before anything is emitted).
  const kernel = new TranslatedModule(input.kernel, {
    name: "kernel",
    memory: { mode: "identity", base: 0, maxPages: KERNEL_MAX_PAGES },
    resolveImport: (imp) => {
      if (imp.module === "guest" && imp.name === "run" && input.guest) return { kind: "call", target: guestRun };
      throw new UnsupportedError(`kernel: unsupported import: ${imp.module}.${imp.name}`);
    },
    traps, multiReturn, stackLimit, sse41, imageSymbols, signatures,
  });
  let guest: TranslatedModule | undefined;
  if (input.guest) {
    guest = new TranslatedModule(input.guest, {
      name: "guest",
      memory: { mode: "sandbox", base: GUEST_MEMORY_BASE, maxPages: GUEST_MAX_PAGES, bytes: guestBytes },
      resolveImport: (imp) => {
        const target = imp.module === "env" ? GUEST_HOST_IMPORTS[imp.name] : undefined;
        if (!target) {
          throw new UnsupportedError(
            `unsupported import: ${imp.module}.${imp.name} (a module run on bare metal may import env.abort, env.trace and env.seed)`,
          );
        }
        const f = kernel.exportedFunc(target);
        if (!f) throw new Error(`kernel does not export ${target}`);
        return { kind: "call", target: f.label };
      },
      traps, multiReturn, stackLimit, sse41, imageSymbols, signatures,
    });
  }
  const trapEntry = kernel.exportedFunc("__trap");
  if (!trapEntry) throw new Error("kernel module does not export __trap(kind: i32, pc: u64, fp: u64)");

  // ---- text: boot entry (32-bit, then 64-bit), wasm entry sequence, trap stubs, code.
  log("link: boot entry");
  const entry = emitEntry(asm, { bootInfo, pageTables, stackTop, idt, trapEntry: trapEntry.label, wasmMain });
  asm.bits = 64;

  const stubs: { name: string; start: Label; end: Label }[] = [];
  asm.align(16, 0xcc);
  asm.bind(wasmMain);
  asm.push(R.rbp);
  asm.mov(8, R.rbp, R.rsp);
  // CPU features the translated code dispatches on: SSE4.1 = CPUID.1:ECX bit 19.
  asm.mov(4, R.rax, 1);
  asm.alu("xor", 4, R.rcx, R.rcx);
  asm.cpuid();
  asm.shift("shr", 4, R.rcx, 19);
  asm.alu("and", 4, R.rcx, 1);
  asm.mov(8, abs(sse41), R.rcx);
  callEntrySequence(asm, kernel);
  asm.mov(8, R.rsp, R.rbp);
  asm.pop(R.rbp);
  asm.ret();
  stubs.push({ name: "wasm_main", start: wasmMain, end: L("wasm_main.end") });
  asm.bind(stubs[stubs.length - 1].end);

  asm.align(16, 0xcc);
  asm.bind(guestRun);
  asm.push(R.rbp);
  asm.mov(8, R.rbp, R.rsp);
  if (guest) callEntrySequence(asm, guest);
  asm.mov(8, R.rsp, R.rbp);
  asm.pop(R.rbp);
  asm.ret();
  stubs.push({ name: "guest_run", start: guestRun, end: L("guest_run.end") });
  asm.bind(stubs[stubs.length - 1].end);

  // Trap stubs: called from a landing pad in the trapping function (return address = pc + 1).
  for (const [kind, label] of traps) {
    asm.align(16, 0xcc);
    asm.bind(label);
    asm.pop(R.rax); // return address inside the trapping function
    asm.unary("dec", 8, R.rax); // point into the call instruction itself
    asm.movabs(R.rcx, stackGuard); // let the panic code use the reserve: limit = guard page top
    asm.alu("add", 8, R.rcx, 4096);
    asm.mov(8, abs(stackLimit), R.rcx);
    asm.push(kind); // __trap(kind,
    asm.push(R.rax); //        pc,
    asm.push(R.rbp); //        fp)
    asm.call(trapEntry.label);
    const spin = asm.label();
    asm.bind(spin);
    asm.cli();
    asm.hlt();
    asm.jmp(spin);
  }

  log(`translate: kernel (${input.kernel.funcs.length} functions)`);
  kernel.emitCode(asm);
  if (guest) {
    log(`translate: guest (${input.guest!.funcs.length} functions)`);
    guest.emitCode(asm);
  }
  const textEnd = asm.here;

  // ---- rodata: symbol table (ABI.md) and passive segment bytes.
  asm.align(4096, 0);
  const rodataStart = asm.here;
  const functions = [
    ...stubs,
    ...kernel.functions,
    ...(guest ? guest.functions : []),
  ];
  const names = functions.map(() => new Label("name"));
  asm.bind(symtab);
  asm.dd(functions.length);
  asm.dd(0);
  functions.forEach((f, i) => {
    asm.dd(f.start);
    asm.dd(f.end);
    asm.dd(names[i]);
    asm.dd(Buffer.byteLength(f.name, "utf8"));
  });
  functions.forEach((f, i) => {
    asm.bind(names[i]);
    asm.bytes(new Uint8Array(Buffer.from(f.name, "utf8")));
  });
  kernel.emitRodata(asm);
  guest?.emitRodata(asm);

  // ---- data
  asm.align(4096, 0);
  const dataStart = asm.here;
  asm.bind(stackLimit);
  asm.dq(0); // set below, once the stack's address is known
  const stackLimitCell = asm.offset - 8;
  asm.bind(sse41);
  asm.dq(0);
  asm.bind(multiReturn);
  for (let i = 0; i < MULTI_RETURN_SLOTS; i++) asm.dq(0);
  kernel.emitData(asm);
  guest?.emitData(asm);
  asm.align(4096, 0);
  const fileEnd = asm.here;

  // ---- bss (not in the file; the entry code zeroes what it owns)
  let bss = fileEnd;
  const place = (l: Label, bytes: number) => {
    asm.defineAbsolute(l, bss);
    bss += bytes;
  };
  place(bootInfo, 4096);
  place(pageTables, 8 * 4096);
  place(idt, 4096);
  place(stackGuard, 4096);
  bss += STACK_BYTES;
  asm.defineAbsolute(stackTop, bss);
  const bssEnd = bss;
  const limit = (stackTop.address! - STACK_BYTES) + STACK_RESERVE;
  asm.patchI32(stackLimitCell, limit);

  if (bssEnd > KERNEL_MEMORY_BASE) {
    throw new Error(`image too large: it ends at 0x${bssEnd.toString(16)}, past the kernel memory base 0x${KERNEL_MEMORY_BASE.toString(16)}`);
  }

  const bytes = asm.finish();
  const at = (addr: number) => addr - IMAGE_BASE;
  const segments: ElfSegment[] = [
    { vaddr: IMAGE_BASE, data: bytes.subarray(0, at(rodataStart)), flags: "rx" },
    { vaddr: rodataStart, data: bytes.subarray(at(rodataStart), at(dataStart)), flags: "r" },
    { vaddr: dataStart, data: bytes.subarray(at(dataStart), at(fileEnd)), memSize: bssEnd - dataStart, flags: "rw" },
  ];
  const memorySegments = [...kernel.activeData, ...(guest ? guest.activeData : [])];
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

  const elf = writeElf64({ entry: entry.entry32Pvh.address!, segments, symbols, pvhEntry: entry.entry32Pvh.address! });
  const bootFile = input.bios === false ? undefined : buildBiosBootFile({
    segments: segments.filter((s) => s.data.length > 0).map((s) => ({ addr: s.vaddr, data: s.data })),
    entry32Bios: entry.entry32Bios.address!,
  });
  return { elf, bootFile, symbols, textBytes: textEnd - IMAGE_BASE, entry32Pvh: entry.entry32Pvh.address! };
}

/** Start section, then exports `_start` and `main` (each if present), results discarded. */
function callEntrySequence(asm: Assembler, m: TranslatedModule): void {
  const start = m.startFunc();
  if (start) asm.call(start);
  for (const name of ["_start", "main"]) {
    const f = m.exportedFunc(name);
    if (!f) continue;
    if (f.type.params.length) {
      throw new UnsupportedError(`${m.ctx.name}: export ${name} takes parameters; it must be () -> ()`);
    }
    asm.call(f.label);
  }
}

/** Merge adjacent or overlapping active data segments (later ones win) into contiguous runs. */
function mergeSegments(segs: { addr: number; bytes: Uint8Array }[]): { addr: number; bytes: Uint8Array }[] {
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
