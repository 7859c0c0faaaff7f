/**
 * Code shape of the one-pass translator (tools/translate/function.ts): what a hot loop compiles to.
 * Not a timing test: it reads the disassembly of one translated function and checks the properties
 * the value stack and register allocation promise (tools/translate/regalloc.ts).
 */
import { describe, expect, it } from "vitest";
import { buildHostedImage } from "../../tools/link/build.ts";
import { disassemble } from "../../tools/x86/disasm.ts";
import { watToWasm } from "./harness.ts";

const WAT = `(module
  (memory 1)
  (func $sum_words (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load offset=8 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $s))
  (func $pick (param $a i32) (param $b i32) (result i32)
    (select (local.get $a) (local.get $b) (i32.gt_u (local.get $a) (local.get $b))))
  (func $poly (param $n i32) (param $x f64) (result f64) (local $i i32) (local $acc f64)
    (loop $l
      (local.set $acc (f64.add (f64.mul (local.get $acc) (local.get $x)) (f64.mul (f64.convert_i32_s (local.get $i)) (f64.const 0.25))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $acc))
  ;; $v set, then stored: first with a set of $v next (dead after the store), then with a branch
  ;; next (the loop's back edge: $v may be read there as far as the translator looks)
  (func $set_then_store (param $p i32) (param $n i32) (local $i i32) (local $v f64) (local $x f64)
    (loop $l
      (local.set $v (f64.mul (local.get $x) (f64.const 1.5)))
      (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
      (local.set $v (f64.add (local.get $x) (f64.const 2.5)))
      (f64.store offset=8 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
      (local.set $x (f64.add (local.get $x) (f64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func $abort (param i32) (drop (local.get 0)))
  (func $get (param $a i32) (param $i i32) (result i32)
    (if (i32.ge_u (local.get $i) (i32.load (local.get $a))) (then (call $abort (i32.const 1)) (unreachable)))
    (i32.load offset=4 (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))))
  (func $sum_checked (param $a i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (call $get (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 8))))
    (local.get $s))
  (func $for_loop (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (if (i32.lt_s (local.get $i) (local.get $n))
        (then
          (local.set $s (i32.xor (local.get $s) (i32.load (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $l))))
    (local.get $s))
  (func $peek (param $p i32) (result i32) (i32.load offset=4 (local.get $p)))
  (func $const_addr (result i32) (i32.load offset=16 (i32.sub (i32.const 0x420) (i32.const 20))))
  (func $poke (param $p i32) (param $v i64) (i64.store offset=16 (local.get $p) (local.get $v)))
  (func $reuse (param $a i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $a) (local.get $a)))
    (i32.add (local.get $t) (i32.const 1)))
  (func $scan_lt (param $v i32) (result i32) (local $p i32)
    (loop $l
      (if (i32.lt_s (i32.load (local.get $p)) (local.get $v))
        (then (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l))))
    (local.get $p))
  (func $if_value (param $a i32) (param $b i32) (result i32)
    (i32.add (i32.const 1)
      (if (result i32) (i32.lt_s (local.get $a) (local.get $b))
        (then (i32.mul (local.get $a) (i32.const 3)))
        (else (i32.sub (local.get $b) (local.get $a))))))
  (func $tee_reads (param $a i32) (result i32) (local $s i32)
    (i32.xor (local.tee $s (i32.mul (local.get $a) (local.get $a))) (i32.shr_u (local.get $s) (i32.const 3))))
  (func $bulk (param $d i32) (param $s i32) (param $n i32)
    (memory.copy (local.get $d) (local.get $s) (local.get $n))
    (memory.fill (local.get $d) (i32.const 0x80) (local.get $n)))
  (global $pg (mut i32) (i32.const 64))
  (func $opaque (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)) (drop (i32.const 0)))
  (func $promoted (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.mul (global.get $pg) (i32.xor (global.get $pg) (global.get $pg)))))
      (call $opaque)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func $length_of (result i32)
    (i32.add (i32.load offset=16 (i32.sub (global.get $pg) (i32.const 20))) (global.get $pg)))
  (func $float_rhs (param $x f64) (result f64) (local $i i32) (local $s f64)
    (loop $l
      (local.set $s (f64.add (local.get $s) (f64.sub (f64.const 100) (local.get $x))))
      (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 9))))
    (local.get $s))
  (func $loop_result (param $n i32) (result i32) (local $i i32)
    (i32.add (local.get $n)
      (loop $l (result i32)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))
        (i32.mul (local.get $i) (i32.const 3)))))
  (func $both (param $a i32) (param $b i32) (result i32) (local $r i32)
    (if (i32.and (i32.lt_s (local.get $a) (i32.const 3)) (i32.gt_u (local.get $b) (i32.const 5))) (then (local.set $r (i32.const 1))))
    (if (i32.or (i32.eqz (local.get $a)) (i32.eq (local.get $b) (local.get $a))) (then (local.set $r (i32.const 2))))
    (local.get $r))
  (func $switch (param $a i32) (result i32)
    (block $c (block $b (block $a (br_table $a $b $c (i32.and (local.get $a) (i32.const 3))))
      (return (i32.const 10))) (return (i32.const 20))) (i32.const 30))
  (func $two_loops (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $i i32) (local $j i32) (local $s i32) (local $t i32) (local $u i32)
    (loop $l
      (local.set $a (i32.add (local.get $a) (local.get $b))) (local.set $b (i32.xor (local.get $b) (local.get $c)))
      (local.set $c (i32.add (local.get $c) (local.get $d))) (local.set $d (i32.xor (local.get $d) (local.get $e)))
      (local.set $e (i32.add (local.get $e) (local.get $f))) (local.set $f (i32.xor (local.get $f) (local.get $g)))
      (local.set $g (i32.add (local.get $g) (local.get $h))) (local.set $h (i32.xor (local.get $h) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (if (i32.gt_u (local.get $n) (i32.const 1)) (then
      (loop $m
        (local.set $s (i32.add (local.get $s) (i32.mul (local.get $t) (local.get $j))))
        (local.set $t (i32.xor (local.get $t) (local.get $u)))
        (local.set $u (i32.add (local.get $u) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $m (i32.lt_u (local.get $j) (local.get $n))))))
    (i32.add (local.get $s) (i32.add (local.get $a) (local.get $h))))
  (func $float_store (param $x f64) (param $n i32) (local $i i32)
    (loop $l
      (f64.store offset=64 (i32.shl (local.get $i) (i32.const 3)) (local.get $x))
      (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func $late_read (param $a i32) (param $b i32) (param $c i32) (result i32) (local $t i32) (local $d i32) (local $e i32) (local $f i32)
    (local.set $t (i32.mul (local.get $a) (local.get $b)))
    (local.set $d (i32.add (local.get $c) (local.get $t)))
    (local.set $e (local.get $a)) (local.set $f (local.get $b)) (local.set $a (local.get $c))
    (i32.add (i32.add (local.get $t) (local.get $d)) (i32.add (local.get $e) (i32.add (local.get $f) (local.get $a)))))
  (func $fget (param $p i32) (param $i i32) (result f64) (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
  (func $fused_loads (param $p i32) (param $n i32) (result f64) (local $i i32) (local $acc f64)
    (loop $l
      (local.set $acc (f64.sub (local.get $acc) (f64.mul (f64.load offset=8 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))) (call $fget (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func $set_first (param $a i32) (result i32) (local $t i32) (local $u i32)
    (local.set $t (i32.mul (local.get $a) (local.get $a)))
    (if (local.get $a) (then (local.set $u (i32.const 7))))
    (i32.add (local.get $t) (local.get $u)))
  (func $warm (param $p i32) (result i32) (local $t i32)
    (local.set $t (i32.load (local.get $p)))
    (if (local.get $t) (then (i32.store offset=4 (local.get $p) (local.get $t))))
    (i32.store offset=12 (local.get $p) (local.get $t))
    (i32.add (i32.add (local.get $t) (local.get $t)) (i32.load offset=8 (local.get $p))))
  (func $ten_zeros (result i32) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add
      (local.get 0) (local.get 1)) (local.get 2)) (local.get 3)) (local.get 4)) (local.get 5)) (local.get 6)) (local.get 7)) (local.get 8)) (local.get 9)))
  (func $slot_twice (param $a i32) (result i32) (local $s i32)
    (local.set $s (i32.mul (local.get $a) (i32.const 3)))
    (block (br_if 0 (local.get $a)))
    (i32.xor (i32.shl (local.get $s) (i32.const 13)) (local.get $s)))
  ;; A leaf (it calls nothing but an abort) with three hot locals, and the same with a call.
  (func $leaf (param $p i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
    (if (i32.gt_u (local.get $n) (i32.const 1000)) (then (call $opaque) (unreachable)))
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
  (func $not_leaf (param $p i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
    (call $opaque)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
  (func $stretch (param $a i32) (param $b i32) (result i32) (local $t i32) (local $u i32)
    (local.set $t (i32.mul (local.get $a) (local.get $b)))
    (local.set $u (i32.add (local.get $t) (local.get $a)))
    (block (br_if 0 (local.get $b)) (local.set $b (i32.const 3)))
    (i32.add (local.get $u) (local.get $b)))
  (func (export "main") (drop (call $stretch (i32.const 2) (i32.const 0))) (drop (call $leaf (i32.const 0) (i32.const 4))) (drop (call $not_leaf (i32.const 0) (i32.const 4))) (drop (call $slot_twice (i32.const 5))) (drop (call $ten_zeros)) (drop (call $warm (i32.const 0))) (drop (call $set_first (i32.const 3))) (drop (call $fused_loads (i32.const 0) (i32.const 4))) (drop (call $late_read (i32.const 1) (i32.const 2) (i32.const 3))) (drop (call $switch (i32.const 1))) (drop (call $two_loops (i32.const 5))) (call $float_store (f64.const 1) (i32.const 2)) (drop (call $both (i32.const 1) (i32.const 2))) (drop (call $loop_result (i32.const 3))) (drop (call $promoted (i32.const 3))) (drop (call $length_of)) (drop (call $float_rhs (f64.const 1))) (drop (call $reuse (i32.const 5))) (drop (call $sum_words (i32.const 64))) (drop (call $for_loop (i32.const 64))) (drop (call $pick (i32.const 1) (i32.const 2)))
    (drop (call $poly (i32.const 9) (f64.const 0.5))) (drop (call $sum_checked (i32.const 0))) (call $set_then_store (i32.const 0) (i32.const 2))
    (drop (call $peek (i32.const 0))) (drop (call $const_addr)) (drop (call $tee_reads (i32.const 3))) (drop (call $scan_lt (i32.const 0))) (drop (call $if_value (i32.const 1) (i32.const 2))) (call $poke (i32.const 0) (i64.const 1)) (call $bulk (i32.const 0) (i32.const 8) (i32.const 8))))`;

