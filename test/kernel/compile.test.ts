/**
 * The compile step (tools/build/compile.ts) and the shape of its products: exports, imports, the
 * start section, the name section, memory layout at KERNEL_MEMORY_BASE, no float arithmetic;
 * snippets as ordinary guest modules; readable errors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  CompileError, KERNEL_MEMORY_BASE, compileKernelApp, compileSnippet, compileWasmHost, type CompileResult,
} from "../../tools/build/compile.ts";
import { disallowedImports, floatOperators, wasmToText } from "../../tools/build/inspect.ts";
import { compileFixture } from "./fixtures.ts";
import { instantiate } from "./harness.ts";

let hello: CompileResult;
let host: CompileResult;
let startApp: CompileResult;
beforeAll(async () => {
  [hello, host, startApp] = await Promise.all([
    compileKernelApp("apps/hello", { wat: true }),
    compileWasmHost(),
    compileFixture("start_app"),
  ]);
});

function exportsOf(wasm: Uint8Array<ArrayBuffer>) {
  return WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => `${e.kind}:${e.name}`).sort();
}

describe("kernel module", () => {
  it("exports _start, main, _run, _exit, __trap and memory", () => {
    expect(exportsOf(hello.wasm)).toEqual(["function:__trap", "function:_exit", "function:_run", "function:_start", "function:main", "memory:memory"]);
    expect(exportsOf(host.wasm)).toEqual([
      "function:__host_abort", "function:__host_seed", "function:__host_trace", "function:__trap",
      "function:_exit", "function:_start", "function:main", "memory:memory",
    ]);
  });

  it("imports only x86/image intrinsics (and guest.run in the wasm host)", () => {
    expect(disallowedImports(hello.wasm, false)).toEqual([]);
    expect(disallowedImports(startApp.wasm, false)).toEqual([]);
    expect(disallowedImports(host.wasm, true)).toEqual([]);
    expect(disallowedImports(host.wasm, false)).toEqual(["guest.run"]);
  });

  it("contains no float arithmetic, comparisons or conversions", async () => {
    expect([...(await floatOperators(hello.wasm))]).toEqual([]);
    expect([...(await floatOperators(host.wasm))]).toEqual([]);
    expect([...(await floatOperators(startApp.wasm))]).toEqual([]);
    // The wasm host does move f64 bits (trace arguments, seed): allowed.
    expect(await wasmToText(host.wasm)).toMatch(/i64\.reinterpret_f64/);
  });

  it("keeps asc's start section as a start section and exports our own _start", async () => {
    const text = await wasmToText(startApp.wasm);
    expect(text).toMatch(/\(start \$~start\)/);
    expect(text).toMatch(/\(export "_start" \(func \$kernel\/start\/_start\)\)/);
    // The start section ran at instantiation (it reads the TSC): main prints that value.
    const m = instantiate(startApp.wasm);
    m.run("main");
    expect(m.serial()).toBe("10000000050\n");
  });

  it("keeps function names (name section) for backtraces", async () => {
    const mod = new WebAssembly.Module(hello.wasm);
    expect(WebAssembly.Module.customSections(mod, "name")).toHaveLength(1);
    expect(await wasmToText(hello.wasm)).toMatch(/\(func \$apps\/hello\/main\/main/);
  });

  it("places static data at KERNEL_MEMORY_BASE and sizes memory to cover it", async () => {
    const text = await wasmToText(hello.wasm);
    const offsets = [...text.matchAll(/\(data \$?[^\s]* ?\(i32\.const (\d+)\)/g)].map((m) => Number(m[1]));
    expect(offsets.length).toBeGreaterThan(0);
    for (const o of offsets) expect(o).toBeGreaterThanOrEqual(KERNEL_MEMORY_BASE);
    const pages = Number(/\(memory \$?\S* ?(\d+)\)/.exec(text)![1]);
    expect(pages * 65536).toBeGreaterThan(KERNEL_MEMORY_BASE);
    expect(hello.wat).toContain('(export "main" (func $apps/hello/main/main))');
  });
});

describe("compileSnippet", () => {
  it("produces an ordinary guest module using env.trace / env.abort", async () => {
    const wasm = await compileSnippet(`
      export function div(a: i32, b: i32): i32 { trace("div", 2, <f64>a, <f64>b); return a / b; }
      export function check(x: i32): void { assert(x > 0, "x must be positive"); }
    `);
    const traces: string[] = [];
    let memory!: WebAssembly.Memory;
    const str = (p: number) => {
      const len = new Uint32Array(memory.buffer, p - 4, 1)[0];
      return String.fromCharCode(...new Uint16Array(memory.buffer, p, len / 2));
    };
    const { instance } = await WebAssembly.instantiate(wasm, {
      env: {
        trace: (msg: number, n: number, ...a: number[]) => traces.push(`${str(msg)} ${a.slice(0, n).join(" ")}`),
        abort: (msg: number, file: number, line: number, col: number) => {
          throw new Error(`abort: ${str(msg)} at ${str(file)}:${line}:${col}`);
        },
      },
    });
    memory = instance.exports.memory as WebAssembly.Memory;
    const ex = instance.exports as Record<string, Function>;
    expect(ex.div(-7, 2)).toBe(-3);
    expect(traces).toEqual(["div -7 2"]);
    expect(() => ex.div(1, 0)).toThrow(WebAssembly.RuntimeError);
    expect(() => ex.check(0)).toThrow(/abort: x must be positive at __snippet__\/snippet\.ts:3:\d+$/);
    const names = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`).sort();
    expect(names).toEqual(["env.abort", "env.trace"]);
  });

  it("supports the incremental runtime with exported runtime helpers", async () => {
    const wasm = await compileSnippet(`export function len(n: i32): i32 { const a = new Array<i32>(n); return a.length; }`, {
      runtime: "incremental",
      exportRuntime: true,
    });
    const names = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["len", "__new", "__collect"]));
  });

  it("detects float arithmetic (control case for the kernel check)", async () => {
    const wasm = await compileSnippet(`export function f(a: f64, b: i32): i32 { return <i32>(a * 2.5 + <f64>b); }`);
    const ops = await floatOperators(wasm);
    expect(ops.has("f64.mul")).toBe(true);
    expect(ops.has("f64.convert_i32_s")).toBe(true);
  });

  it("throws CompileError carrying asc's diagnostics", async () => {
    const err = await compileSnippet(`export function f(): i32 { return missingName; }`).catch((e) => e);
    expect(err).toBeInstanceOf(CompileError);
    expect(err.message).toMatch(/Cannot find name 'missingName'/);
    expect(err.message).toMatch(/snippet\.ts/);
  });
});

describe("compileKernelApp errors", () => {
  it("names a missing application entry", async () => {
    const err = await compileKernelApp("apps/does-not-exist").catch((e) => e);
    expect(err).toBeInstanceOf(CompileError);
    expect(err.message).toMatch(/does-not-exist/);
  });
});
