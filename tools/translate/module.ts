/**
 * Module translator: lays out one wasm module's functions, globals, tables, memory state and data
 * segments in the image and translates every function body (function.ts).
 *
 * Instantiation (WebAssembly core spec §4.5.4) happens at link time where it can: globals get their
 * constant initial values, active element segments fill tables, active data segments become image
 * segments at their physical addresses. The rest runs in the module's instantiation function, which
 * the linker calls before the start function: globals initialised from imported globals, and every
 * active segment from the first one that is not static (offset read from an imported global, an
 * imported shared table, or statically out of bounds: the bounds check then traps at run time,
 * after the earlier segments were applied, as the spec orders it). Imports of globals, tables and
 * memories are bound by `ModuleOptions.resolveImport` (shapes: context.ts, tools/link/ABI.md).
 *
 * Each function body goes through five pre-passes, in this order, before the one-pass translator
 * (function.ts) emits it: small callees inlined (inline.ts), hot globals given pinned locals
 * (promote.ts, which needs the inlined bodies to see every global.set), loops that only store
 * checked array elements versioned to read array lengths loaded before them (hoist.ts, which needs
 * the accessors inlined to see the checks; not for the identity-mapped kernel memory), trap checks
 * already made dropped (checks.ts, which sees the promoted locals, so a promoted array's checks
 * compare equal, and in a versioned copy the checks against one hoisted length), and array lengths
 * loaded again in straight-line code read from a local (loads.ts).
 *
 * With `ModuleOptions.tier` "quick", each function first goes to the quick tier (quick/function.ts:
 * one pass from its bytes, no pre-passes); only the functions it refuses take the path above.
 */
import { Assembler, Label } from "../x86/assembler.ts";
import type { FuncType, Import, Instr, Limits, ValType, WasmModule } from "../wasm/types.ts";
import { funcType } from "../wasm/validate.ts";
import { FloatConstants, type ImportBinding, type MemoryConfig, type MemoryMode, type ModuleContext, type TableConfig } from "./context.ts";
import { LinkError, UnsupportedError } from "./errors.ts";
import { FunctionTranslator } from "./function.ts";
import { QuickTranslator } from "./quick/function.ts";
import { BulkMemory } from "./bulk.ts";
import { Inliner } from "./inline.ts";
import { promoteGlobals } from "./promote.ts";
import { dropRepeatedChecks } from "./checks.ts";
import { reuseRepeatedLoads } from "./loads.ts";
import { versionLoops } from "./hoist.ts";
import { checkIntrinsicType, isIntrinsicModule } from "./intrinsics.ts";
import { Trap, type TrapKind } from "./traps.ts";
import { R, mem, abs } from "../x86/assembler.ts";

export const PAGE = 65536;
/** Runs of int3 bytes by length (0..15): the padding before a function's header. */
const INT3_PADDING: readonly Uint8Array[] = Array.from({ length: 16 }, (_, n) => new Uint8Array(n).fill(0xcc));