/** Disassembly text of the function whose symbol name ends with `name`. */
async function listingOf(name: string): Promise<string[]> {
  return (await linesOf(name)).map((l) => l.text);
}
/** The same with each instruction's address. */
async function linesOf(name: string): Promise<{ address: number; text: string }[]> {
  const img = await buildHostedImage(await watToWasm(WAT));
  const sym = img.symbols.find((s) => s.name.endsWith(name));
  if (!sym) throw new Error(`no symbol ${name}`);
  const dv = new DataView(img.elf.buffer, img.elf.byteOffset);
  const phoff = Number(dv.getBigUint64(32, true)), phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    const off = Number(dv.getBigUint64(o + 8, true)), va = Number(dv.getBigUint64(o + 16, true)), size = Number(dv.getBigUint64(o + 32, true));
    if (sym.addr >= va && sym.addr + sym.size <= va + size) {
      const at = off + sym.addr - va;
      return disassemble(img.elf.slice(at, at + sym.size), 64, sym.addr);
    }
  }
  throw new Error(`${name} is not in a loaded segment`);
}

describe("translator code shape", () => {
  it("a counted loop: locals pinned to registers, compare fused with br_if, constants folded", async () => {
    const code = (await listingOf("sum_words")).join("\n");
    expect(code).not.toMatch(/set[a-z]+ /); // no 0/1 materialised for the loop condition
    expect(code).toMatch(/cmp r\w+, r\w+\n\s*jl /); // i32.lt_s + br_if -> cmp; jl
    expect(code).toMatch(/add r\w+d, 4\n/); // local.set $i (i32.add (local.get $i) (i32.const 4)) -> one add
    expect(code).toMatch(/\[r\w+\+0x1000008\]/); // guest memory base + offset folded into the load's operand
  });

  it("a hosted guest load or store is the access alone: no bounds check (guard pages, ABI.md)", async () => {
    for (const [name, access] of [["peek", /^mov e\w+, dword ptr \[r\w+\+0x1000004\]$/], ["poke", /^mov qword ptr \[r\w+\+0x1000010\], r\w+$/]] as const) {
      const code = await listingOf(name);
      expect(code.filter((l) => access.test(l))).toHaveLength(1);
      // The only compare is the prologue's stack check; nothing reads the memory's size.
      expect(code.filter((l) => /^(cmp|test|lea)\b/.test(l))).toEqual([expect.stringMatching(/^cmp rsp, qword ptr \[0x[0-9a-f]+\]$/)]);
      expect(code.filter((l) => /^j/.test(l))).toHaveLength(1);
    }
  });

  it("constant operands fold; a constant address is an absolute operand (guest base + address + offset)", async () => {
    const code = await listingOf("const_addr");
    expect(code.filter((l) => /^mov e\w+, dword ptr \[0x100041c\]$/.test(l))).toHaveLength(1); // 0x1000000 + (0x420 - 20) + 16
    expect(code.some((l) => /^sub e/.test(l))).toBe(false);
  });

  it("a float loop: its float locals live in xmm registers, not frame slots", async () => {
    const code = (await listingOf("poly")).join("\n");
    const loop = code.slice(code.indexOf("mulsd") - 40, code.lastIndexOf("jl "));
    expect(loop).toMatch(/movaps xmm\d+, xmm1[0-5]\n[^\n]*\n?[^\n]*mulsd/); // $acc, $x read from their registers (XPIN_POOL)
    expect(loop).toMatch(/movaps xmm1[0-5], xmm\d+/); // local.set $acc: into its register
    expect(loop).toMatch(/mulsd xmm\d+, qword ptr \[0x[0-9a-f]+\]/); // the constant 0.25: a memory operand from the constant pool
    expect(loop).not.toMatch(/movabs/);
    expect(loop).not.toMatch(/movsd [^\n]*\[rbp/); // no float local loaded from or stored to the frame in the loop
  });

  it("a pinned float local set and then only stored is stored from the register it was computed in", async () => {
    const code = await listingOf("set_then_store");
    const stores = code.filter((l) => /^movsd qword ptr \[r\w+\+0x100000/.test(l)); // the guest memory's, not the pins' saves
    expect(stores).toHaveLength(2);
    // the first store's value: a pool register (XMM_POOL xmm2-9), not $v's pin (XPIN_POOL xmm10-15),
    // and nothing copies it there; the second (a branch follows) goes through the pin
    const from = stores.map((l) => Number(/xmm(\d+)$/.exec(l)![1]));
    expect(from[0]).toBeLessThan(10);
    expect(from[1]).toBeGreaterThanOrEqual(10);
    const first = code.indexOf(stores[0]);
    expect(code.slice(0, first).some((l) => new RegExp(`^movaps xmm1[0-5], xmm${from[0]}$`).test(l))).toBe(false);
  });

  it("a checked accessor called in a loop is inlined; its bounds check keeps the operands in registers; the loop is versioned", async () => {
    const lines = await linesOf("sum_checked");
    const code = lines.map((l) => l.text);
    const ret = code.indexOf("ret");
    const body = code.slice(0, ret); // the abort arms and the trap landing pads follow the ret
    expect(body.filter((l) => l.startsWith("call "))).toEqual([]); // $get is inlined, its abort arm moved out of line
    const abort = code.findIndex((l, k) => k > ret && l.startsWith("call "));
    expect(code[abort - 1]).toMatch(/^push 1$/); // the arm: $abort(1), then the unreachable trap
    // two copies of the loop (tools/translate/hoist.ts): the first reads the length loaded before
    // it, from a register; the second, run when that test fails, loads it each time
    const checks = body.flatMap((l, k) => (/^jae 0x/.test(l) ? [k] : []));
    expect(checks).toHaveLength(2);
    expect(body[checks[0] - 1]).toMatch(/^cmp r\w+d, r\w+d$/);
    expect(body[checks[1] - 2]).toMatch(/^mov e\w+, dword ptr \[r\w+\+0x1000000\]$/);
    // the check: cmp; jae to an arm after the ret (the hot path falls through)
    for (const check of checks) {
      expect(body[check - 1]).toMatch(/^cmp /);
      expect(parseInt(body[check].slice(4), 16)).toBeGreaterThan(lines[ret].address);
    }
    expect(parseInt(body[checks[0]].slice(4), 16)).toBe(lines[ret + 1].address);
    // $s and $i * ... are pending when the inlined body starts: the block and the cold `if` leave them
    // in registers (no spill to the frame in either loop)
    const loops = body.slice(checks[0] - 1).join("\n");
    expect(loops).not.toMatch(/mov qword ptr \[rbp-0x[0-9a-f]+\], r/);
    // the element address $a + ($i << 2): in the versioned copy, where the test before it proved
    // that it cannot wrap, part of the load's operand; in the other, one lea (i32, wraps like the
    // two operators)
    const first = body.slice(checks[0] - 1, checks[1]);
    expect(first).toContainEqual(expect.stringMatching(/^mov e\w+, dword ptr \[r\w+\+r\w+\*4\+0x1000004\]$/));
    expect(first.some((l) => l.startsWith("lea "))).toBe(false);
    expect(code.filter((l) => /^lea e\w+, \[r\w+\+r\w+\*4\]$/.test(l))).toHaveLength(1);
    expect(code.some((l) => /^shl e/.test(l))).toBe(false);
  });

  it("an innermost loop starts at a 32-byte boundary (NOP padding before it)", async () => {
    for (const name of ["sum_words", "for_loop", "poly"]) {
      const code = await listingOf(name);
      const back = code.filter((l) => /^jl 0x/.test(l));
      expect(back).toHaveLength(1);
      expect(parseInt(back[0].slice(3), 16) % 32).toBe(0);
    }
  });

  it("a for-shaped loop (test at the top) is rotated: the back edge re-tests and branches to the body", async () => {
    const code = await listingOf("for_loop");
    const tests = code.filter((l) => /^cmp r\w+, r\w+$/.test(l));
    expect(tests.length).toBe(2); // the test on entry, and again at the back edge
    expect(code.filter((l) => /^jl /.test(l)).length).toBe(1); // the back edge: branch while true
    expect(code.some((l) => /^jmp /.test(l))).toBe(false); // no jump back to the test
  });

  it("a loop whose test loads (while (a[p] < v) p++) is rotated too: the load and test repeated at the back edge", async () => {
    const code = await listingOf("scan_lt");
    expect(code.filter((l) => /^mov e\w+, dword ptr \[r\w+\+0x1000000\]$/.test(l))).toHaveLength(2);
    expect(code.filter((l) => /^jl /.test(l))).toHaveLength(1); // the back edge
    expect(code.some((l) => /^jmp /.test(l))).toBe(false);
  });

  it("a local read right after it is set comes from the register it was set from", async () => {
    const code = await listingOf("reuse");
    // $t's slot is neither read nor written: its only read follows its set in the same stretch of
    // straight-line code (function.ts stretchLocal), so the register is all it needs.
    expect(code.some((l) => l.includes("[rbp-8]"))).toBe(false);
    expect(code.some((l) => /^imul /.test(l))).toBe(true);
  });

  it("memory.copy and memory.fill are their range checks and a call of the module's memmove/memset (bulk.ts)", async () => {
    const code = await listingOf("bulk");
    const img = await buildHostedImage(await watToWasm(WAT));
    const routine = (name: string) => `call 0x${img.symbols.find((s) => s.name === `guest.${name}`)!.addr.toString(16)}`;
    const calls = code.filter((l) => l.startsWith("call ")); // also the trap pads' calls
    expect(calls).toContain(routine("memory_copy"));
    expect(calls).toContain(routine("memory_fill"));
    expect(code.join("\n")).not.toMatch(/\b(rep|movs|stos)/); // no string instruction inline
    // Operands straight into the routine's registers, not through frame slots; a constant byte as an immediate.
    expect(code.filter((l) => /^mov \w*word ptr \[rbp-/.test(l))).toEqual([]);
    expect(code).toContain("mov eax, 0x80");
  });

  it("a local teed from a register and read right after is read from a register copy, not its slot", async () => {
    const code = await listingOf("tee_reads");
    expect(code.filter((l) => /^mov qword ptr \[rbp-8\], r\w+$/.test(l))).toHaveLength(1); // local.tee $s: its slot is written ...
    expect(code.some((l) => /^mov r\w+, qword ptr \[rbp-8\]$/.test(l))).toBe(false); // ... and not read back
  });

  it("a loop-free function's locals used four times get pin registers (parameters: one read of the argument)", async () => {
    const code = await listingOf("warm");
    expect(code.filter((l) => l.includes("[rbp+0x10]"))).toEqual([expect.stringMatching(/^mov r(8|11|12|13), qword ptr \[rbp\+0x10\]$/)]); // $p
    expect(code.some((l) => l.includes("[rbp-8]"))).toBe(false); // $t: no slot access
  });

  it("a leaf function pins r8 and r11 first (caller-saved: not saved, not restored); one that calls does not", async () => {
    const leaf = await listingOf("leaf");
    const pinRegs = (code: string[]) => new Set(code.flatMap((l) => l.match(/\br(8|9|1[0-5])d?\b/g) ?? []).map((r) => r.replace(/d$/, "")));
    expect(pinRegs(leaf)).toEqual(new Set(["r8", "r11", "r12", "r13"]));
    expect(leaf.filter((l) => /^mov qword ptr \[rbp-0x[0-9a-f]+\], r\d+$/.test(l)).map((l) => l.split(", ")[1])).toEqual(["r12", "r13"]); // saved: r12, r13 only
    const notLeaf = await listingOf("not_leaf");
    expect([...pinRegs(notLeaf)].some((r) => r === "r8" || r === "r11")).toBe(false);
  });

  it("a local in its frame slot read twice within a few operators is loaded once (xorshift's s ^= s << 13)", async () => {
    const code = await listingOf("slot_twice");
    expect(code.filter((l) => /ptr \[rbp-8\]/.test(l) && !/^mov qword ptr \[rbp-8\], /.test(l))).toHaveLength(1);
  });

  it("ten locals are zeroed at entry by five 16-byte stores of a zeroed xmm0, not rep stos", async () => {
    const code = await listingOf("ten_zeros");
    expect(code.some((l) => l.startsWith("rep stos"))).toBe(false);
    expect(code).toContain("xorps xmm0, xmm0");
    expect(code.filter((l) => /^movups xmmword ptr \[rbp-0x[0-9a-f]+\], xmm0$/.test(l)).map((l) => l.slice(l.indexOf("[")))).toEqual(
      ["[rbp-0x50], xmm0", "[rbp-0x40], xmm0", "[rbp-0x30], xmm0", "[rbp-0x20], xmm0", "[rbp-0x10], xmm0"],
    );
  });

  it("a local set before anything reads it is not zeroed first; one set on one path only is", async () => {
    const code = await listingOf("set_first");
    expect(code).not.toContain("mov qword ptr [rbp-8], 0"); // $t: set in the first straight-line stretch
    expect(code).toContain("mov qword ptr [rbp-0x10], 0"); // $u: set only when $a is not 0
  });

  it("a float load that is the right operand of arithmetic is its memory operand, also through an inlined accessor's end (mulsd xmm, [m])", async () => {
    const code = await listingOf("fused_loads");
    expect(code.filter((l) => /^mulsd xmm\d+, qword ptr \[r\w+\+0x1000000\]$/.test(l))).toHaveLength(1);
    expect(code.filter((l) => /^movsd xmm\d+, qword ptr \[r\w+\+0x1/.test(l))).toEqual([expect.stringMatching(/0x1000008\]$/)]); // the left operand's load only
  });

  it("a local read again nine operators after its first read (SHA-256's t1) is read from a register copy, not its slot", async () => {
    const code = await listingOf("late_read");
    expect(code.some((l) => l.includes("[rbp-8]"))).toBe(false); // $t: neither written nor read back (a stretch local)
  });

  it("a local whose every read follows its set in the same stretch of straight-line code is not stored; one read after a label is", async () => {
    const code = await listingOf("stretch");
    expect(code.some((l) => l.includes("[rbp-8]"))).toBe(false); // $t
    expect(code.filter((l) => /^mov qword ptr \[rbp-0x10\], r\w+$/.test(l))).toHaveLength(1); // $u: stored once ...
    expect(code.some((l) => /^mov r\w+, qword ptr \[rbp-0x10\]$/.test(l) || /, dword ptr \[rbp-0x10\]$/.test(l))).toBe(true); // ... read after the block
  });

  it("an if/else with an integer result passes it in a register, not through a frame slot", async () => {
    const code = await listingOf("if_value");
    // The constant 1 below the `if` goes to its slot ([rbp-8]); the if's value would have the next
    // one ([rbp-0x10]): no arm writes it and the add does not read it.
    expect(code.some((l) => l.includes("[rbp-0x10]"))).toBe(false);
    expect(code.some((l) => /^add e\w+, dword ptr \[rbp-8\]$/.test(l))).toBe(true);
    expect(code.filter((l) => /^jmp /.test(l))).toHaveLength(1); // the then arm jumps over the else arm
  });

  it("a global read in a loop and set nowhere in the function lives in a register: loaded at entry and after the call only (promote.ts)", async () => {
    const code = await listingOf("promoted");
    const loads = code.filter((l) => /^mov r\w+, qword ptr \[0x[0-9a-f]+\]$/.test(l)); // the global's cell
    expect(loads).toHaveLength(2);
    expect(new Set(loads.map((l) => l.slice(l.indexOf("[")))).size).toBe(1);
  });

  it("a global read again soon, first minus a constant: one lea into a copy, the loaded register kept for the second read", async () => {
    const code = await listingOf("length_of");
    const load = code.findIndex((l) => /^mov r\w+, qword ptr \[0x[0-9a-f]+\]$/.test(l));
    expect(code.filter((l) => /^mov r\w+, qword ptr \[0x[0-9a-f]+\]$/.test(l))).toHaveLength(1);
    expect(code[load + 1]).toMatch(/^lea e\w+, \[r\w+-0x14\]$/); // no mov to a copy, no sub
    expect(code.some((l) => /^sub e/.test(l))).toBe(false);
  });

  it("a pinned float local as the right operand of an arithmetic operator is read from its register, not copied first", async () => {
    const code = (await listingOf("float_rhs")).join("\n");
    expect(code).toMatch(/subsd xmm\d, xmm1[0-5]\n/);
    expect(code).not.toMatch(/movaps xmm\d, xmm1[0-5]\n\s*subsd/);
  });

  it("a loop's end is no label: its result goes on in a register (no store to a frame slot after the back edge)", async () => {
    const code = await listingOf("loop_result");
    const ret = code.indexOf("ret");
    const backEdge = code.slice(0, ret).findLastIndex((l) => /^jb /.test(l)); // not the prologue's stack check
    expect(backEdge).toBeGreaterThan(5);
    const after = code.slice(backEdge + 1, ret);
    expect(after.some((l) => /^mov qword ptr \[rbp/.test(l))).toBe(false);
    expect(after.some((l) => /^imul e\w+, 3$/.test(l))).toBe(true);
  });

  it("if (a && b) and if (a || b) of comparisons, b computed by pure operators: each comparison branches, no 0/1 made, no and/or", async () => {
    const code = await listingOf("both");
    expect(code.filter((l) => /^set/.test(l))).toEqual([]);
    expect(code.some((l) => /^(and|or) e/.test(l))).toBe(false);
    // a && b: a false -> else (jge), b false -> else (jbe); a || b: a (a == 0) true -> then (je), b false -> else (jne)
    expect(code.filter((l) => /^j(ge|be|e|ne) /.test(l)).map((l) => l.split(" ")[0])).toEqual(["jge", "jbe", "je", "jne"]);
  });

  it("br_table takes its index from the register it was computed in, not through a frame slot", async () => {
    const code = await listingOf("switch");
    const jump = code.findIndex((l) => /^jmp qword ptr \[rcx\+rax\*8\]$/.test(l));
    expect(jump).toBeGreaterThan(0);
    expect(code.slice(0, jump).some((l) => /\[rbp-/.test(l))).toBe(false); // no slot written or read before the jump
  });

  it("two loops with more hot locals than pin registers (the second in an if of a comparison): each loop's locals are pinned for it (a pin region), none read from a frame slot in the second", async () => {
    const code = await linesOf("two_loops");
    const ret = code.findIndex((l) => l.text === "ret");
    const backEdges = code.slice(0, ret).filter((l) => /^jb 0x/.test(l.text) && parseInt(l.text.slice(3), 16) < l.address);
    expect(backEdges).toHaveLength(2);
    const second = backEdges[1], top = parseInt(second.text.slice(3), 16);
    const body = code.filter((l) => l.address >= top && l.address <= second.address).map((l) => l.text);
    expect(body.length).toBeGreaterThan(5);
    expect(body.filter((l) => l.includes("[rbp"))).toEqual([]);
  });

  it("a pinned float local is stored from its register and updated in place (x += c: one addsd, no copies)", async () => {
    const code = (await listingOf("float_store")).join("\n");
    expect(code).toMatch(/movsd qword ptr \[r\w+\+0x1000040\], xmm1[0-5]\n/);
    expect(code).toMatch(/addsd xmm1[0-5], qword ptr \[0x[0-9a-f]+\]\n/);
    expect(code).not.toMatch(/movaps/);
  });

  it("select of a comparison is cmp + cmov", async () => {
    const code = (await listingOf("pick")).join("\n");
    expect(code).toMatch(/cmp [^\n]+\n(?:[^\n]*\n)?\s*cmov/);
    expect(code).not.toMatch(/set[a-z]+ /);
  });
});
