/**
 * Test harness: runs a kernel wasm module under Node/V8 with JavaScript stand-ins for the
 * `x86.*` / `image.*` intrinsics of tools/link/ABI.md.
 *
 * The fake machine:
 *  - COM1 16550: collects bytes written to THR (0x3F8 with DLAB clear); LSR always says "THR empty".
 *  - isa-debug-exit: `outl(0xF4, status)` throws `Exit(status)`.
 *  - TSC: a virtual clock in ticks at `tscHz`; every rdtsc advances it by `rdtscStep`, every
 *    `inb(0x40)` by 1 µs. PIT channel 0 (ports 0x40/0x43) counts down from its reload value at
 *    1.193182 MHz of virtual time and answers the counter-latch command, so PIT calibration can
 *    be tested. CPUID answers from a table.
 *  - Memory: the module's own (exported) memory, used from address 0 like physical memory. The
 *    harness puts the boot info, symbol table, a stack for fake frames and a guest region at the
 *    fixed addresses below, all under KERNEL_MEMORY_BASE where asc places its data.
 */

export const BOOT_INFO = 0x10000;
export const SYMBOL_TABLE = 0x20000;
export const FAKE_STACK = 0x30000;
export const HVM_START_INFO = 0x40000;
export const GUEST_BASE = 0x100000;
export const GUEST_BYTES = 0x100000;
/** The 32-byte interrupt pending bitmap (image.interruptPending). */
export const INTERRUPT_PENDING = 0x50000;

