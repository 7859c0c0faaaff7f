/**
 * The "spectest" host module of the WebAssembly specification test suite (its globals, table,
 * memory and print functions), as import bindings for the linker: one instance per image, so every
 * module importing its table or memory shares the same storage.
 * Values: WebAssembly spec interpreter, `interpreter/host/spectest.ml` (global_i32 = 666,
 * global_i64 = 666, global_f32 = 666.6, global_f64 = 666.6, table 10..20 funcref, memory 1..2).
 * Binding shapes: tools/link/ABI.md "Import bindings".
 */
import { Assembler, Label } from "../x86/assembler.ts";
import type { Import, ValType, WasmModule } from "../wasm/types.ts";
import type { ImportBinding, MemoryConfig, MemoryMode, TableConfig } from "../translate/context.ts";
import { LinkError } from "../translate/errors.ts";
import { PAGE, type SignatureTable } from "../translate/module.ts";

function f32Bits(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v, true);
  return BigInt(dv.getUint32(0, true));
}
function f64Bits(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, true);
  return dv.getBigUint64(0, true);
}

const GLOBALS: Record<string, { type: ValType; bits: bigint }> = {
  global_i32: { type: "i32", bits: 666n },
  global_i64: { type: "i64", bits: 666n },
  global_f32: { type: "f32", bits: f32Bits(666.6) },
  global_f64: { type: "f64", bits: f64Bits(666.6) },
};

/** spectest's print functions: parameter types (no results). */
export const SPECTEST_PRINTS: Record<string, ValType[]> = {
  print: [], print_i32: ["i32"], print_i64: ["i64"], print_f32: ["f32"], print_f64: ["f64"],
  print_i32_f32: ["i32", "f32"], print_f64_f64: ["f64", "f64"],
};

const TABLE = { min: 10, max: 20 };
const MEMORY = { min: 1, max: 2 };

export class SpectestHost {
  private readonly cells = new Map<string, Label>();
  private table: TableConfig | undefined;
  private memory: MemoryConfig | undefined;
  /** Provide the print functions (bare `ret`s: their output is not checked); else they are refused. */
  prints = false;
  private readonly printStubs = new Map<string, Label>();

  /** `allocate(pages)` returns the mode and base of a new memory region, and the byte-size cell to
   *  use when that region is the image's first guest memory (what host functions read). */
  constructor(private readonly allocate: (pages: number) => { mode: MemoryMode; base: number; bytes?: Label }) {}

  /** Binding for a `spectest` import; undefined for other modules and unknown names. LinkError for
   *  a mismatched type (§4.5.2). */
  resolve(imp: Import, importer: WasmModule): ImportBinding | undefined {
    if (imp.module !== "spectest") return undefined;
    const d = imp.desc;
    const bad = (why: string) => new LinkError(`incompatible import type: spectest.${imp.name} (${why})`);
    if (d.kind === "func" && this.prints && imp.name in SPECTEST_PRINTS) {
      const params = SPECTEST_PRINTS[imp.name];
      const ft = importer.types[d.typeIndex];
      if (ft.results.length || ft.params.join() !== params.join()) throw bad(`it is (${params.join(" ")}) -> ()`);
      let target = this.printStubs.get(imp.name);
      if (!target) this.printStubs.set(imp.name, (target = new Label(`spectest.${imp.name}`)));
      return { kind: "call", target };
    }
    if (d.kind === "global" && imp.name in GLOBALS) {
      const g = GLOBALS[imp.name];
      if (d.global.type !== g.type || d.global.mutable) throw bad(`it is an immutable ${g.type}`);
      let cell = this.cells.get(imp.name);
      if (!cell) this.cells.set(imp.name, (cell = new Label(`spectest.${imp.name}`)));
      return { kind: "global", cell };
    }
    if (d.kind === "table" && imp.name === "table") {
      if (d.table.elem !== "funcref") throw bad("it is a table of funcref");
      this.table ??= { entries: new Label("spectest.table"), size: new Label("spectest.table.size"), capacity: TABLE.max, elem: "funcref" };
      return { kind: "table", ...TABLE, storage: this.table };
    }
    if (d.kind === "memory" && imp.name === "memory") {
      if (!this.memory) {
        const region = this.allocate(MEMORY.max);
        this.memory = {
          mode: region.mode, base: region.base, maxPages: MEMORY.max,
          pages: new Label("spectest.memory.pages"), bytes: region.bytes ?? new Label("spectest.memory.bytes"),
        };
      }
      return { kind: "memory", ...MEMORY, storage: this.memory };
    }
    return undefined;
  }

  /** The print functions handed out, each with its signature id before its entry (a funcref may
   *  point at it: ABI.md "References and tables"). */
  emitCode(asm: Assembler, signatures: SignatureTable): void {
    for (const [name, label] of this.printStubs) {
      while (asm.here % 16 !== 8) asm.db(0xcc);
      asm.dd(signatures.id({ params: SPECTEST_PRINTS[name], results: [] }));
      asm.dd(0);
      asm.bind(label);
      asm.ret();
    }
  }

  /** The global cells, the table and the memory state handed out (writable data). */
  emitData(asm: Assembler): void {
    asm.align(8, 0);
    for (const [name, label] of this.cells) {
      asm.bind(label);
      asm.dq(GLOBALS[name].bits);
    }
    if (this.table) {
      asm.bind(this.table.size);
      asm.dq(TABLE.min);
      asm.bind(this.table.entries);
      for (let i = 0; i < this.table.capacity; i++) asm.dq(0);
    }
    if (this.memory) {
      asm.bind(this.memory.pages);
      asm.dq(MEMORY.min);
      asm.bind(this.memory.bytes);
      asm.dq(MEMORY.min * PAGE);
    }
  }
}
