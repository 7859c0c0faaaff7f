/**
 * The quick tier (tools/translate/quick/): its instruction templates against an independent
 * disassembler (iced-x86), its code against V8 on random programs (tools/fuzz/generate.ts) on the
 * hosted target; functions it refuses go to the optimising tier; lazily read bodies it refuses are
 * still checked. The whole spec suite runs through it in test/spec/hosted-quick.test.ts.
 */
import { describe, expect, it } from "vitest";
import { firstMismatch, runSeed, type ModuleRun, type Runner } from "../../tools/fuzz/differential.ts";
import type { TierStats } from "../../tools/translate/module.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAppImage, buildHostedImage } from "../../tools/link/build.ts";
import { runQemu } from "../../tools/qemu/runner.ts";
import { LinkError } from "../../tools/translate/errors.ts";
import { disassemble } from "../../tools/x86/disasm.ts";
import { QuickCode, RAX, RCX, RDX, CC_NE, IN_RAX, RSP_BASE } from "../../tools/translate/quick/code.ts";
import { Label } from "../../tools/x86/assembler.ts";
import { runOnHosted, runOnMetal, runOnV8, watToWasm, type RunResult } from "./harness.ts";
import { floatModule } from "./cases.ts";

/** Seeds of the differential runs (FUZZ_SEED moves them, as in test/fuzz). */
const env = process.env.FUZZ_SEED;
const BASE = env === "random" ? (Math.random() * 1e9) | 0 : env ? Number(env) : 1;
// 8 x 120 + 4 x 30 = 1,080 programs per npm test (hosted: about a second each module).
const MODULES = 8, PROGRAMS = 120, TRAP_MODULES = 4, TRAP_PROGRAMS = 30;

describe("quick tier: instruction templates (iced-x86 decodes what the templates write)", () => {
  it("frame slots, memory operands, absolute cells, registers, immediates, jumps", () => {
    const c = new QuickCode();
    const cell = new Label("cell");
    c.load(1, RAX, -8);
    c.load(0, RCX, -200);
    c.store(24, RAX);
    c.storeImm(-16, -1);
    c.frame(0xf2, 0, 0x0f10, 0, -16); // movsd
    c.frame(0x66, 0, 0x0f2e, 0, -24); // ucomisd
    c.frame(0, 1, 0x63, RAX, -32); // movsxd
    c.frame(0, 0, 0xff, 6, -40); // push
    c.memory(0, 1, 0x8b, RAX, 0x1000000);
    c.memory(0x66, 0, 0x89, RCX, 8);
    c.memory(0, 0, 0x88, RCX, 1);
    c.memory(0, 1, 0x8d, RDX, 0x7fffffff);
    c.absolute(0, 1, 0x3b, 4, cell);
    c.regs(0x66, 1, 0x0f7e, 0, RAX); // movq rax, xmm0
    c.regs(0xf3, 1, 0x0f2a, 0, RAX); // cvtsi2ss xmm0, rax
    c.regs(0, 1, 0xf7, 7, RCX); // idiv rcx
    c.movabs(RAX, 0x89abcdef | 0, 0x01234567);
    c.setccEax(CC_NE);
    c.frame(0, 1, 0x8b, RAX, RSP_BASE + 16); // operand-stack slots of a frame with many locals
    c.frame(0, 1, 0x89, RCX, RSP_BASE + 0x100);
    c.frame(0x66, 0, 0x0f3a0b, 0, RSP_BASE + 8); c.b(9); // a three-byte opcode
    c.load(1, RAX, IN_RAX); // a value already in rax: nothing
    c.frame(0, 1, 0x03, RCX, IN_RAX); // register form
    const j = c.jcc(CC_NE);
    c.patchRel32(j, c.n);
    const lines = disassemble(c.buf.subarray(0, c.n), 64, 0).map((l) => l.text);
    expect(lines).toEqual([
      "mov rax, qword ptr [rbp-8]",
      "mov ecx, dword ptr [rbp-0xc8]",
      "mov qword ptr [rbp+0x18], rax",
      "mov qword ptr [rbp-0x10], 0xffffffffffffffff",
      "movsd xmm0, qword ptr [rbp-0x10]",
      "ucomisd xmm0, qword ptr [rbp-0x18]",
      "movsxd rax, dword ptr [rbp-0x20]",
      "push qword ptr [rbp-0x28]",
      "mov rax, qword ptr [rax+0x1000000]",
      "mov word ptr [rax+8], cx",
      "mov byte ptr [rax+1], cl",
      "lea rdx, [rax+0x7fffffff]",
      "cmp rsp, qword ptr [0]",
      "movq rax, xmm0",
      "cvtsi2ss xmm0, rax",
      "idiv rcx",
      "mov rax, 0x123456789abcdef",
      "setne al",
      "movzx eax, al",
      "mov rax, qword ptr [rsp+0x10]",
      "mov qword ptr [rsp+0x100], rcx",
      "roundsd xmm0, qword ptr [rsp+8], 9",
      "add rcx, rax",
      "jne 0x85",
    ]);
    expect(c.fields).toBe(1); // the cell's disp32, resolved by the assembler
  });
});

