/**
 * Boot path of the hello image under Node: UART setup, boot report line (BIOS and PVH memory
 * maps, TSC frequency from CPUID or PIT calibration, stub-to-_start time), the greeting, and the
 * console's number and UTF-8 output.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileKernelApp } from "../../tools/build/compile.ts";
import { compileFixture } from "./fixtures.ts";
import { instantiate, writeBiosBootInfo, writePvhBootInfo, type MemoryRegion } from "./harness.ts";

const E820: MemoryRegion[] = [
  { base: 0x0n, length: 0x9fc00n, type: 1 },
  { base: 0x9fc00n, length: 0x400n, type: 2 },
  { base: 0xf0000n, length: 0x10000n, type: 2 },
  { base: 0x100000n, length: 0x1fee0000n, type: 1 },
  { base: 0xfffc0000n, length: 0x40000n, type: 2 },
];
const RAM_KIB = (0x9fc00 + 0x1fee0000) / 1024;
const LOG_PREFIX = /^\[ {4}\d\.\d{6}\] info: /;

let hello: Uint8Array<ArrayBuffer>;
let consoleApp: Uint8Array<ArrayBuffer>;
beforeAll(async () => {
  [hello, consoleApp] = await Promise.all([
    compileKernelApp("apps/hello").then((r) => r.wasm),
    compileFixture("console_app").then((r) => r.wasm),
  ]);
});

describe("hello image", () => {
  it("initialises COM1 at 115200 8N1 and prints the boot report and the greeting", () => {
    const m = instantiate(hello);
    // The stub ran 3 ms (at 2.4 GHz) before _start's first rdtsc.
    writeBiosBootInfo(m, m.clock.ticks - 7_200_000n + 50n, E820);
    expect(m.run("_start")).toBeUndefined();
    expect(m.run("main")).toBeUndefined();
    const lines = m.serial().split("\n");
    expect(lines[0]).toMatch(LOG_PREFIX);
    expect(lines[0].replace(LOG_PREFIX, "")).toMatch(
      new RegExp(`^boot: BIOS, RAM ${RAM_KIB} KiB \\((\\d+) KiB free\\), TSC 2400 MHz, 3000 us from stub to _start$`),
    );
    // (The free figure is checked on a real boot in test/system/image.test.ts: here the start
    // section allocated before the harness wrote the memory map, so the allocator saw none.)
    expect(lines[0]).toMatch(/^\[ {4}0\.003\d{3}\]/);
    expect(lines[1]).toBe("Hello from TypeScript on bare metal!");
    expect(lines[2]).toBe("");
    expect(lines).toHaveLength(3);
    // IER off, DLAB on, divisor 1 (lo, hi), 8N1, FIFOs, DTR|RTS.
    expect(m.uartRegs).toEqual([[1, 0], [3, 0x80], [0, 1], [1, 0], [3, 3], [2, 0xc7], [4, 3]]);
  });

  it("reads the PVH memory map from hvm_start_info", () => {
    const m = instantiate(hello);
    writePvhBootInfo(m, m.clock.ticks, [
      { base: 0x0n, length: 0x9fc00n, type: 1 },
      { base: 0x100000n, length: 0x7f00000n, type: 1 },
      { base: 0xfeffc000n, length: 0x4000n, type: 2 },
    ], "console=ttyS0");
    m.run("_start");
    expect(m.serial()).toMatch(/info: boot: PVH, RAM 130687 KiB \(\d+ KiB free\), TSC 2400 MHz, 0 us from stub to _start\n$/);
  });

  it("falls back to CPUID leaf 0x16, then to PIT calibration", () => {
    const m16 = instantiate(hello, { cpuid: { 0: [0x16, 0, 0, 0], 0x16: [3100, 3500, 100, 0] } });
    writeBiosBootInfo(m16, m16.clock.ticks, E820);
    m16.run("_start");
    expect(m16.serial()).toContain("TSC 3100 MHz");

    const pit = instantiate(hello, { cpuid: { 0: [0xd, 0, 0, 0] }, tscHz: 1_800_000_000n });
    writeBiosBootInfo(pit, pit.clock.ticks, E820);
    pit.run("_start");
    // The virtual clock moves 1 us per PIT read, so the measurement is within 0.01%.
    const mhz = Number(/TSC (\d+) MHz/.exec(pit.serial())![1]);
    expect(mhz).toBeGreaterThanOrEqual(1799);
    expect(mhz).toBeLessThanOrEqual(1800);
  });

  it("reports an unknown boot source and no RAM when the boot info is empty", () => {
    const m = instantiate(hello);
    m.run("_start");
    expect(m.serial()).toMatch(/info: boot: unknown, RAM 0 KiB, TSC 2400 MHz, \d+ us from stub to _start\n$/);
  });

  it("_exit(status) writes the status to isa-debug-exit", () => {
    const m = instantiate(hello);
    expect(m.run("_exit", 7)).toBe(7);
  });
});

describe("console", () => {
  it("prints integers, hex, UTF-8 and log lines", () => {
    const m = instantiate(consoleApp);
    writeBiosBootInfo(m, m.clock.ticks, E820);
    m.run("_start");
    m.clearSerial();
    m.run("main");
    const lines = m.serial().split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "18446744073709551615",
      "-9223372036854775808",
      "-42",
      "-2147483648",
      "0 4294967295",
      "deadbeef 0000 0xffffffffffffffff",
      "h\u00e9llo \u20ac \u{1d11e} \ufffd!",
    ]);
    // A log line after a partial line starts on a fresh line.
    expect(lines[7]).toBe("no newline");
    expect(lines.slice(8, 12).map((l) => l.replace(/^\[ {4}\d\.\d{6}\] /, ""))).toEqual([
      "info: after a partial line",
      "debug: d",
      "warn: w",
      "error: e",
    ]);
    expect(lines[8]).toMatch(/^\[ {4}0\.\d{6}\] /);
  });
});

describe("boot info", () => {
  let app: Uint8Array<ArrayBuffer>;
  beforeAll(async () => {
    app = (await compileFixture("bootinfo_app")).wasm;
  });

  it("lists the E820 map of a BIOS boot", () => {
    const m = instantiate(app);
    writeBiosBootInfo(m, m.clock.ticks, E820.slice(0, 2));
    m.run("main");
    expect(m.serial()).toBe("BIOS regions=2 ram=654336\n0x0 0x9fc00 1\n0x9fc00 0x400 2\ncmdline=[]\n");
  });

  it("lists the hvm_start_info memory map and command line of a PVH boot", () => {
    const m = instantiate(app);
    writePvhBootInfo(m, m.clock.ticks, [{ base: 0x100000n, length: 0x1_0000_0000n, type: 1 }], "console=ttyS0 quiet");
    m.run("main");
    expect(m.serial()).toBe("PVH regions=1 ram=4294967296\n0x100000 0x100000000 1\ncmdline=[console=ttyS0 quiet]\n");
  });

  it("prefers E820 entries the stub copied into the boot info, also for PVH", () => {
    const m = instantiate(app);
    writePvhBootInfo(m, m.clock.ticks, [{ base: 0x100000n, length: 0x1000n, type: 1 }]);
    const v = m.view();
    v.setUint32(0x10000 + 20, 1, true); // count at boot info +20
    v.setBigUint64(0x10000 + 64, 0x200000n, true);
    v.setBigUint64(0x10000 + 72, 0x300000n, true);
    v.setUint32(0x10000 + 80, 1, true);
    m.run("main");
    expect(m.serial().split("\n")[0]).toBe("PVH regions=1 ram=3145728");
  });

  it("treats hvm_start_info or a memory map in page 0 (never mapped) as absent", () => {
    const m = instantiate(app);
    writePvhBootInfo(m, m.clock.ticks, [{ base: 0x100000n, length: 0x1000n, type: 1 }]);
    const v = m.view();
    v.setBigUint64(0x40000 + 40, 0x5b8n, true); // memmap_paddr in page 0
    m.run("main");
    expect(m.serial().split("\n")[0]).toBe("PVH regions=0 ram=0");

    const m2 = instantiate(app);
    writePvhBootInfo(m2, m2.clock.ticks, []);
    m2.view().setBigUint64(0x10000 + 24, 0x5b8n, true); // hvm_start_info itself in page 0
    m2.run("main");
    expect(m2.serial()).toBe("PVH regions=0 ram=0\ncmdline=[]\n");
  });
});
