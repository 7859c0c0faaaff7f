/**
 * Differential test programs in the text format: one module per operator family / control
 * construct, each printing its results through env.trace so V8 and bare metal can be compared.
 */

/** Module prelude: trace import, a memory with the message "r" (an AssemblyScript string at 16),
 *  and printers for i32 (signed) and i64 (as signed high and unsigned low halves: exact in f64). */
export function prelude(extra = ""): string {
  return `
  (import "env" "trace" (func $trace (param i32 i32 f64 f64 f64 f64 f64)))
  (memory (export "memory") 1)
  (data (i32.const 12) "\\02\\00\\00\\00r\\00")
  (func $p32 (param $v i32)
    (call $trace (i32.const 16) (i32.const 1) (f64.convert_i32_s (local.get $v))
      (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
  (func $p64 (param $v i64)
    (call $trace (i32.const 16) (i32.const 2)
      (f64.convert_i32_s (i32.wrap_i64 (i64.shr_s (local.get $v) (i64.const 32))))
      (f64.convert_i32_u (i32.wrap_i64 (local.get $v)))
      (f64.const 0) (f64.const 0) (f64.const 0)))
  ${extra}`;
}

const I32_VALUES = [0, 1, -1, 2, 7, -7, 31, 32, 33, 0x7fffffff, -0x80000000, 0x12345678, -0x543210fe, 0xff, 0x8000];
const I64_VALUES = [0n, 1n, -1n, 5n, -5n, 63n, 64n, 65n, 0x7fffffffffffffffn, -0x8000000000000000n,
  0x123456789abcdef0n, -0x0fedcba987654321n, 0xffffffffn, 0x100000000n, 0x80000000n];

const I32_BINARY = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr",
  "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
const I32_UNARY = ["clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s"];
const I64_UNARY = ["clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s", "extend32_s"];

function safe(op: string, a: bigint, b: bigint, min: bigint): boolean {
  if (/div|rem/.test(op) && b === 0n) return false;
  if (op === "div_s" && a === min && b === -1n) return false;
  return true;
}

/** Every integer binary/unary operator over interesting operands (no trapping pairs). */
export function integerModule(): string {
  const lines: string[] = [];
  for (const op of I32_BINARY) {
    for (const a of I32_VALUES) for (const b of I32_VALUES) {
      if (!safe(op, BigInt(a), BigInt(b), -0x80000000n)) continue;
      lines.push(`(call $p32 (i32.${op} (i32.const ${a}) (i32.const ${b})))`);
    }
  }
  for (const op of I32_BINARY) {
    const o = op.startsWith("i") ? op : op;
    for (const a of I64_VALUES) for (const b of I64_VALUES) {
      if (!safe(o, a, b, -0x8000000000000000n)) continue;
      const isCmp = /^(eq|ne|lt|gt|le|ge)/.test(op);
      lines.push(isCmp
        ? `(call $p32 (i64.${op} (i64.const ${a}) (i64.const ${b})))`
        : `(call $p64 (i64.${op} (i64.const ${a}) (i64.const ${b})))`);
    }
  }
  // The same operators on values the translator cannot know (read from globals): constant operands
  // are folded at translation time, so the lines above test the folding, these the machine code.
  for (const op of ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"]) {
    for (const a of I32_VALUES) for (const b of I32_VALUES) {
      lines.push(`(global.set $ga (i32.const ${a})) (global.set $gb (i32.const ${b})) (call $p32 (i32.${op} (global.get $ga) (global.get $gb)))`);
    }
    for (const a of I64_VALUES) for (const b of I64_VALUES) {
      lines.push(`(global.set $gA (i64.const ${a})) (global.set $gB (i64.const ${b})) (call $p64 (i64.${op} (global.get $gA) (global.get $gB)))`);
    }
  }
  for (const op of I32_UNARY) for (const a of I32_VALUES) {
    lines.push(`(call $p32 (i32.${op} (i32.const ${a})))`);
    lines.push(`(global.set $ga (i32.const ${a})) (call $p32 (i32.${op} (global.get $ga)))`);
  }
  for (const op of I64_UNARY) for (const a of I64_VALUES) {
    lines.push(`(global.set $gA (i64.const ${a})) ` + (op === "eqz" ? `(call $p32 (i64.eqz (global.get $gA)))` : `(call $p64 (i64.${op} (global.get $gA)))`));
  }
  for (const op of I64_UNARY) for (const a of I64_VALUES) {
    lines.push(op === "eqz" ? `(call $p32 (i64.eqz (i64.const ${a})))` : `(call $p64 (i64.${op} (i64.const ${a})))`);
  }
  for (const a of I64_VALUES) lines.push(`(call $p32 (i32.wrap_i64 (i64.const ${a})))`);
  for (const a of I32_VALUES) {
    lines.push(`(call $p64 (i64.extend_i32_s (i32.const ${a})))`);
    lines.push(`(call $p64 (i64.extend_i32_u (i32.const ${a})))`);
  }
  // Split into functions of bounded size.
  const funcs: string[] = [];
  const calls: string[] = [];
  for (let i = 0; i < lines.length; i += 200) {
    funcs.push(`(func $f${i} ${lines.slice(i, i + 200).join("\n")})`);
    calls.push(`(call $f${i})`);
  }
  const globals = `(global $ga (mut i32) (i32.const 0)) (global $gb (mut i32) (i32.const 0)) (global $gA (mut i64) (i64.const 0)) (global $gB (mut i64) (i64.const 0))`;
  return `(module ${prelude(globals)} ${funcs.join("\n")} (func (export "main") ${calls.join(" ")}))`;
}

/** Loads and stores of every width, sign extension, offsets, memory.size/grow/fill/copy/init. */
export function memoryModule(): string {
  return `(module ${prelude(`
  (data $passive "passive-bytes!")
  (func (export "main") (local $i i32)
    (i64.store (i32.const 100) (i64.const 0x8899aabbccddeeff))
    (call $p32 (i32.load8_s (i32.const 100)))
    (call $p32 (i32.load8_u (i32.const 100)))
    (call $p32 (i32.load16_s (i32.const 100)))
    (call $p32 (i32.load16_u (i32.const 101)))
    (call $p32 (i32.load (i32.const 102)))
    (call $p64 (i64.load8_s (i32.const 107)))
    (call $p64 (i64.load8_u (i32.const 107)))
    (call $p64 (i64.load16_s (i32.const 106)))
    (call $p64 (i64.load16_u (i32.const 106)))
    (call $p64 (i64.load32_s (i32.const 104)))
    (call $p64 (i64.load32_u (i32.const 104)))
    (call $p64 (i64.load offset=3 (i32.const 97)))
    (i32.store8 (i32.const 200) (i32.const 0x1ff))
    (i32.store16 offset=2 (i32.const 200) (i32.const 0x12345))
    (i64.store8 (i32.const 204) (i64.const -1))
    (i64.store16 (i32.const 205) (i64.const 0x7777))
    (i64.store32 (i32.const 208) (i64.const 0x1122334455667788))
    (call $p64 (i64.load (i32.const 200)))
    (call $p64 (i64.load (i32.const 208)))
    (call $p32 (memory.size))
    (call $p32 (memory.grow (i32.const 2)))
    (call $p32 (memory.size))
    (call $p32 (memory.grow (i32.const 100000)))
    (i32.store (i32.const 0x2fffc) (i32.const 42))
    (call $p32 (i32.load (i32.const 0x2fffc)))
    (memory.fill (i32.const 300) (i32.const 0xab) (i32.const 10))
    (call $p64 (i64.load (i32.const 300)))
    (call $p64 (i64.load (i32.const 303)))
    (memory.copy (i32.const 302) (i32.const 100) (i32.const 8))
    (call $p64 (i64.load (i32.const 302)))
    (memory.copy (i32.const 101) (i32.const 100) (i32.const 8))
    (call $p64 (i64.load (i32.const 100)))
    (memory.copy (i32.const 100) (i32.const 101) (i32.const 8))
    (call $p64 (i64.load (i32.const 100)))
    (memory.init $passive (i32.const 400) (i32.const 2) (i32.const 8))
    (call $p64 (i64.load (i32.const 400)))
    (data.drop $passive)
    (local.set $i (i32.const 0))
    (loop $l
      (i32.store (i32.add (i32.const 1000) (i32.shl (local.get $i) (i32.const 2))) (i32.mul (local.get $i) (local.get $i)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100))))
    (call $p32 (i32.load (i32.const 1396))))
  `)})`;
}

/** Blocks, loops, if/else, br/br_if/br_table, return, select, calls, recursion, multi-value, globals. */
export function controlModule(): string {
  return `(module ${prelude(`
  (global $g (mut i32) (i32.const 5))
  (global $h (mut i64) (i64.const -9))
  (type $bin (func (param i32 i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $add $sub $fact)
  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
  (func $fact (param $n i32) (result i32)
    (if (result i32) (i32.le_s (local.get $n) (i32.const 1))
      (then (i32.const 1))
      (else (i32.mul (local.get $n) (call $fact (i32.sub (local.get $n) (i32.const 1)))))))
  (func $fib (param $n i64) (result i64)
    (if (i64.lt_u (local.get $n) (i64.const 2)) (then (return (local.get $n))))
    (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1))) (call $fib (i64.sub (local.get $n) (i64.const 2)))))
  (func $switch (param $x i32) (result i32)
    (block $d (block $c (block $b (block $a
      (br_table $a $b $c $d (local.get $x)))
      (return (i32.const 100)))
      (return (i32.const 200)))
      (return (i32.const 300)))
    (i32.const 400))
  (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func $divmod (param $a i32) (param $b i32) (result i32 i32)
    (i32.div_u (local.get $a) (local.get $b)) (i32.rem_u (local.get $a) (local.get $b)))
  (func $firstnonzero (param $a i32) (param $b i32) (param $c i32) (result i32)
    (block $out (result i32)
      (br_if $out (local.get $a) (local.get $a))
      (drop)
      (br_if $out (local.get $b) (local.get $b))
      (drop)
      (local.get $c)))
  (func $sum (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    (local.get $acc))
  (func $nested (param $x i32) (result i32)
    (block $a (result i32)
      (block $b (result i32)
        (i32.const 7)
        (br_if $b (i32.eq (local.get $x) (i32.const 1)))
        (drop)
        (block $c (result i32)
          (i32.const 8)
          (br_if $a (i32.eq (local.get $x) (i32.const 2)))
          (drop)
          (i32.const 9)))
      (i32.const 1000)
      (i32.add)))
  (func $blockparams (param $x i32) (result i32)
    (local.get $x)
    (block (param i32) (result i32) (i32.const 3) (i32.mul))
    (loop (param i32) (result i32) (i32.const 1) (i32.add))
    (if (param i32) (result i32) (i32.gt_s (local.get $x) (i32.const 0))
      (then (i32.const 10) (i32.add))
      (else (i32.const 20) (i32.sub))))
  (func (export "main") (local $i i32)
    (call $p32 (call $fact (i32.const 10)))
    (call $p64 (call $fib (i64.const 20)))
    (local.set $i (i32.const -1))
    (loop $l
      (call $p32 (call $switch (local.get $i)))
      (br_if $l (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 6))))
    (call $swap (i32.const 11) (i64.const 22))
    (call $p32)
    (call $p64)
    (call $divmod (i32.const 47) (i32.const 5))
    (call $p32)
    (call $p32)
    (call $p32 (call $firstnonzero (i32.const 0) (i32.const 0) (i32.const 3)))
    (call $p32 (call $firstnonzero (i32.const 0) (i32.const 4) (i32.const 3)))
    (call $p32 (call $firstnonzero (i32.const 5) (i32.const 4) (i32.const 3)))
    (call $p32 (call $sum (i32.const 1000)))
    (call $p32 (call $nested (i32.const 1)))
    (call $p32 (call $nested (i32.const 2)))
    (call $p32 (call $nested (i32.const 3)))
    (call $p32 (call $blockparams (i32.const 5)))
    (call $p32 (call $blockparams (i32.const -5)))
    (call $p32 (select (i32.const 1) (i32.const 2) (i32.const 0)))
    (call $p64 (select (i64.const 1) (i64.const 2) (i32.const 7)))
    (call $p32 (call_indirect (type $bin) (i32.const 9) (i32.const 4) (i32.const 0)))
    (call $p32 (call_indirect (type $bin) (i32.const 9) (i32.const 4) (i32.const 1)))
    (global.set $g (i32.add (global.get $g) (i32.const 10)))
    (call $p32 (global.get $g))
    (global.set $h (i64.mul (global.get $h) (i64.const 3)))
    (call $p64 (global.get $h))
    (if (i32.const 0) (then (unreachable)))
    (call $p32 (i32.const 12345)))
  `)})`;
}