export class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit(${status})`);
  }
}

export interface MachineOptions {
  tscHz?: bigint;
  rdtscStep?: bigint;
  /** leaf -> [eax, ebx, ecx, edx]; leaves not listed read as zero. */
  cpuid?: Record<number, [number, number, number, number]>;
  cr2?: bigint;
  guestRun?: () => void;
}

/** CPUID reporting leaf 0x15 with a 24 MHz crystal and ratio 200/2: 2.4 GHz. */
export const CPUID_2400MHZ: Record<number, [number, number, number, number]> = {
  0: [0x16, 0, 0, 0],
  0x15: [2, 200, 24_000_000, 0],
};

export interface Machine {
  instance: WebAssembly.Instance;
  exports: Record<string, any>;
  bytes(): Uint8Array;
  view(): DataView;
  /** Everything written to COM1 so far, decoded as UTF-8. */
  serial(): string;
  clearSerial(): void;
  /** Virtual TSC now. */
  clock: { ticks: bigint };
  /** Writes to UART registers other than THR, as [offset, value]. */
  uartRegs: Array<[number, number]>;
  /** Calls an export, returning the exit status if it exited (undefined if it returned). */
  run(name: string, ...args: unknown[]): number | undefined;
}

export function instantiate(wasm: Uint8Array<ArrayBuffer>, opts: MachineOptions = {}): Machine {
  const tscHz = opts.tscHz ?? 2_400_000_000n;
  const rdtscStep = opts.rdtscStep ?? 50n;
  const cpuidTable = opts.cpuid ?? CPUID_2400MHZ;
  const clock = { ticks: 10_000_000_000n };
  const serialBytes: number[] = [];
  const uartRegs: Array<[number, number]> = [];
  let lcr = 0;
  let pitStart = -1n;
  let pitReload = 0;
  let latched = 0;
  let latchReads = 0;
  let pitLow = -1;
  let memory: WebAssembly.Memory | undefined;
  const mem = () => {
    if (!memory) throw new Error("memory used before instantiation finished");
    return memory;
  };

  const x86 = {
    outb(port: number, v: number) {
      if (port >= 0x3f8 && port <= 0x3ff) {
        const reg = port - 0x3f8;
        if (reg === 3) lcr = v;
        if (reg === 0 && (lcr & 0x80) === 0) serialBytes.push(v & 0xff);
        else uartRegs.push([reg, v]);
      } else if (port === 0x43) {
        if ((v & 0xc0) === 0 && (v & 0x30) === 0) {
          // Counter latch command for channel 0: freeze the current count for two reads.
          const pitTicks = pitStart < 0n ? 0n : ((clock.ticks - pitStart) * 1_193_182n) / tscHz;
          latched = Number(BigInt(pitReload) - (pitTicks % BigInt(pitReload + 1)));
          latchReads = 0;
        } else pitLow = -1;
      } else if (port === 0x40) {
        if (pitLow < 0) pitLow = v;
        else {
          pitReload = pitLow | (v << 8);
          pitStart = clock.ticks;
          pitLow = -1;
        }
      }
    },
    outw(_port: number, _v: number) {},
    outl(port: number, v: number) {
      if (port === 0xf4) throw new Exit(v >>> 0);
    },
    inb(port: number): number {
      if (port === 0x3fd) return 0x60; // THR empty, transmitter idle
      if (port === 0x40) {
        clock.ticks += tscHz / 1_000_000n;
        const byte = latchReads++ === 0 ? latched & 0xff : (latched >> 8) & 0xff;
        return byte;
      }
      return 0xff;
    },
    inw: () => 0xffff,
    inl: () => 0xffffffff,
    rdtsc(): bigint {
      clock.ticks += rdtscStep;
      return clock.ticks;
    },
    cpuid(leaf: number, _sub: number, reg: number): number {
      const row = cpuidTable[leaf >>> 0];
      return row ? row[reg] >>> 0 : 0;
    },
    pause() {},
    hlt() {
      throw new Error("hlt reached (would halt forever)");
    },
    cli() {},
    sti() {},
    stiHlt() {
      throw new Error("stiHlt reached (no interrupt source in the fake machine)");
    },
    xchg32(addr: number, v: number): number {
      const view = new DataView(mem().buffer);
      const old = view.getUint32(addr >>> 0, true);
      view.setUint32(addr >>> 0, v >>> 0, true);
      return old;
    },
    mfence() {},
    lfence() {},
    sfence() {},
    rdmsr: () => 0n,
    wrmsr() {},
    readCr2: () => opts.cr2 ?? 0n,
    readCr3: () => 0x1000n,
    readFramePointer: () => 0n,
    mmioRead8: () => 0, mmioRead16: () => 0, mmioRead32: () => 0, mmioRead64: () => 0n,
    mmioWrite8() {}, mmioWrite16() {}, mmioWrite32() {}, mmioWrite64() {},
  };
  const image = {
    bootInfo: () => BOOT_INFO,
    symbolTable: () => SYMBOL_TABLE,
    stackTop: () => FAKE_STACK + 0x8000,
    stackLimit: () => FAKE_STACK,
    guestMemoryBase: () => GUEST_BASE,
    guestMemoryBytes: () => GUEST_BYTES,
    interruptPending: () => INTERRUPT_PENDING,
  };
  const guest = { run: () => opts.guestRun?.() };
  const module = new WebAssembly.Module(wasm);
  const instance = new WebAssembly.Instance(module, { x86, image, guest } as WebAssembly.Imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  const exports = instance.exports as Record<string, any>;
  return {
    instance,
    exports,
    bytes: () => new Uint8Array(mem().buffer),
    view: () => new DataView(mem().buffer),
    serial: () => Buffer.from(serialBytes).toString("utf8"),
    clearSerial: () => {
      serialBytes.length = 0;
    },
    clock,
    uartRegs,
    run(name: string, ...args: unknown[]) {
      try {
        exports[name](...args);
        return undefined;
      } catch (e) {
        if (e instanceof Exit) return e.status;
        throw e;
      }
    },
  };
}

export interface MemoryRegion {
  base: bigint;
  length: bigint;
  type: number;
}

function writeRegions(view: DataView, at: number, regions: MemoryRegion[]) {
  regions.forEach((r, i) => {
    view.setBigUint64(at + 24 * i, r.base, true);
    view.setBigUint64(at + 24 * i + 8, r.length, true);
    view.setUint32(at + 24 * i + 16, r.type, true);
    view.setUint32(at + 24 * i + 20, 1, true);
  });
}

/** Boot info of a BIOS boot: stub TSC, entry TSC, E820 entries at +64. */
export function writeBiosBootInfo(m: Machine, tscStub: bigint, regions: MemoryRegion[]) {
  const v = m.view();
  v.setBigUint64(BOOT_INFO, tscStub, true);
  v.setBigUint64(BOOT_INFO + 8, tscStub + 1000n, true);
  v.setUint32(BOOT_INFO + 16, 1, true);
  v.setUint32(BOOT_INFO + 20, regions.length, true);
  v.setBigUint64(BOOT_INFO + 24, 0n, true);
  writeRegions(v, BOOT_INFO + 64, regions);
}

/** Boot info of a PVH boot with hvm_start_info version 1 (memory map) and a command line. */
export function writePvhBootInfo(m: Machine, tscStub: bigint, regions: MemoryRegion[], cmdline = "") {
  const v = m.view();
  v.setBigUint64(BOOT_INFO, tscStub, true);
  v.setBigUint64(BOOT_INFO + 8, tscStub + 1000n, true);
  v.setUint32(BOOT_INFO + 16, 2, true);
  v.setUint32(BOOT_INFO + 20, 0, true);
  v.setBigUint64(BOOT_INFO + 24, BigInt(HVM_START_INFO), true);
  const memmap = HVM_START_INFO + 0x100;
  const cmd = HVM_START_INFO + 0x800;
  v.setUint32(HVM_START_INFO, 0x336ec578, true);
  v.setUint32(HVM_START_INFO + 4, 1, true);
  v.setBigUint64(HVM_START_INFO + 24, BigInt(cmd), true);
  v.setBigUint64(HVM_START_INFO + 40, BigInt(memmap), true);
  v.setUint32(HVM_START_INFO + 48, regions.length, true);
  writeRegions(v, memmap, regions);
  m.bytes().set([...Buffer.from(cmdline, "utf8"), 0], cmd);
}

export interface Symbol {
  start: number;
  end: number;
  name: string;
}

/** Symbol table (sorted by start) with the names right after the entries. */
export function writeSymbolTable(m: Machine, symbols: Symbol[]) {
  const v = m.view();
  const sorted = [...symbols].sort((a, b) => a.start - b.start);
  v.setUint32(SYMBOL_TABLE, sorted.length, true);
  v.setUint32(SYMBOL_TABLE + 4, 0, true);
  let names = SYMBOL_TABLE + 8 + 16 * sorted.length;
  sorted.forEach((s, i) => {
    const bytes = Buffer.from(s.name, "utf8");
    const e = SYMBOL_TABLE + 8 + 16 * i;
    v.setUint32(e, s.start, true);
    v.setUint32(e + 4, s.end, true);
    v.setUint32(e + 8, names, true);
    v.setUint32(e + 12, bytes.length, true);
    m.bytes().set(bytes, names);
    names += bytes.length;
  });
}

/** Writes an AssemblyScript string (u32 byte length at p-4, UTF-16LE at p) at guest address p. */
export function writeGuestString(m: Machine, p: number, s: string) {
  const v = m.view();
  v.setUint32(GUEST_BASE + p - 4, s.length * 2, true);
  for (let i = 0; i < s.length; i++) v.setUint16(GUEST_BASE + p + 2 * i, s.charCodeAt(i), true);
}
