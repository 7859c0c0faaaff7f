/**
 * The spec driver and runner (tools/spec/): outcomes of hand-written scripts, including wrong
 * expectations that must be reported as failures, on the hosted target.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { wasmHostLinuxModule, wasmHostModule } from "../../tools/link/build.ts";
import { runSpecFile } from "../../tools/spec/run.ts";

const dir = mkdtempSync(join(tmpdir(), "spec-driver-"));

async function run(name: string, wast: string) {
  const file = join(dir, name);
  writeFileSync(file, wast);
  return runSpecFile(file, { kernel: readModule(await wasmHostLinuxModule()) });
}

const MODULE = `(module
  (memory 1)
  (global (export "g") (mut i32) (i32.const 5))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "pair") (param i64) (result i64 f64) (local.get 0) (f64.const -1.5))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "set") (param i32) (global.set 0 (local.get 0)))
  (func $r (export "rec") (call $r))
  (func (export "oob") (result i32) (i32.load (i32.const 65536))))`;

describe("spec driver", () => {
  it("passes right expectations: results, multi-value, nan:canonical, traps, exhaustion, globals", async () => {
    const r = await run("good.wast", `${MODULE}
      (assert_return (invoke "add" (i32.const -1) (i32.const 3)) (i32.const 2))
      (assert_return (invoke "pair" (i64.const -7)) (i64.const -7) (f64.const -1.5))
      (assert_return (invoke "nan") (f32.const nan:canonical))
      (assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
      (assert_return (invoke "div" (i32.const 1)) (i32.const 1))
      (assert_exhaustion (invoke "rec") "call stack exhausted")
      (assert_trap (invoke "oob") "out of bounds memory access")
      (invoke "set" (i32.const 9))
      (assert_return (get "g") (i32.const 9))`);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(9);
  });

  it("says once what the output ended with when records are missing (bare-metal runner cut short)", async () => {
    const file = join(dir, "cut.wast");
    writeFileSync(file, `${MODULE}
      (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
      (assert_return (invoke "add" (i32.const 2) (i32.const 2)) (i32.const 4))`);
    const r = await runSpecFile(file, {
      kernel: readModule(await wasmHostModule()), target: "metal",
      runMetal: async () => ({ stdout: "[ 0.01] info: boot\n", problem: "" }),
    });
    expect(r.passed).toBe(0);
    expect(r.failures.length).toBeGreaterThanOrEqual(2);
    expect(r.failures.filter((f) => f.includes('the output, 19 characters, ends with "[ 0.01] info: boot\\n"'))).toHaveLength(1);
    expect(r.failures.every((f) => f.includes("no result (process ended early"))).toBe(true);
  }, 60_000);

  it("reports wrong results, missing traps and wrong trap kinds as failures", async () => {
    const r = await run("bad.wast", `${MODULE}
      (assert_return (invoke "add" (i32.const 1) (i32.const 1)) (i32.const 3))
      (assert_return (invoke "pair" (i64.const 1)) (i64.const 1) (f64.const 1.5))
      (assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
      (assert_trap (invoke "div" (i32.const 0)) "integer overflow")
      (assert_return (invoke "add" (i32.const 2) (i32.const 2)) (i32.const 4))`);
    expect(r.failed).toBe(4);
    expect(r.passed).toBe(1);
    expect(r.failures[0]).toMatch(/bad\.wast:\d+: add\(i32:1, i32:1\): expected i32:3, got 0x2/);
  });

  it("links instances: register, shared memory/table/global, re-export, unlinkable, partial instantiation", async () => {
    const r = await run("link.wast", `
      (module $A
        (memory (export "mem") 1 4)
        (table (export "tab") 2 funcref)
        (global (export "g") (mut i32) (i32.const 7))
        (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
        (func (export "grow") (result i32) (memory.grow (i32.const 1)))
        (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))
      (register "A" $A)
      (module $B
        (import "A" "mem" (memory 1))
        (import "A" "tab" (table 2 funcref))
        (import "A" "g" (global $g (mut i32)))
        (import "A" "load" (func $load (param i32) (result i32)))
        (func $nine (result i32) (i32.const 9))
        (elem (i32.const 1) $nine)
        (data (i32.const 3) "x")
        (func (export "bump") (global.set $g (i32.add (global.get $g) (i32.const 1))))
        (export "load2" (func $load)))
      (assert_return (invoke $A "load" (i32.const 3)) (i32.const 120))
      (assert_return (invoke $A "call" (i32.const 1)) (i32.const 9))
      (invoke $B "bump")
      (assert_return (get $A "g") (i32.const 8))
      (assert_return (invoke $B "load2" (i32.const 3)) (i32.const 120))
      (assert_unlinkable (module (import "A" "nope" (func))) "unknown import")
      (assert_unlinkable (module (import "A" "g" (global i32))) "incompatible import type")
      (assert_unlinkable (module (import "A" "mem" (memory 1 2))) "incompatible import type")
      (assert_unlinkable (module (import "A" "mem" (memory 2))) "incompatible import type")
      (assert_return (invoke $A "grow") (i32.const 1))
      (module (import "A" "mem" (memory 2)))
      (assert_trap (module (import "A" "mem" (memory 1)) (data (i32.const 0) "y") (data (i32.const 0x20000) "z"))
        "out of bounds memory access")
      (assert_return (invoke $A "load" (i32.const 0)) (i32.const 121))`);
    expect(r.failures).toEqual([]);
    expect(r.skipped).toBe(0);
    expect(r.passed).toBe(12);
  });

  it("reports a module that links although it should not as a failure", async () => {
    const r = await run("badlink.wast", `(module $A (func (export "f")))
      (register "A" $A)
      (assert_unlinkable (module (import "A" "f" (func))) "incompatible import type")`);
    expect(r.failed).toBe(1);
    expect(r.failures[0]).toMatch(/expected a link error/);
  });

  it("a module whose instantiation traps (data segment out of bounds) is an assert_trap pass", async () => {
    const r = await run("inst.wast", `(assert_trap (module (memory 0) (data (i32.const 0) "a")) "out of bounds memory access")`);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(1);
  });
});
