/**
 * The sandboxed (guest) module instances of one image: each gets its own linear memory region
 * above GUEST_MEMORY_BASE, and an instance may import the functions, globals, tables and memories
 * that earlier instances export (WebAssembly core spec §4.5.2 import matching, §4.5.4
 * instantiation). Shared state is the same storage: a table imported from another instance is the
 * exporter's entries and size cell, an imported memory is the exporter's base, page and byte cells
 * (tools/link/ABI.md "Import bindings"). The `spectest` host module's table and memory are one
 * instance per image too (tools/link/spectest.ts).
 *
 *   GUEST_MEMORY_BASE ─┬─ region of instance 0's memory
 *                      ├─ region of the next memory ...            (each 64 KiB aligned)
 *                      └─ end(): the linker maps (hosted) or reserves (metal) [base, end)
 *
 * A region is the memory's maximum (capped by `maxPagesEach`) in sandbox mode (bare metal: bases
 * stay below 2 GiB), and GUARDED_REGION (8 GiB + a guard) in guarded mode (hosted: the first base
 * stays GUEST_MEMORY_BASE, a disp32; later ones are reached with movabs). In both modes the
 * memories' maxima together stay within `totalPages`, the budget of pages guests may commit.
 */
import { Assembler, Label } from "../x86/assembler.ts";
import type { FuncType, Import, WasmModule } from "../wasm/types.ts";
import { funcType } from "../wasm/validate.ts";
import { GUARDED_REGION, type ImportBinding, type MemoryConfig, type TableConfig } from "../translate/context.ts";
import { LinkError, UnsupportedError } from "../translate/errors.ts";
import { PAGE, TranslatedModule, type ModuleOptions } from "../translate/module.ts";
import { SpectestHost } from "./spectest.ts";

/** Resolves one import of `mod`; undefined passes it on (spectest, then the image's host imports). */
export type GuestResolver = (imp: Import, mod: WasmModule) => ImportBinding | undefined;

export interface GuestSpaceOptions {
  /** Explicit bounds checks (bare metal) or guard pages (hosted Linux): context.ts MemoryConfig. */
  mode: "sandbox" | "guarded";
  /** Base of the first region (sandbox bases must stay below 2 GiB: translated code adds them as disp32). */
  base: number;
  /** Pages available to all regions together. */
  totalPages: number;
  /** Pages a memory may grow to (default and upper bound of `maxPagesEach`). */
  maxPages: number;
  /** The image-wide parts of every guest's ModuleOptions. */
  module: Omit<ModuleOptions, "name" | "memory" | "resolveImport">;
  /** Byte-size cell of the first guest memory (the `image.guestMemoryBytes` symbol). */
  firstBytes: Label;
  /** The image's own imports for guests (env.abort ...), after the caller's resolver and spectest. */
  host: (imp: Import) => ImportBinding;
}

/** Current limits of a shared table or memory as an importer sees them (§4.5.2 external types). */
interface Limits { min: number; max?: number }

/** At instantiation: the u64 `cell` (a table's size, a memory's pages) must be at least `min`. */
export interface LimitCheck { cell: Label; min: number; what: string }

/** End of the address space guarded regions may use (half the 47-bit user space of x86-64 Linux). */
const GUARDED_SPACE_END = 2 ** 46;

export class GuestSpace {
  readonly modules: TranslatedModule[] = [];
  readonly spectest: SpectestHost;
  /** Pages each new memory may grow to; a driver lowers it when many instances share the space. */
  maxPagesEach: number;
  private next: number;
  /** Pages of the memories' maxima so far (the `totalPages` budget). */
  private usedPages = 0;
  private firstBytesUsed = false;
  private readonly memoryLimits = new Map<MemoryConfig, Limits>();
  private readonly tableLimits = new Map<TableConfig, Limits>();
  private readonly checks = new Map<TranslatedModule, LimitCheck[]>();
  private pendingChecks: LimitCheck[] = [];

