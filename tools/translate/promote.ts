/**
 * Global promotion: a pre-pass over a function body (after inlining, before the one-pass
 * translator, function.ts) that gives a hot global of the function its own local, so the
 * translator's pinned-local registers (regalloc.ts PIN_POOL, XPIN_POOL) can hold it across loops.
 *
 * AssemblyScript keeps every module-level object in a global (`const W = new StaticArray<u32>(64)`
 * is a mutable global set by the start function), and its inlined `StaticArray#__get` reads that
 * global twice per element: once for the bounds check, once for the address. Without promotion
 * each read is a load from the global's cell inside the loop.
 *
 * Semantics (WebAssembly core spec §4.4.5 `global.get`, §4.4.10 calls): inside one invocation a
 * global changes only through `global.set` or while a call runs (the callee, an import or the host
 * behind it may set it). So a global that the body never sets is copied into its local
 *  - at entry (before the first operator), and
 *  - after every call (`call`, `call_indirect`) that returns, if the global is mutable,
 * and every `global.get` of it reads the local instead. A call right before `unreachable` (asc's
 * abort) never returns there, so it needs no reload.
 *
 * Which globals: those that would win a pin register against the function's own locals, by the
 * same weighted-use ranking as function.ts `choosePinned` (`rankPinCandidates`). A promoted global's
 * local only gains uses (its reloads), so the translator pins it; the others are left alone (a
 * local in a frame slot would cost a store per reload and save nothing).
 */
import type { Instr, ValType } from "../wasm/types.ts";
import type { ImportBinding } from "./context.ts";
import { PIN_POOL, XPIN_POOL, rankPinCandidates } from "./regalloc.ts";

const OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04, OP_END = 0x0b, OP_UNREACHABLE = 0x00;
const OP_CALL = 0x10, OP_CALL_INDIRECT = 0x11;
const OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22, OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24;

/** Weight of a use at loop depth d: 8^min(d, 4) (as function.ts choosePinned). */
function loopWeight(depth: number): number {
  return 8 ** Math.min(depth, 4);
}

function isNumeric(t: ValType): boolean {
  return t === "i32" || t === "i64" || t === "f32" || t === "f64";
}
function isFloatType(t: ValType): boolean {
  return t === "f32" || t === "f64";
}

/** The type of a key of the second scan: a local's index, or nLocals + a global's index. */
function typeOfKey(key: number, params: readonly ValType[], locals: readonly ValType[], globals: readonly { type: ValType }[]): ValType {
  const nLocals = params.length + locals.length;
  return key < nLocals ? (key < params.length ? params[key] : locals[key - params.length]) : globals[key - nLocals].type;
}
/** Appends `global.get g; local.set <g's local>` for each promoted global in `list` to `out`. */
function reload(list: number[], localOf: Map<number, number>, offset: number, out: Instr[]): void {
  for (const g of list) {
    out.push({ op: OP_GLOBAL_GET, name: "global.get", offset, index: g });
    out.push({ op: OP_LOCAL_SET, name: "local.set", offset, index: localOf.get(g)! });
  }
}
/** Global `g` may be promoted: numeric, never set in the function, read in loops, worth more than its reloads. */
function isCandidate(g: number, globals: readonly { type: ValType }[], written: boolean[], globalUses: number[], callWeight: number): boolean {
  return isNumeric(globals[g].type) && !written[g] && globalUses[g] >= 8 && globalUses[g] > 2 * callWeight;
}

/**
 * `body` with its hot unwritten globals read from new locals (appended to `locals`), or the same
 * arrays when none qualifies. `params` are the function's parameter types (local indices start
 * after them), `globals` and `importBindings` as in the module context (context.ts).
 */
