/**
 * Loop versioning for invariant loads: a pre-pass over a function body (after inlining and global
 * promotion, before checks.ts, loads.ts and the one-pass translator, function.ts) that loads, once
 * before a loop, the i32 values the loop reads again and again from addresses it never changes,
 * and runs a copy of the loop that reads them from locals, when a test before the loop proves that
 * nothing the loop stores can change them.
 *
 * The case it is for: AssemblyScript checks every `StaticArray` index against the length in the
 * array's header (`i >= load<i32>(a - 20, 16) >>> alignof<T>`), and a loop that stores into some
 * arrays reloads every length after each store, since a store could have hit a header (WebAssembly
 * has one flat memory: nothing says where an array's elements end). N-body's step reloaded seven
 * lengths 15 times per pair of bodies, SHA-256's message schedule one length four times per word.
 *
 * A hoisted site is what loads.ts reuses, `<base> [i32.const c; i32.sub | i32.add] i32.load
 * offset=o [i32.const s; i32.shr_u]`, with a base the loop does not change: `i32.const`, a
 * `local.get` of a local the loop never sets, a `global.get` of a global it never sets; also with
 * `local.tee t` after the base (binaryen's own inlining of an accessor keeps `this` in t), which the
 * copy keeps as `<base> local.set t`. A loop
 * qualifies when, besides local and global sets, nothing in it writes memory except guarded stores:
 *  - no call, `call_indirect` or memory.init/copy/fill, except in the arm of a trap check (an `if`
 *    whose arm ends in `unreachable`, checks.ts trapArmEnd: asc's `abort` call does not come back);
 *  - every store is guarded: right after a trap check `local.get i (or local.tee i); <site X>;
 *    i32.ge_u; if <arm ending in unreachable> end` (asc's `__set`) comes its address `<base a>;
 *    local.get i; i32.const k; i32.shl; i32.add` (a unchanged by the loop, or the local X's base
 *    was tee'd into), then a value made of plain operators, then the store. Past the check i < X, so the store writes within
 *    [a + offset, a + offset + (X << k) - 2^k + width).
 *
 * Before the loop (WebAssembly core spec §4.4.7 memory instructions, §4.4.8 control), in
 * `block $done (block $slow <tests, each br_if $slow> <the copy> br $done) <the loop as it was>`:
 *  1. each site's effective address (base ± c as i32, plus the offset, as i64) and whether its 4
 *     bytes lie within memory.size; then its value, loaded: in bounds, the load cannot trap, and
 *     memory only grows (§4.5.3.9 memory.grow), so it stays in bounds;
 *  2. for each kind of guarded store, a + (X << k) <= 2^32 (i << k and a + (i << k) cannot wrap
 *     for any i < X), and its range is disjoint from every site's 4 bytes.
 *  3. for each guarded load (`<base a> local.get i; i32.const k; i32.shl; i32.add; <load>` right
 *     after the same kind of check, maybe after a few pushes: `s += a[i]`) with a and X's site
 *     unchanged by the loop, whose address form no store kind has, a + (X << k) <= 2^32.
 * When all hold the copy runs: no store can change a site's bytes (by induction over the stores,
 * each checked against a value that is still the one loaded), so a site reads what was loaded;
 * and no guarded access's address wraps, so the copy marks their i32.adds `noWrap` (function.ts
 * then forms the address in 64 bits, inside the access's operand: [a + i * 2^k + base + offset]).
 * Else the loop runs as it was. The test loads nothing out of bounds and stores nothing, so the
 * original traps, in the same order, wherever it would have.
 *
 * A third copy, when some index is checked against two or more sites (n-body's i against seven
 * arrays' lengths, SHA-256's i against K's and W's): in `block $regular`, after the tests, each
 * such group's values compared (`i32.ne`, br_if $regular); when all are equal a copy runs that
 * reads the group's first local for all of them, so the checks of one index are the same check and
 * checks.ts drops the repeats (n-body: 2 checks per pair of bodies instead of 12). Else the copy
 * that reads each site's own value runs, as above.
 *
 * Only for memories nothing else writes: not the kernel's identity-mapped memory, where devices
 * write by DMA and a loop waiting for them must load again (loads.ts, "Memory that changes behind
 * the module's back"). Only the outermost loop that qualifies is versioned (its inner loops are in all
 * the copies), at most MAX_LOOPS per function, each at most MAX_LOOP_OPERATORS long.
 * The cost: the loop's code twice (three times with merge groups), the test once per entry to the loop.
 */