/** One module per trap kind: `main` traps inside a function whose name the backtrace must show. */
export const TRAP_CASES: { kind: string; body: string; extra?: string }[] = [
  { kind: "unreachable", body: "(unreachable)" },
  { kind: "integer divide by zero", body: "(drop (i32.div_s (i32.const 1) (i32.const 0)))" },
  { kind: "integer divide by zero", body: "(drop (i64.rem_u (i64.const 1) (i64.const 0)))" },
  { kind: "integer overflow", body: "(drop (i32.div_s (i32.const -2147483648) (i32.const -1)))" },
  { kind: "integer overflow", body: "(drop (i64.div_s (i64.const -9223372036854775808) (i64.const -1)))" },
  { kind: "out of bounds memory access", body: "(drop (i32.load (i32.const 65534)))" },
  { kind: "out of bounds memory access", body: "(i64.store offset=4294967295 (i32.const 1) (i64.const 0))" },
  { kind: "out of bounds memory access", body: "(memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000))" },
  // A rotated loop whose test loads: the copy of the test at the back edge is the one that traps.
  { kind: "out of bounds memory access", body: "(local $p i32) (local.set $p (i32.const 65500)) (loop (if (i32.lt_s (i32.load (local.get $p)) (i32.const 1)) (then (local.set $p (i32.add (local.get $p) (i32.const 4))) (br 1))))" },
  // A check repeated after a store that shrinks the length it reads (tools/translate/checks.ts
  // keeps it): the second one traps.
  { kind: "unreachable", body: "(local $i i32) (local.set $i (i32.const 5)) (i32.store (i32.const 64) (i32.const 10)) (if (i32.ge_u (local.get $i) (i32.load (i32.const 64))) (then (unreachable))) (i32.store (i32.const 64) (i32.const 3)) (if (i32.ge_u (local.get $i) (i32.load (i32.const 64))) (then (unreachable)))" },
  // A trap arm (translated after the body) inside a pin region (function.ts PinRegion) prints
  // locals the region keeps in registers before it traps ($show is not inlined: a call of this
  // module's, which keeps pin registers, unlike an import, whose weight would leave the loops unpinned).
  { kind: "unreachable", body: "(local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $h i32) (local $i i32) (loop $l (local.set $a (i32.add (local.get $a) (i32.mul (local.get $i) (i32.const 3)))) (local.set $b (i32.add (local.get $b) (i32.mul (local.get $i) (i32.const 4)))) (local.set $c (i32.add (local.get $c) (i32.mul (local.get $i) (i32.const 5)))) (local.set $d (i32.add (local.get $d) (i32.mul (local.get $i) (i32.const 6)))) (local.set $e (i32.add (local.get $e) (i32.mul (local.get $i) (i32.const 7)))) (local.set $f (i32.add (local.get $f) (i32.mul (local.get $i) (i32.const 8)))) (local.set $g (i32.add (local.get $g) (i32.mul (local.get $i) (i32.const 9)))) (local.set $h (i32.add (local.get $h) (i32.mul (local.get $i) (i32.const 10)))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 10)))) (loop $m (local.set $a (i32.xor (local.get $a) (i32.rotl (local.get $b) (local.get $i)))) (local.set $b (i32.add (local.get $b) (local.get $c))) (local.set $c (i32.sub (local.get $c) (local.get $d))) (if (i32.eq (local.get $i) (i32.const 5)) (then (call $show (local.get $a)) (call $show (local.get $c)) (unreachable))) (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $m (local.get $i)))", extra: `(func $show (param i32) ${Array.from({ length: 40 }, () => "(drop (i32.const 0))").join(" ")} (call $p32 (local.get 0)))` },
  // asc's assert(a && b) and kin (function.ts trapArmAfterAndOr), x = 7: each form once through
  // the first jump to the arm, once through the second.
  ...([
    ["i32.eqz (i32.and", "i32.gt_u", "i32.lt_s", ")"], ["i32.eqz (i32.and", "i32.lt_u", "i32.gt_s", ")"],
    ["i32.or", "i32.lt_u", "i32.gt_s", ""], ["i32.or", "i32.gt_u", "i32.lt_s", ""],
    ["i32.eqz (i32.or", "i32.gt_u", "i32.gt_s", ")"], ["i32.and", "i32.lt_u", "i32.lt_s", ""],
  ] as const).map(([join, c1, c2, close]) => ({
    kind: "unreachable",
    body: `(local $x i32) (local.set $x (i32.const 7)) (if (${join} (${c1} (local.get $x) (i32.const 8)) (${c2} (local.get $x) (i32.const 10)))${close} (then (unreachable)))`,
  })),
  { kind: "undefined element", body: "(drop (call_indirect (type $t) (i32.const 7)))", extra: "(type $t (func (result i32))) (table 2 funcref) (elem (i32.const 0) $k) (func $k (result i32) (i32.const 1))" },
  { kind: "uninitialized element", body: "(drop (call_indirect (type $t) (i32.const 1)))", extra: "(type $t (func (result i32))) (table 2 funcref) (elem (i32.const 0) $k) (func $k (result i32) (i32.const 1))" },
  { kind: "indirect call type mismatch", body: "(drop (call_indirect (type $t) (i32.const 0)))", extra: "(type $t (func (result i32))) (table 2 funcref) (elem (i32.const 0) $k) (func $k (result i64) (i64.const 1))" },
  { kind: "call stack exhausted", body: "(drop (call $deep (i32.const 0)))", extra: "(func $deep (param i32) (result i32) (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))" },
];

export function trapModule(c: { body: string; extra?: string }): string {
  return `(module ${prelude(c.extra ?? "")}
    (func $trapping_function ${c.body})
    (func (export "main") (call $p32 (i32.const 1)) (call $trapping_function) (call $p32 (i32.const 2))))`;
}

const F_VALUES = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 1e300, -1e-300, 1e-45, Infinity, -Infinity, NaN,
  2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 2 ** 64, 4294967296, 4294967295.5, 2147483648, 2147483647.5, -2147483648.5,
  -2147483649, 123456.789, -0.1, 16777217];

function fconst(t: "f32" | "f64", v: number): string {
  if (t === "f32") v = Math.fround(v); // wabt rejects f32 literals out of range
  if (Number.isNaN(v)) return `(${t}.const nan)`;
  if (v === Infinity) return `(${t}.const inf)`;
  if (v === -Infinity) return `(${t}.const -inf)`;
  if (Object.is(v, -0)) return `(${t}.const -0)`;
  return `(${t}.const ${v.toExponential()})`;
}

/** Float arithmetic, comparisons, rounding and every conversion; results printed as bits (NaN as a marker). */
export function floatModule(): string {
  const lines: string[] = [];
  for (const t of ["f32", "f64"] as const) {
    const pr = t === "f32" ? "$pf32" : "$pf64";
    for (const op of ["add", "sub", "mul", "div", "min", "max", "copysign"]) {
      for (const a of F_VALUES) for (const b of [0, -0, 1, -2.5, 0.5, Infinity, -Infinity, NaN, 1e300, 3]) {
        lines.push(`(call ${pr} (${t}.${op} ${fconst(t, a)} ${fconst(t, b)}))`);
      }
    }
    for (const op of ["eq", "ne", "lt", "gt", "le", "ge"]) {
      for (const a of [0, -0, 1, -1, NaN, Infinity]) for (const b of [0, -0, 1, NaN, -Infinity]) {
        lines.push(`(call $p32 (${t}.${op} ${fconst(t, a)} ${fconst(t, b)}))`);
      }
    }
    for (const op of ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"]) {
      for (const a of F_VALUES) lines.push(`(call ${pr} (${t}.${op} ${fconst(t, a)}))`);
    }
    for (const a of F_VALUES) {
      for (const to of ["i32", "i64"] as const) for (const s of ["s", "u"]) {
        const p = to === "i32" ? "$p32" : "$p64";
        lines.push(`(call ${p} (${to}.trunc_sat_${t}_${s} ${fconst(t, a)}))`);
        // Trapping truncation only where it is defined (trap cases are separate).
        const v = Math.trunc(t === "f32" ? Math.fround(a) : a);
        const bits = to === "i32" ? 32 : 64;
        const ok = Number.isFinite(v) && (s === "s" ? v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1) : v >= 0 && v < 2 ** bits);
        if (ok) lines.push(`(call ${p} (${to}.trunc_${t}_${s} ${fconst(t, a)}))`);
      }
    }
    for (const v of [0, 1, -1, 7, 0x7fffffff, -0x80000000, 16777217, 0x12345679]) {
      lines.push(`(call ${pr} (${t}.convert_i32_s (i32.const ${v})))`);
      lines.push(`(call ${pr} (${t}.convert_i32_u (i32.const ${v})))`);
    }
    for (const v of [0n, 1n, -1n, 9007199254740993n, -9007199254740993n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x123456789abcdef1n, -0x2000000000000001n]) {
      lines.push(`(call ${pr} (${t}.convert_i64_s (i64.const ${v})))`);
      lines.push(`(call ${pr} (${t}.convert_i64_u (i64.const ${v})))`);
    }
  }
  for (const a of F_VALUES) {
    lines.push(`(call $pf32 (f32.demote_f64 ${fconst("f64", a)}))`);
    lines.push(`(call $pf64 (f64.promote_f32 ${fconst("f32", a)}))`);
  }
  lines.push(`(call $p32 (i32.reinterpret_f32 (f32.const -1.5)))`);
  lines.push(`(call $pf32 (f32.reinterpret_i32 (i32.const 0x3fc00000)))`);
  lines.push(`(call $p64 (i64.reinterpret_f64 (f64.const -1.5)))`);
  lines.push(`(call $pf64 (f64.reinterpret_i64 (i64.const 0x3ff8000000000000)))`);
  lines.push(`(f32.store (i32.const 500) (f32.const 3.25)) (call $pf32 (f32.load (i32.const 500)))`);
  lines.push(`(f64.store (i32.const 504) (f64.const -3.25)) (call $pf64 (f64.load (i32.const 504)))`);
  const funcs: string[] = [];
  const calls: string[] = [];
  for (let i = 0; i < lines.length; i += 200) {
    funcs.push(`(func $f${i} ${lines.slice(i, i + 200).join("\n")})`);
    calls.push(`(call $f${i})`);
  }
  return `(module ${prelude(`
  (func $pf32 (param $v f32)
    (if (f32.ne (local.get $v) (local.get $v))
      (then (call $p32 (i32.const -999999)))
      (else (call $p32 (i32.reinterpret_f32 (local.get $v))))))
  (func $pf64 (param $v f64)
    (if (f64.ne (local.get $v) (local.get $v))
      (then (call $p32 (i32.const -999999)))
      (else (call $p64 (i64.reinterpret_f64 (local.get $v))))))`)}
  ${funcs.join("\n")} (func (export "main") ${calls.join(" ")}))`;
}

