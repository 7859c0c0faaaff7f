/**
 * Translator against V8: the same wasm runs under Node's WebAssembly and on bare metal (translated,
 * booted under QEMU TCG) and must print the same lines and end with the same status.
 * One module per operator family / control construct, one per trap kind, and AssemblyScript programs.
 */
import { describe, expect, it } from "vitest";
import { compileSnippet } from "../../tools/build/compile.ts";
import * as cases from "./cases.ts";
import { runOnMetal, runOnV8, sameTrap, watToWasm, type RunResult } from "./harness.ts";

function expectSame(v8: RunResult, metal: RunResult): void {
  expect(metal.status, `metal serial:\n${metal.raw.slice(0, 4000)}`).toBe(v8.status);
  expect(metal.output.length).toBe(v8.output.length);
  for (let i = 0; i < v8.output.length; i++) {
    if (v8.output[i] !== metal.output[i] && !sameTrap(v8.output[i], metal.output[i])) {
      expect(metal.output[i], `line ${i}`).toBe(v8.output[i]);
    }
  }
}

async function differential(wat: string): Promise<RunResult> {
  const wasm = await watToWasm(wat);
  const [v8, metal] = [await runOnV8(wasm), await runOnMetal(wasm)];
  expectSame(v8, metal);
  return metal;
}

describe("translator vs V8 (wat)", () => {
  it("integer operators: every i32/i64 operator over edge-case operands", async () => {
    const r = await differential(cases.integerModule());
    expect(r.output.length).toBeGreaterThan(10_000);
  });
  it("floating point: arithmetic, min/max, rounding, comparisons, all conversions", async () => {
    const r = await differential(cases.floatModule());
    expect(r.output.length).toBeGreaterThan(5_000);
  });
  it("floating point on a CPU without SSE4.1 (qemu64): ceil/floor/trunc/nearest by the software path", async () => {
    const wasm = await watToWasm(cases.floatModule());
    const [v8, metal] = [await runOnV8(wasm), await runOnMetal(wasm, 30_000, {}, "qemu64")];
    expectSame(v8, metal);
    expect(metal.output.length).toBeGreaterThan(5_000);
  });
  it("memory: loads/stores of every width, size/grow/fill/copy/init/drop", async () => {
    await differential(cases.memoryModule());
  });
  it("control: blocks, loops, if/else, br/br_if/br_table, return, select, calls, call_indirect, multi-value, globals", async () => {
    const r = await differential(cases.controlModule());
    expect(r.output).toContain("r 3628800");
  });
});

describe("translator vs V8: registers and inlining", () => {
  it("pinned integer and float locals across calls, imports and call_indirect; inlined callees", async () => {
    const r = await differential(cases.registerModule());
    expect(r.output.length).toBe(45);
  });
  it("globals promoted to pinned locals (reloaded after calls, not when set), reads fused with an add into lea, pinned floats as operands, stored from their registers and updated in place", async () => {
    const r = await differential(cases.promotionModule());
    expect(r.output.length).toBe(94);
  });
  it("float loads as right operands of arithmetic; array lengths loaded once for several checks, and again after a store (one that shrinks the length makes the next check trap)", async () => {
    const r = await differential(cases.loadsModule());
    expect(r.output.slice(16, 19)).toEqual([expect.stringMatching(/^r -?\d+$/), expect.stringMatching(/^r -?\d+$/), "r -20"]);
  });
  it("loop versioning: lengths read once before a loop that stores checked elements, unless a store may reach a header (overlap, wrap) or a header is out of bounds", async () => {
    const r = await differential(cases.versionModule());
    expect(r.output).toEqual(["r 820", "r 256", "r 820", "r -10", "r 10", "r 2099232", "r 1032202", "r 10", "r 30", "r 36", "r 2", "r 8", "r 0", "r 66"]);
  });
  it("a pinned float local stored right after its set: from the register it was computed in, unless read again, after a branch or in a trap arm", async () => {
    const r = await differential(cases.storeDeferModule());
    expect(r.output).toEqual(["r 173", "r 135.25", "r 7.5", "trap: unreachable"]);
  });
  it("loop versioning's third copy: one length for an index checked against two equal ones, else each its own (a shorter one traps)", async () => {
    const r = await differential(cases.versionMergeModule());
    expect(r.output).toEqual(["r 544", "r 144", "r -7008", "trap: unreachable"]);
  });
  it("pin regions: hot locals pinned per top-level loop construct when the function has more than the pin registers", async () => {
    const r = await differential(cases.regionsModule());
    expect(r.output.length).toBe(206);
  });
  it("blocks no branch targets, ifs whose arm cannot fall through, rotated loops, locals read after set, address arithmetic as lea, values below several call results", async () => {
    const r = await differential(cases.shapesModule());
    expect(r.output.length).toBe(684);
  });
});

