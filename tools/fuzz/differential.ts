/**
 * Run generated modules under V8 and on bare metal and compare them line by line. A mismatch is
 * attributed to the program whose `p N` header precedes the first differing line, so it can be
 * replayed alone (`npm run ts -- tools/fuzz/cli.ts --seed S --program N`).
 */
import { runOnMetal, runOnV8, sameTrap, watToWasm, type RunResult } from "../../test/translate/harness.ts";
import { generateModule, moduleText, programText, type GenOptions, type GeneratedModule, type Program } from "./generate.ts";

export interface Mismatch {
  /** Index of the first differing output line. */
  line: number;
  /** Program printing that line (-1: before the first program). */
  program: number;
  v8: string;
  metal: string;
}

export interface Comparison<R extends RunResult = RunResult> {
  v8: RunResult;
  /** The translated side (by default on bare metal, through the optimising tier). */
  metal: R;
  mismatch?: Mismatch;
}

/** Runs a module translated (the side compared with V8). */
export type Runner<R extends RunResult = RunResult> = (wasm: Uint8Array, timeoutMs: number) => Promise<R>;
const onMetal: Runner = (wasm, timeoutMs) => runOnMetal(wasm, timeoutMs);

/** Program whose header `p N` is the last one at or before `line`. */
function programAt(output: string[], line: number): number {
  for (let i = Math.min(line, output.length - 1); i >= 0; i--) {
    const m = /^p (\d+)$/.exec(output[i]);
    if (m) return Number(m[1]);
  }
  return -1;
}

/** First difference between the two runs, or undefined when they agree (output and status). */
export function firstMismatch(v8: RunResult, metal: RunResult): Mismatch | undefined {
  const n = Math.max(v8.output.length, metal.output.length);
  for (let i = 0; i < n; i++) {
    const a = v8.output[i], b = metal.output[i];
    // After the same trap line the kernel's panic report follows (e.g. its memory statistics).
    if (a !== undefined && b !== undefined && a.startsWith("trap: ") && sameTrap(a, b) && i === v8.output.length - 1) break;
    if (a === b || (a !== undefined && b !== undefined && sameTrap(a, b))) continue;
    return { line: i, program: programAt(v8.output, i), v8: a ?? `<end, status ${v8.status}>`, metal: b ?? `<end, status ${metal.status}>` };
  }
  if (v8.status !== metal.status) {
    return { line: n, program: programAt(v8.output, n), v8: `<status ${v8.status}>`, metal: `<status ${metal.status}>` };
  }
  return undefined;
}

export async function compareWat<R extends RunResult = RunResult>(wat: string, timeoutMs = 60_000, run: Runner<R> = onMetal as Runner<R>): Promise<Comparison<R>> {
  const wasm = await watToWasm(wat);
  const v8 = await runOnV8(wasm);
  const metal = await run(wasm, timeoutMs);
  return { v8, metal, mismatch: firstMismatch(v8, metal) };
}

export interface ModuleRun<R extends RunResult = RunResult> extends Comparison<R> {
  module: GeneratedModule;
  wat: string;
}

/** Generated module `seed` (`programs` programs) under V8 and translated by `run`. */
export async function runSeed<R extends RunResult = RunResult>(seed: number, programs: number, opts: GenOptions = {}, run: Runner<R> = onMetal as Runner<R>): Promise<ModuleRun<R>> {
  const module = generateModule(seed, programs, opts);
  const wat = moduleText(module.gen, module.programs.map((program) => ({ program })));
  return { module, wat, ...(await compareWat(wat, 60_000, run)) };
}

/** A readable failure report: how to replay, the program's text, and the differing lines. */
export function describeMismatch(run: ModuleRun, opts: GenOptions = {}): string {
  const m = run.mismatch!;
  const prog: Program | undefined = run.module.programs[m.program];
  const context = (out: string[]) => out.slice(Math.max(0, m.line - 3), m.line + 3).join("\n    ");
  return [
    `fuzz mismatch: seed ${run.module.seed}, program ${m.program}, output line ${m.line}`,
    `  replay: npm run ts -- tools/fuzz/cli.ts --seed ${run.module.seed} --count 1 --programs ${run.module.programs.length}${opts.traps ? " --traps" : ""} --program ${m.program} --shrink`,
    `  v8:    ${m.v8}`,
    `  metal: ${m.metal}`,
    `  v8 lines near it:\n    ${context(run.v8.output)}`,
    `  metal lines near it:\n    ${context(run.metal.output)}`,
    prog ? `  program:\n${programText(prog)}` : "",
    run.metal.status !== 0 && run.metal.status !== run.v8.status ? `  metal serial tail:\n${run.metal.raw.slice(-3000)}` : "",
  ].join("\n");
}
