/**
 * Compile step: AssemblyScript sources -> one WebAssembly module, through asc's JS API.
 *
 * Three products:
 *  - `compileKernelApp(appDir)`: kernel/start.ts + <appDir>/main.ts as one module (the bare-metal
 *    kernel module: identity memory from address 0, static data at KERNEL_MEMORY_BASE).
 *  - `compileWasmHost()`: kernel/wasm-host.ts, the kernel module of `npm run wasm` images.
 *  - `compileSnippet(source)`: an ordinary guest module (imports env.abort / env.trace as usual),
 *    for translator differential tests.
 *
 * Kernel flags (see kernelAscFlags): `--runtime kernel/runtime/rt` (the kernel's own runtime: page
 * allocator over the memory map, TLSF heap, buffer pools; no GC), `--memoryBase 4194304`, `--debug` (keeps the name section for
 * backtraces; optimisation still runs), `--optimizeLevel 3 --shrinkLevel 0`, and
 * `--use abort=kernel/panic/abort` so no `env.abort` import exists. `--exportStart` is NOT
 * passed: asc would turn the start section into an export; we keep asc's start section as a
 * start section and export our own `_start` function. Memory stays exported (as "memory"),
 * which costs nothing on bare metal and lets Node tests read it.
 *
 * asc reads sources through our readFile (from the project root); a top-level asconfig.json is
 * deliberately not applied (it documents the default build; this file is the build).
 */
import asc from "assemblyscript/asc";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export interface CompileResult {
  /** The module binary. */
  wasm: Uint8Array<ArrayBuffer>;
  /** Binaryen text format, when requested with `wat: true`. */
  wat?: string;
  /** asc's stdout + stderr (warnings, diagnostics). */
  log: string;
}

export interface CompileOptions {
  /** Run Binaryen's optimiser (-O3, shrink 0). Default true. */
  optimize?: boolean;
  /** Also return the text format. Default false. */
  wat?: boolean;
  /** Sources that need not exist on disk, by project-relative path (e.g. test applications). */
  files?: Record<string, string>;
}

/** `asc --memoryBase` of the kernel module (tools/link/ABI.md "Physical layout"). */
export const KERNEL_MEMORY_BASE = 0x400000;

/** Project root (this file lives in tools/build/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Internal name of the kernel's abort (file path without extension + function name). */
export const KERNEL_ABORT = "kernel/panic/abort";

/** The kernel's own AssemblyScript runtime (page allocator, TLSF heap, pools): kernel/runtime/. */
export const KERNEL_RUNTIME = "kernel/runtime/rt";
/** asc options file for kernel builds (only `stackSize: -1`, see kernelAscFlags). */
export const KERNEL_RUNTIME_CONFIG = "kernel/runtime/asconfig.kernel.json";

/** Flags shared by every kernel-module build. */
export function kernelAscFlags(optimize: boolean): string[] {
  return [
    "--runtime", KERNEL_RUNTIME,
    // asc gives any custom runtime a 32 KiB shadow stack for an incremental GC (__tostack calls on
    // managed locals) unless stackSize is non-zero. This config sets stackSize -1 ("not > 0": no
    // shadow stack), a value the command-line parser cannot express.
    "--config", KERNEL_RUNTIME_CONFIG,
    "--memoryBase", String(KERNEL_MEMORY_BASE),
    "--debug",
    ...(optimize ? ["--optimizeLevel", "3", "--shrinkLevel", "0"] : ["--optimizeLevel", "0"]),
    "--use", `abort=${KERNEL_ABORT}`,
    "--noColors",
  ];
}

/** Thrown when asc reports errors; `message` carries asc's diagnostics. */
export class CompileError extends Error {
  constructor(what: string, readonly log: string) {
    super(`asc failed to compile ${what}:\n${log.trim()}`);
    this.name = "CompileError";
  }
}

/**
 * Runs asc on `entries` (paths relative to the project root) with `flags`. `virtualFiles` maps
 * project-relative paths to sources that need not exist on disk.
 */