import type { Instr, ValType } from "../wasm/types.ts";
import { opInfo } from "../wasm/opcodes.ts";
import { isBulkMemory, isStore, trapArmEnd } from "./checks.ts";
import { loadSiteAt, type LoadSite } from "./loads.ts";

const OP_UNREACHABLE = 0x00, OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04, OP_END = 0x0b;
const OP_BR = 0x0c, OP_BR_IF = 0x0d, OP_BR_TABLE = 0x0e, OP_CALL = 0x10, OP_CALL_INDIRECT = 0x11;
const OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24;
const OP_I32_LOAD = 0x28, OP_I32_CONST = 0x41, OP_I32_GE_U = 0x4f, OP_I32_SHL = 0x74, OP_I32_ADD = 0x6a;

/** Loops versioned per function, and the longest loop copied (in operators). */
export const MAX_LOOPS = 4;
export const MAX_LOOP_OPERATORS = 4000;
/** Distinct sites and kinds of guarded store per loop (the test is sites x kinds comparisons), and
 *  distinct guarded load addresses tested for wrapping (beyond that, a load keeps its wrapping add). */
const MAX_SITES = 16, MAX_KINDS = 8, MAX_WRAPS = 8;
/** Values a guarded load's element address may come after (`guardedLoad`). */
const MAX_PUSHES = 3;

/** Bytes written by each store opcode (i32.store .. i64.store32). */
const STORE_WIDTH = new Map([[0x36, 4], [0x37, 8], [0x38, 4], [0x39, 8], [0x3a, 1], [0x3b, 2], [0x3c, 1], [0x3d, 2], [0x3e, 4]]);

/** A kind of guarded store: base operator, the site bounding the index, shift, offset, width. */
interface StoreKind { base: Instr; bound: string; shift: number; offset: number; width: number }
/** A guarded load's address: its base operator, the site bounding the index, the shift, and where
 *  its i32.add is. */
interface GuardedLoad { base: Instr; bound: string; shift: number; add: number }
/** A loop to version: body[start..end] (its `loop` .. `end`), its sites by key, its stores, the
 *  guarded loads' addresses that need a test of their own that they cannot wrap (`wraps`), and the
 *  positions of the guarded accesses' address adds that the copy marks `noWrap`. */
interface Plan {
  start: number; end: number; sites: Map<string, LoadSite[]>; kinds: StoreKind[]; wraps: GuardedLoad[]; noWrap: Set<number>;
  /** Groups of sites (keys) some index is checked against two or more of: a third copy runs when
   *  each group's values are equal, reading one local for all of them (checks.ts then drops the
   *  repeated checks). */
  merge: string[][];
}

/** Every loop that has no result or parameters, as [start, end] pairs in the order of their
 *  starts, if the body has loops and i32 loads: one pass. */
function loops(body: Instr[]): number[][] | undefined {
  const open: number[] = [];
  const found: number[][] = [];
  let loads = false;
  for (let i = 0; i < body.length; i++) {
    const op = body[i].op;
    if (op === OP_I32_LOAD) loads = true;
    else if (op === OP_BLOCK || op === OP_IF) open.push(-1);
    else if (op === OP_LOOP) {
      const empty = (body[i].blockType?.kind ?? "empty") === "empty";
      open.push(empty ? found.length : -1);
      if (empty) found.push([i, -1]);
    } else if (op === OP_END) {
      const k = open.pop();
      if (k !== undefined && k >= 0) found[k][1] = i;
    }
  }
  return loads && found.length > 0 ? found : undefined;
}

/** Net values an operator of a guarded store's value pushes, or undefined when it may not be
 *  part of one (control, calls, stores, anything typed by context besides locals and globals). */
function plainEffect(ins: Instr): number | undefined {
  switch (ins.op) {
    case OP_LOCAL_GET: case OP_GLOBAL_GET: return 1;
    case OP_LOCAL_TEE: return 0;
    case 0x1a: return -1; // drop
    case 0x1b: case 0x1c: return -2; // select (the generator's NaN canonicalisation before a float store)
  }
  // control, calls, tables, memory.size/grow, bulk memory and SIMD: not plain
  if (isStore(ins.op) || ins.op <= 0x19 || ins.op === 0x25 || ins.op === 0x26 || ins.op === 0x3f || ins.op === 0x40 || ins.op > 0xfc07) return undefined;
  const sig = opInfo(ins.op).sig;
  return sig ? sig.results.length - sig.params.length : undefined;
}