TRAP_CASES.push(
  { kind: "invalid conversion to integer", body: "(drop (i32.trunc_f64_s (f64.const nan)))" },
  { kind: "integer overflow", body: "(drop (i32.trunc_f32_u (f32.const -1)))" },
  { kind: "integer overflow", body: "(drop (i64.trunc_f64_s (f64.const 9.3e18)))" },
);

/** Reference types and tables (§4.4.2, §4.4.6): every table instruction, ref.*, typed select,
 *  call_indirect through several tables, passive and declarative element segments, growth. */
export function tableModule(): string {
  return `(module ${prelude(`
  (type $bin (func (param i32 i32) (result i32)))
  (type $un (func (result i32)))
  (table $t0 4 funcref)
  (table $t1 2 8 funcref)
  (table $ext 2 externref)
  (table $big 0 funcref)
  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
  (func $mul (type $bin) (i32.mul (local.get 0) (local.get 1)))
  (func $c7 (type $un) (i32.const 7))
  (func $c9 (type $un) (i32.const 9))
  (elem (table $t0) (i32.const 0) func $add $sub)
  (elem (table $t1) (i32.const 1) func $c7)
  (elem $pass funcref (ref.func $mul) (ref.null func) (ref.func $c9))
  (elem $pass2 func $c7 $c9)
  (elem declare func $sub)
  (global $gf (mut funcref) (ref.func $add))
  (global $ge (mut externref) (ref.null extern))
  (func $id (param funcref) (result funcref) (local.get 0))
  (func $isnull (param externref) (result i32) (ref.is_null (local.get 0)))
  (func $bin0 (param i32 i32 i32) (call $p32 (call_indirect $t0 (type $bin) (local.get 0) (local.get 1) (local.get 2))))
  (func $un1 (param i32) (call $p32 (call_indirect $t1 (type $un) (local.get 0))))
  (func $unbig (param i32) (call $p32 (call_indirect $big (type $un) (local.get 0))))
  (func (export "main") (local $lf funcref) (local $le externref)
    (call $bin0 (i32.const 5) (i32.const 3) (i32.const 0))
    (call $bin0 (i32.const 5) (i32.const 3) (i32.const 1))
    (call $un1 (i32.const 1))
    (call $p32 (table.size $t0))
    (call $p32 (table.size $t1))
    (call $p32 (table.size $ext))
    (call $p32 (table.size $big))
    (call $p32 (ref.is_null (table.get $t0 (i32.const 2))))
    (call $p32 (ref.is_null (table.get $t0 (i32.const 0))))
    (table.set $t0 (i32.const 2) (ref.func $mul))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 2))
    ;; grow within the maximum, beyond it, by zero
    (call $p32 (table.grow $t1 (ref.func $c9) (i32.const 3)))
    (call $p32 (table.size $t1))
    (call $un1 (i32.const 4))
    (call $p32 (ref.is_null (table.get $t1 (i32.const 0))))
    (call $p32 (table.grow $t1 (ref.null func) (i32.const 4)))
    (call $p32 (table.grow $t1 (ref.null func) (i32.const 3)))
    (call $p32 (table.grow $t1 (ref.null func) (i32.const 0)))
    (call $p32 (table.size $t1))
    ;; an unbounded table
    (call $p32 (table.grow $big (ref.func $c7) (i32.const 1000)))
    (call $p32 (table.size $big))
    (call $unbig (i32.const 999))
    (call $p32 (table.grow $big (ref.null func) (i32.const -1)))
    (call $p32 (table.size $big))
    ;; fill, copy (overlapping, both directions, across tables)
    (table.fill $t1 (i32.const 5) (ref.func $c7) (i32.const 3))
    (call $un1 (i32.const 7))
    (call $un1 (i32.const 5))
    (table.fill $t1 (i32.const 8) (ref.null func) (i32.const 0))
    (table.copy $t0 $t0 (i32.const 1) (i32.const 0) (i32.const 3))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 1))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 2))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 3))
    (table.copy $t0 $t0 (i32.const 0) (i32.const 1) (i32.const 3))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 0))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 1))
    (call $bin0 (i32.const 6) (i32.const 7) (i32.const 2))
    (table.copy $big $t1 (i32.const 10) (i32.const 4) (i32.const 3))
    (call $unbig (i32.const 10))
    (call $unbig (i32.const 11))
    (table.copy $t0 $t0 (i32.const 4) (i32.const 0) (i32.const 0))
    ;; passive segments, elem.drop
    (table.init $t0 $pass (i32.const 0) (i32.const 0) (i32.const 3))
    (call $bin0 (i32.const 3) (i32.const 4) (i32.const 0))
    (call $p32 (ref.is_null (table.get $t0 (i32.const 1))))
    (call $p32 (call_indirect $t0 (type $un) (i32.const 2)))
    (table.init $t1 $pass2 (i32.const 6) (i32.const 1) (i32.const 1))
    (call $un1 (i32.const 6))
    (elem.drop $pass)
    (table.init $t0 $pass (i32.const 4) (i32.const 0) (i32.const 0))
    (elem.drop $pass)
    ;; references as values: globals, locals, params, results, typed select
    (call $p32 (ref.is_null (local.get $lf)))
    (call $p32 (ref.is_null (local.get $le)))
    (call $p32 (ref.is_null (global.get $gf)))
    (call $p32 (ref.is_null (global.get $ge)))
    (call $p32 (ref.is_null (ref.func $sub)))
    (table.set $t0 (i32.const 3) (call $id (global.get $gf)))
    (call $bin0 (i32.const 20) (i32.const 22) (i32.const 3))
    (global.set $gf (table.get $t0 (i32.const 0)))
    (table.set $t0 (i32.const 1) (global.get $gf))
    (call $bin0 (i32.const 20) (i32.const 22) (i32.const 1))
    (local.set $lf (select (result funcref) (ref.func $c9) (ref.null func) (i32.const 1)))
    (table.set $t1 (i32.const 0) (local.get $lf))
    (call $un1 (i32.const 0))
    (local.set $lf (select (result funcref) (ref.func $c9) (ref.null func) (i32.const 0)))
    (call $p32 (ref.is_null (local.get $lf)))
    (table.set $ext (i32.const 1) (select (result externref) (global.get $ge) (table.get $ext (i32.const 0)) (i32.const 1)))
    (call $p32 (call $isnull (table.get $ext (i32.const 1))))
    (call $p32 (table.grow $ext (ref.null extern) (i32.const 2)))
    (call $p32 (table.size $ext))
    (call $p32 (i32.const 12345)))
  `)})`;
}

/**
 * Registers and inlining (tools/translate/regalloc.ts, inline.ts): loops whose hot integer and float
 * locals are pinned to registers, around calls that pin the same registers themselves (restored on
 * return), calls that leave the module (env.trace: pins saved and reloaded) and call_indirect; small
 * callees inlined with arguments substituted or copied, parameters written, declared locals that
 * must start at zero on every call, `return` from nested blocks, and a trap-free bounds check.
 */
