/**
 * Hosted linker: the same translated kernel (kernel/wasm-host-linux.ts) and guest as a bare-metal
 * `npm run wasm` image, as a static, non-PIE Linux x86-64 executable (tools/link/ABI.md "Hosted
 * Linux target"). Shares trap stubs, symbol table, entry sequence and segment merging with image.ts.
 *
 *   IMAGE_BASE ─┬─ text   : _entry (Linux process entry) → wasm_main; guest_run; trap stubs; code;
 *               │           fault handler (tools/link/hosted-faults.ts); open_guest_memories, copy_guest_data
 *               ├─ rodata : symbol table + names, passive data bytes, sigaction records, guest memory table
 *               ├─ data   : stack limit, multi-return area, [recovery cell], globals, tables, memory state,
 *               │           guest active data to copy
 *               └─ bss    : boot info (zero), signal stack, guard page (PROT_NONE at start), stack
 *   KERNEL_MEMORY_BASE   : kernel active data; bss up to GUEST_MEMORY_BASE (the kernel's heap)
 *   GUEST_MEMORY_BASE    : guest linear memories, "guarded" (one 8 GiB + guard reservation per memory,
 *                          tools/link/guests.ts): mmapped PROT_NONE by _entry, then each memory's
 *                          current size made read/write (memory.grow extends that with mprotect)
 *
 * Linux facts used (x86-64 psABI §3.4.1 process entry; syscall numbers from
 * arch/x86/entry/syscalls/syscall_64.tbl; flags from include/uapi/asm-generic/mman-common.h):
 * at e_entry rsp points at argc and every other register is undefined except rdx (atexit pointer,
 * ignored). A `syscall` takes rax = number, rdi, rsi, rdx, r10, r8, r9 and clobbers rcx and r11.
 *
 * Guest loads and stores are not checked: one out of bounds faults in a PROT_NONE page, and the
 * SIGSEGV handler installed by _entry makes that trap 5 (tools/link/hosted-faults.ts). Any other
 * fault is reported on stderr and kills the process with its signal like any native program.
 */
import { Assembler, Label, R, mem } from "../x86/assembler.ts";
import { writeElf64, type ElfSegment, type ElfSymbol } from "../image/elf64.ts";
import type { WasmModule } from "../wasm/types.ts";
import { SignatureTable, PAGE, tierStats, type Tier, type TierStats } from "../translate/module.ts";
import { LinkError } from "../translate/errors.ts";
import { ALL_TRAPS, Trap, type TrapKind } from "../translate/traps.ts";
import {
  SIGNAL_STACK_BYTES, emitFaultHandler, emitFaultHandlerRodata, emitFaultHandlerSetup, faultHandlerLabels,
} from "./hosted-faults.ts";
import {
  GUEST_MEMORY_BASE, IMAGE_BASE, KERNEL_MEMORY_BASE,
  STACK_BYTES, STACK_RESERVE, callEntrySequence, emitRuntimeCells, emitSymbolTable, emitTrapStubs, mergeSegments, type GuestDriver,
  emitFramedStub, emitCpuFeatureProbe, translateModules, type FunctionSymbolRange,
  imageTooLarge,
} from "./image.ts";

export const SYS_WRITE = 1;
export const SYS_MMAP = 9;
export const SYS_MPROTECT = 10;
export const SYS_EXIT_GROUP = 231;
const PROT_NONE = 0, PROT_READ_WRITE = 0x3;
const MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
/** Exit status when the process cannot set itself up (guest memory or fault handler). */
export const STATUS_SETUP_FAILED = 4;

export interface HostedLinkInput {
  /** The kernel module built from kernel/wasm-host-linux.ts. */
  kernel: WasmModule;
  guest?: WasmModule;
  /** Replaces `guest`: adds the guest instances and runs them (the spec test driver). */
  driver?: GuestDriver;
  /** Inline small functions (tools/translate/inline.ts); default true. False keeps every call, for gdb. */
  inline?: boolean;
  /** Translator tier of every module (ModuleOptions.tier); default "optimizing". */
  tier?: Tier;
}

export interface HostedImage {
  elf: Uint8Array;
  symbols: ElfSymbol[];
  textBytes: number;
  /** Functions defined by the kernel and guest modules, how many the quick tier translated. */
  functions: TierStats;
}

/** `syscall` (0F 05). */
export function emitSyscall(asm: Assembler): void {
  asm.db(0x0f);
  asm.db(0x05);
}

/** write(1, rsi, rdx): the hosted DriverEnv.emitWrite. */
export function emitStdoutWrite(asm: Assembler): void {
  asm.mov(4, R.rdi, 1);
  asm.mov(4, R.rax, SYS_WRITE);
  emitSyscall(asm);
}

