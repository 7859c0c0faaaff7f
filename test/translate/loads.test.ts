/**
 * The repeated-load pre-pass (tools/translate/loads.ts) on its own: which loads of a body it turns
 * into reads of a new local and which it must keep. The translated code's behaviour (against V8)
 * is in differential.test.ts (the `lengths` case).
 */
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { reuseRepeatedLoads } from "../../tools/translate/loads.ts";
import { watToWasm } from "./harness.ts";

/** asc's StaticArray<u32> length of `$p`: i32.load offset=16 (p - 20) >>> 2. */
const LENGTH = `(i32.shr_u (i32.load offset=16 (i32.sub (local.get $p) (i32.const 20))) (i32.const 2))`;
/** A bounds check of `$i` against it (asc's `__get`, after inlining). */
const CHECK = `(if (i32.ge_u (local.get $i) ${LENGTH}) (then (call $abort) (unreachable)))`;

/** The loads left in the last function's body after the pass, and the locals it added. */
async function loadsLeft(funcBody: string): Promise<{ loads: number; added: number; body: string[] }> {
  const mod = readModule(await watToWasm(`(module (memory 1) (global $g (mut i32) (i32.const 64))
    (func $abort) (func $other)
    (func (param $p i32) (param $i i32) (result i32) (local $t i32) ${funcBody} (local.get $t)))`));
  validateModule(mod);
  const f = mod.funcs[mod.funcs.length - 1];
  const r = reuseRepeatedLoads(2 + f.locals.length, f.locals, f.body);
  return { loads: r.body.filter((ins) => ins.op === 0x28).length, added: r.locals.length - f.locals.length, body: r.body.map((ins) => `${ins.name}${ins.index !== undefined ? " " + ins.index : ""}`) };
}

describe("repeated loads", () => {
  it("loads an array's length once for the checks of straight-line code (SHA-256's W[i - 15], W[i - 2], ...)", async () => {
    const r = await loadsLeft(`${CHECK} ${CHECK} (local.set $t (i32.add (local.get $t) ${LENGTH})) ${CHECK}`);
    expect(r.loads).toBe(1);
    expect(r.added).toBe(1);
    // the first site tees its value into the new local (3: after $p, $i and $t), the others read it
    expect(r.body).toContain("local.tee 3");
    expect(r.body.filter((s) => s === "local.get 3")).toHaveLength(3);
    // also a plain load off a local (Array#length) and off a global; a different offset or shift is another value
    expect((await loadsLeft(`(local.set $t (i32.load offset=12 (local.get $p))) (local.set $t (i32.load offset=12 (local.get $p)))`)).loads).toBe(1);
    expect((await loadsLeft(`(local.set $t (i32.load (global.get $g))) (local.set $t (i32.load (global.get $g)))`)).loads).toBe(1);
    expect((await loadsLeft(`(local.set $t (i32.load offset=12 (local.get $p))) (local.set $t (i32.load offset=8 (local.get $p)))`)).loads).toBe(2);
    expect((await loadsLeft(`(local.set $t (i32.load (local.get $p))) (local.set $t (i32.load (local.get $i)))`)).loads).toBe(2);
    // nothing repeats: the same arrays back
    expect((await loadsLeft(`${CHECK}`)).added).toBe(0);
  });

  it("keeps the load when what it reads may have changed", async () => {
    for (const between of [
      "(local.set $p (i32.const 1))", // its base local
      "(local.tee $p (i32.const 1)) (drop)",
      "(i32.store8 (i32.const 0) (i32.const 1))", // memory: any store
      "(f64.store (i32.const 0) (f64.const 1))",
      "(memory.fill (i32.const 0) (i32.const 0) (i32.const 4))",
      "(memory.copy (i32.const 0) (i32.const 8) (i32.const 4))",
      "(drop (memory.grow (i32.const 0)))",
      "(call $other)", // a call may store
    ]) {
      expect((await loadsLeft(`${CHECK} ${between} ${CHECK}`)).loads, between).toBe(2);
    }
    const g = `(local.set $t (i32.load (global.get $g)))`;
    expect((await loadsLeft(`${g} (global.set $g (i32.const 4)) ${g}`)).loads).toBe(2);
    expect((await loadsLeft(`${CHECK} (local.set $i (i32.const 1)) ${CHECK}`)).loads).toBe(1); // the index is not part of it
  });

  it("forgets at labels and branches, keeps across entering a block or arm, a br_if not taken and a trap arm", async () => {
    expect((await loadsLeft(`${CHECK} (loop ${CHECK} (br_if 0 (local.get $t)))`)).loads).toBe(2); // a loop's start is a label
    expect((await loadsLeft(`(if (local.get $t) (then ${CHECK}) (else ${CHECK}))`)).loads).toBe(2);
    expect((await loadsLeft(`(if (local.get $t) (then ${CHECK})) ${CHECK}`)).loads).toBe(2);
    expect((await loadsLeft(`(block ${CHECK} (br_if 0 (local.get $t)) ${CHECK}) ${CHECK}`)).loads).toBe(2); // inner repeat reused; after the targeted end not
    expect((await loadsLeft(`${CHECK} (if (local.get $t) (then ${CHECK}) (else ${CHECK}))`)).loads).toBe(1); // known before an if: in both arms
    expect((await loadsLeft(`(loop ${CHECK} (br_if 0 (local.get $t))) ${CHECK}`)).loads).toBe(1); // a loop's end is reached by falling through
    expect((await loadsLeft(`(block ${CHECK} (if (local.get $t) (then (br 1))) ${CHECK})`)).loads).toBe(2); // the end of an if is a label
    // an arm that ends in unreachable was not taken when the code after it runs (its call does not count)
    expect((await loadsLeft(`${CHECK} (if (local.get $t) (then (call $other) (unreachable))) ${CHECK}`)).loads).toBe(1);
  });
});