export function registerModule(): string {
  return `(module ${prelude(`
  (type $ff (func (param f64) (result f64)))
  (table 2 funcref)
  (elem (i32.const 0) $halve $twice)
  (func $pf (param $v f64) (call $trace (i32.const 16) (i32.const 1) (local.get $v) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
  ;; small callees (inlined at their call sites in loops)
  (func $halve (param $x f64) (result f64) (f64.mul (local.get $x) (f64.const 0.5)))
  (func $twice (param $x f64) (result f64) (f64.add (local.get $x) (local.get $x)))
  (func $clamp (param $v i32) (param $hi i32) (result i32)
    (if (i32.gt_s (local.get $v) (local.get $hi)) (then (return (local.get $hi))))
    (block $b (br_if $b (i32.ge_s (local.get $v) (i32.const 0))) (return (i32.const 0)))
    (local.get $v))
  (func $bump (param $p i32) (result i32) (local $acc i32)
    ;; $acc must be 0 on every entry, $p is written
    (local.set $acc (i32.add (local.get $acc) (local.get $p)))
    (local.set $p (i32.mul (local.get $p) (i32.const 3)))
    (i32.add (local.get $acc) (local.get $p)))
  (func $checked (param $i i32) (result i32)
    (if (i32.ge_u (local.get $i) (i32.const 100)) (then (call $p32 (i32.const -1)) (unreachable)))
    (i32.load offset=1024 (i32.shl (local.get $i) (i32.const 2))))
  ;; float loops that pin their own registers (too big to inline): called from inside another float loop
  (func $inner (param $n i32) (param $x f64) (result f64) (local $i i32) (local $s f64) (local $t f64)
    (loop $l
      (local.set $t (f64.add (local.get $x) (f64.convert_i32_s (local.get $i))))
      (local.set $s (f64.add (local.get $s) (f64.mul (local.get $t) (local.get $t))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $m
      (local.set $t (f64.sub (local.get $s) (f64.convert_i32_s (local.get $i))))
      (local.set $s (f64.sub (local.get $s) (f64.div (local.get $t) (f64.const 1024))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $m (i32.lt_s (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "main") (local $i i32) (local $k i32) (local $a f64) (local $b f32) (local $c f64) (local $g i32) (local $r f64)
    (loop $fill
      (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 100))))
    (local.set $i (i32.const 0))
    (local.set $a (f64.const 1.25))
    (local.set $b (f32.const -3.5))
    (loop $l
      (local.set $a (f64.add (call $halve (local.get $a)) (f64.convert_i32_s (local.get $i))))
      (local.set $b (f32.add (local.get $b) (f32.demote_f64 (call $twice (f64.promote_f32 (local.get $b))))))
      ;; $c (pinned) is live across the call and read only after it
      (local.set $r (call $inner (i32.const 5) (local.get $a)))
      (local.set $c (f64.add (local.get $c) (local.get $r)))
      (call $pf (local.get $a))
      (local.set $c (f64.add (local.get $c) (call_indirect (type $ff) (local.get $c) (i32.and (local.get $i) (i32.const 1)))))
      (local.set $g (i32.add (local.get $g) (call $clamp (i32.sub (i32.mul (local.get $i) (i32.const 7)) (i32.const 20)) (i32.const 50))))
      (local.set $g (i32.add (local.get $g) (call $bump (local.tee $k (i32.add (local.get $i) (i32.const 1))))))
      (local.set $g (i32.add (local.get $g) (call $checked (local.get $k))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_s (local.get $i) (i32.const 40))))
    (call $pf (local.get $a))
    (call $pf (f64.promote_f32 (local.get $b)))
    (call $pf (local.get $c))
    (call $p32 (local.get $g))
    (call $p32 (local.get $k)))`)})`;
}

/**
 * Globals promoted to pinned locals (tools/translate/promote.ts): read in loops from a register,
 * reloaded after every call that returns (a callee, call_indirect or an inlined callee's set must
 * show), never promoted when the function itself sets them; i64, f64 and immutable globals. Also
 * the reads fused with a following `i32.const; i32.add|sub` (one lea, wrapping at 32 bits) and
 * pinned float locals read straight from their registers by arithmetic and sqrt.
 */
export function promotionModule(): string {
  const pad = Array.from({ length: 40 }, () => "(drop (i32.const 0))").join(" "); // too big to inline
  return `(module ${prelude(`
  (type $v (func))
  (table 1 funcref)
  (elem (i32.const 0) $bump_indirect)
  (global $g (mut i32) (i32.const 7))
  (global $h (mut i32) (i32.const 100))
  (global $w (mut i64) (i64.const 0x123456789))
  (global $f (mut f64) (f64.const 1.5))
  (global $k i32 (i32.const 12345))
  (global $small (mut i32) (i32.const 3))
  (func $pf (param $v f64) (call $trace (i32.const 16) (i32.const 1) (local.get $v) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
  (func $bump ${pad}
    (global.set $g (i32.add (global.get $g) (i32.const 1000)))
    (global.set $w (i64.mul (global.get $w) (i64.const 3)))
    (global.set $f (f64.mul (global.get $f) (f64.const -0.5))))
  (func $bump_indirect ${pad} (global.set $g (i32.sub (global.get $g) (i32.const 77))))
  ;; small: inlined into the loop below, where its global.set must keep $h from being promoted
  (func $inc_h (global.set $h (i32.add (global.get $h) (i32.const 3))))
  ;; reads $g, $w, $f, $k several times per iteration; a call every iteration changes $g, $w, $f
  (func $reads (param $n i32) (result i64) (local $i i32) (local $t i64) (local $x f64)
    (loop $l
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (global.get $g) (i32.mul (global.get $g) (global.get $g))))))
      (local.set $t (i64.xor (local.get $t) (i64.add (global.get $w) (i64.shl (global.get $w) (i64.const 7)))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.xor (global.get $k) (i32.add (global.get $k) (local.get $i))))))
      (local.set $x (f64.add (local.get $x) (f64.mul (global.get $f) (f64.sub (global.get $f) (global.get $f)))))
      (local.set $x (f64.add (local.get $x) (global.get $f)))
      (if (i32.and (local.get $i) (i32.const 1)) (then (call $bump)))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.sub (global.get $g) (global.get $k)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $pf (local.get $x))
    (local.get $t))
  ;; the same with call_indirect changing $g
  (func $reads_indirect (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.mul (global.get $g) (i32.add (global.get $g) (global.get $g)))))
      (call_indirect (type $v) (i32.const 0))
      (local.set $s (i32.xor (local.get $s) (global.get $g)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; $h is read often but set by an inlined callee and by the function itself
  (func $written (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.mul (global.get $h) (global.get $h))))
      (call $inc_h)
      (local.set $s (i32.add (local.get $s) (global.get $h)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; a global and a local read twice, the first read plus/minus a constant (32-bit wrap-around
  ;; shows through i64.extend_i32_u): lea into the copy
  (func $fused (param $p i32) (result i64) (local $i i32) (local $q i32) (local $t i64)
    (global.set $small (local.get $p))
    (loop $l
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.sub (global.get $small) (i32.const 20)))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (global.get $small))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (global.get $small) (i32.const 0x7ffffff0)))))
      (local.set $t (i64.xor (local.get $t) (i64.extend_i32_u (global.get $small))))
      (local.set $q (i32.mul (local.get $i) (i32.const 0x10001)))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.sub (local.get $q) (i32.const 9)))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (local.get $q))))
      (global.set $small (i32.add (global.get $small) (i32.const 5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 6))))
    (local.get $t))
  ;; the same for a local that is not pinned (no loop) but still in the register it was set from
  (func $fused_held (param $p i32) (result i64) (local $q i32)
    (local.set $q (i32.mul (local.get $p) (i32.const 3)))
    (i64.add (i64.extend_i32_u (i32.sub (local.get $q) (i32.const 9)))
      (i64.mul (i64.extend_i32_u (local.get $q)) (i64.const 0x100000000))))
  ;; pinned float locals as the right operand of every arithmetic operator and of sqrt
  (func $floats (param $a f64) (param $b f32) (result f64) (local $i i32) (local $x f64) (local $y f32) (local $s f64)
    (local.set $x (local.get $a)) (local.set $y (local.get $b))
    (loop $l
      (local.set $s (f64.add (local.get $s) (f64.sub (f64.const 100) (local.get $x))))
      (local.set $s (f64.add (local.get $s) (f64.div (f64.const 7) (local.get $x))))
      (local.set $s (f64.sub (local.get $s) (f64.mul (f64.const 3) (local.get $x))))
      (local.set $s (f64.add (local.get $s) (f64.sqrt (local.get $x))))
      (local.set $y (f32.add (local.get $y) (f32.div (f32.const 1) (local.get $y))))
      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.sub (f32.sqrt (local.get $y)) (local.get $y)))))
      (local.set $x (f64.add (local.get $x) (f64.const 0.75)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 9))))
    (local.get $s))
  ;; pinned float locals stored straight from their registers (f64 and f32, with an offset), read back
  (func $float_stores (param $a f64) (param $n i32) (result f64) (local $i i32) (local $x f64) (local $y f32) (local $s f64)
    (local.set $x (local.get $a)) (local.set $y (f32.demote_f64 (local.get $a)))
    (loop $l
      (f64.store offset=1024 (i32.shl (local.get $i) (i32.const 3)) (local.get $x))
      (f32.store offset=2048 (i32.shl (local.get $i) (i32.const 2)) (local.get $y))
      (local.set $x (f64.mul (local.get $x) (f64.const -1.25)))
      (local.set $y (f32.add (local.get $y) (f32.const 0.5)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (loop $r
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (local.set $s (f64.add (f64.mul (local.get $s) (f64.const 3))
        (f64.add (f64.load offset=1024 (i32.shl (local.get $i) (i32.const 3))) (f64.promote_f32 (f32.load offset=2048 (i32.shl (local.get $i) (i32.const 2)))))))
      (br_if $r (local.get $i)))
    (local.get $s))
  ;; pinned float locals updated in place (local.set $p (op (local.get $p) y)), y a constant, a
  ;; pinned local, $p itself, or a local left in its slot (seven float locals: one is not pinned)
  (func $float_updates (param $a f64) (param $n i32) (result f64)
    (local $i i32) (local $b f64) (local $c f64) (local $d f64) (local $e f64) (local $f f64) (local $g f32) (local $h f32)
    (local.set $b (local.get $a)) (local.set $c (f64.const 3)) (local.set $d (f64.const -2)) (local.set $e (f64.const 0.5))
    (local.set $g (f32.const 1.5)) (local.set $h (f32.demote_f64 (local.get $a)))
    (loop $l
      (local.set $b (f64.add (local.get $b) (f64.const 0.25)))
      (local.set $c (f64.sub (local.get $c) (local.get $b)))
      (local.set $d (f64.mul (local.get $d) (f64.const -1.0625)))
      (local.set $e (f64.div (local.get $e) (local.get $d)))
      (local.set $f (f64.add (local.get $f) (local.get $f)))
      (local.set $f (f64.sub (local.get $f) (local.get $a)))
      (local.set $g (f32.mul (local.get $g) (local.get $h)))
      (local.set $h (f32.sub (local.get $h) (f32.const 0.75)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (f64.add (f64.add (f64.add (local.get $b) (local.get $c)) (f64.add (local.get $d) (local.get $e)))
      (f64.add (local.get $f) (f64.promote_f32 (f32.add (local.get $g) (local.get $h))))))
  (func (export "main") (local $k i32)
    (loop $each
      (call $pf (call $float_updates (f64.convert_i32_s (i32.sub (local.get $k) (i32.const 4))) (i32.add (local.get $k) (i32.const 2))))
      (call $pf (call $float_stores (f64.convert_i32_s (i32.sub (local.get $k) (i32.const 3))) (i32.add (local.get $k) (i32.const 1))))
      (call $p64 (call $reads (local.get $k)))
      (call $p32 (call $reads_indirect (local.get $k)))
      (call $p32 (call $written (local.get $k)))
      (call $p64 (call $fused (i32.mul (local.get $k) (i32.const 3))))
      (call $p64 (call $fused_held (local.get $k)))
      (call $pf (call $floats (f64.convert_i32_s (local.get $k)) (f32.convert_i32_s (i32.sub (local.get $k) (i32.const 4)))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $each (i32.lt_s (local.get $k) (i32.const 10))))
    (call $p32 (global.get $g)) (call $p32 (global.get $h)) (call $p64 (global.get $w)) (call $pf (global.get $f)))`)})`;
}

/**
 * Pin regions (function.ts PinRegion): functions with more hot locals than pin registers and several
 * top-level constructs with loops, each construct pinning its own locals. Left by `br` to a block's
 * end, by falling through a loop and an if/else, with a block result in a register, by `return`
 * from inside; a value pushed before a region (an unread local the region then sets) consumed after
 * it; locals set in one region read between regions and in the next; import calls inside a region
 * (pins saved and reloaded); a region entered with pins of its own already set by parameters.
 */
export function regionsModule(): string {
  const tr = (v: string) => `(call $trace (i32.const 16) (i32.const 1) (f64.convert_i32_u ${v}) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0))`;
  return `(module ${prelude(`
  (func $pf (param $v f64) (call $trace (i32.const 16) (i32.const 1) (local.get $v) (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
  (func $ints (param $n i32) (param $seed i32) (result i64)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $i i32) (local $t i32) (local $s i64)
    (local.set $a (local.get $seed)) (local.set $b (i32.mul (local.get $seed) (i32.const 3)))
    (local.set $c (i32.xor (local.get $seed) (i32.const 0x5bd1e995))) (local.set $d (i32.const 17))
    (local.set $e (i32.rotl (local.get $seed) (i32.const 9))) (local.set $f (i32.const -1))
    (local.set $g (i32.add (local.get $seed) (i32.const 0x1234))) (local.set $h (i32.const 99))
    ;; region 1: a block around a loop, left by br_if to the block's end or by falling through
    (block $out
      (loop $l
        (local.set $t (i32.add (local.get $h) (i32.xor (i32.rotr (local.get $e) (i32.const 6)) (i32.and (local.get $e) (local.get $f)))))
        (local.set $h (local.get $g)) (local.set $g (local.get $f)) (local.set $f (local.get $e))
        (local.set $e (i32.add (local.get $d) (local.get $t)))
        (local.set $d (local.get $c)) (local.set $c (local.get $b)) (local.set $b (local.get $a))
        (local.set $a (i32.add (local.get $t) (i32.rotl (local.get $b) (i32.const 3))))
        (br_if $out (i32.eq (i32.and (local.get $a) (i32.const 0x3f)) (i32.const 0x2a)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
    ;; between regions: what region 1 left, from the slots
    (call $p32 (local.get $i)) (call $p32 (i32.xor (local.get $a) (local.get $h))) (call $p32 (i32.add (local.get $c) (local.get $f)))
    (local.set $s (i64.extend_i32_u (local.get $c)))
    ;; an unread local on the operand stack across region 2, which sets it
    (local.get $s)
    ;; region 2: a top-level if/else of a comparison; import calls inside; a return from inside
    (if (i32.ne (i32.and (local.get $seed) (i32.const 1)) (i32.const 0))
      (then
        (local.set $i (i32.const 0))
        (loop $m
          (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (i32.mul (local.get $a) (local.get $i)))))
          (local.set $a (i32.add (local.get $a) (i32.xor (local.get $b) (local.get $g))))
          (local.set $b (i32.rotl (local.get $b) (local.get $d)))
          (local.set $g (i32.sub (local.get $g) (local.get $h)))
          (if (i32.eqz (i32.and (local.get $i) (i32.const 7))) (then ${tr("(local.get $a)")}))
          (if (i32.eq (local.get $i) (local.get $e)) (then (return (i64.add (local.get $s) (i64.const 1000000)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $m (i32.lt_u (local.get $i) (local.get $n)))))
      (else
        (loop $k
          (local.set $s (i64.sub (local.get $s) (i64.extend_i32_u (i32.and (local.get $d) (local.get $n)))))
          (local.set $d (i32.add (local.get $d) (i32.mul (local.get $c) (local.get $n))))
          (local.set $c (i32.xor (local.get $c) (local.get $h)))
          (if (i32.eqz (i32.and (local.get $n) (i32.const 3))) (then ${tr("(local.get $d)")}))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $k (i32.gt_s (local.get $n) (i32.const 0))))))
    ;; region 3: a block with its result in a register (br_if with a value, or the fall-through value)
    (call $p32 (block $r (result i32)
      (loop $q
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $a)))
        (local.set $a (i32.add (local.get $a) (local.get $c)))
        (drop (br_if $r (i32.xor (local.get $h) (local.get $d)) (i32.eq (i32.and (local.get $h) (i32.const 15)) (i32.const 7))))
        (local.set $e (i32.add (local.get $e) (i32.const 1)))
        (br_if $q (i32.lt_u (i32.and (local.get $e) (i32.const 31)) (i32.const 20))))
      (i32.add (local.get $g) (local.get $b))))
    (i64.xor (i64.add (local.get $s) (i64.extend_i32_u (i32.xor (local.get $e) (local.get $h))))))
  ;; seven hot float locals in two loops (more than XPIN_POOL), and hot parameters
  (func $floats (param $n i32) (param $x f64) (param $y f64) (result f64)
    (local $i i32) (local $a f64) (local $b f64) (local $c f64) (local $d f64) (local $e f64) (local $s f64)
    (local.set $a (f64.const 1)) (local.set $b (f64.const 0.5))
    (loop $l
      (local.set $c (f64.add (local.get $a) (f64.mul (local.get $b) (local.get $x))))
      (local.set $d (f64.sub (local.get $c) (f64.mul (local.get $a) (local.get $y))))
      (local.set $e (f64.div (local.get $d) (f64.add (f64.abs (local.get $c)) (f64.const 1))))
      (local.set $a (local.get $b)) (local.set $b (f64.add (local.get $e) (local.get $x)))
      (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $y))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $pf (local.get $s)) (call $pf (local.get $b))
    (loop $m
      (local.set $x (f64.sub (local.get $x) (f64.mul (local.get $a) (f64.const 0.125))))
      (local.set $y (f64.add (local.get $y) (f64.sqrt (f64.abs (local.get $c)))))
      (local.set $c (f64.mul (local.get $c) (f64.const -0.75)))
      (local.set $s (f64.add (local.get $s) (f64.add (local.get $x) (local.get $y))))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 3))) (then (call $pf (local.get $s))))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $m (i32.gt_s (local.get $i) (i32.const 0))))
    (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $e))))
  (func (export "main") (local $k i32)
    (loop $each
      (call $p64 (call $ints (i32.mul (local.get $k) (i32.const 7)) (i32.add (local.get $k) (i32.const 0x9e3779b9))))
      (call $pf (call $floats (i32.add (local.get $k) (i32.const 3)) (f64.convert_i32_s (local.get $k)) (f64.const 0.375)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $each (i32.lt_s (local.get $k) (i32.const 12)))))`)})`;
}

/**
 * Array lengths loaded once for several checks (tools/translate/loads.ts): an asc-style
 * StaticArray<u32> (length in bytes at p - 4, checked as `i >= load(p - 20, 16) >>> 2`) read four
 * times and written once per step of a SHA-256-like message schedule, the length stored (unchanged)
 * between the second and third check of each step and read again after it; then the same with that
 * store shrinking the length at one step (the next check must see it and trap, printing the step).
 * First, float loads as right operands of arithmetic (`$floats`, 16 lines).
 */
export function loadsModule(): string {
  const len = `(i32.shr_u (i32.load offset=16 (i32.sub (local.get $p) (i32.const 20))) (i32.const 2))`;
  const get = (i: string) => `(if (i32.ge_u ${i} ${len}) (then (call $p32 (i32.sub (i32.const 0) (local.get $i))) (unreachable))) (i32.load (i32.add (local.get $p) (i32.shl ${i} (i32.const 2))))`;
  return `(module ${prelude(`
  (func $schedule (param $p i32) (param $n i32) (param $shrink i32) (result i32) (local $i i32) (local $w i32) (local $s i32)
    (local.set $i (i32.const 16))
    (loop $l
      (local.set $w (i32.add ${get("(i32.sub (local.get $i) (i32.const 16))")} ${get("(i32.sub (local.get $i) (i32.const 7))")}))
      (i32.store (i32.sub (local.get $p) (i32.const 4)) (select (i32.const 40) (i32.const 256) (i32.eq (local.get $i) (local.get $shrink))))
      (local.set $w (i32.add (local.get $w) (i32.xor (i32.rotr ${get("(i32.sub (local.get $i) (i32.const 15))")} (i32.const 7)) ${get("(i32.sub (local.get $i) (i32.const 2))")})))
      (if (i32.ge_u (local.get $i) ${len}) (then (call $p32 (i32.const -2)) (unreachable)))
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (local.get $w))
      (local.set $s (i32.xor (i32.rotl (local.get $s) (i32.const 5)) (local.get $w)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; float loads as the right operand of arithmetic (function.ts fastLoad: one addsd/subsd/mulsd/divsd
  ;; with a memory operand), also through an inlined accessor's end, and with the left operand
  ;; a constant, a parameter's slot and a pinned local
  (func $fget (param $p i32) (param $i i32) (result f64) (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
  (func $floats (param $p i32) (param $k f64) (local $i i32) (local $acc f64) (local $x f32)
    (local.set $acc (f64.const 1.5))
    (loop $l
      (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (f64.convert_i32_s (i32.sub (i32.mul (local.get $i) (i32.const 7)) (i32.const 20))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 8))))
    (local.set $i (i32.const 0))
    (loop $m
      (local.set $acc (f64.sub (local.get $acc) (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $acc (f64.div (local.get $acc) (call $fget (local.get $p) (i32.and (i32.add (local.get $i) (i32.const 3)) (i32.const 7)))))
      (local.set $acc (f64.add (f64.mul (local.get $k) (call $fget (local.get $p) (local.get $i))) (local.get $acc)))
      (local.set $x (f32.sub (f32.const 2.5) (f32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
      (call $p64 (i64.reinterpret_f64 (local.get $acc)))
      (call $p32 (i32.reinterpret_f32 (local.get $x)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $m (i32.lt_u (local.get $i) (i32.const 8)))))
  (func $setup (param $p i32) (local $i i32)
    (i32.store (i32.sub (local.get $p) (i32.const 4)) (i32.const 256)) ;; 64 elements
    (loop $l
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (i32.add (i32.mul (local.get $i) (i32.const 0x9e3779b9)) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 16)))))`)}
  (func (export "main")
    (call $floats (i32.const 2048) (f64.const -0.75))
    (call $setup (i32.const 1024))
    (call $p32 (call $schedule (i32.const 1024) (i32.const 64) (i32.const 0)))
    (call $setup (i32.const 1024))
    (call $p32 (call $schedule (i32.const 1024) (i32.const 40) (i32.const 0)))
    ;; the length becomes 10 elements at step 20, between the reads of W[i - 7] and W[i - 15]: W[i - 2] = W[18]
    ;; traps there (prints -20; a length kept from before the store would trap a step later)
    (call $setup (i32.const 1024))
    (call $p32 (call $schedule (i32.const 1024) (i32.const 64) (i32.const 20)))))`;
}

/**
 * The control-flow shapes the translator treats specially (function.ts findTargetedBlocks), with
 * values live in registers across them: blocks no branch targets (entered with a pending sum below,
 * left by falling through, by `br` to an outer block, and never at all), `if`s whose arm cannot fall
 * through (ending in unreachable behind a false condition, `br` out with a result, `return`),
 * rotated for-loops (including `br_if` to continue, and zero iterations), and locals read right
 * after they were set (also across such an `if`).
 */
export function shapesModule(): string {
  return `(module ${prelude(`
  (func $blocks (param $x i32) (result i32) (local $t i32)
    (i32.add (i32.mul (local.get $x) (i32.const 3))       ;; pending below the blocks
      (block $outer (result i32)
        (i32.add
          (block (result i32) (local.set $t (i32.add (local.get $x) (i32.const 1))) (local.get $t))
          (block (result i32)
            (drop (br_if $outer (i32.const 1000) (i32.gt_s (local.get $x) (i32.const 5))))
            (i32.const 7))))))
  (func $cold (param $x i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $x) (local.get $x)))
    (i32.add (i32.shl (local.get $x) (i32.const 4))        ;; pending across the cold ifs
      (block $out (result i32)
        (if (i32.lt_s (local.get $x) (i32.const -100)) (then (unreachable)))
        (if (i32.eq (local.get $x) (i32.const 3)) (then (br $out (i32.add (local.get $t) (i32.const 100000)))))
        (if (i32.eq (local.get $x) (i32.const 4)) (then (return (i32.const -4))))
        (i32.add (local.get $t) (local.get $x)))))
  ;; while (mem[p] < v) p += 4: a loop whose test loads (rotated: the test is repeated at the back edge)
  (func $scan (param $v i32) (result i32) (local $p i32)
    (loop $l
      (if (i32.lt_s (i32.load offset=256 (local.get $p)) (local.get $v))
        (then (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $l))))
    (local.get $p))
  (func $loops (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (if (i32.lt_s (local.get $i) (local.get $n))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.eq (i32.and (local.get $i) (i32.const 3)) (i32.const 0)))   ;; continue
          (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
          (br $l))))
    (local.get $s))
  ;; Address arithmetic the translator fuses into one lea (pinned locals, i32 wrap-around; the sums
  ;; are widened with i64.extend_i32_u, so an i32 result not zero-extended shows):
  ;; base + (index << 1..3), pinned + constant, pinned - constant, pinned + pinned.
  (func $addr (param $b i32) (result i64) (local $i i32) (local $p i32) (local $k i32) (local $q i64) (local $t i64)
    (local.set $p (local.get $b))
    (local.set $q (i64.extend_i32_u (local.get $b)))
    (loop $l
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (i32.const 0x7ffffff0) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (i32.shl (local.get $p) (i32.const 1)) (i32.shl (local.get $i) (i32.const 1))))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (local.get $p) (i32.const -20)))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.sub (local.get $p) (i32.const 0x7fffffff)))))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $t (i64.xor (local.get $t) (i64.sub (local.get $q) (i64.const -0x80000000))))
      (local.set $t (i64.add (local.get $t) (i64.add (local.get $q) (i64.const 0x7fffffff))))
      (local.set $i (i32.add (local.get $i) (i32.const 0x1fffffff)))
      (local.set $p (i32.add (local.get $p) (i32.const 0x33333333)))
      (local.set $q (i64.add (local.get $q) (i64.const 0x123456789)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 11))))
    (local.get $t))
  ;; Values below the results of a call that returns several (a float constant needs rax, where
  ;; the first result arrives): the callee is too large to be inlined outside loops.
  (func $two (param $x i32) (result i64 i32)
    (drop (i32.const 1)) (drop (i32.const 2)) (drop (i32.const 3))
    (i64.extend_i32_u (local.get $x)) (i32.add (local.get $x) (i32.const 1)))
  (func $below_multi (param $x i32) (result i64) (local $t i64)
    f64.const 3985.029399871826
    f32.const -2.5
    local.get $x
    call $two
    i64.extend_i32_u i64.add local.set $t
    i64.trunc_sat_f32_s local.get $t i64.add
    f64.convert_i64_s f64.add i64.trunc_sat_f64_s)
  ;; A global read twice in a row (a register copy is kept), then set, or changed by a call.
  (global $gv (mut i32) (i32.const 5))
  (func $bumpg (global.set $gv (i32.add (global.get $gv) (i32.const 7))))
  (func $globals (param $x i32) (result i32)
    (i32.add (i32.sub (global.get $gv) (i32.mul (global.get $gv) (global.get $gv)))
      (i32.add (block (result i32) (global.set $gv (i32.mul (global.get $gv) (local.get $x))) (global.get $gv))
        (i32.add (block (result i32) (call $bumpg) (global.get $gv)) (global.get $gv)))))
  ;; A local set (or teed) from a register and read twice right after: kept in a register copy.
  (func $xorshift (param $s i32) (result i32) (local $t i32)
    (local.set $s (i32.xor (local.get $s) (i32.shl (local.get $s) (i32.const 13))))
    (local.set $s (i32.xor (local.tee $t (local.get $s)) (i32.shr_u (local.get $s) (i32.const 17))))
    (i32.add
      (i32.xor (local.tee $s (i32.mul (local.get $s) (i32.const 0x2545f491))) (i32.shl (local.get $s) (i32.const 5)))
      (i32.sub (local.get $s) (i32.mul (local.get $t) (local.get $s)))))
  ;; Loops whose end is reached by falling through (no label there): a result computed in the
  ;; last pass and values pending below stay in registers; a loop left only by br to a block.
  (func $loop_value (param $n i32) (result i64) (local $i i32) (local $s i32)
    (local.set $s (i32.add (i32.mul (local.get $n) (i32.const 7))
      (loop $l (result i32)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))
        (i32.mul (local.get $i) (i32.const 3)))))
    (i64.add (i64.extend_i32_u (local.get $s))
      (i64.mul (i64.extend_i32_u (local.get $n))
        (block $out (result i64)
          (loop $m
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $out (i64.const 11) (i32.le_s (local.get $i) (i32.const 0)))
            (br $m))
          (i64.const 99)))))
  ;; if (a && b) / if (a || b) of two comparisons: two conditional jumps (function.ts condition),
  ;; with and without else, with a result, a value pending below.
  (func $junction (param $a i32) (param $b i32) (result i32) (local $r i32)
    (i32.add (i32.mul (local.get $a) (i32.const 100))
      (block (result i32)
        (if (i32.and (i32.lt_s (local.get $a) (i32.const 3)) (i32.gt_u (local.get $b) (i32.const 5)))
          (then (local.set $r (i32.const 1))) (else (local.set $r (i32.const 2))))
        (if (i32.or (i32.eqz (local.get $a)) (i32.eq (local.get $b) (local.get $a)))
          (then (local.set $r (i32.add (local.get $r) (i32.const 10)))))
        (if (i32.and (i32.ne (local.get $a) (i32.const 4)) (i64.ge_u (i64.extend_i32_u (local.get $b)) (i64.const 2)))
          (then (local.set $r (i32.add (local.get $r) (i32.const 1000)))))
        (if (result i32) (i32.or (i64.lt_s (i64.extend_i32_s (local.get $a)) (i64.const -2)) (i32.ge_s (local.get $b) (i32.const 7)))
          (then (i32.add (local.get $r) (i32.const 100))) (else (local.get $r))))))
  ;; the same with c2 a float comparison: ordered ones branch, eq and ne make their 0/1 first (a NaN
  ;; operand: float.ts), as the second operand of and/or and as the then arm of binaryen's and-if
  (func $fjunction (param $a i32) (param $x f64) (result i32) (local $r i32)
    (if (i32.and (i32.eqz (local.get $a)) (f64.eq (local.get $x) (f64.const 0.5))) (then (local.set $r (i32.const 1))))
    (if (i32.or (i32.gt_s (local.get $a) (i32.const 5)) (f64.ne (local.get $x) (local.get $x))) (then (local.set $r (i32.add (local.get $r) (i32.const 10)))))
    (if (i32.and (i32.lt_s (local.get $a) (i32.const 3)) (f64.lt (local.get $x) (f64.const 2))) (then (local.set $r (i32.add (local.get $r) (i32.const 100)))))
    (if (if (result i32) (i32.ne (local.get $a) (i32.const 4)) (then (f32.eq (f32.demote_f64 (local.get $x)) (f32.const 0.5))) (else (i32.const 0)))
      (then (local.set $r (i32.add (local.get $r) (i32.const 1000)))))
    (if (if (result i32) (i32.ne (local.get $a) (i32.const 1)) (then (f64.ge (local.get $x) (f64.const 1))) (else (i32.const 0)))
      (then (local.set $r (i32.add (local.get $r) (i32.const 10000)))))
    (local.get $r))
  ;; c1 && c2 with c2 loading (binaryen's if (result i32) c1 (then c2) (else 0)) feeding an if:
  ;; both branch to the second if's else (function.ts andIfAt), as a rotated loop test whose arm
  ;; cannot fall through (a cold if), and as an if/else. main's stores put k + 2 at 256 + 12k:
  ;; the load at 240 + 4j meets them at j = 4 + 3k, so c2 ends some loops and c1 (j > 0) others.
  (func $and_if (param $n i32) (result i32) (local $j i32) (local $s i32)
    (local.set $j (local.get $n))
    (loop $l
      (if (if (result i32) (i32.gt_s (local.get $j) (i32.const 0))
            (then (i32.lt_u (i32.load offset=240 (i32.shl (local.get $j) (i32.const 2))) (i32.const 5)))
            (else (i32.const 0)))
        (then (local.set $s (i32.add (local.get $s) (local.get $j))) (local.set $j (i32.sub (local.get $j) (i32.const 1))) (br $l))))
    (if (if (result i32) (i32.lt_s (local.get $s) (i32.const 100)) (then (i32.eqz (i32.and (local.get $n) (i32.const 4)))) (else (i32.const 0)))
      (then (local.set $s (i32.add (local.get $s) (i32.const 1000)))) (else (local.set $s (i32.sub (local.get $s) (i32.const 1)))))
    (i32.add (i32.mul (local.get $s) (i32.const 64)) (local.get $j)))
  ;; $t is set from a register and read once, at the end of the same stretch (function.ts
  ;; stretchLocal: no slot store at the set); six products pending in between need every register,
  ;; so $t's is taken and its value must go to its slot then.
  (func $evict (param $a i32) (param $b i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $a) (local.get $b)))
    (i32.add
      (i32.add (i32.mul (local.get $a) (i32.const 3)) (i32.add (i32.mul (local.get $b) (i32.const 5))
        (i32.add (i32.mul (local.get $a) (i32.const 7)) (i32.add (i32.mul (local.get $b) (i32.const 11))
          (i32.add (i32.mul (local.get $a) (i32.const 13)) (i32.mul (local.get $b) (i32.const 17)))))))
      (local.get $t)))
  ;; $t read twice in its stretch, the reads further apart than READ_AGAIN_WINDOW: the first read
  ;; takes the register, so the value goes to the slot first for the second.
  (func $late_again (param $a i32) (param $b i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $a) (local.get $b)))
    (i32.add (i32.add (local.get $t) (i32.const 1))
      (i32.add (i32.mul (local.get $a) (i32.const 3)) (i32.add (i32.mul (local.get $b) (i32.const 5))
        (i32.add (i32.mul (local.get $a) (i32.const 7)) (i32.add (i32.mul (local.get $b) (i32.const 9)) (i32.add (local.get $t) (local.get $b))))))))
  ;; A leaf whose select of a comparison holds four values in registers at once: it keeps r8 and
  ;; r11 in the value-stack pool (function.ts leafPinsFit; with them pinned it ran out of registers).
  (func $leaf_select (param $a i32) (param $b i32) (result i32) (local $x i32) (local $y i32)
    (local.set $x (i32.mul (local.get $a) (local.get $b)))
    (local.set $y (i32.add (local.get $a) (local.get $b)))
    (select (i32.add (local.get $x) (local.get $a)) (i32.sub (local.get $y) (local.get $b))
      (i32.lt_s (i32.xor (local.get $x) (local.get $y)) (i32.and (local.get $a) (local.get $b)))))
  ;; asc's assert(a && b) and its kin, the arm a trap: two conditional jumps to the deferred arm
  ;; (function.ts trapArmAfterAndOr). Every (x, y) run here passes all four, each operand deciding
  ;; for some; TRAP_CASES has the ones that trap, through either jump.
  (func $asserts (param $x i32) (param $y i32) (result i32)
    (if (i32.eqz (i32.and (i32.lt_u (local.get $x) (i32.const 40)) (i32.lt_s (local.get $y) (i32.const 40)))) (then (unreachable)))
    (if (i32.or (i32.ge_u (local.get $x) (i32.const 40)) (f64.eq (f64.convert_i32_s (local.get $y)) (f64.const nan))) (then (unreachable)))
    (if (i32.eqz (i32.or (i32.lt_u (local.get $x) (i32.const 20)) (i32.ge_s (i32.add (local.get $x) (local.get $y)) (i32.const 20)))) (then (unreachable)))
    (if (i32.and (i32.lt_u (local.get $x) (i32.const 20)) (f64.ge (f64.convert_i32_s (i32.add (local.get $x) (local.get $y))) (f64.const 60))) (then (unreachable)))
    (i32.add (i32.mul (local.get $x) (i32.const 41)) (local.get $y)))
  ;; A pinned local set to another pinned local or a register plus a constant: one lea into it.
  (func $addr2 (param $b i32) (result i64) (local $i i32) (local $a i32) (local $w i64) (local $t i64) (local $n i32)
    (local.set $w (i64.extend_i32_s (local.get $b)))
    (loop $l
      (local.set $a (i32.sub (local.get $i) (i32.const 0x7ffffff7)))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (local.get $a))))
      (local.set $a (i32.add (i32.mul (local.get $i) (local.get $b)) (i32.const -9)))
      (local.set $t (i64.add (local.get $t) (i64.extend_i32_u (local.get $a))))
      (local.set $w (i64.add (i64.mul (local.get $w) (i64.const 3)) (i64.const -0x7fffffff)))
      (local.set $t (i64.xor (local.get $t) (local.get $w)))
      (local.set $i (i32.add (local.get $i) (i32.const 0x2aaaaaab)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 9))))
    (local.get $t))
  (func (export "main") (local $k i32) (local $y i32)
    (loop $each
      (local.set $y (i32.const 0))
      (loop $ys
        (call $p32 (call $asserts (i32.mul (local.get $k) (i32.const 3)) (local.get $y)))
        (br_if $ys (i32.lt_s (local.tee $y (i32.add (local.get $y) (i32.const 1))) (i32.const 40))))
      (call $p32 (call $evict (i32.add (local.get $k) (i32.const 1000)) (i32.sub (i32.const 77) (local.get $k))))
      (call $p32 (call $late_again (i32.add (local.get $k) (i32.const 1000)) (i32.sub (i32.const 77) (local.get $k))))
      (call $p32 (call $leaf_select (i32.mul (local.get $k) (i32.const 0x1234567)) (i32.sub (i32.const 7) (local.get $k))))
      (call $p64 (call $addr2 (i32.mul (local.get $k) (i32.const -0x2468ace))))
      (call $p64 (call $loop_value (local.get $k)))
      (call $p32 (call $junction (local.get $k) (i32.sub (i32.const 9) (local.get $k))))
      (call $p32 (call $junction (i32.sub (i32.const 5) (local.get $k)) (i32.and (local.get $k) (i32.const 6))))
      (call $p32 (call $fjunction (i32.sub (local.get $k) (i32.const 2))
        (select (f64.const nan) (f64.mul (f64.convert_i32_s (local.get $k)) (f64.const 0.25)) (i32.eq (local.get $k) (i32.const 7)))))
      (call $p32 (call $xorshift (i32.add (local.get $k) (i32.const 0x7ffffffa))))
      (call $p32 (call $globals (i32.sub (local.get $k) (i32.const 3))))
      (call $p64 (call $below_multi (i32.mul (local.get $k) (i32.const 1000003))))
      (i32.store offset=256 (i32.mul (local.get $k) (i32.const 12)) (i32.add (local.get $k) (i32.const 2)))
      (call $p32 (call $scan (local.get $k)))
      (call $p32 (call $and_if (i32.mul (local.get $k) (i32.const 4))))
      (call $p64 (call $addr (i32.mul (local.get $k) (i32.const 0x13579bdf))))
      (call $p32 (call $blocks (local.get $k)))
      (call $p32 (call $cold (local.get $k)))
      (call $p32 (call $loops (local.get $k)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $each (i32.lt_s (local.get $k) (i32.const 12)))))`)})`;
}

