/**
 * Differential harness: the same wasm module run under V8 (Node's WebAssembly) and on bare metal
 * (translated, booted under QEMU), with the same host imports (tools/link/ABI.md), giving
 * comparable { output, status } records.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { buildGuestImage, buildHostedImage, type BuildOptions } from "../../tools/link/build.ts";
import type { TierStats } from "../../tools/translate/module.ts";
import { runQemu } from "../../tools/qemu/runner.ts";

export interface RunResult {
  /** Guest output lines (the kernel's own log lines removed). */
  output: string[];
  status: number | null;
  /** Full serial text (metal) for diagnostics. */
  raw: string;
}

function readString(mem: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "null";
  const dv = new DataView(mem.buffer);
  const len = dv.getUint32(ptr - 4, true);
  let s = "";
  for (let i = 0; i < len; i += 2) s += String.fromCharCode(dv.getUint16(ptr + i, true));
  return s;
}

/** Map V8's RuntimeError messages to the spec's trap names (ABI.md). */
export function v8TrapKind(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /call stack/i.test(m)) return "call stack exhausted";
  if (/unreachable/.test(m)) return "unreachable";
  if (/divide by zero|remainder by zero/.test(m)) return "integer divide by zero";
  if (/divide result unrepresentable|integer overflow/.test(m)) return "integer overflow";
  // V8 reports NaN and out-of-range truncation alike; the spec names them apart.
  if (/float unrepresentable/.test(m)) return "invalid conversion to integer or integer overflow";
  if (/memory access out of bounds/.test(m)) return "out of bounds memory access";
  // V8 uses one message for call_indirect's index check and for table accesses.
  if (/table index is out of bounds/.test(m)) return "undefined element or out of bounds table access";
  if (/element segment (is )?out of bounds/.test(m)) return "out of bounds table access";
  if (/data segment (is )?out of bounds/.test(m)) return "out of bounds memory access";
  // V8 uses one message for both; the harness treats them as one kind.
  if (/null function|signature mismatch/.test(m)) return "uninitialized element or indirect call type mismatch";
  return `unknown (${m})`;
}

class Exit extends Error {
  constructor(readonly status: number) { super(`exit ${status}`); }
}

export async function runOnV8(wasm: Uint8Array): Promise<RunResult> {
  const output: string[] = [];
  let memory: WebAssembly.Memory | undefined;
  const env = {
    abort(msg: number, file: number, line: number, col: number) {
      output.push(`abort: ${readString(memory!, msg)} at ${readString(memory!, file)}:${line}:${col}`);
      throw new Exit(1);
    },
    trace(msg: number, n: number, ...args: number[]) {
      output.push([readString(memory!, msg), ...args.slice(0, n).map((x) => String(x))].join(" "));
    },
    seed() { return Date.now(); },
  };
  // The spec suite's host module (tools/link/spectest.ts binds the same on bare metal).
  const spectest = {
    global_i32: new WebAssembly.Global({ value: "i32" }, 666),
    global_i64: new WebAssembly.Global({ value: "i64" }, 666n),
    global_f32: new WebAssembly.Global({ value: "f32" }, 666.6),
    global_f64: new WebAssembly.Global({ value: "f64" }, 666.6),
    table: new WebAssembly.Table({ initial: 10, maximum: 20, element: "anyfunc" }),
    memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
  };
  try {
    const { instance } = (await WebAssembly.instantiate(wasm, { env, spectest })) as unknown as WebAssembly.WebAssemblyInstantiatedSource;
    memory = (Object.values(instance.exports).find((x) => x instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined) ??
      spectest.memory;
    for (const name of ["_start", "main"]) {
      const f = instance.exports[name];
      if (typeof f === "function") (f as () => void)();
    }
    return { output, status: 0, raw: output.join("\n") };
  } catch (e) {
    if (e instanceof Exit) return { output, status: e.status, raw: output.join("\n") };
    output.push(`trap: ${v8TrapKind(e)}`);
    return { output, status: 2, raw: output.join("\n") };
  }
}

/** Lines the kernel itself prints (log lines with a timestamp, the panic screen's indented lines). */
const KERNEL_LINE = /^\[\s*\d+\.\d+\]|^\s+\S/;

/** The same trap as V8 reported it (V8 folds two spec kinds into one message). */
export function sameTrap(v8Line: string | undefined, metalLine: string | undefined): boolean {
  if (v8Line === metalLine) return true;
  const folds: [RegExp, string][] = [
    [/^trap: (uninitialized element|indirect call type mismatch)$/, "uninitialized element or indirect call type mismatch"],
    [/^trap: (invalid conversion to integer|integer overflow)$/, "invalid conversion to integer or integer overflow"],
    [/^trap: (undefined element|out of bounds table access)$/, "undefined element or out of bounds table access"],
  ];
  for (const [re, folded] of folds) if (metalLine && re.test(metalLine) && v8Line === `trap: ${folded}`) return true;
  return false;
}

/** `cpu`: QEMU's CPU model (default "max"; "qemu64" has no SSE4.1, for the software rounding paths). */
export async function runOnMetal(wasm: Uint8Array, timeoutMs = 30_000, opts: BuildOptions = {}, cpu?: string): Promise<RunResult> {
  const image = await buildGuestImage(wasm, undefined, opts);
  const dir = mkdtempSync(join(tmpdir(), "diff-"));
  try {
    const elf = join(dir, "guest.elf");
    writeFileSync(elf, image.elf);
    const r = await runQemu({ kernel: elf, machine: "microvm", memory: "512M", timeoutMs, cpu });
    const lines = r.serial.replace(/\r/g, "").split("\n").filter((l) => l.length > 0);
    return { output: lines.filter((l) => !KERNEL_LINE.test(l)), status: r.timedOut ? -1 : r.status, raw: r.serial };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The module translated for the hosted Linux target (build options `opts`) and run as a process;
 *  `functions` says how many of the defined functions the quick tier took. */
export async function runOnHosted(wasm: Uint8Array, opts: BuildOptions = {}, timeoutMs = 30_000): Promise<RunResult & { functions: TierStats }> {
  const image = await buildHostedImage(wasm, undefined, opts);
  const dir = mkdtempSync(join(tmpdir(), "hosted-"));
  try {
    const exe = join(dir, "guest");
    writeFileSync(exe, image.elf);
    chmodSync(exe, 0o755);
    const r = spawnSync(exe, [], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
    const lines = r.stdout.split("\n").filter((l) => l.length > 0);
    const status = r.error || r.signal ? -1 : r.status;
    return { output: lines.filter((l) => !KERNEL_LINE.test(l)), status, raw: r.stdout + r.stderr, functions: image.functions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function watToWasm(wat: string, names = true): Promise<Uint8Array> {
  const wabt = await (await import("wabt")).default();
  const m = wabt.parseWat("t.wat", wat, { multi_value: true, bulk_memory: true, sign_extension: true, sat_float_to_int: true, reference_types: true });
  try {
    return new Uint8Array(m.toBinary({ write_debug_names: names }).buffer);
  } finally {
    m.destroy();
  }
}