/** What the loop at `start` needs versioned, or undefined when it does not qualify. One pass
 *  (most loops fail early, at a call or a store), what is invariant decided at the end. */
function plan(body: Instr[], start: number, end: number): Plan | undefined {
  const setLocals = new Set<number>(), setGlobals = new Set<number>();
  const found: LoadSite[] = [];
  const siteEndingAt = new Map<number, LoadSite>();
  const guards = new Map<number, { kind: StoreKind; bound: LoadSite; add: number }>(); // store position -> its check
  const stores: number[] = [];
  const guardedLoads: { load: GuardedLoad; boundBase: Instr }[] = [];
  const checked = new Map<number, Set<string>>(); // index local -> the sites it is checked against
  for (let i = start + 1; i < end; i++) {
    const ins = body[i], op = ins.op;
    switch (op) {
      case OP_LOCAL_SET: case OP_LOCAL_TEE: setLocals.add(ins.index!); continue;
      case OP_GLOBAL_SET: setGlobals.add(ins.index!); continue;
      case OP_LOCAL_GET: case OP_GLOBAL_GET: case OP_I32_CONST: {
        const site = loadSiteAt(body, i, true);
        if (site) {
          found.push(site);
          siteEndingAt.set(site.end, site);
          if (site.tee !== undefined) setLocals.add(site.tee);
          i = site.end - 1;
        }
        continue;
      }
      case OP_CALL: if (body[i + 1]?.op !== OP_UNREACHABLE) return undefined; continue;
      case OP_CALL_INDIRECT: return undefined;
      case OP_IF: {
        const armEnd = trapArmEnd(body, i);
        if (armEnd === undefined) continue;
        // a trap check: what its arm does (asc's abort call) never comes back to the loop
        const bound = body[i - 1].op === OP_I32_GE_U ? siteEndingAt.get(i - 1) : undefined;
        const index = bound ? body[bound.start - 1] : undefined;
        if (bound && (index?.op === OP_LOCAL_GET || index?.op === OP_LOCAL_TEE)) {
          const against = checked.get(index.index!);
          if (against) against.add(bound.key);
          else checked.set(index.index!, new Set([bound.key]));
          const store = guardedStore(body, armEnd + 1, index.index!, bound);
          if (store) guards.set(store.at, { kind: store.kind, bound, add: armEnd + 5 });
          else {
            const load = guardedLoad(body, armEnd + 1, index.index!, bound);
            if (load) guardedLoads.push({ load, boundBase: bound.base });
          }
        }
        i = armEnd;
        continue;
      }
    }
    if (isStore(op)) {
      if (!guards.has(i)) return undefined;
      stores.push(i);
    } else if (isBulkMemory(op)) return undefined;
  }
  const invariant = (b: Instr) =>
    b.op === OP_I32_CONST || (b.op === OP_LOCAL_GET && !setLocals.has(b.index!)) || (b.op === OP_GLOBAL_GET && !setGlobals.has(b.index!));
  const sites = new Map<string, LoadSite[]>();
  for (const site of found) {
    if (!invariant(site.base)) continue;
    const list = sites.get(site.key);
    if (list) list.push(site);
    else if (sites.size < MAX_SITES) sites.set(site.key, [site]);
    else return undefined;
  }
  if (sites.size === 0) return undefined;
  const kinds: StoreKind[] = [];
  const noWrap = new Set<number>();
  for (const at of stores) {
    const g = guards.get(at);
    if (!g || !invariant(g.kind.base) || !invariant(g.bound.base)) return undefined;
    const k = g.kind;
    const same = kinds.some((o) => sameBase(o.base, k.base) && o.bound === k.bound && o.shift === k.shift && o.offset === k.offset && o.width === k.width);
    if (!same) kinds.push(k);
    noWrap.add(g.add);
  }
  if (kinds.length > MAX_KINDS) return undefined;
  // Guarded loads whose base and bound the loop does not change: a store kind's test covers the
  // same address form, else a test of their own (up to MAX_WRAPS forms).
  const wraps: GuardedLoad[] = [];
  for (const { load, boundBase } of guardedLoads) {
    if (!invariant(load.base) || !invariant(boundBase)) continue;
    const same = (o: { base: Instr; bound: string; shift: number }) => sameBase(o.base, load.base) && o.bound === load.bound && o.shift === load.shift;
    if (!kinds.some(same) && !wraps.some(same)) {
      if (wraps.length === MAX_WRAPS) continue;
      wraps.push(load);
    }
    noWrap.add(load.add);
  }
  return { start, end, sites, kinds, wraps, noWrap, merge: mergeGroups(checked, sites) };
}

