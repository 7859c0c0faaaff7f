/**
 * Runs WebAssembly core spec test scripts (.wast; spec interpreter/README "Scripts") on the hosted
 * target: all module instances of a script go into one Linux executable (or one bare-metal image),
 * linked as the script's `register` commands say (tools/link/guests.ts), and the spec driver
 * (tools/spec/driver.ts) instantiates them and performs every action against its instance, in
 * script order, in one process.
 *
 * Counted assertions: assert_return (incl. nan:canonical / nan:arithmetic), assert_trap,
 * assert_exhaustion, bare actions, module-level assert_trap / assert_uninstantiable, and
 * assert_unlinkable (a LinkError while linking: unknown import, incompatible import type).
 * assert_malformed / assert_invalid are the reader's and validator's business (test/wasm/).
 * A skip is an assertion whose module needs something the translator refuses (UnsupportedError);
 * the reason is recorded.
 *
 * Scripts are converted with Debian's wast2json (wabt): tools/spec/wast.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModule, WasmError } from "../wasm/reader.ts";
import { validateModule } from "../wasm/validate.ts";
import type { WasmModule } from "../wasm/types.ts";
import { LinkError, UnsupportedError } from "../translate/errors.ts";
import { TRAP_TEXT } from "../translate/traps.ts";
import { linkHosted } from "../link/hosted.ts";
import { linkImage } from "../link/image.ts";
import type { TranslatedModule } from "../translate/module.ts";
import type { GuestResolver } from "../link/guests.ts";
import { SpecDriver, UNLINKABLE } from "./driver.ts";
import type { Tier } from "../translate/module.ts";

import { SPEC_DIR, specFiles, wast2json } from "./wast.ts";
export { SPEC_DIR, specFiles };
/** externref N is passed as N + EXTERN_BASE (0 is null). */
const EXTERN_BASE = 1n << 32n;
const PROCESS_TIMEOUT_MS = 20_000;

export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
  /** Skip reason -> count. */
  skips: Map<string, number>;
}

interface Value { type: string; value?: string }
interface Action { type: "invoke" | "get"; module?: string; field: string; args?: Value[] }
interface Command {
  type: string;
  line: number;
  name?: string;
  filename?: string;
  module_type?: string;
  action?: Action;
  expected?: Value[];
  text?: string;
  as?: string;
}

/** What is checked about one action's outcome. */
interface Check {
  line: number;
  kind: "return" | "trap" | "action";
  action: Action;
  expected?: Value[];
  text?: string;
  /** Index of its record line. */
  record: number;
  instance: Instance;
}

function argBits(v: Value): bigint {
  if (v.type === "externref") return v.value === "null" ? 0n : BigInt(v.value!) + EXTERN_BASE;
  if (v.type === "funcref") {
    if (v.value === "null") return 0n;
    throw new UnsupportedError("funcref argument other than null");
  }
  if (v.type === "v128") throw new UnsupportedError("v128 argument (SIMD)");
  return BigInt.asUintN(64, BigInt(v.value!));
}

/** Does result bits `r` match the expected value? */
function matches(v: Value, r: bigint): boolean {
  const lo = r & 0xffffffffn;
  switch (v.type) {
    case "i32": return lo === BigInt(v.value!) ;
    case "i64": return r === BigInt.asUintN(64, BigInt(v.value!));
    case "f32":
      if (v.value === "nan:canonical") return (lo & 0x7fffffffn) === 0x7fc00000n;
      if (v.value === "nan:arithmetic") return (lo & 0x7fc00000n) === 0x7fc00000n;
      return lo === BigInt(v.value!);
    case "f64":
      if (v.value === "nan:canonical") return (r & 0x7fffffffffffffffn) === 0x7ff8000000000000n;
      if (v.value === "nan:arithmetic") return (r & 0x7ff8000000000000n) === 0x7ff8000000000000n;
      return r === BigInt(v.value!);
    case "externref": return v.value === "null" ? r === 0n : r === BigInt(v.value!) + EXTERN_BASE;
    case "funcref": return v.value === "null" ? r === 0n : r !== 0n;
    default: return false;
  }
}

function show(v: Value): string {
  return `${v.type}:${v.value ?? "?"}`;
}