describe("translator vs V8: tables, references, imports, instantiation", () => {
  it("tables and references: table.*, elem.drop, ref.*, typed select, call_indirect through several tables", async () => {
    const r = await differential(cases.tableModule());
    expect(r.output[r.output.length - 1]).toBe("r 12345");
  });
  it("imports of spectest globals, table and memory; offsets from an imported global", async () => {
    const r = await differential(cases.importsModule());
    expect(r.output).toContain("r 666");
  });
  for (const c of cases.INSTANTIATION_TRAPS) {
    it(`instantiation trap: ${c.kind}`, async () => {
      const metal = await differential(c.wat);
      expect(metal.output).toEqual([`trap: ${c.kind}`]);
      expect(metal.raw).toMatch(/at guest\.instantiate\+0x/);
    });
  }
});

describe("traps: kind, status 2 and a backtrace naming the function", () => {
  for (const c of cases.TRAP_CASES) {
    it(`${c.kind}: ${c.body.slice(0, 60)}`, async () => {
      const metal = await differential(cases.trapModule(c));
      expect(metal.status).toBe(2);
      expect(metal.output[metal.output.length - 1]).toBe(`trap: ${c.kind}`);
      expect(metal.raw).toMatch(c.kind === "call stack exhausted" ? /at deep\+0x/ : /at trapping_function\+0x/);
    });
  }
});

const AS_PROGRAMS: Record<string, string> = {
  "strings, arrays and a hash map (incremental GC runtime)": `
    export function main(): void {
      const words = "the quick brown fox jumps over the lazy dog the end".split(" ");
      const counts = new Map<string, i32>();
      for (let i = 0; i < words.length; i++) {
        const w = words[i];
        counts.set(w, counts.has(w) ? counts.get(w) + 1 : 1);
      }
      trace("the", 1, counts.get("the"));
      trace("words", 2, words.length, counts.size);
      let s = "";
      for (let i = 0; i < 20; i++) s += String.fromCharCode(65 + i);
      trace(s, 1, s.length);
      const arr = new Array<i32>();
      for (let i = 0; i < 1000; i++) arr.push((i * 7919) % 1009);
      arr.sort((a, b) => a - b);
      trace("sorted", 3, arr[0], arr[500], arr[999]);
    }`,
  "integer math: sha-like mixing, i64, division": `
    export function main(): void {
      let h: u32 = 0x811c9dc5;
      for (let i: u32 = 0; i < 100000; i++) { h ^= i & 0xff; h *= 16777619; h = rotl<u32>(h, 5) ^ (h >>> 3); }
      trace("fnv", 1, <f64>h);
      let x: i64 = 1;
      for (let i = 0; i < 40; i++) x = x * 3 + (x / 7) - (x % 11);
      trace("i64", 2, <f64>(x >> 32), <f64>(<u32>x));
      let q: i32 = 0;
      for (let i = 1; i < 5000; i++) q += (1000003 / i) | 0;
      trace("div", 1, q);
    }`,
  "floating point: series, sqrt, rounding": `
    export function main(): void {
      let pi = 0.0;
      for (let k = 0; k < 100000; k++) pi += (k & 1 ? -4.0 : 4.0) / <f64>(2 * k + 1);
      trace("pi", 1, pi);
      trace("sqrt", 2, Math.sqrt(2.0), Math.sqrt(<f64>12345));
      trace("round", 4, Math.floor(-2.5), Math.ceil(-2.5), Math.trunc(2.7), Math.round(2.5));
      let f: f32 = 1.0;
      for (let i = 0; i < 30; i++) f = f * <f32>1.1 + <f32>0.01;
      trace("f32", 1, <f64>f);
      trace("conv", 3, <f64><i32>(-3.9), <f64><u32>(4e9), <f64><i64>(-1e18));
    }`,
  "abort with message, file and position": `
    export function main(): void {
      trace("before", 0);
      assert(1 + 1 == 3, "arithmetic is broken");
    }`,
};

describe("translator vs V8 (AssemblyScript)", () => {
  for (const [name, src] of Object.entries(AS_PROGRAMS)) {
    it(name, async () => {
      const wasm = await compileSnippet(src, { runtime: "incremental" });
      const [v8, metal] = [await runOnV8(wasm), await runOnMetal(wasm)];
      expectSame(v8, metal);
      expect(metal.output.length).toBeGreaterThan(0);
    });
  }
});