/** The sites (of those hoisted) connected by indexes checked against more than one of them: the
 *  groups of two or more, each in the order of the sites. */
function mergeGroups(checked: Map<number, Set<string>>, sites: Map<string, LoadSite[]>): string[][] {
  const group = new Map<string, number>(); // site key -> group number
  const groups: Set<string>[] = [];
  for (const against of checked.values()) {
    const keys = [...against].filter((k) => sites.has(k));
    if (keys.length < 2) continue;
    // the groups these keys are in already, joined into one with the new keys
    const joined = new Set<string>();
    for (const k of keys) {
      const g = group.get(k);
      if (g === undefined) joined.add(k);
      else if (groups[g].size > 0) { for (const o of groups[g]) joined.add(o); groups[g] = new Set(); }
    }
    for (const k of joined) group.set(k, groups.length);
    groups.push(joined);
  }
  return groups.filter((g) => g.size >= 2).map((g) => [...sites.keys()].filter((k) => g.has(k)));
}

/** Whether two base operators (i32.const, local.get, global.get) read the same value in the loop. */
function sameBase(a: Instr, b: Instr): boolean {
  return a.op === b.op && a.index === b.index && a.value === b.value;
}

/** The element address at `k`, `<base> local.get index; i32.const s; i32.shl; i32.add` (asc's
 *  accessors after inlining), of an index checked against site `bound`: its base and shift (its
 *  add is at k + 4). A base that reads the local the site tee'd its base into is that base
 *  (nothing set it since). */
function elementAddressAt(body: Instr[], k: number, index: number, bound: LoadSite): { base: Instr; shift: number } | undefined {
  let base = body[k];
  if (base?.op !== OP_LOCAL_GET && base?.op !== OP_GLOBAL_GET && base?.op !== OP_I32_CONST) return undefined;
  if (base.op === OP_LOCAL_GET && base.index === bound.tee) base = bound.base;
  if (body[k + 1]?.op !== OP_LOCAL_GET || body[k + 1].index !== index) return undefined;
  if (body[k + 2]?.op !== OP_I32_CONST || body[k + 3]?.op !== OP_I32_SHL || body[k + 4]?.op !== OP_I32_ADD) return undefined;
  return { base, shift: (body[k + 2].value as number) & 31 };
}

/** The store guarded by a check of local `index` against site `bound` whose arm ends just before
 *  `k`: an element address (`elementAddressAt`), a plain value, the store. */
function guardedStore(body: Instr[], k: number, index: number, bound: LoadSite): { at: number; kind: StoreKind } | undefined {
  const address = elementAddressAt(body, k, index, bound);
  if (!address) return undefined;
  const { base, shift } = address;
  let height = 0; // values above the address
  for (let i = k + 5; i < body.length; i++) {
    const ins = body[i];
    if (isStore(ins.op)) {
      if (height !== 1) return undefined;
      return { at: i, kind: { base, bound: bound.key, shift, offset: ins.memOffset ?? 0, width: STORE_WIDTH.get(ins.op)! } };
    }
    const effect = plainEffect(ins);
    if (effect === undefined) return undefined;
    height += effect;
    if (height < 0) return undefined;
  }
  return undefined;
}

/** The load guarded by a check of local `index` against site `bound` whose arm ends just before
 *  `k`: an element address (`elementAddressAt`) and the load (asc's `__get`), after at most
 *  MAX_PUSHES reads of locals, globals or constants (`s += a[i]` pushes s first). */
function guardedLoad(body: Instr[], k: number, index: number, bound: LoadSite): GuardedLoad | undefined {
  for (let j = k; j <= k + MAX_PUSHES; j++) {
    const address = elementAddressAt(body, j, index, bound);
    const load = body[j + 5]?.op;
    if (address && load !== undefined && load >= 0x28 && load <= 0x35) return { ...address, bound: bound.key, add: j + 4 };
    const op = body[j]?.op;
    if (op !== OP_LOCAL_GET && op !== OP_GLOBAL_GET && (op === undefined || op < 0x41 || op > 0x44)) return undefined;
  }
  return undefined;
}