/** Imports of the spectest host's globals, table and memory (tools/link/spectest.ts), globals
 *  initialised from imported globals, segment offsets read from an imported global. */
export function importsModule(): string {
  return `(module
  (import "env" "trace" (func $trace (param i32 i32 f64 f64 f64 f64 f64)))
  (import "spectest" "global_i32" (global $gi i32))
  (import "spectest" "global_i64" (global $gl i64))
  (import "spectest" "global_f64" (global $gd f64))
  (import "spectest" "table" (table $t 10 funcref))
  (import "spectest" "memory" (memory 1 2))
  (type $un (func (result i32)))
  (table $big 700 funcref)
  (global $copy i32 (global.get $gi))
  (global $copyl (mut i64) (global.get $gl))
  (data (i32.const 12) "\\02\\00\\00\\00r\\00")
  (data (global.get $gi) "\\2a\\00\\00\\00")
  (data (i32.const 670) "\\07")
  (elem (table $t) (i32.const 1) func $c7)
  (elem (table $big) (global.get $gi) func $c9 $c7)
  (elem (table $big) (i32.const 667) func $c5)
  (func $c5 (type $un) (i32.const 5))
  (func $c7 (type $un) (i32.const 7))
  (func $c9 (type $un) (i32.const 9))
  (func $p32 (param $v i32)
    (call $trace (i32.const 16) (i32.const 1) (f64.convert_i32_s (local.get $v))
      (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0)))
  (func (export "main")
    (call $p32 (global.get $gi))
    (call $p32 (global.get $copy))
    (call $p32 (i32.wrap_i64 (global.get $copyl)))
    (call $p32 (i32.trunc_f64_s (f64.mul (global.get $gd) (f64.const 10))))
    (call $p32 (table.size $t))
    (call $p32 (call_indirect $t (type $un) (i32.const 1)))
    (call $p32 (ref.is_null (table.get $t (i32.const 0))))
    (call $p32 (table.grow $t (ref.func $c9) (i32.const 11)))
    (call $p32 (table.grow $t (ref.func $c9) (i32.const 10)))
    (call $p32 (call_indirect $t (type $un) (i32.const 19)))
    (call $p32 (call_indirect $big (type $un) (i32.const 666)))
    (call $p32 (call_indirect $big (type $un) (i32.const 667)))
    (call $p32 (i32.load (i32.const 666)))
    (call $p32 (memory.size))
    (call $p32 (memory.grow (i32.const 1)))
    (call $p32 (memory.grow (i32.const 1)))
    (i32.store (i32.const 131068) (i32.const 99))
    (call $p32 (i32.load (i32.const 131068)))))`;
}