/** The quick tier on the hosted target, and on bare metal: the translated sides runSeed compares with V8. */
const quickHosted: Runner<RunResult & { functions: TierStats }> = (wasm, timeoutMs) => runOnHosted(wasm, { tier: "quick" }, timeoutMs);
const quickMetal: Runner = (wasm, timeoutMs) => runOnMetal(wasm, timeoutMs, { tier: "quick" });
/** The first difference of a run, or undefined (the message for `expect`). */
const mismatchOf = (run: ModuleRun) => run.mismatch && `program ${run.mismatch.program}: line ${run.mismatch.line} V8 ${run.mismatch.v8} / quick ${run.mismatch.metal} (replay: FUZZ_SEED=${BASE})`;

describe("quick tier: random programs against V8 (hosted)", () => {
  for (let k = 0; k < MODULES; k++) {
    const seed = BASE + 500 + k;
    it(`seed ${seed}: ${PROGRAMS} programs print what V8 prints; most functions take the quick tier`, async () => {
      const run = await runSeed(seed, PROGRAMS, {}, quickHosted);
      expect(run.mismatch, mismatchOf(run)).toBeUndefined();
      expect(run.metal.status).toBe(0);
      expect(run.metal.functions.quick).toBeGreaterThan(run.metal.functions.defined / 2);
    }, 120_000);
  }
  for (let k = 0; k < TRAP_MODULES; k++) {
    const seed = BASE + 600 + k;
    it(`seed ${seed} (may trap): output up to the trap and the trap kind as V8`, async () => {
      const run = await runSeed(seed, TRAP_PROGRAMS, { traps: true }, quickHosted);
      expect(run.mismatch, mismatchOf(run)).toBeUndefined();
    }, 120_000);
  }
});

