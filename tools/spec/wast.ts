/**
 * The WebAssembly core test suite on disk and its conversion to JSON + binary modules with
 * Debian's `wast2json` (wabt), shared by the reader/validator conformance test and the spec runner.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The suite lives beside the repository (../shared/wasm-spec-testsuite); SPEC_TESTSUITE overrides. */
export const SPEC_DIR =
  process.env.SPEC_TESTSUITE ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../../shared/wasm-spec-testsuite");

/** Every .wast of the suite except the SIMD ones (SIMD is not supported), sorted. */
export function specFiles(): string[] {
  return readdirSync(SPEC_DIR).filter((f) => f.endsWith(".wast") && !f.startsWith("simd_")).sort();
}

/**
 * wast2json into `json` (modules next to it). Debian's wast2json (wabt 1.0.32) predates the
 * text-format rule that `table.get`/`set`/`size`/`grow`/`fill` may omit the table index; when it
 * fails, retry with an explicit `0` inserted (a patched copy written to `dir`).
 */
export function wast2json(wastPath: string, json: string, dir: string): void {
  try {
    execFileSync("wast2json", ["--no-check", wastPath, "-o", json], { stdio: "pipe" });
  } catch {
    const text = readFileSync(wastPath, "utf8").replace(/\b(table\.(?:get|set|size|grow|fill))(?=\s*[()])/g, "$1 0");
    const patched = join(dir, "patched.wast");
    writeFileSync(patched, text);
    execFileSync("wast2json", ["--no-check", patched, "-o", json], { stdio: "pipe" });
  }
}