/** Instantiation traps: an active segment out of bounds traps before the start function runs. */
export const INSTANTIATION_TRAPS: { kind: string; wat: string }[] = [
  { kind: "out of bounds table access", wat: `(module ${prelude(`(table 3 funcref) (func $f) (elem (i32.const 0) $f) (elem (i32.const 2) $f $f)
    (func $start (call $p32 (i32.const 1))) (start $start)`)} (func (export "main") (call $p32 (i32.const 2))))` },
  { kind: "out of bounds memory access", wat: `(module ${prelude(`(data (i32.const 65535) "ab")
    (func $start (call $p32 (i32.const 1))) (start $start)`)} (func (export "main") (call $p32 (i32.const 2))))` },
];

const TABLE = "(type $t (func (result i32))) (table $a 2 funcref) (table $b 3 funcref) (elem (table $b) (i32.const 0) func $k) (func $k (result i32) (i32.const 1)) (elem $e func $k $k)";
TRAP_CASES.push(
  { kind: "out of bounds table access", body: "(drop (table.get $b (i32.const 3)))", extra: TABLE },
  { kind: "out of bounds table access", body: "(table.set $a (i32.const -1) (ref.null func))", extra: TABLE },
  { kind: "out of bounds table access", body: "(table.fill $b (i32.const 2) (ref.null func) (i32.const 2))", extra: TABLE },
  { kind: "out of bounds table access", body: "(table.copy $a $b (i32.const 1) (i32.const 0) (i32.const 2))", extra: TABLE },
  { kind: "out of bounds table access", body: "(table.init $b $e (i32.const 0) (i32.const 1) (i32.const 2))", extra: TABLE },
  { kind: "out of bounds table access", body: "(elem.drop $e) (table.init $b $e (i32.const 0) (i32.const 0) (i32.const 1))", extra: TABLE },
  { kind: "undefined element", body: "(drop (call_indirect $b (type $t) (i32.const 3)))", extra: TABLE },
  { kind: "uninitialized element", body: "(drop (call_indirect $b (type $t) (i32.const 1)))", extra: TABLE },
);

