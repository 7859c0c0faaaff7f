/**
 * Conformance: the WebAssembly spec test suite's module commands (see spec-suite.ts for the rules).
 * SIMD files (simd_*.wast) are skipped; everything else must pass.
 */
import { afterAll, describe, expect, it } from "vitest";
import { runSpecFile, specFiles } from "./spec-suite.ts";

describe("WebAssembly spec test suite (reader + validator)", () => {
  let passed = 0;
  const files = specFiles();
  afterAll(() => console.log(`spec suite: ${files.length} files, ${passed} module commands passed`));
  it.each(files)("%s", (file) => {
    const r = runSpecFile(file);
    passed += r.passed;
    expect(r.failures).toEqual([]);
  });
});
