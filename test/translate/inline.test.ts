/**
 * The inlining pre-pass (tools/translate/inline.ts) on its own: what a call site expands to. The
 * behaviour of expanded code (against V8) is in differential.test.ts ("registers and inlining").
 */
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { INLINE_BEGIN, INLINE_END, Inliner } from "../../tools/translate/inline.ts";
import { watToWasm } from "./harness.ts";

async function expandMain(wat: string): Promise<{ ops: string[]; locals: string[] }> {
  const mod = readModule(await watToWasm(`(module ${wat})`));
  validateModule(mod);
  const main = mod.funcs.length - 1; // the last function is the caller under test (no imports)
  const f = mod.funcs[main];
  const { locals, body } = new Inliner(mod).expand(main, f.locals, f.body);
  return {
    locals,
    ops: body.map((i) => (i.index !== undefined && i.name !== INLINE_BEGIN ? `${i.name} ${i.index}` : i.depth !== undefined ? `${i.name} ${i.depth}` : i.name)),
  };
}

describe("inlining pre-pass", () => {
  it("substitutes trailing local.get/const arguments and keeps the callee's operators", async () => {
    const r = await expandMain(`
      (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (param $x i32) (result i32) (local $y i32)
        (loop (local.set $y (call $add (local.get $x) (i32.const 7)))) (local.get $y))`);
    expect(r.ops).toEqual(["loop", INLINE_BEGIN, "block", "local.get 0", "i32.const", "i32.add", "end", INLINE_END,
      "local.set 1", "end", "local.get 1", "end"]);
    expect(r.locals).toEqual(["i32", "i32", "i32"]); // $y, then $add's region (its two parameters)
  });

  it("copies computed arguments into the region, zeroes declared locals, turns return into br", async () => {
    const r = await expandMain(`
      (func $f (param $p i32) (result i32) (local $acc i32)
        (local.set $acc (i32.add (local.get $acc) (local.get $p)))
        (block (br_if 0 (local.get $p)) (return (i32.const 0)))
        (local.get $acc))
      (func (param $x i32) (result i32) (loop (result i32) (call $f (i32.mul (local.get $x) (local.get $x)))))`);
    // region: $f's param at local 1, its $acc at local 2
    expect(r.ops).toEqual(["loop", "local.get 0", "local.get 0", "i32.mul", "local.set 1", "i32.const", "local.set 2",
      INLINE_BEGIN, "block", "local.get 2", "local.get 1", "i32.add", "local.set 2",
      "block", "local.get 1", "br_if 0", "i32.const", "br 1", "end", "local.get 2", "end", INLINE_END, "end", "end"]);
  });

  it("does not substitute a parameter the callee writes, nor a global.get when the callee writes globals", async () => {
    const r = await expandMain(`
      (global $g (mut i32) (i32.const 0))
      (func $w (param $p i32) (local.set $p (i32.const 1)) (global.set $g (local.get $p)))
      (func (loop (call $w (global.get $g))))`);
    expect(r.ops.slice(0, 4)).toEqual(["loop", "global.get 0", "local.set 0", INLINE_BEGIN]);
  });

  it("substitutes earlier single-push arguments when the later arguments leave their value alone", async () => {
    const r = await expandMain(`
      (memory 1) (global $g (mut i32) (i32.const 0))
      (func $set (param i32 i32 i32) (i32.store (i32.add (local.get 0) (local.get 1)) (local.get 2)))
      (func (param $x i32) (local $y i32) (loop (call $set (global.get $g) (local.get $x) (i32.mul (local.get $y) (local.get $y)))))`);
    // region of $set: locals 2, 3, 4; only the computed third argument is copied
    expect(r.ops).toEqual(["loop", "local.get 1", "local.get 1", "i32.mul", "local.set 4", INLINE_BEGIN, "block",
      "global.get 0", "local.get 0", "i32.add", "local.get 4", "i32.store", "end", INLINE_END, "end", "end"]);
  });

  it("keeps an earlier argument in place when a later one writes its local or may write its global", async () => {
    const writesLocal = await expandMain(`
      (memory 1) (global $g (mut i32) (i32.const 0))
      (func $set (param i32 i32 i32) (i32.store (i32.add (local.get 0) (local.get 1)) (local.get 2)))
      (func (param $x i32) (loop (call $set (global.get $g) (local.get $x) (i32.add (local.tee $x (i32.const 5)) (i32.const 1)))))`);
    // $x is read before the tee: it stays where it was and goes to the region (local 2 = $set's second parameter)
    expect(writesLocal.ops.slice(0, 7)).toEqual(["loop", "local.get 0", "i32.const", "local.tee 0", "i32.const", "i32.add", "local.set 3"]);
    expect(writesLocal.ops).toContain("local.set 2");
    expect(writesLocal.ops.filter((o) => o === "global.get 0")).toHaveLength(1); // $g: substituted (nothing writes it)
    const writesGlobal = await expandMain(`
      (memory 1) (global $g (mut i32) (i32.const 0))
      (func $bump (result i32) (global.set $g (i32.const 9)) (i32.const 4))
      (func $set (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (loop (call $set (global.get $g) (call $bump))))`);
    expect(writesGlobal.ops.slice(0, 2)).toEqual(["loop", "global.get 0"]); // read before $bump's body runs
  });

  it("an earlier argument before a later one that starts with an inlined call (W[i] = W[i - 16] + x): substituted, the inlined call's parameter set counted with the later argument", async () => {
    const r = await expandMain(`
      (memory 1)
      (func $get (param i32) (result i32) (i32.load (local.get 0)))
      (func $set (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (param $i i32) (param $x i32) (loop (call $set (local.get $i) (i32.add (call $get (i32.sub (local.get $i) (i32.const 16))) (local.get $x)))))`);
    // $get's region: local 2 (set from i - 16 before its body); $set's: 3, 4. $set's first argument,
    // $i, is read in $set's body: no copy to local 3; its second, computed, goes to local 4.
    expect(r.ops.slice(0, 5)).toEqual(["loop", "local.get 0", "i32.const", "i32.sub", "local.set 2"]);
    expect(r.ops).not.toContain("local.set 3");
    expect(r.ops).toContain("local.set 4");
    // the same with the later argument writing $i (the set before the inlined body): $i is kept in place
    const writes = await expandMain(`
      (memory 1)
      (func $get (param i32) (result i32) (i32.load (local.get 0)))
      (func $set (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (param $i i32) (param $x i32) (loop (call $set (local.get $i) (i32.add (call $get (local.tee $i (i32.sub (local.get $i) (i32.const 16)))) (local.get $x)))))`);
    expect(writes.ops).toContain("local.set 3");
  });

  it("outside loops, a callee with a trap arm counts its operators without it (asc's bounds-checked accessors are inlined)", async () => {
    // 15 operators besides the arm (the if included) and 25 in all: inlined outside loops; with two
    // more before the arm (17 + 10), not.
    const arm = "(then (call $abort (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7)) (unreachable))";
    const get = (extra: string) => `(func $get (param i32 i32) (result i32)
        (if (i32.ge_u (local.get 1) (i32.shr_u (i32.load offset=16 (i32.sub (local.get 0) (i32.const 20))) (i32.const 2)${extra})) ${arm})
        (i32.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))`;
    const caller = "(func (param $a i32) (result i32) (call $get (local.get $a) (i32.const 3)))";
    const abort = "(memory 1) (func $abort (param i32 i32 i32 i32 i32 i32 i32))";
    const small = await expandMain(`${abort} ${get("")} ${caller}`);
    expect(small.ops).toContain(INLINE_BEGIN);
    const larger = await expandMain(`${abort} ${get(" (i32.const 0) (i32.or)")} ${caller}`);
    expect(larger.ops).not.toContain(INLINE_BEGIN);
  });

  it("leaves recursive, large and out-of-loop non-tiny callees as calls", async () => {
    const big = Array.from({ length: 40 }, () => "(drop (i32.const 1))").join(" ");
    // 13 operators and no trap arm: more than INLINE_MAX_OPERATORS_OUTSIDE_LOOPS (8), within
    // INLINE_MAX_CHECKED_OUTSIDE_LOOPS (16), which is for callees with a trap arm only
    const medium = Array.from({ length: 6 }, () => "(local.get 0) (i32.add)").join(" ");
    const r = await expandMain(`
      (func $big ${big})
      (func $medium (param i32) (result i32) (local.get 0) ${medium})
      (func $self (param $n i32)
        (call $big) (drop (call $medium (local.get $n)))
        (loop (call $big) (call $self (local.get $n))))`);
    expect(r.ops.filter((o) => o.startsWith("call"))).toEqual(["call 0", "call 1", "call 0", "call 2"]);
    expect(r.ops).not.toContain(INLINE_BEGIN);
  });
});
