/**
 * tools/wasm: reading and validating WebAssembly 2.0 binaries on the host.
 *
 * This folder is the translator's front door. `readModule` (reader.ts) turns bytes into a plain
 * `WasmModule` (types.ts): every section decoded, function bodies as flat instruction lists with
 * byte offsets, constants kept as exact integers or raw float bits. It enforces the binary format
 * (spec ch. 5) and nothing more, so a malformed module and an invalid one fail in different
 * places with the spec test suite's wording. `validateModule` (validate.ts) then applies the
 * typing rules of spec ch. 3 with the appendix's stack algorithm, so the translator may assume
 * every operand type, label and index it meets is correct. The opcode table (opcodes.ts) is data:
 * names, immediate kinds, the proposal each opcode came from, and fixed operand types; both the
 * reader and the validator are driven by it, and a translator uses it to refuse what it does not
 * implement by name ("unsupported operator: v128.load").
 *
 * Imports: nothing outside this folder (no Node APIs either), so the same code can run anywhere.
 * Tests: test/wasm (golden modules via wabt's wat2wasm, LEB128 edge cases, and the spec suite).
 */
export * from "./types.ts";
export { OPCODES, OPCODE_INFO, opInfo } from "./opcodes.ts";
export type { Feature, ImmKind, OpInfo } from "./opcodes.ts";
export { MAX_LOCALS, readModule, WasmError } from "./reader.ts";
export { blockSignature, funcType, importedFuncCount, validateModule } from "./validate.ts";
