/**
 * Runs the WebAssembly spec test suite's module commands through readModule and validateModule.
 * Each .wast is converted by Debian's `wast2json` (wabt) into a temp dir; then:
 *   - `module` (binary), `assert_unlinkable`, `assert_uninstantiable`: must be read and validated;
 *   - `assert_malformed` with a binary module: readModule must throw WasmError;
 *   - `assert_invalid`: readModule must accept and validateModule must throw WasmError.
 * Text-format `assert_malformed` modules are out of scope (they test the text parser).
 *
 * Usable as a script for a full report: npm run ts -- test/wasm/spec-suite.ts [file.wast ...]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { readModule, WasmError } from "../../tools/wasm/reader.ts";
import { validateModule } from "../../tools/wasm/validate.ts";
import { SPEC_DIR, specFiles, wast2json } from "../../tools/spec/wast.ts";
export { SPEC_DIR, specFiles };

export interface SpecResult {
  file: string;
  passed: number;
  /** Passed commands per kind: module, assert_malformed, assert_invalid, ... */
  byKind: Record<string, number>;
  failures: string[];
}

interface Command {
  type: string;
  line: number;
  filename?: string;
  module_type?: "binary" | "text";
  text?: string;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function runSpecFile(wastFile: string): SpecResult {
  const dir = mkdtempSync(join(tmpdir(), "wasm-spec-"));
  const result: SpecResult = { file: wastFile, passed: 0, byKind: {}, failures: [] };
  try {
    const json = join(dir, "out.json");
    try {
      wast2json(join(SPEC_DIR, wastFile), json, dir);
    } catch (e) {
      result.failures.push(`wast2json failed: ${describe((e as { stderr?: Buffer }).stderr?.toString() ?? e)}`);
      return result;
    }
    const spec = JSON.parse(readFileSync(json, "utf8")) as { commands: Command[] };
    for (const cmd of spec.commands) {
      if (!cmd.filename || cmd.module_type === "text") continue;
      const where = `${wastFile}:${cmd.line} ${cmd.type}`;
      const bytes = new Uint8Array(readFileSync(join(dir, cmd.filename)));
      const before = result.passed;
      switch (cmd.type) {
        case "module":
        case "assert_unlinkable":
        case "assert_uninstantiable":
        case "assert_trap": // a module-level assert_trap (start function traps)
          try {
            validateModule(readModule(bytes));
            result.passed++;
          } catch (e) {
            result.failures.push(`${where}: rejected a valid module: ${describe(e)}`);
          }
          break;
        case "assert_malformed":
          try {
            readModule(bytes);
            result.failures.push(`${where}: accepted a malformed module (expected "${cmd.text}")`);
          } catch (e) {
            if (e instanceof WasmError) result.passed++;
            else result.failures.push(`${where}: crashed: ${describe(e)}`);
          }
          break;
        case "assert_invalid": {
          let m;
          try {
            m = readModule(bytes);
          } catch (e) {
            // wast2json omits the data count section when a module has no data segments, which
            // turns the suite's "unknown data segment" modules malformed; rejecting them is right.
            if (e instanceof WasmError && e.reason === "data count section required") {
              result.passed++;
              break;
            }
            result.failures.push(`${where}: reader rejected an invalid (not malformed) module (expected "${cmd.text}"): ${describe(e)}`);
            break;
          }
          try {
            validateModule(m);
            result.failures.push(`${where}: accepted an invalid module (expected "${cmd.text}")`);
          } catch (e) {
            if (e instanceof WasmError) result.passed++;
            else result.failures.push(`${where}: crashed: ${describe(e)}`);
          }
          break;
        }
      }
      if (result.passed > before) result.byKind[cmd.type] = (result.byKind[cmd.type] ?? 0) + 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (process.argv[1] && basename(process.argv[1]) === "spec-suite.ts") {
  const files = process.argv.length > 2 ? process.argv.slice(2) : specFiles();
  let passed = 0;
  let failed = 0;
  const byKind: Record<string, number> = {};
  for (const f of files) {
    const r = runSpecFile(f);
    passed += r.passed;
    for (const [k, n] of Object.entries(r.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
    failed += r.failures.length;
    for (const msg of r.failures) console.log(msg);
  }
  console.log(`${files.length} files: ${passed} passed, ${failed} failed`, byKind);
}