  constructor(private readonly opts: GuestSpaceOptions) {
    this.next = opts.base;
    this.maxPagesEach = opts.maxPages;
    this.spectest = new SpectestHost((pages) => this.allocate(pages));
  }

  /** Pages available to all guest memories together. */
  get totalPages(): number {
    return this.opts.totalPages;
  }

  /** Every memory an instance owns or imports (spectest's once bound): each has its region here. */
  memories(): MemoryConfig[] {
    return [...this.memoryLimits.keys()];
  }

  /** End of the last region (exclusive); the base when there is no guest memory. */
  end(): number {
    return this.next;
  }

  /** Translates (lays out) one more instance. Throws LinkError / UnsupportedError and then changes nothing. */
  add(mod: WasmModule, name: string, resolve?: GuestResolver): TranslatedModule {
    const declared = mod.memories[0];
    const pages = declared ? Math.max(declared.min, Math.min(this.maxPagesEach, declared.max ?? Infinity)) : 0;
    const base = this.next;
    if (declared && !this.fits(pages)) throw new UnsupportedError(`${name}: no room for another guest memory of ${pages} pages`);
    const bindings: ImportBinding[] = [];
    this.pendingChecks = [];
    const bytes = this.firstBytesUsed ? undefined : this.opts.firstBytes;
    const t = new TranslatedModule(mod, {
      ...this.opts.module,
      name,
      memory: { mode: this.opts.mode, base, maxPages: pages || this.maxPagesEach, bytes },
      resolveImport: (imp) => {
        const b = resolve?.(imp, mod) ?? this.spectest.resolve(imp, mod) ?? this.opts.host(imp);
        bindings.push(b);
        return b;
      },
    });
    // Committed: record the external types of what this instance owns.
    for (const b of bindings) {
      if (b.kind === "table" && b.storage && !this.tableLimits.has(b.storage)) this.tableLimits.set(b.storage, { min: b.min, max: b.max });
      if (b.kind === "memory" && b.storage && !this.memoryLimits.has(b.storage)) this.memoryLimits.set(b.storage, { min: b.min, max: b.max });
    }
    const importedTables = mod.imports.filter((i) => i.desc.kind === "table").length;
    mod.tables.forEach((tt, k) => this.tableLimits.set(t.ctx.tables[importedTables + k], { min: tt.limits.min, max: tt.limits.max }));
    if (declared && t.ctx.memory) {
      this.memoryLimits.set(t.ctx.memory, { min: declared.min, max: declared.max });
      this.take(pages);
      this.firstBytesUsed = true;
    }
    if (this.pendingChecks.length) this.checks.set(t, this.pendingChecks);
    this.modules.push(t);
    return t;
  }

  /**
   * Binding of `imp` (an import of `importer`) to the export of the same name of instance `from`,
   * matched as §4.5.2 says; LinkError "unknown import" / "incompatible import type" otherwise.
   * A table or memory smaller at link time than the import's minimum may have grown by the time
   * the importer is instantiated: it is bound with that minimum and an instantiation check
   * (instantiationChecks) compares the current size then.
   */
  exportBinding(from: TranslatedModule, imp: Import, importer: WasmModule): ImportBinding {
    const e = from.mod.exports.find((x) => x.name === imp.name);
    const what = `${imp.module}.${imp.name}`;
    if (!e) throw new LinkError(`unknown import: ${what}`);
    const incompatible = (why: string) => new LinkError(`incompatible import type: ${what} (${why})`);
    const d = imp.desc;
    if (e.kind !== d.kind) throw incompatible(`it is a ${e.kind}`);
    switch (d.kind) {
      case "func": {
        const label = from.ctx.funcLabels[e.index];
        if (!label) throw new UnsupportedError(`${what} re-exports an intrinsic`);
        if (!sameFuncType(funcType(from.mod, e.index), importer.types[d.typeIndex])) throw incompatible("function type");
        return { kind: "call", target: label };
      }
      case "global": {
        const g = globalType(from.mod, e.index);
        if (g.type !== d.global.type || g.mutable !== d.global.mutable) throw incompatible(`${g.mutable ? "mut " : ""}${g.type}`);
        return { kind: "global", cell: from.ctx.globals[e.index] };
      }
      case "table": {
        const storage = from.ctx.tables[e.index];
        const lim = this.tableLimits.get(storage);
        if (!lim) throw new UnsupportedError(`${what}: a table without shared storage`);
        return { kind: "table", min: this.currentMin(lim, d.table.limits.min, storage.capacity, storage.size, what), max: lim.max, storage };
      }
      case "memory": {
        const storage = from.ctx.memory!;
        const lim = this.memoryLimits.get(storage);
        if (!lim) throw new UnsupportedError(`${what}: a memory without shared storage`);
        return { kind: "memory", min: this.currentMin(lim, d.limits.min, storage.maxPages, storage.pages, what), max: lim.max, storage };
      }
    }
  }

