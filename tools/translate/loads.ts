/**
 * Repeated loads: a pre-pass over a function body (after checks.ts, before the one-pass translator,
 * function.ts) that loads a value once when straight-line code loads it again with nothing changed
 * in between: the first load is teed into a new local, the later ones read that local.
 *
 * The case it is for: AssemblyScript checks every `StaticArray` index against the length in the
 * array's header, `i >= load<i32>(a - 20, 16) >>> alignof<T>` (asc std/assembly/staticarray.ts
 * `__get`), and `Array` against `load<i32>(a, 12)`; SHA-256's message schedule reads four elements
 * of W and writes one per step, each checked, so the length was loaded and shifted five times.
 *
 * A load site is `<base> [i32.const c; i32.sub | i32.add] i32.load offset=o [i32.const s; i32.shr_u]`
 * with `<base>` a `local.get`, `global.get` or `i32.const`: one value, computed from nothing but the
 * base and memory (WebAssembly core spec §4.4.7 memory instructions: a load that does not trap
 * reads the same bytes again as long as nothing stores). Two sites are the same when their operators
 * and immediates are. What keeps a loaded value (as checks.ts, whose rules these are): straight-line
 * code, entering a `block` or the arm of an `if`, a `br_if` not taken, the end of a `loop` or of a
 * block no branch targets, and a trap arm (an `if` whose arm ends in `unreachable`: past it, the
 * arm was not taken). What forgets: `local.set`/`tee` of the base local, `global.set` of the base
 * global, stores, bulk memory operators, `memory.grow`, calls, and every other label and
 * unconditional branch. The first load traps where the original would have; the later ones read
 * the same address, so they could not trap.
 *
 * Memory that changes behind the module's back (a device's DMA, the kernel's interrupt stubs) is
 * read as C reads non-volatile memory: the kernel reads device registers through the `x86.mmio*`
 * intrinsics and waits for DMA or interrupts in loops or after a barrier intrinsic, all of which
 * (calls, loop starts) forget; virtio's 16-bit ring indices are `i32.load16_u`, which this pass
 * leaves alone.
 */
import type { Instr, ValType } from "../wasm/types.ts";
import { followControl, isBulkMemory, isStore, targetedBlocks, trapArmEnd, type OpenConstruct } from "./checks.ts";

const OP_IF = 0x04, OP_CALL = 0x10, OP_CALL_INDIRECT = 0x11;
const OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24;
const OP_I32_LOAD = 0x28, OP_MEMORY_GROW = 0x40, OP_I32_CONST = 0x41, OP_I32_ADD = 0x6a, OP_I32_SUB = 0x6b, OP_I32_SHR_U = 0x76;

/** Reuse groups a function may have at most (each one a new local). */
const MAX_GROUPS = 32;

/** A load site: body[start, end) computes one value; body[load] is its i32.load. With `tee`, the
 *  base operator is followed by `local.tee tee` (binaryen's inlined accessors keep `this` so), which
 *  the key leaves out. */
export interface LoadSite { start: number; end: number; load: number; key: string; base: Instr; tee?: number }
/** Sites loading the same value while it is known: the first one's value serves the others. */
interface Group { first: LoadSite; reused: LoadSite[] }

/** An operator's share of a load site's key: opcode and immediates. */
function keyPart(ins: Instr): string {
  return `${ins.op}:${ins.index ?? ""}:${ins.value ?? ""}:${ins.memOffset ?? ""} `;
}

/** The load site starting at `k`, if one does; with `tee`, also one whose base is tee'd into a local. */
export function loadSiteAt(body: Instr[], k: number, tee = false): LoadSite | undefined {
  const base = body[k];
  if (base.op !== OP_LOCAL_GET && base.op !== OP_GLOBAL_GET && base.op !== OP_I32_CONST) return undefined;
  let j = k + 1;
  const teed = tee && body[j]?.op === OP_LOCAL_TEE ? body[j++].index : undefined;
  const from = j;
  if (body[j]?.op === OP_I32_CONST && (body[j + 1]?.op === OP_I32_SUB || body[j + 1]?.op === OP_I32_ADD)) j += 2;
  if (body[j]?.op !== OP_I32_LOAD) return undefined;
  const load = j++;
  if (body[j]?.op === OP_I32_CONST && body[j + 1]?.op === OP_I32_SHR_U) j += 2;
  let key = keyPart(base);
  for (let i = from; i < j; i++) key += keyPart(body[i]);
  return teed === undefined ? { start: k, end: j, load, key, base } : { start: k, end: j, load, key, base, tee: teed };
}