/** A site's operators, its base's tee left out. */
function siteOps(body: Instr[], site: LoadSite): Instr[] {
  return site.tee === undefined ? body.slice(site.start, site.end) : [body[site.start], ...body.slice(site.start + 2, site.end)];
}

/** A new instruction at the loop's position (traps and backtraces point at the loop). */
const make = (at: Instr, op: number, name: string, extra: Partial<Instr> = {}): Instr => ({ op, name, offset: at.offset, ...extra });

/**
 * body[start..end] copied onto `out`, with `replace` (site start -> site, local) read from locals,
 * the adds at `noWrap` marked, and the branches that leave the loop `labels` labels further out
 * (the blocks around the copies).
 */
function copyLoop(
  out: Instr[], body: Instr[], start: number, end: number, replace: Map<number, { site: LoadSite; local: number }> | undefined, noWrap: Set<number> | undefined, labels: number,
): void {
  let level = 0; // labels open inside the copy
  const out1 = (d: number) => (d >= level ? d + labels : d);
  for (let i = start; i <= end; i++) {
    const ins = body[i];
    const r = replace?.get(i);
    if (r) {
      // a tee'd base still sets its local: <base> local.set t, then the value
      if (r.site.tee !== undefined) out.push(ins, make(ins, OP_LOCAL_SET, "local.set", { index: r.site.tee }));
      out.push(make(ins, OP_LOCAL_GET, "local.get", { index: r.local }));
      i = r.site.end - 1;
      continue;
    }
    switch (ins.op) {
      case OP_BLOCK: case OP_LOOP: case OP_IF: level++; out.push(ins); break;
      case OP_END: level--; out.push(ins); break;
      case OP_BR: case OP_BR_IF: out.push(ins.depth! >= level ? { ...ins, depth: ins.depth! + labels } : ins); break;
      case OP_BR_TABLE:
        out.push({ ...ins, targets: ins.targets!.map(out1), defaultTarget: out1(ins.defaultTarget!) });
        break;
      default: out.push(noWrap?.has(i) ? { ...ins, noWrap: true } : ins);
    }
  }
}

/**
 * `body` with its qualifying loops versioned (new locals appended to `locals`; `nLocals` =
 * parameters + `locals`), or the same arrays when none qualifies. `memoryChecked`: the module's
 * memory is its own (sandbox or guarded, not identity): nothing but its stores writes it.
 */