  /** The size to match an import's minimum `wanted` against: the link-time size, or `wanted` with
   *  a check at instantiation when growth (up to `limit`) may have made it large enough. */
  private currentMin(lim: Limits, wanted: number, limit: number, cell: Label, what: string): number {
    if (lim.min >= wanted || wanted > limit) return lim.min;
    this.pendingChecks.push({ cell, min: wanted, what });
    return wanted;
  }

  /** Whether a region for a memory of at most `pages` is left (spectest's, tiny, is not counted). */
  private fits(pages: number, counted = true): boolean {
    if (counted && this.usedPages + pages > this.opts.totalPages) return false;
    return this.opts.mode === "sandbox" || this.next + GUARDED_REGION <= GUARDED_SPACE_END;
  }

  /** Lays out the region at `next` for a memory of at most `pages`. */
  private take(pages: number): void {
    this.usedPages += pages;
    this.next += this.opts.mode === "guarded" ? GUARDED_REGION : pages * PAGE;
  }

  /** A region of `pages` for a memory that is not a module's own (spectest's). When it is the
   *  first guest memory, it takes the `image.guestMemoryBytes` cell, so host functions (env.trace)
   *  read the guest's strings from it. */
  private allocate(pages: number): { mode: "sandbox" | "guarded"; base: number; bytes?: Label } {
    const base = this.next;
    if (!this.fits(pages, false)) throw new UnsupportedError(`no room for the spectest memory of ${pages} pages`);
    this.take(pages);
    if (this.firstBytesUsed || base !== this.opts.base) return { mode: this.opts.mode, base };
    this.firstBytesUsed = true;
    return { mode: this.opts.mode, base, bytes: this.opts.firstBytes };
  }

  emitCode(asm: Assembler): void {
    for (const m of this.modules) m.emitCode(asm);
    this.spectest.emitCode(asm, this.opts.module.signatures);
  }

  /** Import limits to check when `instance` is instantiated (see exportBinding). */
  instantiationChecks(instance: TranslatedModule): LimitCheck[] {
    return this.checks.get(instance) ?? [];
  }

  emitRodata(asm: Assembler): void {
    for (const m of this.modules) m.emitRodata(asm);
  }

  emitData(asm: Assembler): void {
    for (const m of this.modules) m.emitData(asm);
    this.spectest.emitData(asm);
    if (!this.firstBytesUsed) {
      asm.align(8, 0);
      asm.bind(this.opts.firstBytes);
      asm.dq(0);
    }
  }

  /** Active data segments of every instance, in instantiation order. */
  activeData(): { addr: number; bytes: Uint8Array }[] {
    return this.modules.flatMap((m) => m.activeData);
  }

  functions(): { name: string; start: Label; end: Label }[] {
    return ([] as { name: string; start: Label; end: Label }[]).concat(...this.modules.map((m) => m.functions));
  }
}

function sameFuncType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

function globalType(m: WasmModule, index: number): { type: string; mutable: boolean } {
  const imported = m.imports.filter((i) => i.desc.kind === "global");
  if (index < imported.length) return (imported[index].desc as { global: { type: string; mutable: boolean } }).global;
  return m.globals[index - imported.length].type;
}
