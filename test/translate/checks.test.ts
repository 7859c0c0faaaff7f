/**
 * The repeated-check pre-pass (tools/translate/checks.ts) on its own: which trap checks of a body
 * it drops and which it must keep. The behaviour of the translated code (against V8, a check that
 * must still trap) is in differential.test.ts.
 */
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { dropRepeatedChecks } from "../../tools/translate/checks.ts";
import { watToWasm } from "./harness.ts";

/** A check of `$i` against the length at `$p` (asc's StaticArray accessor, after inlining). */
const CHECK = `(if (i32.ge_u (local.get $i) (i32.shr_u (i32.load offset=16 (i32.sub (local.get $p) (i32.const 20))) (i32.const 2)))
  (then (call $abort) (unreachable)))`;

/** The number of checks left in the last function's body (each has one `unreachable`). */
async function checksLeft(funcBody: string, locals = ""): Promise<number> {
  const mod = readModule(await watToWasm(`(module (memory 1) (global $g (mut i32) (i32.const 64))
    (func $abort) (func $other)
    (func (param $p i32) (param $i i32) (result i32) (local $t i32) ${locals} ${funcBody} (local.get $t)))`));
  validateModule(mod);
  const f = mod.funcs[mod.funcs.length - 1];
  const body = dropRepeatedChecks(f.body);
  return body.filter((ins) => ins.op === 0x00).length;
}

describe("repeated trap checks", () => {
  it("drops a check whose condition was tested already with nothing changed in between (a[i] += x)", async () => {
    expect(await checksLeft(`${CHECK} (local.set $t (i32.load (local.get $p))) ${CHECK} (i32.store (local.get $p) (local.get $t))`)).toBe(1);
    // across a block entered and left by falling through, a not-taken br_if, a call (the condition reads no memory)
    expect(await checksLeft(`(block $out
      (if (i32.ge_u (local.get $i) (local.get $p)) (then (unreachable)))
      (block (br_if $out (local.get $t)) (call $other))
      (if (i32.ge_u (local.get $i) (local.get $p)) (then (unreachable))))`)).toBe(1);
  });

  it("keeps it when something the condition reads may have changed", async () => {
    for (const between of [
      "(local.set $i (i32.const 1))", // a local it reads
      "(local.set $p (i32.const 1))",
      "(i32.store8 (i32.const 0) (i32.const 1))", // memory it loads
      "(memory.fill (i32.const 0) (i32.const 0) (i32.const 4))",
      "(drop (memory.grow (i32.const 0)))",
      "(call $other)", // a call may store
    ]) {
      expect(await checksLeft(`${CHECK} ${between} ${CHECK}`), between).toBe(2);
    }
    // a global it reads: set, or a call
    const g = `(if (i32.ge_u (local.get $i) (global.get $g)) (then (unreachable)))`;
    expect(await checksLeft(`${g} (global.set $g (i32.const 1)) ${g}`)).toBe(2);
    expect(await checksLeft(`${g} (call $other) ${g}`)).toBe(2);
    expect(await checksLeft(`${g} (local.set $t (i32.const 1)) ${g}`)).toBe(1);
  });

  it("forgets at labels: a loop's start, else, the end of an if or of a branch target", async () => {
    expect(await checksLeft(`(loop ${CHECK} (br_if 0 (local.get $t)))`)).toBe(1); // once in the body: nothing to drop
    expect(await checksLeft(`${CHECK} (loop ${CHECK} (br_if 0 (local.get $t)))`)).toBe(2);
    expect(await checksLeft(`(if (local.get $t) (then ${CHECK}) (else ${CHECK}))`)).toBe(2);
    expect(await checksLeft(`(if (local.get $t) (then ${CHECK})) ${CHECK}`)).toBe(2);
    expect(await checksLeft(`(block ${CHECK} (br_if 0 (local.get $t)) ${CHECK}) ${CHECK}`)).toBe(2); // inner repeat dropped; after the targeted end kept
    // what was known before an if holds in both arms; what the last pass of a loop's body learnt
    // holds after its end (reached only by falling through)
    expect(await checksLeft(`${CHECK} (if (local.get $t) (then ${CHECK}) (else ${CHECK}))`)).toBe(1);
    expect(await checksLeft(`(loop ${CHECK} (br_if 0 (local.get $t))) ${CHECK}`)).toBe(1);
  });

  it("only checks: arms that trap without branching, conditions of pure operators", async () => {
    expect(await checksLeft(`(if (i32.ge_u (local.get $i) (local.get $p)) (then (br_if 0 (local.get $t)) (unreachable)))
      (if (i32.ge_u (local.get $i) (local.get $p)) (then (unreachable)))`)).toBe(2); // the first arm can fall through
    const divides = `(if (i32.div_u (local.get $i) (local.get $p)) (then (unreachable)))`;
    expect(await checksLeft(`${divides} ${divides}`)).toBe(2);
  });
});