/** Canonical ids for function types, shared by every module of an image (call_indirect checks). */
export class SignatureTable {
  private readonly ids = new Map<string, number>();
  id(ft: FuncType): number {
    const key = `${ft.params.join(",")}->${ft.results.join(",")}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(key, id);
    }
    return id;
  }
}

export interface ModuleOptions {
  name: string;
  /** `bytes`: the cell for the current size, when others must know it before translation. */
  memory: { mode: MemoryMode; base: number; maxPages: number; bytes?: Label } | null;
  /** Binding for a non-intrinsic import (function, global, table, memory); throw UnsupportedError
   *  to refuse it. The binding's kind must match the import's. */
  resolveImport: (imp: Import) => ImportBinding;
  traps: Map<TrapKind, Label>;
  multiReturn: Label;
  stackLimit: Label;
  sse41: Label;
  /** u64 cell: non-zero when AVX is usable (CPU and OS; `emitCpuFeatureProbe`): memory.copy's long copies use 32-byte moves. */
  avx: Label;
  imageSymbols: Map<string, Label | number>;
  signatures: SignatureTable;
  /** Entries a table without a (smaller) maximum can grow by; default 4096. */
  tableGrowReserve?: number;
  /** Expand calls to small functions in place (inline.ts); default true. */
  inline?: boolean;
  /** "quick": every function the quick tier takes (quick/function.ts) is translated by it in one
   *  pass, the others as usual; default "optimizing". */
  tier?: Tier;
}

/** Which translator a module's functions go through (ModuleOptions.tier). */
export type Tier = "optimizing" | "quick";

/** Functions of an image's modules: defined, translated by the quick tier, and what stopped it in the others. */
export interface TierStats { defined: number; quick: number; refusedBy: Record<string, number> }
export function tierStats(modules: TranslatedModule[]): TierStats {
  const out: TierStats = { defined: 0, quick: 0, refusedBy: {} };
  for (const m of modules) {
    out.defined += m.mod.funcs.length;
    out.quick += m.quickFunctions;
    for (const [why, n] of m.quickRefusals) out.refusedBy[why] = (out.refusedBy[why] ?? 0) + n;
  }
  return out;
}

export interface FunctionSymbol {
  name: string;
  start: Label;
  end: Label;
  /** Code of other functions inlined into this one (inline.ts), for backtraces. */
  inlined?: { name: string; start: Label; end: Label }[];
}

/** A constant expression's value: bits, a code label (ref.func), or "read imported global k". */
type ConstValue = { bits: bigint } | { func: Label } | { global: number };

/** A table whose storage this module emits (defined, or imported without provider storage). */
interface OwnedTable { index: number; min: number }

/** §4.5.2 import matching of limits: provided {min, max} against the import's declared limits. */
function limitsMatch(provided: { min: number; max?: number }, wanted: Limits): boolean {
  if (provided.min < wanted.min) return false;
  if (wanted.max === undefined) return true;
  return provided.max !== undefined && provided.max <= wanted.max;
}

export class TranslatedModule {
  readonly ctx: ModuleContext;
  readonly functions: FunctionSymbol[] = [];
  /** Active data segments at their physical addresses. */
  readonly activeData: { addr: number; bytes: Uint8Array }[] = [];
  private readonly importCount: number;
  private readonly globalImportCount: number;
  private readonly ownedTables: OwnedTable[] = [];
  private memoryMin: number = 0;
  /** The provider's memory when it is imported with storage: its cells are not ours to emit. */
  private sharedMemory: MemoryConfig | undefined;
  /** First active element / data segment applied by the instantiation function (else Infinity). */
  private elemRuntimeFrom: number = Infinity;
  private dataRuntimeFrom: number = Infinity;
  private readonly initLabel: Label | undefined;
  /** Functions the quick tier translated (ModuleOptions.tier "quick"); the rest went through the optimising tier. */
  quickFunctions = 0;
  /** Functions the quick tier refused, by what stopped it (an operator's name, "locals"). */
  readonly quickRefusals = new Map<string, number>();
  /** Export name by function index (funcName), made when first needed. */
  private exportNames: Map<number, string> | undefined;

  constructor(readonly mod: WasmModule, private readonly opts: ModuleOptions) {
    if (mod.memories.length + mod.imports.filter((i) => i.desc.kind === "memory").length > 1) {
      throw new UnsupportedError(`${opts.name}: unsupported: more than one memory`);
    }
    const reserve = opts.tableGrowReserve ?? 4096;
    const capacity = (min: number, max: number | undefined) => Math.max(min, Math.min(max ?? Infinity, min + reserve));
    const importBindings: ImportBinding[] = [];
    const globals: Label[] = [];
    const tables: TableConfig[] = [];
    let memoryLimits: { min: number; max?: number } | undefined;
    const incompatible = (imp: Import, why: string) =>
      new LinkError(`${opts.name}: incompatible import type: ${imp.module}.${imp.name} (${why})`);

    for (const imp of mod.imports) {
      const d = imp.desc;
      if (d.kind === "func" && isIntrinsicModule(imp.module)) {
        importBindings.push({ kind: "intrinsic", module: imp.module, name: imp.name });
        continue;
      }
      const b = opts.resolveImport(imp);
      if (b.kind !== d.kind && !(d.kind === "func" && b.kind === "call")) throw incompatible(imp, `bound to a ${b.kind}`);
      if (d.kind === "func") importBindings.push(b);
      else if (d.kind === "global" && b.kind === "global") globals.push(b.cell);
      else if (d.kind === "table" && b.kind === "table") {
        if (!limitsMatch(b, d.table.limits)) throw incompatible(imp, `table limits ${b.min}..${b.max ?? ""}`);
        if (b.storage) {
          if (b.storage.elem !== d.table.elem) throw incompatible(imp, `a table of ${b.storage.elem}`);
          tables.push(b.storage);
        } else {
          this.ownedTables.push({ index: tables.length, min: b.min });
          tables.push(this.tableConfig(tables.length, d.table.elem, capacity(b.min, b.max)));
        }
      } else if (d.kind === "memory" && b.kind === "memory") {
        if (!limitsMatch(b, d.limits)) throw incompatible(imp, `memory limits ${b.min}..${b.max ?? ""}`);
        memoryLimits = { min: b.min, max: b.max };
        this.sharedMemory = b.storage;
      }
    }
    this.importCount = importBindings.length;
    this.globalImportCount = globals.length;
    if (mod.memories.length === 1) memoryLimits = mod.memories[0];

    let memory: MemoryConfig | null = null;
    if (this.sharedMemory) {
      memory = this.sharedMemory;
      this.memoryMin = memoryLimits!.min;
    } else if (memoryLimits) {
      if (!opts.memory) throw new UnsupportedError(`${opts.name}: this image has no place for a linear memory`);
      memory = {
        mode: opts.memory.mode, base: opts.memory.base, maxPages: opts.memory.maxPages,
        pages: new Label(`${opts.name}.memory.pages`), bytes: opts.memory.bytes ?? new Label(`${opts.name}.memory.bytes`),
      };
      if (memoryLimits.max !== undefined) memory.maxPages = Math.min(memory.maxPages, memoryLimits.max);
      if (memoryLimits.min > memory.maxPages) {
        throw new LinkError(`${opts.name}: memory needs ${memoryLimits.min} pages, this image allows ${memory.maxPages}`);
      }
      this.memoryMin = memoryLimits.min;
    }
    mod.tables.forEach((t) => {
      this.ownedTables.push({ index: tables.length, min: t.limits.min });
      tables.push(this.tableConfig(tables.length, t.elem, capacity(t.limits.min, t.limits.max)));
    });
    mod.globals.forEach((_, i) => globals.push(new Label(`${opts.name}.global${this.globalImportCount + i}`)));

    const funcLabels: (Label | undefined)[] = [];
    importBindings.forEach((b) => funcLabels.push(b.kind === "call" ? b.target : undefined));
    mod.funcs.forEach((_, i) => funcLabels.push(new Label(this.funcName(this.importCount + i))));

    this.ctx = {
      mod,
      name: opts.name,
      memory,
      funcLabels,
      importBindings,
      funcTypes: funcLabels.map((_, i) => funcType(mod, i)),
      globals,
      globalTypes: [...mod.imports.flatMap((imp) => (imp.desc.kind === "global" ? [imp.desc.global] : [])), ...mod.globals.map((g) => g.type)],
      tables,
      elemSegments: mod.elems.map((_, i) => ({ items: new Label(`${opts.name}.elem${i}`), length: new Label(`${opts.name}.elem${i}.len`) })),
      dataSegments: mod.datas.map((_, i) => ({ bytes: new Label(`${opts.name}.data${i}`), length: new Label(`${opts.name}.data${i}.len`) })),
      sigIds: mod.types.map((t) => opts.signatures.id(t)),
      traps: opts.traps,
      multiReturn: opts.multiReturn,
      stackLimit: opts.stackLimit,
      sse41: opts.sse41,
      imageSymbols: opts.imageSymbols,
      floatConstants: new FloatConstants(opts.name),
      bulkMemory: new BulkMemory(opts.name, opts.avx),
    };
    importBindings.forEach((b, i) => {
      if (b.kind === "intrinsic") checkIntrinsicType(this.ctx, b.module, b.name, funcType(mod, i));
    });

    // Instantiation plan: which active segments can be applied at link time (a static prefix).
    const owned = new Map(this.ownedTables.map((t) => [t.index, t.min]));
    mod.elems.forEach((e, i) => {
      e.init.forEach((expr, k) => this.constValue(expr, `element segment ${i} item ${k}`));
      if (e.mode !== "active" || this.elemRuntimeFrom !== Infinity) return;
      const off = this.constValue(e.offset!, `element segment ${i} offset`);
      const size = owned.get(e.table);
      if (!("bits" in off) || size === undefined || Number(off.bits) + e.init.length > size) this.elemRuntimeFrom = i;
    });
    mod.datas.forEach((d, i) => {
      if (d.mode !== "active" || this.dataRuntimeFrom !== Infinity) return;
      const off = this.constValue(d.offset!, `data segment ${i} offset`);
      // A runtime element segment may trap: then no data segment may have been applied. A shared
      // memory is written at instantiation time, in order with whatever else uses it.
      if (this.elemRuntimeFrom !== Infinity || this.sharedMemory || !("bits" in off) || Number(off.bits) + d.bytes.length > this.memoryMin * PAGE) {
        this.dataRuntimeFrom = i;
      }
    });
    const globalInitsFromImports = mod.globals.some((g) => "global" in this.constValue(g.init, "global"));
    const elemItemsFromImports = mod.elems.some((e) => e.init.some((x) => "global" in this.constValue(x, "element")));
    if (this.elemRuntimeFrom !== Infinity || this.dataRuntimeFrom !== Infinity || globalInitsFromImports || elemItemsFromImports) {
      this.initLabel = new Label(`${opts.name}.instantiate`);
    }
  }

  private tableConfig(i: number, elem: ValType, capacity: number): TableConfig {
    return { entries: new Label(`${this.opts.name}.table${i}`), size: new Label(`${this.opts.name}.table${i}.size`), capacity, elem };
  }

  /** Name section name, else the export name, else `<module>.func[i]`. */
  funcName(index: number): string {
    const named = this.mod.names.functions.get(index);
    if (named) return named;
    if (!this.exportNames) {
      // The first export of each function (a module may export thousands: no search per function).
      this.exportNames = new Map();
      for (const e of this.mod.exports) if (e.kind === "func" && !this.exportNames.has(e.index)) this.exportNames.set(e.index, e.name);
    }
    const exported = this.exportNames.get(index);
    return exported !== undefined ? `${this.opts.name}.${exported}` : `${this.opts.name}.func[${index}]`;
  }

  /** Translate every function at the current position of `asm` (64-bit text), then the bulk
   *  memory routines they call (bulk.ts) and the instantiation function if the module needs one. Each function's entry is 16-byte aligned and
   *  preceded by its signature id (u32) and a zero u32: a funcref is the entry address (ABI.md). */
  emitCode(asm: Assembler, progress?: (done: number, total: number) => void): void {
    const mod = this.mod;
    const inliner = this.opts.inline === false ? null : new Inliner(mod);
    const ft = new FunctionTranslator(asm, this.ctx);
    const quick = this.opts.tier === "quick" && mod.bytes ? new QuickTranslator(this.ctx) : null;
    const memoryChecked = this.ctx.memory !== null && this.ctx.memory.mode !== "identity";
    mod.funcs.forEach((f, i) => {
      const index = this.importCount + i;
      const start = this.ctx.funcLabels[index]!;
      const end = asm.label();
      asm.bytes(INT3_PADDING[(24 - (asm.here % 16)) % 16]); // int3 up to an address = 8 (mod 16)
      asm.dd(this.ctx.sigIds[f.typeIndex]);
      asm.dd(0);
      asm.bind(start);
      let inlined: FunctionSymbol["inlined"] = [];
      if (quick && f.bodyEnd !== undefined && quick.translate(index, mod.bytes!, f.bodyOffset, f.bodyEnd)) {
        const c = quick.code;
        asm.placeCode(c.buf, c.n, c.fields, c.fieldAt, c.fieldKind, c.fieldLabel, c.fieldAddend);
        this.quickFunctions++;
      } else {
        if (quick) {
          const why = quick.refusal();
          this.quickRefusals.set(why, (this.quickRefusals.get(why) ?? 0) + 1);
        }
        const expanded = inliner ? inliner.expand(index, f.locals, f.body) : f;
        const promoted = promoteGlobals(this.ctx.funcTypes[index].params, expanded.locals, expanded.body, this.ctx.globalTypes, this.ctx.importBindings);
        const nParams = this.ctx.funcTypes[index].params.length;
        const versioned = versionLoops(nParams + promoted.locals.length, promoted.locals, promoted.body, memoryChecked);
        const { locals, body } = reuseRepeatedLoads(nParams + versioned.locals.length, versioned.locals, dropRepeatedChecks(versioned.body));
        ft.translate(index, locals, body, start.name, f.locals.length);
        inlined = ft.inlined.map((r) => ({ name: this.ctx.funcLabels[r.func]?.name ?? this.funcName(r.func), start: r.start, end: r.end }));
      }
      asm.bind(end);
      this.functions.push(inlined.length ? { name: start.name, start, end, inlined } : { name: start.name, start, end });
      if (progress && (i % 256 === 0 || i === mod.funcs.length - 1)) progress(i + 1, mod.funcs.length);
    });
    this.functions.push(...this.ctx.bulkMemory.emit(asm));
    if (this.initLabel) this.emitInit(asm);
  }

  /** The module's instantiation function (`() -> ()`), if it needs one; call it before the start function. */
  initFunc(): Label | undefined {
    return this.initLabel;
  }

  /** §4.5.4 steps done at run time: imported-global initialisers, then segments in order. */
  private emitInit(a: Assembler): void {
    const mod = this.mod, ctx = this.ctx;
    const start = this.initLabel!, end = a.label();
    const pads = new Map<TrapKind, Label>();
    const trap = (k: TrapKind) => {
      if (!pads.has(k)) pads.set(k, a.label());
      return pads.get(k)!;
    };
    a.align(16, 0xcc);
    a.bind(start);
    a.push(R.rbp);
    a.mov(8, R.rbp, R.rsp);
    const load = (v: ConstValue, reg: number) => {
      if ("global" in v) a.mov(8, reg, abs(ctx.globals[v.global]));
      else if ("func" in v) a.movabs(reg, v.func);
      else a.movabs(reg, v.bits);
    };
    mod.globals.forEach((g, i) => {
      const v = this.constValue(g.init, `global ${i}`);
      if (!("global" in v)) return;
      load(v, R.rax);
      a.mov(8, abs(ctx.globals[this.globalImportCount + i]), R.rax);
    });
    mod.elems.forEach((e, i) => e.init.forEach((x, k) => {
      const v = this.constValue(x, "element");
      if (!("global" in v)) return;
      load(v, R.rax);
      a.mov(8, abs(ctx.elemSegments[i].items, 8 * k), R.rax);
    }));
    a.cld();
    mod.elems.forEach((e, i) => {
      if (e.mode !== "active" || i < this.elemRuntimeFrom) return;
      const t = ctx.tables[e.table];
      load(this.constValue(e.offset!, "offset"), R.rax);
      a.mov(4, R.rax, R.rax);
      a.mov(4, R.rcx, e.init.length);
      a.lea(8, R.rdx, mem(R.rax, 0, R.rcx, 1));
      a.alu("cmp", 8, R.rdx, abs(t.size));
      a.jcc("a", trap(Trap.tableOutOfBounds));
      a.movabs(R.rdi, t.entries);
      a.lea(8, R.rdi, mem(R.rdi, 0, R.rax, 8));
      a.movabs(R.rsi, ctx.elemSegments[i].items);
      a.repMovs(8);
    });
    const m = ctx.memory;
    mod.datas.forEach((d, i) => {
      if (d.mode !== "active" || i < this.dataRuntimeFrom || !m) return;
      load(this.constValue(d.offset!, "offset"), R.rax);
      a.mov(4, R.rax, R.rax);
      a.mov(4, R.rcx, d.bytes.length);
      a.lea(8, R.rdx, mem(R.rax, 0, R.rcx, 1));
      a.alu("cmp", 8, R.rdx, abs(m.bytes));
      a.jcc("a", trap(Trap.memoryOutOfBounds));
      a.movabs(R.rdi, m.base);
      a.alu("add", 8, R.rdi, R.rax);
      a.movabs(R.rsi, ctx.dataSegments[i].bytes);
      a.repMovs(1);
    });
    a.mov(8, R.rsp, R.rbp);
    a.pop(R.rbp);
    a.ret();
    for (const [k, l] of pads) {
      a.bind(l);
      a.call(ctx.traps.get(k)!);
    }
    a.bind(end);
    this.functions.push({ name: start.name, start, end });
  }

  /** Read-only data: bytes of the data segments (memory.init and the instantiation function read them). */
  emitRodata(asm: Assembler): void {
    this.ctx.floatConstants.emit(asm);
    this.mod.datas.forEach((d, i) => {
      asm.bind(this.ctx.dataSegments[i].bytes);
      asm.bytes(d.bytes);
    });
  }

  /** Writable data: globals, tables, element segments, memory state, data segment lengths. Also
   *  places the statically applied active data. */
  emitData(asm: Assembler): void {
    const mod = this.mod, ctx = this.ctx;
    asm.align(8, 0);
    // Globals: 8-byte cells with their constant initial values (§4.5.4 step 8).
    mod.globals.forEach((g, i) => {
      asm.bind(ctx.globals[this.globalImportCount + i]);
      this.emitValue(asm, this.constValue(g.init, `global ${i}`));
    });
    // Memory state.
    const m = ctx.memory;
    if (m && !this.sharedMemory) {
      asm.bind(m.pages);
      asm.dq(this.memoryMin);
      asm.bind(m.bytes);
      asm.dq(this.memoryMin * PAGE);
    }
    // Data segments: passive ones keep their length until data.drop; active ones are applied at
    // instantiation and count as dropped afterwards (§4.5.4 step 15).
    mod.datas.forEach((d, i) => {
      asm.bind(ctx.dataSegments[i].length);
      asm.dq(d.mode === "passive" ? d.bytes.length : 0);
      if (d.mode !== "active" || i >= this.dataRuntimeFrom) return;
      if (!m) throw new LinkError(`${this.opts.name}: data segment ${i} without a memory`);
      const offset = Number((this.constValue(d.offset!, "offset") as { bits: bigint }).bits);
      if (d.bytes.length) this.activeData.push({ addr: m.base + offset, bytes: d.bytes });
    });
    // Element segments: their items (8-byte references); only passive ones keep their length.
    mod.elems.forEach((e, i) => {
      asm.bind(ctx.elemSegments[i].length);
      asm.dq(e.mode === "passive" ? e.init.length : 0);
      asm.bind(ctx.elemSegments[i].items);
      e.init.forEach((x) => this.emitValue(asm, this.constValue(x, `element segment ${i}`)));
    });
    // Tables this module owns: size cell, then `capacity` entries, filled by the static segments.
    for (const { index, min } of this.ownedTables) {
      const tc = ctx.tables[index];
      const entries: ConstValue[] = new Array(min).fill({ bits: 0n });
      mod.elems.forEach((e, ei) => {
        if (e.mode !== "active" || e.table !== index || ei >= this.elemRuntimeFrom) return;
        const offset = Number((this.constValue(e.offset!, "offset") as { bits: bigint }).bits);
        e.init.forEach((x, k) => (entries[offset + k] = this.constValue(x, `element segment ${ei}`)));
      });
      asm.bind(tc.size);
      asm.dq(min);
      asm.bind(tc.entries);
      entries.forEach((v) => this.emitValue(asm, v));
      for (let k = min; k < tc.capacity; k++) asm.dq(0);
    }
  }

  exportedFunc(name: string): { label: Label; type: FuncType } | undefined {
    const e = this.mod.exports.find((x) => x.kind === "func" && x.name === name);
    if (!e) return undefined;
    const label = this.ctx.funcLabels[e.index];
    if (!label) throw new UnsupportedError(`${this.opts.name}: export ${name} re-exports an intrinsic`);
    return { label, type: funcType(this.mod, e.index) };
  }

  startFunc(): Label | undefined {
    return this.mod.start === undefined ? undefined : this.ctx.funcLabels[this.mod.start];
  }

  private emitValue(asm: Assembler, v: ConstValue): void {
    if ("func" in v) asm.dq(v.func);
    else if ("bits" in v) asm.dq(v.bits);
    else asm.dq(0); // filled in by the instantiation function
  }

  /** §3.3.10 constant expressions: t.const, ref.null, ref.func, global.get. */
  private constValue(expr: Instr[], what: string): ConstValue {
    if (expr.length !== 1) throw new UnsupportedError(`${this.opts.name}: ${what}: unsupported constant expression ${expr.map((e) => e.name).join(" ")}`);
    const e = expr[0];
    switch (e.name) {
      case "i32.const": case "f32.const": return { bits: BigInt(Number(e.value) >>> 0) };
      case "i64.const": case "f64.const": return { bits: BigInt.asUintN(64, BigInt(e.value!)) };
      case "ref.null": return { bits: 0n };
      case "ref.func": {
        const l = this.ctx.funcLabels[e.index!];
        if (!l) throw new UnsupportedError(`${this.opts.name}: ${what}: ref.func of an intrinsic import`);
        return { func: l };
      }
      case "global.get": {
        const k = e.index!;
        if (k < this.globalImportCount) return { global: k };
        // An earlier defined global (beyond the 2.0 rules, which allow imported ones only).
        return this.constValue(this.mod.globals[k - this.globalImportCount].init, what);
      }
    }
    throw new UnsupportedError(`${this.opts.name}: ${what}: unsupported constant expression ${e.name}`);
  }
}