/** Cheap test first: whether two load sites look alike (the same base operator and index or
 *  value, and the same offset), so that the full scan may find a repeat. */
function mayRepeat(body: Instr[]): boolean {
  let seen: Set<number> | undefined;
  for (let j = 1; j < body.length; j++) {
    const load = body[j];
    if (load.op !== OP_I32_LOAD) continue;
    let k = j - 1;
    const sub = body[k].op;
    if ((sub === OP_I32_SUB || sub === OP_I32_ADD) && j >= 3 && body[j - 2].op === OP_I32_CONST) k = j - 3;
    const base = body[k], op = base.op;
    if (op !== OP_LOCAL_GET && op !== OP_GLOBAL_GET && op !== OP_I32_CONST) continue;
    const h = (op * 0x9e3779b1 + Number(base.index ?? base.value) * 0x85ebca6b + (load.memOffset ?? 0) * 0xc2b2ae35) | 0;
    seen ??= new Set();
    if (seen.has(h)) return true;
    seen.add(h);
  }
  return false;
}

/**
 * `body` with repeated loads read from new locals (appended to `locals`; `nLocals` = parameters +
 * `locals`), or the same arrays when no load repeats. The new locals are written before they are
 * read, so they need no zeroing.
 */
export function reuseRepeatedLoads(nLocals: number, locals: ValType[], body: Instr[]): { locals: ValType[]; body: Instr[] } {
  if (!mayRepeat(body)) return { locals, body };

  const targeted = targetedBlocks(body);
  const known = new Map<string, Group>();
  const groups: Group[] = [];
  const open: OpenConstruct<Group>[] = [];
  const forgetBase = (op: number, index: number) => {
    for (const [key, g] of known) if (g.first.base.op === op && g.first.base.index === index) known.delete(key);
  };
  for (let i = 0; i < body.length; i++) {
    const ins = body[i];
    const op = ins.op;
    const site = op === OP_LOCAL_GET || op === OP_GLOBAL_GET || op === OP_I32_CONST ? loadSiteAt(body, i) : undefined;
    if (site) {
      const g = known.get(site.key);
      if (g) g.reused.push(site);
      else if (groups.length < MAX_GROUPS) {
        const fresh: Group = { first: site, reused: [] };
        known.set(site.key, fresh);
        groups.push(fresh);
      }
      i = site.end - 1; // its operators are pure: nothing to forget
      continue;
    }
    if (op === OP_IF) {
      const end = trapArmEnd(body, i);
      if (end !== undefined) { i = end; continue; } // past a trap arm, it was not taken
    }
    if (followControl(op, i, known, open, targeted)) continue;
    switch (op) {
      case OP_LOCAL_SET: case OP_LOCAL_TEE: forgetBase(OP_LOCAL_GET, ins.index!); break;
      case OP_GLOBAL_SET: forgetBase(OP_GLOBAL_GET, ins.index!); break;
      case OP_CALL: case OP_CALL_INDIRECT: case OP_MEMORY_GROW: known.clear(); break;
      default: if (isStore(op) || isBulkMemory(op)) known.clear();
    }
  }

  // The rewrite: the first site of a group that is reused tees its value, the others read it.
  const teeAfter = new Map<number, number>(); // site end -> local
  const readAt = new Map<number, { end: number; local: number }>(); // site start -> replacement
  const newLocals = locals.slice();
  for (const g of groups) {
    if (g.reused.length === 0) continue;
    const local = nLocals + newLocals.length - locals.length;
    newLocals.push("i32");
    teeAfter.set(g.first.end, local);
    for (const s of g.reused) readAt.set(s.start, { end: s.end, local });
  }
  if (teeAfter.size === 0) return { locals, body };
  const out: Instr[] = [];
  for (let i = 0; i < body.length; i++) {
    const tee = teeAfter.get(i);
    if (tee !== undefined) out.push({ op: OP_LOCAL_TEE, name: "local.tee", offset: body[i - 1].offset, index: tee });
    const read = readAt.get(i);
    if (read) {
      out.push({ op: OP_LOCAL_GET, name: "local.get", offset: body[i].offset, index: read.local });
      i = read.end - 1;
      continue;
    }
    out.push(body[i]);
  }
  const last = teeAfter.get(body.length);
  if (last !== undefined) out.push({ op: OP_LOCAL_TEE, name: "local.tee", offset: body[body.length - 1].offset, index: last });
  return { locals: newLocals, body: out };
}
