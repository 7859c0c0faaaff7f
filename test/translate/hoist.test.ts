/**
 * Loop versioning (tools/translate/hoist.ts) on its own: which loops it versions, what the copy
 * reads from locals, and that the result is valid WebAssembly (branch depths past the blocks that
 * choose the copy).
 * The translated code's behaviour against V8 is in differential.test.ts (`versionModule`).
 */
import { describe, expect, it } from "vitest";
import { readModule } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { versionLoops } from "../../tools/translate/hoist.ts";
import { watToWasm } from "./harness.ts";

/** asc's StaticArray<u32> length of `$p`: i32.load offset=16 (p - 20) >>> 2. */
const len = (p = "$p") => `(i32.shr_u (i32.load offset=16 (i32.sub (local.get ${p}) (i32.const 20))) (i32.const 2))`;
/** A bounds check of `$i` against it (asc's `__get`/`__set`, after inlining). */
const check = (p = "$p") => `(if (i32.ge_u (local.get $i) ${len(p)}) (then (call $abort) (unreachable)))`;
/** A checked store of `$v` into `$p[$i]` (asc's `__set`). */
const set = (p = "$p") => `${check(p)} (i32.store (i32.add (local.get ${p}) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))`;
/** A checked read of `$p[$i]` added to `$v`. */
const get = (p = "$p") => `${check(p)} (local.set $v (i32.add (local.get $v) (i32.load (i32.add (local.get ${p}) (i32.shl (local.get $i) (i32.const 2))))))`;
/** The rest of a counting loop. */
const next = `(local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 8)))`;

interface Result {
  versioned: boolean; added: number; loadsInCopy: number; loadsInOriginal: number; branches: string[]; body: string[];
  /** i32.adds marked noWrap in the copy and in the original; the test's i64.gt_u comparisons. */
  noWrapInCopy: number; noWrapInOriginal: number; tests: number;
  /** The third copy (one local for lengths that are equal): its loads, and the locals its checks
   *  compare with (`i32.ge_u` after a local.get); the same for the copy. -1 / [] without it. */
  loadsInMerged: number; boundsInMerged: number[]; boundsInCopy: number[];
}

/** The loops not inside another loop, as [start, end]: in a versioned body the copy comes first. */
function outermostLoops(body: { op: number }[]): [number, number][] {
  const found: [number, number][] = [];
  let depth = 0, loopAt = -1, loopDepth = -1;
  body.forEach((ins, k) => {
    if (ins.op === 0x02 || ins.op === 0x03 || ins.op === 0x04) {
      if (ins.op === 0x03 && loopAt < 0) { loopAt = k; loopDepth = depth; }
      depth++;
    } else if (ins.op === 0x0b && --depth === loopDepth && loopAt >= 0) {
      found.push([loopAt, k]);
      loopAt = -1; loopDepth = -1;
    }
  });
  return found;
}

/** The last function of a module after the pass (validated), and what it did. */
async function version(funcBody: string, memoryChecked = true): Promise<Result> {
  const mod = readModule(await watToWasm(`(module (memory 1) (global $g (mut i32) (i32.const 64)) (table 1 funcref)
    (func $abort) (func $other)
    (func (param $p i32) (param $q i32) (result i32) (local $i i32) (local $v i32) ${funcBody} (local.get $v)))`));
  validateModule(mod);
  const f = mod.funcs[mod.funcs.length - 1];
  const r = versionLoops(2 + f.locals.length, f.locals, f.body, memoryChecked);
  const versioned = r.body !== f.body, declared = f.locals.length;
  f.locals = r.locals;
  f.body = r.body;
  validateModule(mod); // types, and the branch depths past the new blocks
  const loops = outermostLoops(r.body);
  const [merged, copy, original] = loops.length === 3 ? loops : [undefined, ...loops];
  const bounds = (range: [number, number] | undefined) => (range ? r.body.slice(range[0], range[1] + 1).flatMap((ins, k, all) =>
    ins.op === 0x4f && all[k - 1].op === 0x20 ? [all[k - 1].index!] : []) : []);
  const loadsBetween = (range: [number, number] | undefined) => (range ? r.body.slice(range[0], range[1] + 1).filter((ins) => ins.op === 0x28).length : -1);
  const noWrapBetween = (range: [number, number] | undefined) => (range ? r.body.slice(range[0], range[1] + 1).filter((ins) => ins.noWrap).length : -1);
  return {
    versioned,
    body: r.body.map((ins) => `${ins.name}${ins.index !== undefined ? " " + ins.index : ""}`),
    added: r.locals.length - declared,
    branches: r.body.filter((ins) => ins.op === 0x0d || ins.op === 0x0e).map((ins) => ins.depth !== undefined ? `br_if ${ins.depth}` : `br_table ${ins.targets!.join(" ")} ${ins.defaultTarget}`),
    loadsInCopy: versioned ? loadsBetween(copy) : -1,
    loadsInOriginal: versioned ? loadsBetween(original) : -1,
    noWrapInCopy: versioned ? noWrapBetween(copy) : -1,
    noWrapInOriginal: versioned ? noWrapBetween(original) : -1,
    tests: r.body.filter((ins) => ins.op === 0x56).length,
    loadsInMerged: merged ? loadsBetween(merged) : -1,
    boundsInMerged: bounds(merged),
    boundsInCopy: bounds(copy),
  };
}

