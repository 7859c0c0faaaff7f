/**
 * Panic screens under Node: `__trap` text for every wasm trap kind, the backtrace walked from a
 * fake rbp chain and symbolized through a fake symbol table, CPU exceptions, nested traps, and the
 * kernel's own abort (asc --use abort=kernel/panic/abort) with exit status 1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileKernelApp } from "../../tools/build/compile.ts";
import { compileFixture } from "./fixtures.ts";
import { FAKE_STACK, instantiate, writeBiosBootInfo, writeSymbolTable, type Machine } from "./harness.ts";

const SYMBOLS = [
  { start: 0x101000, end: 0x101080, name: "kernel/start/_start" },
  { start: 0x101080, end: 0x101200, name: "apps/hello/main/main" },
  { start: 0x101200, end: 0x101340, name: "net/tcp/Tcb#onSegment" },
  { start: 0x101340, end: 0x101344, name: "func[17]" },
  { start: 0x101400, end: 0x101500, name: "caf\u00e9" }, // UTF-8 names pass through
];

const TRAP_TEXT: Record<number, string> = {
  1: "unreachable",
  2: "integer divide by zero",
  3: "integer overflow",
  4: "invalid conversion to integer",
  5: "out of bounds memory access",
  6: "out of bounds table access",
  7: "indirect call type mismatch",
  8: "undefined element",
  9: "uninitialized element",
  10: "call stack exhausted",
};

let hello: Uint8Array<ArrayBuffer>;
let abortApp: Uint8Array<ArrayBuffer>;
beforeAll(async () => {
  [hello, abortApp] = await Promise.all([
    compileKernelApp("apps/hello").then((r) => r.wasm),
    compileFixture("abort_app").then((r) => r.wasm),
  ]);
});

/** Frames at FAKE_STACK: each [fp] = caller's fp, [fp+8] = return address. Returns the first fp. */
function buildFrames(m: Machine, frames: Array<{ ret: number; next: number }>, base = FAKE_STACK + 0x100): number {
  const v = m.view();
  frames.forEach((f, i) => {
    const fp = base + 0x40 * i;
    v.setBigUint64(fp, BigInt(f.next === -1 ? 0 : f.next), true);
    v.setBigUint64(fp + 8, BigInt(f.ret), true);
  });
  return base;
}

/** The allocator counters kernel/runtime appends to every panic screen once anything was allocated. */
const MEMORY_STATS = /^ {2}(memory: |pool ).*\n/gm;

/** The machine's serial output without the allocator counter lines (checked on their own below). */
function withoutMemoryStats(m: Machine): Machine {
  const raw = m.serial;
  m.serial = () => raw().replace(MEMORY_STATS, "");
  return m;
}

function bootedMachine(wasm = hello, opts = {}) {
  const m = instantiate(wasm, opts);
  writeBiosBootInfo(m, m.clock.ticks, []);
  writeSymbolTable(m, SYMBOLS);
  m.run("_start");
  m.clearSerial();
  return withoutMemoryStats(m);
}