export async function runAsc(
  what: string,
  entries: string[],
  flags: string[],
  opts: { wat?: boolean; virtualFiles?: Record<string, string> } = {},
): Promise<CompileResult> {
  const outputs = new Map<string, Uint8Array | string>();
  const virtualFiles = opts.virtualFiles ?? {};
  const argv = [
    ...entries,
    ...flags,
    "--baseDir", PROJECT_ROOT,
    "--outFile", "out.wasm",
    ...(opts.wat ? ["--textFile", "out.wat"] : []),
  ];
  let log = "";
  const stream = {
    write(chunk: string | Uint8Array) {
      log += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    },
  };
  const result = await asc.main(argv, {
    stdout: stream as never,
    stderr: stream as never,
    readFile: async (filename: string, baseDir: string) => {
      const rel = path.relative(PROJECT_ROOT, path.resolve(baseDir, filename)).split(path.sep).join("/");
      if (Object.prototype.hasOwnProperty.call(virtualFiles, rel)) return virtualFiles[rel];
      // The top-level asconfig.json documents the build; it must not add entries or options here.
      if (path.basename(filename) === "asconfig.json") return null;
      try {
        return await readFile(path.resolve(baseDir, filename), "utf8");
      } catch {
        return null;
      }
    },
    writeFile: (filename: string, contents: Uint8Array | string) => {
      outputs.set(path.basename(filename), contents);
    },
    listFiles: () => [],
  });
  if (result.error) throw new CompileError(what, log || String(result.error.message));
  const wasm = outputs.get("out.wasm");
  if (!(wasm instanceof Uint8Array)) throw new CompileError(what, `${log}\n(no binary was emitted)`);
  const wat = outputs.get("out.wat");
  return {
    wasm: new Uint8Array(wasm), // own ArrayBuffer (asc may hand out a view of a larger buffer)
    wat: typeof wat === "string" ? wat : wat instanceof Uint8Array ? new TextDecoder().decode(wat) : undefined,
    log,
  };
}

/** Kernel + application as one module: entries kernel/start.ts and <appDir>/main.ts. */
export async function compileKernelApp(appDir: string, opts: CompileOptions = {}): Promise<CompileResult> {
  const app = appDir.replace(/\\/g, "/").replace(/\/+$/, "");
  return runAsc(`kernel + ${app}`, ["kernel/start.ts", `${app}/main.ts`], kernelAscFlags(opts.optimize ?? true), {
    wat: opts.wat,
    virtualFiles: opts.files,
  });
}

/** The kernel module of `npm run wasm` images: entry kernel/wasm-host.ts. */
export async function compileWasmHost(opts: CompileOptions = {}): Promise<CompileResult> {
  return runAsc("kernel/wasm-host.ts", ["kernel/wasm-host.ts"], kernelAscFlags(opts.optimize ?? true), {
    wat: opts.wat,
    virtualFiles: opts.files,
  });
}

export interface SnippetOptions {
  /** AssemblyScript runtime; default "stub". */
  runtime?: "stub" | "incremental" | "minimal";
  /** Default true (-O3, shrink 0). */
  optimize?: boolean;
  /** Export __new, __pin, ... (for hosts that build strings in guest memory). Default false. */
  exportRuntime?: boolean;
}

/**
 * Compiles one AssemblyScript source as an ordinary guest module (memory at 0, imports
 * env.abort / env.trace / env.seed as asc emits them, name section kept) and returns the binary.
 */
export async function compileSnippet(source: string, opts: SnippetOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const entry = "__snippet__/snippet.ts";
  const flags = [
    "--runtime", opts.runtime ?? "stub",
    "--debug",
    ...((opts.optimize ?? true) ? ["--optimizeLevel", "3", "--shrinkLevel", "0"] : ["--optimizeLevel", "0"]),
    ...(opts.exportRuntime ? ["--exportRuntime"] : []),
    "--noColors",
  ];
  const result = await runAsc("snippet", [entry], flags, { virtualFiles: { [entry]: source } });
  return result.wasm;
}
