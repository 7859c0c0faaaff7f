/**
 * What the function translator needs to know about the module and the image it is going into:
 * where globals, tables and memory state live, how imports are bound, where the trap stubs are.
 * Built by `module.ts`; addresses are assembler labels resolved by the linker.
 */
import { Label, type Assembler } from "../x86/assembler.ts";
import type { FuncType, GlobalType, ValType, WasmModule } from "../wasm/types.ts";
import type { TrapKind } from "./traps.ts";
import type { BulkMemory } from "./bulk.ts";

/** How an import is satisfied (tools/link/ABI.md "Import bindings"). */
export type ImportBinding =
  | { kind: "intrinsic"; module: string; name: string } // expanded inline (intrinsics.ts)
  | { kind: "call"; target: Label } // an ordinary call under the ABI (another module's function)
  /** An imported global: the provider's 8-byte cell (value bits as in a frame slot). */
  | { kind: "global"; cell: Label }
  /** An imported table of the provider's current size `min` and limit `max`. With `storage`, the
   *  provider owns the entries/size cells (shared table); without, the importing module allocates
   *  them (all null). */
  | { kind: "table"; min: number; max?: number; storage?: TableConfig }
  /** An imported memory of `min` pages now and at most `max`. With `storage` it is the provider's
   *  (shared: its base and size cells; active data is then written by the instantiation function),
   *  else placed where ModuleOptions.memory says. */
  | { kind: "memory"; min: number; max?: number; storage?: MemoryConfig };

export type MemoryMode = "identity" | "sandbox" | "guarded";

/** Address space a guarded memory owns: a zero-extended i32 address plus a u32 offset stays below
 *  8 GiB, and an access of up to 8 bytes starting below it ends in the next 64 KiB (guard). */
export const GUARDED_REGION = 2 ** 33 + 65536;

export interface MemoryConfig {
  /** identity: address = zext(addr) + offset, unchecked (the kernel's own module).
   *  sandbox: address = base + zext(addr) + offset, checked against the current size (bare metal).
   *  guarded: address = base + zext(addr) + offset, unchecked: the memory owns GUARDED_REGION bytes
   *  of address space at `base`, inaccessible beyond the current size, so an access out of bounds
   *  faults and the linker's fault handler turns that into trap 5 (hosted Linux target,
   *  tools/link/hosted-faults.ts). memory.grow makes the new pages accessible with mprotect(2).
   *  Bulk operators (memory.fill/copy/init) check their range in both checked modes: they must
   *  trap before writing anything. */
  mode: MemoryMode;
  /** Physical address of wasm address 0. */
  base: number;
  /** u64 cell: current size in pages. */
  pages: Label;
  /** u64 cell: current size in bytes (what the sandbox bounds check compares against). */
  bytes: Label;
  /** memory.grow fails beyond this many pages. */
  maxPages: number;
}

export interface TableConfig {
  /** Entries of 8 bytes: a reference value (ABI.md "References"; 0 = null). */
  entries: Label;
  /** u64 cell: current number of entries. */
  size: Label;
  /** Room for this many entries: table.grow fails beyond it. */
  capacity: number;
  /** funcref or externref. */
  elem: ValType;
}

export interface ModuleContext {
  mod: WasmModule;
  /** Prefix for diagnostics ("kernel", "guest"). */
  name: string;
  memory: MemoryConfig | null;
  /** Label of every function in the index space; undefined for intrinsic imports. */
  funcLabels: (Label | undefined)[];
  /** Binding of every imported function (index < number of imported functions). */
  importBindings: ImportBinding[];
  /** Type of every function in the index space (funcType, looked up once). */
  funcTypes: FuncType[];
  /** 8-byte cell of every global (global index space: imports first). */
  globals: Label[];
  /** Type and mutability of every global (the same index space). */
  globalTypes: GlobalType[];
  /** Every table (table index space: imports first). */
  tables: TableConfig[];
  /** Per element segment: its items (8-byte references) and a u64 cell with its current length. */
  elemSegments: { items: Label; length: Label }[];
  /** Per data segment: address of its bytes and a u64 cell with its current length (0 once dropped). */
  dataSegments: { bytes: Label; length: Label }[];
  /** Canonical signature id per type index (equal function types share an id). */
  sigIds: number[];
  /** Global trap stubs, one per kind (called, never jumped to). */
  traps: Map<TrapKind, Label>;
  /** Results 1..n-1 of a multi-value call. */
  multiReturn: Label;
  /** u64 cell: non-zero when the CPU has SSE4.1 (set at boot from CPUID). */
  sse41: Label;
  /** u64 cell: lowest allowed rsp at function entry. */
  stackLimit: Label;
  /** Labels for the `image.*` intrinsics. */
  imageSymbols: Map<string, Label | number>;
  /** Float constants read straight from memory by SSE instructions (emitted with the rodata). */
  floatConstants: FloatConstants;
  /** The module's memmove/memset routines called by memory.copy/fill/init (emitted after its functions). */
  bulkMemory: BulkMemory;
}

/**
 * The module's float constants, 8 bytes each (an f32's bits in the low 4), in read-only data: an
 * SSE instruction takes one as its memory operand (`mulsd xmm2, [c]`) instead of building it in a
 * general register and moving it over (movabs + movq).
 */
export class FloatConstants {
  readonly label: Label;
  private readonly offsets = new Map<bigint, number>();
  constructor(name: string) {
    this.label = new Label(`${name}.float_constants`);
  }
  /** The address of a cell holding `bits` (a u64 pattern), as [disp32] (label + offset). */
  ref(bits: bigint): { label: Label; offset: number } {
    let o = this.offsets.get(bits);
    if (o === undefined) {
      o = 8 * this.offsets.size;
      this.offsets.set(bits, o);
    }
    return { label: this.label, offset: o };
  }
  /** The cells, in offset order (after the code that uses them, so every constant is known). */
  emit(asm: Assembler): void {
    asm.align(8, 0);
    asm.bind(this.label);
    for (const bits of this.offsets.keys()) asm.dq(bits);
  }
}