/** asc's StaticArray<u32> length of `p` (bytes at p - 4, read as `load(p - 20, 16) >>> 2`), and its
 *  check of `$i`: the arm prints `code - i`, then traps (versionModule, versionMergeModule). */
const arrayLength = (p: string) => `(i32.shr_u (i32.load offset=16 (i32.sub (local.get ${p}) (i32.const 20))) (i32.const 2))`;
const arrayCheck = (p: string, code: string) =>
  `(if (i32.ge_u (local.get $i) ${arrayLength(p)}) (then (call $p32 (i32.sub (i32.const ${code}) (local.get $i))) (unreachable)))`;
/** `$array(p, bytes)`: such an array's length header, and its elements 1, 2, 3, ... */
const ARRAY_FUNC = `(func $array (param $p i32) (param $bytes i32) (local $i i32)
    (i32.store (i32.sub (local.get $p) (i32.const 4)) (local.get $bytes))
    (loop $l
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.shr_u (local.get $bytes) (i32.const 2))))))`;

/**
 * A pinned float local set, then stored right away (function.ts `storeOnlyRead`): when nothing reads
 * it before its next set, the store takes the value from the register it was computed in and the
 * local's own register is not written. `$fdefer` has the three cases: set again before any read
 * (deferred), read again after the store (not), and a branch out of the loop after the store with
 * the local read after the loop (not). `$farm` reads it in a trap arm after the store: the arm must
 * print the value just stored, then trap.
 */
