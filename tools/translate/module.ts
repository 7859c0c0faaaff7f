/**
 * Module translator: lays out one wasm module's functions, globals, tables, memory state and data
 * segments in the image and translates every function body (function.ts).
 *
 * Instantiation (WebAssembly core spec §4.5.4) happens at link time where it can: globals get their
 * constant initial values, active element segments fill tables, active data segments become image
 * segments at their physical addresses. What cannot be done statically is refused before boot.
 */
import { Assembler, Label } from "../x86/assembler.ts";
import type { FuncType, Import, Instr, WasmModule } from "../wasm/types.ts";
import { funcType } from "../wasm/validate.ts";
import type { ImportBinding, MemoryConfig, ModuleContext, TableConfig } from "./context.ts";
import { LinkError, UnsupportedError } from "./errors.ts";
import { FunctionTranslator } from "./function.ts";
import { checkIntrinsicType, isIntrinsicModule } from "./intrinsics.ts";
import type { TrapKind } from "./traps.ts";

export const PAGE = 65536;

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
  memory: { mode: "identity" | "sandbox"; base: number; maxPages: number; bytes?: Label } | null;
  /** Binding for a non-intrinsic function import; throw UnsupportedError to refuse it. */
  resolveImport: (imp: Import) => ImportBinding;
  traps: Map<TrapKind, Label>;
  multiReturn: Label;
  stackLimit: Label;
  sse41: Label;
  imageSymbols: Map<string, Label | number>;
  signatures: SignatureTable;
}

export interface FunctionSymbol {
  name: string;
  start: Label;
  end: Label;
}

export class TranslatedModule {
  readonly ctx: ModuleContext;
  readonly functions: FunctionSymbol[] = [];
  /** Active data segments at their physical addresses. */
  readonly activeData: { addr: number; bytes: Uint8Array }[] = [];
  private readonly importCount: number;
  private readonly tableSizes: number[] = [];

  constructor(readonly mod: WasmModule, private readonly opts: ModuleOptions) {
    refuseUnsupportedShape(mod, opts.name);
    const funcImports = mod.imports.filter((i) => i.desc.kind === "func");
    this.importCount = funcImports.length;
    const importBindings = funcImports.map((imp) => {
      const ft = mod.types[(imp.desc as { typeIndex: number }).typeIndex];
      if (isIntrinsicModule(imp.module)) return { kind: "intrinsic", module: imp.module, name: imp.name } as ImportBinding;
      return opts.resolveImport(imp);
      void ft;
    });

    let memory: MemoryConfig | null = null;
    if (mod.memories.length === 1) {
      if (!opts.memory) throw new UnsupportedError(`${opts.name}: this image has no place for a linear memory`);
      memory = {
        mode: opts.memory.mode, base: opts.memory.base, maxPages: opts.memory.maxPages,
        pages: new Label(`${opts.name}.memory.pages`), bytes: opts.memory.bytes ?? new Label(`${opts.name}.memory.bytes`),
      };
      const max = mod.memories[0].max;
      if (max !== undefined) memory.maxPages = Math.min(memory.maxPages, max);
      if (mod.memories[0].min > memory.maxPages) {
        throw new LinkError(`${opts.name}: memory needs ${mod.memories[0].min} pages, this image allows ${memory.maxPages}`);
      }
    }
    const tables: TableConfig[] = mod.tables.map((t, i) => {
      this.tableSizes.push(t.limits.min);
      return { entries: new Label(`${opts.name}.table${i}`), size: new Label(`${opts.name}.table${i}.size`) };
    });

    const funcLabels: (Label | undefined)[] = [];
    importBindings.forEach((b) => funcLabels.push(b.kind === "call" ? b.target : undefined));
    mod.funcs.forEach((_, i) => funcLabels.push(new Label(this.funcName(this.importCount + i))));

    this.ctx = {
      mod,
      name: opts.name,
      memory,
      funcLabels,
      importBindings,
      globals: mod.globals.map((_, i) => new Label(`${opts.name}.global${i}`)),
      tables,
      dataSegments: mod.datas.map((_, i) => ({ bytes: new Label(`${opts.name}.data${i}`), length: new Label(`${opts.name}.data${i}.len`) })),
      sigIds: mod.types.map((t) => opts.signatures.id(t)),
      traps: opts.traps,
      multiReturn: opts.multiReturn,
      stackLimit: opts.stackLimit,
      sse41: opts.sse41,
      imageSymbols: opts.imageSymbols,
    };
    importBindings.forEach((b, i) => {
      if (b.kind === "intrinsic") checkIntrinsicType(this.ctx, b.module, b.name, funcType(mod, i));
    });
  }

  /** Name section name, else the export name, else `<module>.func[i]`. */
  funcName(index: number): string {
    const named = this.mod.names.functions.get(index);
    if (named) return named;
    const exp = this.mod.exports.find((e) => e.kind === "func" && e.index === index);
    return exp ? `${this.opts.name}.${exp.name}` : `${this.opts.name}.func[${index}]`;
  }

  /** Translate every function at the current position of `asm` (64-bit text). */
  emitCode(asm: Assembler, progress?: (done: number, total: number) => void): void {
    const mod = this.mod;
    mod.funcs.forEach((f, i) => {
      const index = this.importCount + i;
      const start = this.ctx.funcLabels[index]!;
      const end = asm.label();
      asm.align(16, 0xcc);
      asm.bind(start);
      new FunctionTranslator(asm, this.ctx, index, f.locals, f.body, this.funcName(index)).translate();
      asm.bind(end);
      this.functions.push({ name: this.funcName(index), start, end });
      if (progress && (i % 256 === 0 || i === mod.funcs.length - 1)) progress(i + 1, mod.funcs.length);
    });
  }