describe("quick tier on bare metal (sandboxed memory: bounds checks; the kernel's identity memory)", () => {
  it(`seed ${BASE + 700} (may trap: wild addresses): as V8`, async () => {
    const run = await runSeed(BASE + 700, TRAP_PROGRAMS, { traps: true }, quickMetal);
    expect(run.mismatch, mismatchOf(run)).toBeUndefined();
  }, 120_000);
  it(`seed ${BASE + 701}: ${PROGRAMS} programs as V8`, async () => {
    const run = await runSeed(BASE + 701, PROGRAMS, {}, quickMetal);
    expect(run.mismatch, mismatchOf(run)).toBeUndefined();
    expect(run.metal.status).toBe(0);
  }, 120_000);
  it("every float operator over edge-case operands as V8, on a CPU without SSE4.1 (qemu64: the software rounding path) and with it", async () => {
    const wasm = await watToWasm(floatModule());
    const v8 = await runOnV8(wasm);
    for (const cpu of ["qemu64", "max"]) {
      const metal = await runOnMetal(wasm, 60_000, { tier: "quick" }, cpu);
      const m = firstMismatch(v8, metal);
      expect(m, m && `${cpu}: line ${m.line}: V8 ${m.v8} / quick ${m.metal}`).toBeUndefined();
      expect(metal.output.length).toBeGreaterThan(5_000);
    }
  }, 120_000);
  it("apps/hello built with --quick boots (PVH, microvm) and greets", async () => {
    const img = await buildAppImage("apps/hello", undefined, { tier: "quick" });
    const dir = mkdtempSync(join(tmpdir(), "quick-hello-"));
    try {
      writeFileSync(join(dir, "hello.elf"), img.elf);
      const r = await runQemu({ kernel: join(dir, "hello.elf"), machine: "microvm", timeoutMs: 30_000 });
      expect(r.serial, r.stderr).toContain("Hello from TypeScript on bare metal!");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("quick tier: a function it does not take goes to the optimising tier", () => {
  it("table.size in one function: that one optimised (and counted as such), the others quick, the result right", async () => {
    const wasm = await watToWasm(`(module
      (import "env" "trace" (func $t (param i32 i32 f64 f64 f64 f64 f64)))
      (memory (export "memory") 1)
      (table 3 funcref)
      (data (i32.const 16) "\\08\\00\\00\\00s\\00i\\00z\\00e\\00")
      (func $size (result i32) (table.size 0))
      (func $twice (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
      (func (export "main")
        (call $t (i32.const 20) (i32.const 1) (f64.convert_i32_u (call $twice (call $size))) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0))))`);
    const r = await runOnHosted(wasm, { tier: "quick" });
    expect(r.output).toContain("size 6");
    expect(r.functions.refusedBy["table.size"]).toBe(1);
    expect(r.functions.quick).toBeGreaterThanOrEqual(2); // $twice and main
  }, 60_000);
});

describe("an image too large for the layout (code and data past the kernel's memory at 4 MiB)", () => {
  it("is a LinkError that says so, and with --quick suggests going without it", async () => {
    // 3.2 MB of passive data: its bytes go into the image (memory.init reads them from there).
    const wasm = await watToWasm(`(module (memory 64) (data "${"a".repeat(3_200_000)}") (func (export "main")))`);
    await expect(buildHostedImage(wasm)).rejects.toThrow(/^image too large: .* past 0x400000 where the kernel's memory starts \(3 MiB for the image\)$/);
    await expect(buildHostedImage(wasm, undefined, { tier: "quick" })).rejects.toThrow(/without --quick it may fit/);
    await expect(buildHostedImage(wasm)).rejects.toBeInstanceOf(LinkError);
  }, 60_000);
});

describe("quick tier: bodies read lazily (only what it refuses is decoded and validated by the ordinary path)", () => {
  /** `(func (param i64) (result i32) local.get 0 i32.wrap_i64)` with the wrap's opcode replaced by `op`. */
  async function patched(op: number): Promise<Uint8Array> {
    const wasm = await watToWasm(`(module (func (export "main") (drop (call $f (i64.const 1)))) (func $f (param i64) (result i32) (i32.wrap_i64 (local.get 0))))`);
    const at = wasm.lastIndexOf(0xa7);
    expect(wasm[at - 2]).toBe(0x20); // local.get 0 before it
    const out = wasm.slice();
    out[at] = op;
    return out;
  }
  it("an invalid body (i32.trunc_f32_s of an i64) is the validator's error", async () => {
    await expect(buildHostedImage(await patched(0xa8), undefined, { tier: "quick" })).rejects.toThrow(/type mismatch/);
  });
  it("a malformed body (opcode 0xff) is the reader's error", async () => {
    await expect(buildHostedImage(await patched(0xff), undefined, { tier: "quick" })).rejects.toThrow(/illegal opcode|unknown/i);
  });
  it("the valid original runs, both functions through the quick tier", async () => {
    const ok = await patched(0xa7);
    const r = await runOnHosted(ok, { tier: "quick" });
    expect(r.status).toBe(0);
    expect(r.functions.quick).toBeGreaterThanOrEqual(2);
  });
});