export function storeDeferModule(): string {
  const pf = (v: string) => `(call $trace (i32.const 16) (i32.const 1) ${v} (f64.const 0) (f64.const 0) (f64.const 0) (f64.const 0))`;
  return `(module ${prelude(`
  (func $fdefer (param $p i32) (param $n i32) (result f64) (local $i i32) (local $v f64) (local $s f64)
    (block $out
      (loop $l
        (local.set $v (f64.add (f64.convert_i32_s (local.get $i)) (f64.const 0.5)))
        (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
        (local.set $v (f64.mul (f64.convert_i32_s (local.get $i)) (f64.const 3)))
        (f64.store offset=512 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
        (local.set $s (f64.add (local.get $s) (local.get $v)))
        (local.set $v (f64.sub (local.get $s) (f64.const 0.25)))
        (f64.store offset=1024 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
        (br_if $out (i32.eq (local.get $i) (i32.const 7)))
        (local.set $v (f64.const 100))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
    (f64.add (f64.add (local.get $s) (local.get $v)) (f64.add (f64.load (i32.add (local.get $p) (i32.const 40))) (f64.load offset=1024 (local.get $p)))))
  (func $farm (param $p i32) (local $i i32) (local $v f64)
    (loop $l
      (local.set $v (f64.mul (f64.convert_i32_s (local.get $i)) (f64.const 1.5)))
      (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
      (if (i32.eq (local.get $i) (i32.const 5)) (then ${pf("(local.get $v)")} (unreachable)))
      (local.set $v (f64.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))`)}
  (func (export "main")
    ${pf("(call $fdefer (i32.const 2048) (i32.const 20))")}
    ${pf("(call $fdefer (i32.const 2048) (i32.const 5))")}
    (call $farm (i32.const 4096))))`;
}

/**
 * Loop versioning's third copy (tools/translate/hoist.ts `merge`): `$vdot` checks i against a's
 * length and b's; when the two are equal a copy reads one local for both (and checks i once), else
 * the copy that reads each. Equal lengths, then b shorter with i staying below it, then b shorter
 * with i reaching its length: b's check must trap there (after printing -7000 - i), as it would
 * not if a's length stood for b's.
 */
export function versionMergeModule(): string {
  const len = arrayLength, check = arrayCheck;
  return `(module ${prelude(`
  (func $vdot (param $a i32) (param $b i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      ${check("$a", "-6000")}
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))))
      ${check("$b", "-7000")}
      (local.set $s (i32.add (local.get $s) (i32.mul (i32.const 3) (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ${ARRAY_FUNC}`)}
  (func (export "main")
    (call $array (i32.const 1024) (i32.const 64)) (call $array (i32.const 2048) (i32.const 64))
    (call $p32 (call $vdot (i32.const 1024) (i32.const 2048) (i32.const 16)))
    (call $array (i32.const 2048) (i32.const 32))
    (call $p32 (call $vdot (i32.const 1024) (i32.const 2048) (i32.const 8)))
    (call $p32 (call $vdot (i32.const 1024) (i32.const 2048) (i32.const 12)))))`;
}

/**
 * Loop versioning (tools/translate/hoist.ts): asc-style StaticArray<u32>s (length in bytes at
 * p - 4, read as `load(p - 20, 16) >>> 2`), loops that read lengths and store checked elements.
 * `$vsum` sums a[i] into b[i] while i < a's length (then negates the sum), or until i = stop
 * (a branch out of the loop, past the negation): with the arrays apart the copy that reads the
 * lengths once runs; with b's elements over a's header (b[3] is a's length) the store at i = 3
 * shrinks a, and the loop must stop there. `$vskip` reads a's length only in an arm never taken,
 * with a's header out of bounds: the test before the loop must not load it (no trap). `$vwrap`
 * stores 8-byte elements at b + (i << 3) with i checked against b's length in 4-byte elements, so
 * i << 3 wraps at i = 2^29 - 1 and the store lands on b's own header (length 8 bytes after it):
 * the loop must see that and stop after two steps. `$vloadwrap` loads 8-byte elements the same
 * way (nothing stored): at i = 2^29 - 1 and 2^30 - 2 the address wraps to just below b, which the
 * loads must read (the copy that forms addresses in 64 bits must not run: they would fault).
 * Each prints its result and the lengths.
 */
export function versionModule(): string {
  const len = arrayLength, check = arrayCheck;
  return `(module ${prelude(`
  (func $vsum (param $a i32) (param $b i32) (param $stop i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        ${check("$a", "0")}
        (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))))
        ${check("$b", "-1000")}
        (i32.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.eq (local.get $i) (local.get $stop))) ;; out of the loop and past the negation
        (br_if $l (i32.lt_u (local.get $i) ${len("$a")})))
      (local.set $s (i32.sub (i32.const 0) (local.get $s))))
    (local.get $s))
  ;; $vsum as binaryen writes it when it inlines the accessors itself: the base tee'd into a local
  ;; by the check, the element address off that local, the index tee'd (the result uses $t and $u:
  ;; the copy must still set them)
  (func $vtee (param $a i32) (param $b i32) (result i32) (local $i i32) (local $s i32) (local $t i32) (local $u i32)
    (loop $l
      (if (i32.ge_u (local.tee $i (local.get $i)) (i32.shr_u (i32.load offset=16 (i32.sub (local.tee $t (local.get $a)) (i32.const 20))) (i32.const 2)))
        (then (call $p32 (i32.sub (i32.const -3000) (local.get $i))) (unreachable)))
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $t) (i32.shl (local.get $i) (i32.const 2))))))
      (if (i32.ge_u (local.tee $i (local.get $i)) (i32.shr_u (i32.load offset=16 (i32.sub (local.tee $u (local.get $b)) (i32.const 20))) (i32.const 2)))
        (then (call $p32 (i32.sub (i32.const -4000) (local.get $i))) (unreachable)))
      (i32.store (i32.add (local.get $u) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) ${len("$a")})))
    (i32.add (local.get $s) (i32.mul (local.get $t) (local.get $u))))
  (func $vskip (param $a i32) (param $b i32) (param $never i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (if (local.get $never) (then
        ${check("$a", "0")}
        (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))))))
      ${check("$b", "-1000")}
      (i32.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2))) (i32.add (local.get $s) (local.get $i)))
      (local.set $s (i32.add (local.get $s) (i32.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    (local.get $s))
  (func $vwrap (param $b i32) (param $step i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      ${check("$b", "-2000")}
      (i64.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))) (i64.const 0x0000000800000007))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (local.get $step)))
      (br_if $l (i32.lt_u (local.get $i) ${len("$b")})))
    (local.get $s))
  (func $vloadwrap (param $b i32) (param $step i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      ${check("$b", "-5000")}
      (local.set $s (i32.add (local.get $s) (i32.wrap_i64 (i64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3)))))))
      (local.set $i (i32.add (local.get $i) (local.get $step)))
      (br_if $l (i32.lt_u (local.get $i) ${len("$b")})))
    (local.get $s))
  ${ARRAY_FUNC}
  (func $len (param $p i32) (call $p32 (i32.load (i32.sub (local.get $p) (i32.const 4)))))`)}
  (func (export "main")
    (call $array (i32.const 1024) (i32.const 256)) (call $array (i32.const 2048) (i32.const 256))
    (call $p32 (call $vsum (i32.const 1024) (i32.const 2048) (i32.const 40))) (call $len (i32.const 1024)) (call $p32 (i32.load (i32.const 2204)))
    ;; b = 1008 (16 elements) first, then a: b[3] is at 1020, a's length, and b[4..15] are a[0..11]
    (call $array (i32.const 1008) (i32.const 64)) (call $array (i32.const 1024) (i32.const 256))
    (call $p32 (call $vsum (i32.const 1024) (i32.const 1008) (i32.const 1000))) (call $len (i32.const 1024))
    (call $array (i32.const 1024) (i32.const 256)) (call $array (i32.const 2048) (i32.const 256))
    (call $p32 (call $vtee (i32.const 1024) (i32.const 2048)))
    (call $array (i32.const 1008) (i32.const 64)) (call $array (i32.const 1024) (i32.const 256))
    (call $p32 (call $vtee (i32.const 1024) (i32.const 1008))) (call $len (i32.const 1024))
    ;; a's header at 65536, beyond the one page
    (call $array (i32.const 2048) (i32.const 64))
    (call $p32 (call $vskip (i32.const 65540) (i32.const 2048) (i32.const 0))) (call $p32 (i32.load (i32.const 2084)))
    ;; b = 256 with 2^30 - 1 elements (as far as its length says): i = 0, 2^29 - 1, 2^30 - 2
    (i32.store (i32.const 252) (i32.const 0xfffffffc))
    (call $p32 (call $vwrap (i32.const 256) (i32.const 0x1fffffff))) (call $len (i32.const 256)) (call $p32 (i32.load (i32.const 240)))
    ;; the same array, read: elements at 256, then (wrapped) 248 and 240
    (i32.store (i32.const 252) (i32.const 0xfffffffc))
    (i32.store (i32.const 256) (i32.const 11)) (i32.store (i32.const 248) (i32.const 22)) (i32.store (i32.const 240) (i32.const 33))
    (call $p32 (call $vloadwrap (i32.const 256) (i32.const 0x1fffffff)))))`;
}