  /** Read-only data: bytes of the data segments (memory.init reads them). */
  emitRodata(asm: Assembler): void {
    this.mod.datas.forEach((d, i) => {
      asm.bind(this.ctx.dataSegments[i].bytes);
      asm.bytes(d.bytes);
    });
  }

  /** Writable data: globals, tables, memory state, data segment lengths. Also places active data. */
  emitData(asm: Assembler): void {
    const mod = this.mod;
    asm.align(8, 0);
    // Globals: 8-byte cells with their constant initial values (§4.5.4 step 8).
    mod.globals.forEach((g, i) => {
      asm.bind(this.ctx.globals[i]);
      this.emitConst(asm, g.init, `global ${i}`);
    });
    // Memory state.
    const m = this.ctx.memory;
    if (m) {
      const pages = mod.memories[0].min;
      asm.bind(m.pages);
      asm.dq(pages);
      asm.bind(m.bytes);
      asm.dq(pages * PAGE);
    }
    // Data segments: passive ones keep their length until data.drop; active ones are placed now
    // and count as dropped afterwards (§4.5.4 step 15).
    mod.datas.forEach((d, i) => {
      asm.bind(this.ctx.dataSegments[i].length);
      if (d.mode === "passive") {
        asm.dq(d.bytes.length);
        return;
      }
      asm.dq(0);
      if (!m) throw new LinkError(`${this.opts.name}: data segment ${i} without a memory`);
      const offset = this.constI32(d.offset!, `data segment ${i} offset`) >>> 0;
      const limit = mod.memories[0].min * PAGE;
      if (offset + d.bytes.length > limit) {
        throw new LinkError(`${this.opts.name}: data segment ${i} (${d.bytes.length} bytes at ${offset}) does not fit in memory of ${limit} bytes`);
      }
      if (d.bytes.length) this.activeData.push({ addr: m.base + offset, bytes: d.bytes });
    });
    // Tables: entries of 16 bytes (code address, signature id), filled by active element segments.
    mod.tables.forEach((t, ti) => {
      const size = this.tableSizes[ti];
      const entries: (number | undefined)[] = new Array(size).fill(undefined);
      mod.elems.forEach((e, ei) => {
        if (e.mode !== "active" || e.table !== ti) return;
        const offset = this.constI32(e.offset!, `element segment ${ei} offset`) >>> 0;
        if (offset + e.init.length > size) {
          throw new LinkError(`${this.opts.name}: element segment ${ei} does not fit in table ${ti}`);
        }
        e.init.forEach((expr, k) => {
          entries[offset + k] = this.refFunc(expr, `element segment ${ei}`);
        });
      });
      const tc = this.ctx.tables[ti];
      asm.align(8, 0);
      asm.bind(tc.size);
      asm.dq(size);
      asm.bind(tc.entries);
      for (const f of entries) {
        if (f === undefined) {
          asm.dq(0);
          asm.dq(0);
        } else {
          asm.dq(this.ctx.funcLabels[f]!);
          asm.dd(this.ctx.sigIds[this.funcTypeIndex(f)]);
          asm.dd(0);
        }
      }
    });
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

  private funcTypeIndex(f: number): number {
    if (f < this.importCount) {
      return (this.mod.imports.filter((i) => i.desc.kind === "func")[f].desc as { typeIndex: number }).typeIndex;
    }
    return this.mod.funcs[f - this.importCount].typeIndex;
  }

  private refFunc(expr: Instr[], what: string): number | undefined {
    if (expr.length === 1 && expr[0].name === "ref.func") return expr[0].index!;
    if (expr.length === 1 && expr[0].name === "ref.null") return undefined;
    throw new UnsupportedError(`${this.opts.name}: ${what}: unsupported element expression ${expr.map((e) => e.name).join(" ")}`);
  }

  private constI32(expr: Instr[], what: string): number {
    if (expr.length === 1 && expr[0].name === "i32.const") return Number(expr[0].value) | 0;
    throw new UnsupportedError(`${this.opts.name}: ${what}: only i32.const offsets are supported (got ${expr.map((e) => e.name).join(" ")})`);
  }

  private emitConst(asm: Assembler, expr: Instr[], what: string): void {
    if (expr.length !== 1) throw new UnsupportedError(`${this.opts.name}: ${what}: unsupported constant expression`);
    const e = expr[0];
    switch (e.name) {
      case "i32.const": case "f32.const": asm.dq(BigInt(Number(e.value) >>> 0)); return;
      case "i64.const": case "f64.const": asm.dq(BigInt.asUintN(64, BigInt(e.value!))); return;
      case "ref.null": asm.dq(0); return;
      case "ref.func": asm.dq(this.ctx.funcLabels[e.index!]!); return;
      case "global.get": {
        // Only earlier, defined globals (imported globals are refused up front).
        const src = this.mod.globals[e.index!];
        if (!src) throw new UnsupportedError(`${this.opts.name}: ${what}: global.get of an imported global`);
        this.emitConst(asm, src.init, what);
        return;
      }
    }
    throw new UnsupportedError(`${this.opts.name}: ${what}: unsupported constant expression ${e.name}`);
  }
}

function refuseUnsupportedShape(mod: WasmModule, name: string): void {
  for (const imp of mod.imports) {
    if (imp.desc.kind !== "func") {
      throw new UnsupportedError(`${name}: unsupported import: ${imp.module}.${imp.name} (imported ${imp.desc.kind})`);
    }
  }
  if (mod.memories.length > 1) throw new UnsupportedError(`${name}: unsupported: more than one memory`);
}