describe("loop versioning", () => {
  it("reads the lengths from locals in a copy of a loop that reads and stores checked elements", async () => {
    const r = await version(`(loop $l ${get("$p")} ${set("$q")} ${next})`);
    expect(r.versioned).toBe(true);
    // the copy: only the element load; the original: two lengths and the element
    expect(r.loadsInCopy).toBe(1);
    expect(r.loadsInOriginal).toBe(3);
    // $i is checked against both lengths: a third copy, for when they are equal, checks it
    // against one local, the copy against each its own
    expect(r.loadsInMerged).toBe(1);
    expect(new Set(r.boundsInMerged).size).toBe(1);
    expect(r.boundsInMerged).toHaveLength(2);
    expect(new Set(r.boundsInCopy).size).toBe(2);
    expect(r.body.filter((ins) => ins === "i32.ne")).toHaveLength(1);
    // the memory's size in bytes, per length its value and (for the stores' tests) its address,
    // per kind of store its range (2 x i64)
    expect(r.added).toBe(1 + 2 * 2 + 2);
    // a loop that stores nothing; lengths read off a global, a constant; the loop's own condition
    const one = await version(`(loop $l ${get("$p")} ${next})`);
    expect([one.loadsInCopy, one.loadsInMerged]).toEqual([1, -1]); // one length: no third copy
    // two indexes, each checked against one length: no third copy either
    const two = await version(`(loop $l ${get("$p")} (local.set $v (i32.add (local.get $v) (i32.load (i32.add (local.get $q) (i32.shl (local.get $v) (i32.const 2))))))
      (if (i32.ge_u (local.get $v) ${len("$q")}) (then (call $abort) (unreachable))) ${next})`);
    expect([two.versioned, two.loadsInMerged]).toEqual([true, -1]);
    expect((await version(`(loop $l (local.set $v (i32.add (local.get $v) (i32.load (global.get $g)))) ${next})`)).loadsInCopy).toBe(0);
    expect((await version(`(loop $l (local.set $v (i32.add (local.get $v) (i32.load offset=8 (i32.const 16)))) ${next})`)).loadsInCopy).toBe(0);
    expect((await version(`(loop $l ${set("$q")} (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) ${len("$q")})))`)).loadsInCopy).toBe(0);
  });

  it("marks the checked elements' address adds noWrap in the copy, after a test that they cannot wrap", async () => {
    // a load and a store: the store kind's test covers both (same base form? no: $p and $q), so
    // per site its bounds (1), per store kind its wrap (1) and range (per site, lt_u/gt_u: 2), and
    // the load's own wrap test (1)
    const both = await version(`(loop $l ${get("$p")} ${set("$q")} ${next})`);
    expect([both.noWrapInCopy, both.noWrapInOriginal]).toEqual([2, 0]);
    expect(both.tests).toBe(2 + 1 + 2 + 1);
    // a load of the same array the store writes: covered by the store kind's test
    const same = await version(`(loop $l ${get("$q")} ${set("$q")} ${next})`);
    expect([same.noWrapInCopy, same.tests]).toEqual([2, 1 + 1 + 1]);
    // loads only; the load after a push (s += a[i]) and right after the check (a local.set of it)
    const loads = await version(`(loop $l ${get("$p")} ${check("$p")} (local.set $v (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))) ${next})`);
    expect([loads.noWrapInCopy, loads.tests]).toEqual([2, 1 + 1]);
    // not: a base the loop changes, an address not right after its check, another index, a shift
    // and an add whose operands are not the element's
    for (const inLoop of [
      `${check("$p")} (local.set $v (i32.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2)))))`,
      `${check("$p")} (local.set $v (i32.add (local.get $v) (local.get $v))) (local.set $v (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))`,
      `${check("$p")} (local.set $v (i32.load (i32.add (local.get $p) (i32.shl (local.get $v) (i32.const 2)))))`,
      `${check("$p")} (local.set $v (i32.load (i32.add (i32.shl (local.get $i) (i32.const 2)) (local.get $p))))`,
    ]) {
      const r = await version(`(loop $l ${inLoop} ${next})`);
      expect(r.versioned, inLoop).toBe(true);
      expect(r.noWrapInCopy, inLoop).toBe(0);
    }
  });

  it("also reads a length whose base binaryen tee'd into a local (its own inlining), keeping the set", async () => {
    // binaryen's inlined __get/__set: `global.get $g local.tee $t i32.const 20 i32.sub i32.load offset=16 ...`,
    // the element address then off $t, the index tee'd into $i by the check
    const teeCheck = `(if (i32.ge_u (local.tee $i (local.get $i)) (i32.shr_u (i32.load offset=16 (i32.sub (local.tee $p (global.get $g)) (i32.const 20))) (i32.const 2))) (then (call $abort) (unreachable)))`;
    const teeSet = `${teeCheck} (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))`;
    const r = await version(`(loop $l ${teeSet} ${next})`);
    expect(r.versioned).toBe(true);
    expect(r.loadsInCopy).toBe(0);
    expect(r.loadsInOriginal).toBe(1);
    // the copy still sets $p (local 0): global.get, local.set 0, then the hoisted value
    expect(r.body.join(" ")).toMatch(/global\.get 0 local\.set 0 local\.get \d+ i32\.ge_u/);
  });

  it("leaves a loop whose stores or calls may write anything, or whose bases change", async () => {
    for (const inLoop of [
      `${get("$p")} (i32.store (local.get $q) (local.get $v))`, // an unchecked store
      `${get("$p")} (i32.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))`, // a store not after its check
      `${get("$p")} ${check("$q")} (i32.store (i32.add (local.get $q) (i32.shl (local.get $v) (i32.const 2))) (local.get $v))`, // checked index is another
      `${get("$p")} (call $other)`, // a call that comes back
      `${get("$p")} (call_indirect (i32.const 0))`,
      `${get("$p")} (memory.fill (i32.const 0) (i32.const 0) (i32.const 4))`,
      `${get("$p")} (memory.copy (i32.const 0) (i32.const 8) (i32.const 4))`,
      `${get("$p")} (local.set $p (i32.const 64))`, // the base changes
      `(local.set $v (i32.add (local.get $v) (i32.load (global.get $g)))) (global.set $g (i32.const 8))`,
      `(local.set $v (i32.add (local.get $v) (local.get $i)))`, // nothing to load
    ]) {
      expect((await version(`(loop $l ${inLoop} ${next})`)).versioned, inLoop).toBe(false);
    }
    // a loop with a result; the kernel's identity-mapped memory (devices write it)
    expect((await version(`(local.set $v (loop $l (result i32) ${get("$p")} ${next} (local.get $v)))`)).versioned).toBe(false);
    expect((await version(`(loop $l ${get("$p")} ${set("$q")} ${next})`, false)).versioned).toBe(false);
  });

  it("versions the outermost loop that qualifies, its branches out of it past the blocks around the copies", async () => {
    const nested = `(block $out (loop $l ${get("$p")} (br_if $out (i32.eqz (local.get $v)))
      (loop $m ${set("$q")} (br_table $m $l $out (local.get $v))) ${next}))`;
    const r = await version(nested);
    expect(r.versioned).toBe(true);
    expect(r.loadsInCopy).toBe(1);
    expect(r.loadsInOriginal).toBe(3);
    // the tests' br_ifs (depth 0: to the block around the copies), then the branches that leave
    // the loop: three labels further out in the third copy, two in the copy, one in the original
    // (br_if $out: 1 -> 4 / 3 / 2; br_table $m $l $out: 0 1 2 -> 0 1 5 / 0 1 4 / 0 1 3; $l's br_if 0 stays)
    const tests = r.branches.length - 9;
    expect(r.branches).toEqual([
      ...Array(tests).fill("br_if 0"), "br_if 4", "br_table 0 1 5", "br_if 0", "br_if 3", "br_table 0 1 4", "br_if 0", "br_if 2", "br_table 0 1 3", "br_if 0",
    ]);
    // an outer loop that calls: only its inner loop
    const inner = await version(`(loop $l (call $other) (loop $m ${get("$p")} ${next}) (br_if $l (local.get $v)))`);
    expect(inner.versioned).toBe(true);
  });
});