export function promoteGlobals(
  params: readonly ValType[],
  locals: ValType[],
  body: Instr[],
  globals: readonly { type: ValType; mutable: boolean }[],
  importBindings: readonly ImportBinding[],
): { locals: ValType[]; body: Instr[] } {
  // First scan, globals only: weighted reads, which are set, the weight of calls. Most functions
  // stop here.
  const nLocals = params.length + locals.length;
  const globalUses = new Array<number>(globals.length).fill(0);
  const written = new Array<boolean>(globals.length).fill(false);
  let importCallWeight = 0; // calls that make pinned locals reload (function.ts choosePinned)
  let callWeight = 0; // calls after which a promoted mutable global reloads
  const nest: boolean[] = [];
  let loops = 0;
  for (let k = 0; k < body.length; k++) {
    const ins = body[k];
    switch (ins.op) {
      case OP_BLOCK: case OP_IF: nest.push(false); break;
      case OP_LOOP: nest.push(true); loops++; break;
      case OP_END: if (nest.pop()) loops--; break;
      case OP_GLOBAL_GET: globalUses[ins.index!] += loopWeight(loops); break;
      case OP_GLOBAL_SET: written[ins.index!] = true; break;
      case OP_CALL: case OP_CALL_INDIRECT: {
        if (body[k + 1]?.op === OP_UNREACHABLE) break;
        const w = loopWeight(loops);
        callWeight += w;
        if (ins.op === OP_CALL_INDIRECT || (ins.index! < importBindings.length && importBindings[ins.index!].kind !== "intrinsic")) importCallWeight += w;
        break;
      }
    }
  }
  // Candidates: numeric, unwritten, read in loops, worth more than their reloads.
  let any = false;
  for (let g = 0; g < globals.length && !any; g++) any = isCandidate(g, globals, written, globalUses, callWeight);
  if (!any) return { locals, body };

  // Second scan: the locals' weighted uses (as choosePinned counts them) and the first-use order
  // of locals and candidate globals (key: a local's index, or nLocals + a global's index).
  const uses = new Array<number>(nLocals + globals.length).fill(0);
  const used: number[] = [];
  loops = 0;
  for (let k = 0; k < body.length; k++) {
    const ins = body[k];
    let key: number;
    switch (ins.op) {
      case OP_BLOCK: case OP_IF: nest.push(false); continue;
      case OP_LOOP: nest.push(true); loops++; continue;
      case OP_END: if (nest.pop()) loops--; continue;
      case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: key = ins.index!; break;
      case OP_GLOBAL_GET: if (!isCandidate(ins.index!, globals, written, globalUses, callWeight)) continue; key = nLocals + ins.index!; break;
      default: continue;
    }
    if (!isNumeric(typeOfKey(key, params, locals, globals))) continue;
    if (uses[key] === 0) used.push(key);
    uses[key] += loopWeight(loops);
  }

  // The candidates that win a pin register against the locals (same ranking as choosePinned).
  let ints = 0, floats = 0;
  const promoted: number[] = [];
  for (const key of rankPinCandidates(used, (key) => uses[key], importCallWeight)) {
    const float = isFloatType(typeOfKey(key, params, locals, globals));
    if (float ? floats++ >= XPIN_POOL.length : ints++ >= PIN_POOL.length) continue;
    if (key >= nLocals) promoted.push(key - nLocals);
  }
  if (promoted.length === 0) return { locals, body };

  // The rewrite: reloads at entry and after calls, global.get -> local.get.
  const localOf = new Map<number, number>();
  const newLocals = locals.slice();
  for (const g of promoted) {
    localOf.set(g, nLocals + newLocals.length - locals.length);
    newLocals.push(globals[g].type);
  }
  const mutable = promoted.filter((g) => globals[g].mutable);
  const out: Instr[] = [];
  reload(promoted, localOf, body[0]?.offset ?? 0, out);
  for (let k = 0; k < body.length; k++) {
    const ins = body[k];
    const l = ins.op === OP_GLOBAL_GET ? localOf.get(ins.index!) : undefined;
    if (l !== undefined) {
      out.push({ op: OP_LOCAL_GET, name: "local.get", offset: ins.offset, index: l });
      continue;
    }
    out.push(ins);
    if ((ins.op === OP_CALL || ins.op === OP_CALL_INDIRECT) && body[k + 1]?.op !== OP_UNREACHABLE) reload(mutable, localOf, ins.offset, out);
  }
  return { locals: newLocals, body: out };
}
