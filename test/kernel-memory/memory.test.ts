/**
 * Memory protection and the kernel runtime on bare metal (QEMU TCG, PVH on microvm):
 *  - should-panic cases (boot/protect.ts W^X page tables, guard page, IST stacks): each boot ends in
 *    the panic screen with the right cause, exit status 4 (CPU exception) or 2 (trap 10), never a
 *    triple fault (QEMU exits without a status under -no-reboot) or a hang (timeout);
 *  - the in-guest heap/pool stress (kernel/runtime/stress.ts): 1,000,000 random heap ops with
 *    content checks, every byte accounted for afterwards.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp, bootApp, type BuiltApp } from "./image.ts";
import { panicApp, stressApp, STRESS_OPS } from "./apps.ts";

let panics: BuiltApp;
let stress: BuiltApp;
beforeAll(async () => {
  panics = await buildApp("panics", panicApp);
  stress = await buildApp("stress", stressApp());
}, 120_000);

const symbol = (app: BuiltApp, name: string) => app.symbols.find((s) => s.name === name)!;

async function panicCase(name: string) {
  const r = await bootApp(panics, { append: name, timeoutMs: 20_000 });
  expect(r.timedOut, r.serial).toBe(false);
  expect(r.serial).not.toContain("survived");
  expect(r.serial).not.toContain("nested trap");
  return r;
}

describe("should-panic images", () => {
  it("null dereference: #PF, not present, cr2 0", async () => {
    const r = await panicCase("null");
    expect(r.serial).toMatch(/panic: CPU exception 14 #PF page fault at 0x[0-9a-f]+\n/);
    expect(r.serial).toContain("  fault address (cr2): 0x0\n");
    expect(r.serial).toContain("  error code: 0x0 (not present, read, kernel)");
    expect(r.serial).toMatch(/ {2}at test\/kernel-memory\/apps\/panics\/main\/main\+0x/);
    expect(r.serial).toMatch(/ {2}memory: heap \d+\/\d+ allocs\/frees, \d+ B used \(peak \d+\) of \d+ B, pages \d+\/\d+\n/);
    expect(r.status).toBe(4);
  });

  it("write to code: #PF protection/write at the text address", async () => {
    const r = await panicCase("write-text");
    const text = panics.symbols.filter((s) => s.kind === "func").map((s) => s.addr).filter((a) => a > 0).sort((a, b) => a - b);
    expect(r.serial).toMatch(/  fault address \(cr2\): 0x1[0-9a-f]{5}\n/);
    const cr2 = parseInt(/cr2\): 0x([0-9a-f]+)/.exec(r.serial)![1], 16);
    expect(cr2).toBeGreaterThanOrEqual(text[0]);
    expect(r.serial).toContain("  error code: 0x3 (protection, write, kernel)");
    expect(r.status).toBe(4);
  });

  it("write to rodata: #PF protection/write at the symbol table", async () => {
    const r = await panicCase("write-rodata");
    expect(r.serial).toContain(`  fault address (cr2): 0x${symbol(panics, "symbol_table").addr.toString(16)}\n`);
    expect(r.serial).toContain("  error code: 0x3 (protection, write, kernel)");
    expect(r.status).toBe(4);
  });

  for (const where of ["data", "heap"]) {
    it(`jump into ${where}: #PF instruction fetch from a no-execute page`, async () => {
      const r = await panicCase(`exec-${where}`);
      const pc = parseInt(/panic: CPU exception 14 #PF page fault at 0x([0-9a-f]+)/.exec(r.serial)![1], 16);
      expect(r.serial).toContain(`  fault address (cr2): 0x${pc.toString(16)}\n`); // fetch: cr2 == rip
      expect(pc).toBeGreaterThanOrEqual(0x400000); // kernel static data / heap
      expect(r.serial).toContain("  error code: 0x11 (protection, fetch, kernel)");
      expect(r.status).toBe(4);
    });
  }

  it("runaway recursion: the prologue check traps first (trap 10, status 2)", async () => {
    const r = await panicCase("recursion");
    expect(r.serial).toContain("trap: call stack exhausted\n");
    expect(r.serial).toMatch(/ {2}at test\/kernel-memory\/apps\/panics\/main\/down\+0x/);
    expect(r.status).toBe(2);
  });

  it("runaway recursion past a disabled limit: #PF in the guard page, reported on the IST stack", async () => {
    const r = await panicCase("guard");
    const guard = symbol(panics, "stack_top").addr - 256 * 1024 - 4096;
    const cr2 = parseInt(/cr2\): 0x([0-9a-f]+)/.exec(r.serial)![1], 16);
    expect(r.serial).toMatch(/panic: CPU exception 14 #PF/);
    expect(cr2).toBeGreaterThanOrEqual(guard);
    expect(cr2).toBeLessThan(guard + 4096);
    expect(r.serial).toContain("  error code: 0x2 (not present, write, kernel)");
    expect(r.status).toBe(4);
  });
});

describe("kernel runtime stress (in guest)", () => {
  it(`survives ${STRESS_OPS} random heap ops with content checks and accounts for every byte`, async () => {
    const r = await bootApp(stress, { timeoutMs: 60_000 });
    expect(r.serial).toContain("heap stress: random alloc/free with content checks ... [ok]");
    expect(r.serial).toMatch(/heap stress: \d+ allocs \+ \d+ frees, 1000000 random ops/);
    expect(r.serial).toContain("heap accounting: every byte back, free lists + kernel's own == heap size ... [ok]");
    expect(r.serial).toMatch(/stress bytes in use: 0\n/);
    expect(r.serial).toContain("pool stress: random alloc/free, occupancy and double-free bitmap ... [ok]");
    expect(r.serial).not.toContain("[FAILED]");
    expect(r.status, r.serial).toBe(0);
  }, 90_000);
});