export function versionLoops(nLocals: number, locals: ValType[], body: Instr[], memoryChecked: boolean): { locals: ValType[]; body: Instr[] } {
  const candidates = memoryChecked ? loops(body) : undefined;
  if (!candidates) return { locals, body };
  const plans: Plan[] = [];
  let after = -1; // the end of the last loop versioned: loops inside it are in its copies
  for (const [start, end] of candidates) {
    if (start < after || end - start > MAX_LOOP_OPERATORS) continue;
    const p = plan(body, start, end);
    if (p) { plans.push(p); after = end; if (plans.length === MAX_LOOPS) break; }
  }
  if (plans.length === 0) return { locals, body };

  const newLocals = locals.slice();
  const local = (t: ValType) => { newLocals.push(t); return nLocals + newLocals.length - locals.length - 1; };
  const out: Instr[] = [];
  let from = 0;
  for (const p of plans) {
    for (let i = from; i < p.start; i++) out.push(body[i]);
    const at = body[p.start];
    const I = (op: number, name: string, extra?: Partial<Instr>) => out.push(make(at, op, name, extra));
    const i64c = (v: bigint) => I(0x42, "i64.const", { value: v });
    // block $done (block $slow <tests: br_if $slow> <the copy> br $done) <the loop as it was>)
    const value = new Map<string, number>(), address = new Map<string, number>();
    const bytes = local("i64");
    I(OP_BLOCK, "block", { blockType: { kind: "empty" } });
    I(OP_BLOCK, "block", { blockType: { kind: "empty" } });
    I(0x3f, "memory.size", { index: 0 });
    I(0xad, "i64.extend_i32_u");
    i64c(16n);
    I(0x86, "i64.shl");
    I(OP_LOCAL_SET, "local.set", { index: bytes });
    // 1. every site: its effective address as i64, in bounds, then its value
    for (const [key, [site]] of p.sites) {
      const t = local("i32");
      value.set(key, t);
      const load = body[site.load];
      const ops = siteOps(body, site); // without a tee
      for (const ins of ops) if (ins === load) break; else out.push(ins); // base [i32.const c; sub/add]: the i32 address
      I(0xad, "i64.extend_i32_u");
      i64c(BigInt(load.memOffset ?? 0));
      I(0x7c, "i64.add");
      if (p.kinds.length) { // kept for the stores' tests
        const e = local("i64");
        address.set(key, e);
        I(OP_LOCAL_TEE, "local.tee", { index: e });
      }
      i64c(4n);
      I(0x7c, "i64.add");
      I(OP_LOCAL_GET, "local.get", { index: bytes });
      I(0x56, "i64.gt_u");
      I(OP_BR_IF, "br_if", { depth: 0 });
      for (const ins of ops) out.push(ins);
      I(OP_LOCAL_SET, "local.set", { index: t });
    }
    // 2. every kind of guarded store and every other guarded load's address: base + (X << k)
    // <= 2^32 (no wrap), and each store kind's range clear of every site's bytes
    const scaledBound = (k: { bound: string; shift: number }) => {
      I(OP_LOCAL_GET, "local.get", { index: value.get(k.bound)! }); I(0xad, "i64.extend_i32_u"); i64c(BigInt(k.shift)); I(0x86, "i64.shl");
    };
    const noWrapTest = (k: { base: Instr; bound: string; shift: number }, lo?: number) => {
      out.push(k.base);
      I(0xad, "i64.extend_i32_u");
      if (lo !== undefined) I(OP_LOCAL_TEE, "local.tee", { index: lo });
      scaledBound(k);
      I(0x7c, "i64.add");
      i64c(1n << 32n);
      I(0x56, "i64.gt_u");
      I(OP_BR_IF, "br_if", { depth: 0 });
    };
    for (const w of p.wraps) noWrapTest(w);
    for (const k of p.kinds) {
      const lo = local("i64"), hi = local("i64");
      noWrapTest(k, lo);
      I(OP_LOCAL_GET, "local.get", { index: lo });
      scaledBound(k);
      I(0x7c, "i64.add");
      i64c(BigInt(k.offset + k.width) - (1n << BigInt(k.shift)));
      I(0x7c, "i64.add");
      I(OP_LOCAL_SET, "local.set", { index: hi });
      I(OP_LOCAL_GET, "local.get", { index: lo });
      i64c(BigInt(k.offset));
      I(0x7c, "i64.add");
      I(OP_LOCAL_SET, "local.set", { index: lo });
      for (const e of address.values()) { // overlap: e < hi && e + 4 > lo
        I(OP_LOCAL_GET, "local.get", { index: e });
        I(OP_LOCAL_GET, "local.get", { index: hi });
        I(0x54, "i64.lt_u");
        I(OP_LOCAL_GET, "local.get", { index: e });
        i64c(4n);
        I(0x7c, "i64.add");
        I(OP_LOCAL_GET, "local.get", { index: lo });
        I(0x56, "i64.gt_u");
        I(0x71, "i32.and");
        I(OP_BR_IF, "br_if", { depth: 0 });
      }
    }
    // 3. when each merge group's values are equal, the copy that reads one local for the group
    // (three labels in: block $regular), then the copy that reads each site's own (two labels in),
    // else the loop as it was (one)
    const replace = new Map<number, { site: LoadSite; local: number }>();
    for (const [key, list] of p.sites) for (const site of list) replace.set(site.start, { site, local: value.get(key)! });
    if (p.merge.length > 0) {
      I(OP_BLOCK, "block", { blockType: { kind: "empty" } });
      const merged = new Map(replace);
      for (const keys of p.merge) {
        const first = value.get(keys[0])!;
        for (const key of keys.slice(1)) {
          I(OP_LOCAL_GET, "local.get", { index: first });
          I(OP_LOCAL_GET, "local.get", { index: value.get(key)! });
          I(0x47, "i32.ne");
          I(OP_BR_IF, "br_if", { depth: 0 });
          for (const site of p.sites.get(key)!) merged.set(site.start, { site, local: first });
        }
      }
      copyLoop(out, body, p.start, p.end, merged, p.noWrap, 3);
      I(OP_BR, "br", { depth: 2 });
      I(OP_END, "end");
    }
    copyLoop(out, body, p.start, p.end, replace, p.noWrap, 2);
    I(OP_BR, "br", { depth: 1 });
    I(OP_END, "end");
    copyLoop(out, body, p.start, p.end, undefined, undefined, 1);
    I(OP_END, "end");
    from = p.end + 1;
  }
  for (let i = from; i < body.length; i++) out.push(body[i]);
  return { locals: newLocals, body: out };
}