describe("__trap", () => {
  it("prints the trap kind and a symbolized backtrace, then exits with status 2", () => {
    const m = bootedMachine();
    const fp0 = FAKE_STACK + 0x100;
    // tcp handler (trapping) <- main <- _start <- boot stub (outermost frame: saved rbp 0)
    buildFrames(m, [
      { ret: 0x1010c5, next: fp0 + 0x40 }, // into main
      { ret: 0x101011, next: fp0 + 0x80 }, // into _start
      { ret: 0x100123, next: -1 }, // into the stub (no symbol)
    ]);
    const status = m.run("__trap", 2, 0x101233n, BigInt(fp0));
    expect(status).toBe(2);
    expect(m.serial()).toBe(
      [
        "trap: integer divide by zero",
        "  at net/tcp/Tcb#onSegment+0x33 (0x101233)",
        "  at apps/hello/main/main+0x44 (0x1010c4)",
        "  at kernel/start/_start+0x10 (0x101010)",
        "  at ?? (0x100122)",
        "",
      ].join("\n"),
    );
  });

  it("uses the ABI wording for every trap kind", () => {
    for (const [kind, text] of Object.entries(TRAP_TEXT)) {
      const m = bootedMachine();
      expect(m.run("__trap", Number(kind), 0x101340n, 0n)).toBe(2);
      expect(m.serial()).toBe(`trap: ${text}\n  at func[17]+0x0 (0x101340)\n`);
    }
    const m = bootedMachine();
    expect(m.run("__trap", 11, 0x101401n, 0n)).toBe(2);
    expect(m.serial()).toBe("trap: unknown trap 11\n  at caf\u00e9+0x1 (0x101401)\n");
  });

  it("symbolizes boundaries exactly: start inclusive, end exclusive, gaps unknown", () => {
    const m = bootedMachine();
    m.run("__trap", 1, 0x101200n, 0n);
    expect(m.serial()).toContain("  at net/tcp/Tcb#onSegment+0x0 (0x101200)");
    const cases: Array<[bigint, string]> = [
      [0x1011ffn, "apps/hello/main/main+0x17f (0x1011ff)"],
      [0x101344n, "?? (0x101344)"], // gap between func[17] and café
      [0x100fffn, "?? (0x100fff)"],
      [0x101500n, "?? (0x101500)"],
      [0x1_0010_1000n, "?? (0x100101000)"], // above 4 GiB
    ];
    for (const [pc, text] of cases) {
      const mm = bootedMachine();
      mm.run("__trap", 1, pc, 0n);
      expect(mm.serial().split("\n")[1]).toBe(`  at ${text}`);
    }
  });

  it("stops the walk after 64 frames and at a frame pointer that does not grow", () => {
    const m = bootedMachine();
    const base = FAKE_STACK + 0x1000;
    // 100 frames, each pointing to the next one up the stack.
    const frames = Array.from({ length: 100 }, (_, i) => ({ ret: 0x101090 + i, next: base + 0x40 * (i + 1) }));
    buildFrames(m, frames, base);
    m.run("__trap", 1, 0x101001n, BigInt(base));
    const lines = m.serial().trimEnd().split("\n");
    expect(lines).toHaveLength(1 + 64);

    const loop = bootedMachine();
    // A frame that points to itself: one caller line, then stop.
    buildFrames(loop, [{ ret: 0x101091, next: FAKE_STACK + 0x100 }]);
    loop.run("__trap", 1, 0x101001n, BigInt(FAKE_STACK + 0x100));
    expect(loop.serial().trimEnd().split("\n")).toEqual([
      "trap: unreachable",
      "  at kernel/start/_start+0x1 (0x101001)",
      "  at apps/hello/main/main+0x10 (0x101090)",
    ]);

    const misaligned = bootedMachine();
    misaligned.run("__trap", 1, 0x101001n, BigInt(FAKE_STACK + 0x103));
    expect(misaligned.serial().trimEnd().split("\n")).toHaveLength(2);
  });

  it("prints unknown names when there is no symbol table", () => {
    const m = withoutMemoryStats(instantiate(hello));
    writeBiosBootInfo(m, m.clock.ticks, []);
    m.run("_start");
    m.clearSerial();
    m.run("__trap", 1, 0x101001n, 0n);
    expect(m.serial()).toBe("trap: unreachable\n  at ?? (0x101001)\n");
  });

  it("reports CPU exceptions with vector, name, address and CR2, then exits with status 4", () => {
    const m = bootedMachine(hello, { cr2: 0xdead000n });
    const fp0 = buildFrames(m, [{ ret: 0x1010c5, next: -1 }]);
    expect(m.run("__trap", 32 + 14, 0x101234n, BigInt(fp0))).toBe(4);
    expect(m.serial()).toBe(
      [
        "panic: CPU exception 14 #PF page fault at 0x101234",
        "  fault address (cr2): 0xdead000",
        "  error code: 0x0 (not present, read, kernel)",
        "  at net/tcp/Tcb#onSegment+0x34 (0x101234)",
        "  at apps/hello/main/main+0x44 (0x1010c4)",
        "",
      ].join("\n"),
    );
    const gp = bootedMachine();
    expect(gp.run("__trap", 32 + 13, 0x101001n, 0n)).toBe(4);
    expect(gp.serial().split("\n")[0]).toBe("panic: CPU exception 13 #GP general protection fault at 0x101001");
  });

  it("starts the panic screen on a fresh line", () => {
    const m = bootedMachine();
    m.run("main");
    // Simulate a partial line: nothing else is printed by main, so use a trap after main's line.
    expect(m.run("__trap", 1, 0x101001n, 0n)).toBe(2);
    expect(m.serial()).toBe("Hello from TypeScript on bare metal!\ntrap: unreachable\n  at kernel/start/_start+0x1 (0x101001)\n");
  });

  it("ends with the allocator counters once the kernel runtime has allocated", () => {
    const m = instantiate(hello);
    writeBiosBootInfo(m, m.clock.ticks, [{ base: 0x100000n, length: 0x7f00000n, type: 1 }]);
    writeSymbolTable(m, SYMBOLS);
    m.run("_start");
    // _start already allocated through the kernel runtime (start-up objects), so the counters show.
    m.clearSerial();
    expect(m.run("__trap", 1, 0x101001n, 0n)).toBe(2);
    const lines = m.serial().trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["trap: unreachable", "  at kernel/start/_start+0x1 (0x101001)"]);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^ {2}memory: heap [1-9]\d*\/\d+ allocs\/frees, [1-9]\d* B used \(peak \d+\) of \d+ B, pages \d+\/\d+$/);
  });

  it("does not recurse when the panic screen itself traps", () => {
    const m = bootedMachine();
    // First trap exits (throws Exit in Node) but leaves the panicking flag set, as a second
    // trap from inside the panic screen would see it.
    expect(m.run("__trap", 5, 0x101001n, 0n)).toBe(2);
    m.clearSerial();
    expect(m.run("__trap", 32 + 14, 0x101002n, 0n)).toBe(4);
    expect(m.serial()).toBe("panic: nested trap 46 while printing a panic screen\n");
  });
});

describe("kernel abort", () => {
  it("prints 'abort: <msg> at <file>:<line>:<col>' and exits with status 1", () => {
    const m = bootedMachine(abortApp);
    expect(m.run("main")).toBe(1);
    expect(m.serial()).toMatch(/^abort: the answer is wrong at test\/kernel\/fixtures\/abort_app\/main\.ts:4:3\n$/);
  });

  it("has no env imports (abort routed to kernel/panic/abort)", () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(abortApp));
    expect(imports.filter((i) => i.module === "env")).toEqual([]);
  });
});