/** A skip reason without function names or offsets, so equal causes count together. */
export function skipReason(e: Error): string {
  let m = e.message.replace(/^guest: /, "").replace(/ \(in .*$/, "");
  const imp = /^unsupported import: ([^.]+)\.\S+ \(imported (\w+)\)/.exec(m);
  if (imp) return `imported ${imp[2]} (${imp[1] === "spectest" ? "spectest" : "registered module"})`;
  if (/^unsupported import: /.test(m)) return "function import from a registered module";
  m = m.replace(/^(unsupported operator: \S+).*/, "$1");
  return m;
}

export interface RunOptions {
  /** The kernel module (kernel/wasm-host-linux.ts for hosted, kernel/wasm-host.ts for metal). */
  kernel: WasmModule;
  /** Run a linked image; returns stdout and a description of an abnormal end (or ""). */
  target?: "hosted" | "metal";
  /** Translator tier of the script's modules (and the kernel's); default "optimizing". */
  tier?: Tier;
  /** Runs one bare-metal image (only for target "metal"). */
  runMetal?: (elf: Uint8Array) => Promise<{ stdout: string; problem: string }>;
}

/** A module instance of the script (named, registered, or the latest one). */
interface Instance {
  line: number;
  instance?: TranslatedModule;
  /** Why its assertions are skipped (it uses something unsupported), or "failed" (reported once). */
  refused?: string;
  /** Record index of its instantiation. */
  record?: number;
}

/** Runs one .wast file (name inside SPEC_DIR, or a path) on the hosted target or on bare metal:
 *  every module instance of the script in one image, each action against its instance. */
export async function runSpecFile(file: string, opts: RunOptions): Promise<FileResult> {
  const res: FileResult = { file, passed: 0, failed: 0, skipped: 0, failures: [], skips: new Map() };
  const dir = mkdtempSync(join(tmpdir(), "spec-run-"));
  const skip = (reason: string, n = 1) => {
    res.skipped += n;
    res.skips.set(reason, (res.skips.get(reason) ?? 0) + n);
  };
  const fail = (line: number, msg: string) => {
    res.failed++;
    res.failures.push(`${file}:${line}: ${msg}`);
  };
  const t: Tally = { skip, fail, pass: () => res.passed++ };
  try {
    const json = join(dir, "out.json");
    const path = file.includes("/") ? file : join(SPEC_DIR, file);
    try {
      wast2json(path, json, dir);
    } catch (e) {
      fail(0, `wast2json failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
      return res;
    }
    const script = JSON.parse(readFileSync(json, "utf8")) as { commands: Command[] };
    const modules = new Map<string, WasmModule>();
    const load = (filename: string) => {
      let m = modules.get(filename);
      if (!m) {
        m = readModule(new Uint8Array(readFileSync(join(dir, filename))));
        validateModule(m);
        modules.set(filename, m);
      }
      return m;
    };
    const instantiated = (c: Command) =>
      c.type === "module" || c.type === "assert_uninstantiable" || c.type === "assert_unlinkable" || (c.type === "assert_trap" && !c.action);
    // Memory budget: a memory with a maximum gets it; those without share what is left (+2: spectest's).
    const declared = script.commands.filter(instantiated).flatMap((c) => load(c.filename!).memories);
    const bounded = declared.filter((m) => m.max !== undefined).reduce((n, m) => n + m.max!, 2);
    const unbounded = declared.filter((m) => m.max === undefined).length;

    const checks: Check[] = [];
    const instances: Instance[] = [];
    const mustTrap: MustFail[] = [];
    const driver = new SpecDriver((guests, d) => {
      const share = Math.floor((guests.totalPages - Math.min(bounded, guests.totalPages / 2)) / Math.max(1, unbounded));
      guests.maxPagesEach = Math.max(1, Math.min(guests.maxPagesEach, share));
      const named = new Map<string, Instance>();
      const registered = new Map<string, Instance>();
      let current: Instance | undefined;
      let count = 0;
      // §4.5.2: imports from registered instances, then the spectest host module.
      const resolve: GuestResolver = (imp, mod) => {
        const from = registered.get(imp.module);
        if (from) {
          if (!from.instance) throw new UnsupportedError(`import from a refused module: ${from.refused}`);
          return guests.exportBinding(from.instance, imp, mod);
        }
        const b = guests.spectest.resolve(imp, mod);
        if (!b) throw new LinkError(`unknown import: ${imp.module}.${imp.name}`);
        return b;
      };
      const add = (c: Command) => guests.add(load(c.filename!), `m${count++}@${c.line}`, resolve);
      for (const c of script.commands) {
        if (c.type === "module") {
          current = { line: c.line };
          instances.push(current);
          if (c.name) named.set(c.name, current);
          try {
            current.instance = add(c);
            current.record = d.instantiate(current.instance);
          } catch (e) {
            if (e instanceof UnsupportedError) current.refused = skipReason(e);
            else if (e instanceof LinkError) {
              fail(c.line, `module refused: ${e.message}`);
              current.refused = "failed";
            } else throw e;
          }
          continue;
        }
        if (c.type === "register") {
          const inst = c.name ? named.get(c.name) : current;
          if (inst) registered.set(c.as!, inst);
          continue;
        }
        if (c.type === "assert_unlinkable") {
          try {
            const inst = add(c);
            // Linked against a table or memory that may have grown: its size decides at run time.
            if (guests.instantiationChecks(inst).length) mustTrap.push({ line: c.line, record: d.instantiate(inst), text: c.text, unlinkable: true });
            else fail(c.line, `expected a link error (${c.text}), the module linked`);
          } catch (e) {
            if (e instanceof LinkError) t.pass();
            else if (e instanceof UnsupportedError) skip(skipReason(e));
            else throw e;
          }
          continue;
        }
        if (c.type === "assert_uninstantiable" || (c.type === "assert_trap" && !c.action)) {
          try {
            mustTrap.push({ line: c.line, record: d.instantiate(add(c)), text: c.text });
          } catch (e) {
            if (e instanceof LinkError) t.pass(); // refused at link time (e.g. a memory too large)
            else if (e instanceof UnsupportedError) skip(skipReason(e));
            else throw e;
          }
          continue;
        }
        if (!c.action) continue; // assert_malformed / assert_invalid: test/wasm/spec.test.ts
        const target = c.action.module ? named.get(c.action.module) : current;
        if (!target) {
          fail(c.line, `no module for action ${c.action.field}`);
          continue;
        }
        if (target.refused === "failed") {
          fail(c.line, `${c.action.field}: its module was refused`);
          continue;
        }
        if (target.refused) {
          skip(target.refused);
          continue;
        }
        const kind = c.type === "assert_return" ? "return" : c.type === "action" ? "action" : "trap";
        try {
          const record = c.action.type === "get"
            ? d.get(target.instance!, c.action.field)
            : d.invoke(target.instance!, c.action.field, (c.action.args ?? []).map(argBits));
          checks.push({ line: c.line, kind, action: c.action, expected: c.expected, text: c.text, record, instance: target });
        } catch (e) {
          if (e instanceof UnsupportedError) skip(skipReason(e));
          else throw e;
        }
      }
    });
    await runScript(driver, checks, instances, mustTrap, dir, opts, t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

/** A module assertion whose instantiation must trap (or fail its run-time link checks). */
interface MustFail { line: number; record: number; text?: string; unlinkable?: boolean }

interface Tally { skip(reason: string, n?: number): void; fail(line: number, msg: string): void; pass(): void }

/** Links the script's image, runs it once and checks every record. */
async function runScript(
  driver: SpecDriver, checks: Check[], instances: Instance[], mustTrap: MustFail[],
  dir: string, opts: RunOptions, t: Tally,
): Promise<void> {
  let elf: Uint8Array;
  try {
    elf = opts.target === "metal"
      ? linkImage({ kernel: opts.kernel, bios: false, driver, tier: opts.tier }).elf
      : linkHosted({ kernel: opts.kernel, driver, tier: opts.tier }).elf;
  } catch (e) {
    if (!(e instanceof UnsupportedError)) throw e;
    // Refused while translating a function body: nothing of the script runs.
    return t.skip(skipReason(e), checks.length + mustTrap.length);
  }

  let stdout: string, problem: string;
  if (opts.target === "metal") {
    ({ stdout, problem } = await opts.runMetal!(elf));
  } else {
    const exe = join(dir, "module");
    writeFileSync(exe, elf);
    chmodSync(exe, 0o755);
    const r = spawnSync(exe, [], { encoding: "utf8", timeout: PROCESS_TIMEOUT_MS, maxBuffer: 64 << 20 });
    stdout = r.stdout ?? "";
    problem = r.error ? String(r.error) : r.signal ? `killed by ${r.signal}` : r.status !== 0 ? `exit status ${r.status}` : "";
    if (problem && r.stderr) problem += `: ${r.stderr.trim().split("\n")[0]}`;
  }

  // Records: "<index> <status> <results...>" in hex.
  const records = new Map<number, bigint[]>();
  // (Matched anywhere: on bare metal a kernel log line may precede a record on the same line.)
  for (const m of stdout.replace(/\r/g, "").matchAll(/([0-9a-f]{16}(?: [0-9a-f]{16})+)\n/g)) {
    const v = m[1].split(" ").map((w) => BigInt(`0x${w}`));
    records.set(Number(v[0]), v.slice(1));
  }
  if (records.size === 0 && process.env.SPEC_DEBUG) console.error("no records:", JSON.stringify(stdout), problem);
  const status = (record: number) => records.get(record)?.[0];
  // Why a record is missing: the problem, else what the output ended with (said once per script:
  // a rare loss of the last record on bare metal has not been explained yet).
  let tailSaid = false;
  const noResult = () => {
    if (problem) return `no result (${problem})`;
    if (tailSaid) return "no result (process ended early)";
    tailSaid = true;
    return `no result (process ended early; the output, ${stdout.length} characters, ends with ${JSON.stringify(stdout.slice(-300))})`;
  };
  for (const m of mustTrap) {
    const s = status(m.record);
    if (s === undefined) t.fail(m.line, `instantiation: ${noResult()}`);
    else if ((s === BigInt(UNLINKABLE)) === !!m.unlinkable && s !== 0n) t.pass();
    else t.fail(m.line, `expected instantiation to ${m.unlinkable ? "fail linking" : "trap"} (${m.text}), status ${s}`);
  }
  for (const inst of instances) {
    if (inst.record === undefined) continue;
    const s = status(inst.record);
    if (s === undefined) t.fail(inst.line, `instantiation: ${noResult()}`);
    else if (s === BigInt(UNLINKABLE)) t.fail(inst.line, "instantiation: import limits do not match (unlinkable)");
    else if (s !== 0n) t.fail(inst.line, `instantiation trapped: ${TRAP_TEXT[Number(s)] ?? s}`);
  }
  for (const c of checks) {
    const what = `${c.action.field}(${(c.action.args ?? []).map(show).join(", ")})`;
    const start = status(c.instance.record!);
    if (start !== undefined && start !== 0n) {
      t.fail(c.line, `${what}: its module's instantiation trapped`);
      continue;
    }
    const rec = records.get(c.record);
    if (!rec) {
      t.fail(c.line, `${what}: ${noResult()}`);
      continue;
    }
    const st = Number(rec[0]);
    if (c.kind === "trap") {
      if (st === 0) {
        t.fail(c.line, `${what}: expected trap "${c.text}", returned`);
        continue;
      }
      const ours = TRAP_TEXT[st] ?? `kind ${st}`;
      if (c.text!.startsWith(ours) || ours.startsWith(c.text!)) t.pass();
      else t.fail(c.line, `${what}: expected trap "${c.text}", got "${ours}"`);
      continue;
    }
    if (st !== 0) {
      t.fail(c.line, `${what}: trapped: ${TRAP_TEXT[st] ?? st}`);
      continue;
    }
    if (c.kind === "action") {
      t.pass();
      continue;
    }
    const exp = c.expected ?? [];
    const got = rec.slice(1);
    if (exp.some((v) => v.type === "v128")) {
      t.skip("v128 result (SIMD)");
      continue;
    }
    const bad = exp.findIndex((v, j) => !matches(v, got[j] ?? 0n));
    if (bad < 0) t.pass();
    else t.fail(c.line, `${what}: expected ${exp.map(show).join(", ")}, got ${got.map((g) => `0x${g.toString(16)}`).join(", ")}`);
  }
}