export function linkHosted(input: HostedLinkInput): HostedImage {
  const asm = new Assembler({ bits: 64, origin: IMAGE_BASE });
  const L = (n: string) => asm.label(n);

  const bootInfo = L("boot_info"), stackGuard = L("stack_guard"), stackTop = L("stack_top");
  const stackLimit = L("stack_limit"), multiReturn = L("multi_return"), sse41 = L("cpu_sse41"), avx = L("cpu_avx");
  const symtab = L("symbol_table"), entry = L("_entry"), wasmMain = L("wasm_main"), guestRun = L("guest_run");
  const traps = new Map<TrapKind, Label>(ALL_TRAPS.map((k) => [k, L(`trap_${k}`)]));
  const signatures = new SignatureTable();
  const guestBytes = L("guest.memory.bytes");
  const hasGuests = !!input.guest || !!input.driver;
  const imageSymbols = new Map<string, Label | number>([
    ["bootInfo", bootInfo], ["symbolTable", symtab], ["stackTop", stackTop], ["stackLimit", stackLimit],
    ["guestMemoryBase", hasGuests ? GUEST_MEMORY_BASE : 0],
    ["guestMemoryBytes", hasGuests ? guestBytes : 0],
  ]);

  const { kernel, guests, guest, trapEntry } = translateModules(input, {
    kernelMaxPages: GUEST_MEMORY_BASE / PAGE, guestMode: "guarded", guestTotalPages: HOSTED_GUEST_PAGES, guestRun, guestBytes,
    what: "a hosted module",
    module: { traps, multiReturn, stackLimit, sse41, avx, imageSymbols, signatures, inline: input.inline, tier: input.tier },
  });
  const exit = kernel.exportedFunc("_exit");
  if (!exit) throw new Error("kernel module does not export _exit(status: i32)");
  const guestMemoryEnd = guests.end();

  // ---- text: process entry.
  const stubs: FunctionSymbolRange[] = [];
  const setupFailed = L("setup_failed"), memoryFailed = L("memory_failed"), signalsFailed = L("signals_failed");
  const copyGuestData = L("copy_guest_data"), openGuestMemories = L("open_guest_memories");
  const failures = [
    { at: memoryFailed, message: L("memory_message"), text: "hosted: cannot map the guests' linear memory\n" },
    { at: signalsFailed, message: L("signals_message"), text: "hosted: cannot install the fault handler\n" },
  ];
  const faults = faultHandlerLabels(asm);
  const guestCode = L("guest_code"), guestCodeEnd = L("guest_code.end");
  asm.align(16, 0xcc);
  asm.bind(entry);
  asm.movabs(R.rsp, stackTop); // our own stack: fixed address, known limit, guard page below
  asm.alu("xor", 4, R.rbp, R.rbp); // outermost frame (backtraces stop here)
  // mprotect(stack_guard, 4096, PROT_NONE): running past the reserve faults instead of
  // overwriting whatever lies below.
  asm.movabs(R.rdi, stackGuard);
  asm.mov(4, R.rsi, 4096);
  asm.mov(4, R.rdx, PROT_NONE);
  asm.mov(4, R.rax, SYS_MPROTECT);
  emitSyscall(asm);
  emitFaultHandlerSetup(asm, faults, signalsFailed);
  if (guestMemoryEnd > GUEST_MEMORY_BASE) {
    // mmap(GUEST_MEMORY_BASE, every guest memory's reservation, PROT_NONE,
    // FIXED|PRIVATE|ANONYMOUS|NORESERVE, -1, 0); then each memory's current size read/write (zero
    // pages on first touch). An access beyond it faults: the fault handler makes that trap 5.
    asm.mov(4, R.rdi, GUEST_MEMORY_BASE);
    asm.movabs(R.rsi, guestMemoryEnd - GUEST_MEMORY_BASE);
    asm.mov(4, R.rdx, PROT_NONE);
    asm.mov(4, R.r10, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    asm.mov(8, R.r8, -1);
    asm.alu("xor", 4, R.r9, R.r9);
    asm.mov(4, R.rax, SYS_MMAP);
    emitSyscall(asm);
    asm.alu("cmp", 8, R.rax, GUEST_MEMORY_BASE);
    asm.jcc("ne", memoryFailed);
    asm.call(openGuestMemories);
    asm.test(8, R.rax, R.rax);
    asm.jcc("ne", memoryFailed);
    asm.call(copyGuestData); // the guests' static active data segments (instantiation, spec §4.5.4)
  }
  emitCpuFeatureProbe(asm, sse41, avx);
  asm.call(wasmMain);
  asm.push(0); // _exit(0): flushes the console, exit_group(0)
  asm.call(exit.label);
  asm.ud2();
  for (const f of failures) {
    asm.bind(f.at);
    asm.movabs(R.rsi, f.message);
    asm.mov(4, R.rdx, f.text.length);
    asm.jmp(setupFailed);
  }
  asm.bind(setupFailed);
  asm.mov(4, R.rdi, 2); // stderr
  asm.mov(4, R.rax, SYS_WRITE);
  emitSyscall(asm);
  asm.mov(4, R.rdi, STATUS_SETUP_FAILED);
  asm.mov(4, R.rax, SYS_EXIT_GROUP);
  emitSyscall(asm);
  asm.ud2();
  stubs.push({ name: "_entry", start: entry, end: L("_entry.end") });
  asm.bind(stubs[stubs.length - 1].end);

  emitFramedStub(asm, stubs, "wasm_main", wasmMain, () => callEntrySequence(asm, kernel));
  const recovery = input.driver ? L("driver_recovery") : undefined;
  emitFramedStub(asm, stubs, "guest_run", guestRun, () => {
    if (input.driver) input.driver.emitRun(asm, { multiReturn, recovery: recovery!, emitWrite: emitStdoutWrite });
    else if (guest) callEntrySequence(asm, guest);
  });

  emitTrapStubs(asm, traps, { stackGuard, stackLimit, trapEntry: trapEntry.label, recovery, halt: (a) => a.ud2() });

  kernel.emitCode(asm);
  asm.bind(guestCode);
  guests.emitCode(asm);
  asm.bind(guestCodeEnd);

  emitFaultHandler(asm, faults, {
    memoryStart: GUEST_MEMORY_BASE, memoryEnd: guestMemoryEnd, codeStart: guestCode, codeEnd: guestCodeEnd,
    trap: traps.get(Trap.memoryOutOfBounds)!,
  });
  stubs.push({ name: "fault_handler", start: faults.start, end: faults.end });

  /**
   * A stub `name` at `start` that walks a table of `entryBytes`-byte entries at `table` (r8 points
   * at the entry, rdi = its first u64; an entry whose first u64 is 0 ends it) running `each` per
   * entry; `each` may jump to `done` (it returns with rax as set there). `setup` runs once first.
   */
  const emitTableWalk = (name: string, start: Label, table: Label, entryBytes: number, each: (done: Label) => void, setup?: () => void) => {
    const loop = asm.label(), done = asm.label();
    asm.align(16, 0xcc);
    asm.bind(start);
    setup?.();
    asm.movabs(R.r8, table);
    asm.bind(loop);
    asm.mov(8, R.rdi, mem(R.r8, 0));
    asm.test(8, R.rdi, R.rdi);
    asm.jcc("e", done);
    each(done);
    asm.alu("add", 8, R.r8, entryBytes);
    asm.jmp(loop);
    asm.bind(done);
    asm.ret();
    stubs.push({ name, start, end: L(`${name}.end`) });
    asm.bind(stubs[stubs.length - 1].end);
  };

  // open_guest_memories: mprotect(base, [bytes cell], RW) per entry of a table (u64 base, u64 cell
  // address; base 0 ends it); rax = 0, or the failing call's -errno.
  const memoryTable = L("guest_memory_table");
  emitTableWalk("open_guest_memories", openGuestMemories, memoryTable, 16, (done) => {
    asm.mov(8, R.rsi, mem(R.r8, 8));
    asm.mov(8, R.rsi, mem(R.rsi, 0));
    asm.mov(4, R.rdx, PROT_READ_WRITE);
    asm.mov(4, R.rax, SYS_MPROTECT);
    emitSyscall(asm); // keeps r8
    asm.test(8, R.rax, R.rax);
    asm.jcc("ne", done);
  });

  // copy_guest_data: `rep movsb` per entry of a table written after emitData (which collects the
  // runs); entries: u64 dst, u64 src, u64 len; dst 0 ends the table.
  const runLabels: { label: Label; run: { addr: number; bytes: Uint8Array } }[] = [];
  const copyTable = L("guest_data_table");
  emitTableWalk("copy_guest_data", copyGuestData, copyTable, 24, () => {
    asm.mov(8, R.rsi, mem(R.r8, 8));
    asm.mov(8, R.rcx, mem(R.r8, 16));
    asm.repMovs(1);
  }, () => asm.cld());
  const textEnd = asm.here;

  // ---- rodata
  asm.align(4096, 0);
  const rodataStart = asm.here;
  for (const f of failures) {
    asm.bind(f.message);
    asm.bytes(new TextEncoder().encode(f.text));
  }
  emitFaultHandlerRodata(asm, faults);
  asm.align(8, 0);
  asm.bind(memoryTable);
  for (const m of guests.memories()) {
    asm.dq(m.base);
    asm.dq(m.bytes);
  }
  asm.dq(0);
  emitSymbolTable(asm, symtab, [...stubs, ...kernel.functions, ...guests.functions()]);
  kernel.emitRodata(asm);
  guests.emitRodata(asm);

  // ---- data (emitData also collects the modules' active data segments)
  asm.align(4096, 0);
  const dataStart = asm.here;
  const stackLimitCell = emitRuntimeCells(asm, { stackLimit, sse41, avx, multiReturn, recovery }); // stack limit patched below
  kernel.emitData(asm);
  guests.emitData(asm);

  // Guest active data: bytes + copy table (read-only use, kept in the data segment for simplicity).
  asm.align(8, 0);
  const runs = mergeSegments(guests.activeData());
  for (const run of runs) runLabels.push({ label: new Label("guest_data"), run });
  asm.bind(copyTable);
  for (const { label, run } of runLabels) {
    asm.dq(run.addr);
    asm.dq(label);
    asm.dq(run.bytes.length);
  }
  asm.dq(0);
  for (const { label, run } of runLabels) {
    asm.bind(label);
    asm.bytes(run.bytes);
  }
  asm.align(4096, 0);
  const fileEnd = asm.here;

  // ---- bss (Linux zeroes it)
  let bss = fileEnd;
  asm.defineAbsolute(bootInfo, bss);
  bss += 4096;
  asm.defineAbsolute(faults.signalStack, bss);
  bss += SIGNAL_STACK_BYTES;
  asm.defineAbsolute(stackGuard, bss);
  bss += 4096;
  bss += STACK_BYTES;
  asm.defineAbsolute(stackTop, bss);
  const bssEnd = bss;
  asm.patchI32(stackLimitCell, stackTop.address! - STACK_BYTES + STACK_RESERVE);
  if (bssEnd > KERNEL_MEMORY_BASE) {
    throw new LinkError(imageTooLarge(bssEnd, input.tier));
  }

  const bytes = asm.finish();
  const at = (addr: number) => addr - IMAGE_BASE;
  const segments: ElfSegment[] = [
    { vaddr: IMAGE_BASE, data: bytes.subarray(0, at(rodataStart)), flags: "rx" },
    { vaddr: rodataStart, data: bytes.subarray(at(rodataStart), at(dataStart)), flags: "r" },
    { vaddr: dataStart, data: bytes.subarray(at(dataStart), at(fileEnd)), memSize: bssEnd - dataStart, flags: "rw" },
  ];
  // Kernel memory: its active data, then zero up to the guest's region (room for memory.grow).
  const kernelRuns = mergeSegments(kernel.activeData);
  const kernelEnd = kernelRuns.reduce((e, r) => Math.max(e, r.addr + r.bytes.length), KERNEL_MEMORY_BASE);
  const kernelData = new Uint8Array(kernelEnd - KERNEL_MEMORY_BASE);
  for (const r of kernelRuns) {
    if (r.addr < KERNEL_MEMORY_BASE) throw new Error(`kernel data at 0x${r.addr.toString(16)} lies below KERNEL_MEMORY_BASE`);
    kernelData.set(r.bytes, r.addr - KERNEL_MEMORY_BASE);
  }
  segments.push({ vaddr: KERNEL_MEMORY_BASE, data: kernelData, memSize: GUEST_MEMORY_BASE - KERNEL_MEMORY_BASE, flags: "rw" });

  const symbols: ElfSymbol[] = [...stubs, ...kernel.functions, ...guests.functions()].map((f) => ({
    name: f.name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`) || "?", addr: f.start.address!, size: f.end.address! - f.start.address!, kind: "func" as const,
  }));
  for (const [kind, l] of traps) symbols.push({ name: `trap_${kind}`, addr: l.address!, size: 0, kind: "func" });
  for (const [name, l] of [["stack_top", stackTop], ["symbol_table", symtab]] as const) {
    symbols.push({ name, addr: l.address!, size: 0, kind: "object" });
  }
  const elf = writeElf64({ entry: entry.address!, segments, symbols });
  return { elf, symbols, textBytes: textEnd - IMAGE_BASE, functions: tierStats([kernel, ...guests.modules]) };
}

/** Pages of all guest memories' maxima together: what guests may commit (each memory has its own
 *  reservation, guests.ts); the same budget as when sandbox bases had to stay below 2 GiB. */
const HOSTED_GUEST_PAGES = (0x8000_0000 - GUEST_MEMORY_BASE) / 65536;

/**
 * The hosted Linux executable for a guest module (tools/bench/translator.ts): build.ts's
 * buildHostedImage, imported lazily because build.ts imports this file.
 */
export async function buildHostedExecutable(wasm: Uint8Array, tier: Tier = "optimizing"): Promise<Uint8Array> {
  const { buildHostedImage } = await import("./build.ts");
  return (await buildHostedImage(wasm, undefined, { tier })).elf;
}
