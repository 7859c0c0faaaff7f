/**
 * Spec test driver: native code in `guest_run` that performs a script's steps (WebAssembly core
 * spec test suite, interpreter/README "Scripts": module instantiation, invoke, get) on the module
 * instances of one image, in script order, and reports each outcome as one text line, so a whole
 * script costs one process or one boot.
 *
 * For step i:
 * ```
 *   recovery = { pc: trapped_i, rsp, rbp }       trap stubs jump there with rax = trap kind
 *   push args (8 bytes each, first first); call export; add rsp, 8n
 *   status = 0, results = rax, multi_return[0..]
 *   trapped_i: status = kind
 *   recovery.pc = 0; print "<i> <status> <r0> <r1> ...\n"   (lowercase hex, 16 digits each)
 * ```
 * Instantiating an instance runs its instantiation function (run-time segment initialisation,
 * which may trap) and then its start function. `get` reads an exported global's cell. Output goes
 * through DriverEnv.emitWrite: stdout on Linux, COM1 on metal. Contract: tools/link/ABI.md "Test driver".
 */
import { Label, R, abs, mem, type Assembler } from "../x86/assembler.ts";
import type { DriverEnv, GuestDriver } from "../link/image.ts";
import type { GuestSpace, LimitCheck } from "../link/guests.ts";
import type { TranslatedModule } from "../translate/module.ts";
import { funcType } from "../wasm/validate.ts";
import { UnsupportedError } from "../translate/errors.ts";

/** Largest number of results a record carries (first in rax, the rest from the multi-return area). */
const MAX_RESULTS = 16;
/** Stack bytes of the driver's frame: record words, then the text line. */
const WORDS_AT = -256; // 2 + MAX_RESULTS words
const TEXT_AT = -1024; // (2 + MAX_RESULTS) * 17 + 1 bytes

/** Status of an instantiation whose import limits do not match at run time (not a trap kind). */
export const UNLINKABLE = 0x100;

type Step =
  | { kind: "instantiate"; instance: TranslatedModule; checks: LimitCheck[] }
  | { kind: "invoke"; label: Label; args: bigint[]; results: number }
  | { kind: "get"; cell: Label };

/**
 * The driver of one script: `build` adds the instances to the image (GuestSpace.add, in script
 * order) and records the steps; each step method returns the index its record line carries.
 */
export class SpecDriver implements GuestDriver {
  private readonly steps: Step[] = [];
  private guests: GuestSpace | undefined;

  constructor(private readonly build: (guests: GuestSpace, driver: SpecDriver) => void) {}

  link(guests: GuestSpace): void {
    guests.spectest.prints = true;
    this.guests = guests;
    this.build(guests, this);
  }

  /** Instantiation (§4.5.4): import limits that depend on run time (status UNLINKABLE when one
   *  fails), the instance's instantiation function, then its start function. */
  instantiate(instance: TranslatedModule): number {
    const checks = this.guests!.instantiationChecks(instance);
    return this.steps.push({ kind: "instantiate", instance, checks }) - 1;
  }

  /** Calls export `field` with constant arguments; UnsupportedError when the driver cannot. */
  invoke(instance: TranslatedModule, field: string, args: bigint[]): number {
    const e = instance.mod.exports.find((x) => x.kind === "func" && x.name === field);
    if (!e) throw new UnsupportedError(`driver: no exported function "${field}"`);
    const label = instance.ctx.funcLabels[e.index];
    if (!label) throw new UnsupportedError(`driver: export "${field}" is an intrinsic`);
    const results = funcType(instance.mod, e.index).results.length;
    if (results > MAX_RESULTS) throw new UnsupportedError(`driver: more than ${MAX_RESULTS} results`);
    return this.steps.push({ kind: "invoke", label, args, results }) - 1;
  }

  /** Reads exported global `field`. */
  get(instance: TranslatedModule, field: string): number {
    const e = instance.mod.exports.find((x) => x.kind === "global" && x.name === field);
    if (!e) throw new UnsupportedError(`driver: no exported global "${field}"`);
    return this.steps.push({ kind: "get", cell: instance.ctx.globals[e.index] }) - 1;
  }

  emitRun(asm: Assembler, env: DriverEnv): void {
    const over = asm.label();
    const printRecord = asm.label("driver.printRecord");
    asm.jmp(over);
    emitPrintRecord(asm, printRecord, env);
    asm.bind(over);
    asm.alu("sub", 8, R.rsp, 1024);
    this.steps.forEach((step, i) => {
      switch (step.kind) {
        case "instantiate": {
          const init = step.instance.initFunc(), start = step.instance.startFunc();
          return emitAction(asm, env, printRecord, i, 0, () => {
            for (const c of step.checks) {
              const ok = asm.label();
              asm.alu("cmp", 8, abs(c.cell), c.min);
              asm.jcc("ae", ok);
              asm.mov(4, R.rax, UNLINKABLE); // as a trap would: to the recovery pc with the status
              asm.jmp(abs(env.recovery));
              asm.bind(ok);
            }
            if (init) asm.call(init);
            if (start) asm.call(start);
          });
        }
        case "get":
          return emitAction(asm, env, printRecord, i, 1, () => asm.mov(8, R.rax, abs(step.cell)));
        case "invoke":
          return emitAction(asm, env, printRecord, i, step.results, () => {
            for (const a of step.args) {
              asm.movabs(R.rax, a);
              asm.push(R.rax);
            }
            asm.call(step.label);
            if (step.args.length) asm.alu("add", 8, R.rsp, 8 * step.args.length);
          });
      }
    });
  }
}

/** One action under a recovery point, then its record. */
function emitAction(asm: Assembler, env: DriverEnv, printRecord: Label, index: number, results: number, body: () => void): void {
  const trapped = asm.label(), report = asm.label();
  asm.movabs(R.rax, trapped);
  asm.mov(8, abs(env.recovery), R.rax);
  asm.mov(8, abs(env.recovery, 8), R.rsp);
  asm.mov(8, abs(env.recovery, 16), R.rbp);
  body();
  asm.mov(8, mem(R.rbp, WORDS_AT + 16), R.rax); // result 0
  for (let j = 1; j < results; j++) {
    asm.mov(8, R.rax, abs(env.multiReturn, 8 * (j - 1)));
    asm.mov(8, mem(R.rbp, WORDS_AT + 16 + 8 * j), R.rax);
  }
  asm.mov(8, mem(R.rbp, WORDS_AT + 8), 0); // status 0: returned
  asm.jmp(report);
  asm.bind(trapped);
  asm.mov(8, mem(R.rbp, WORDS_AT + 8), R.rax); // status: trap kind
  asm.bind(report);
  asm.mov(8, abs(env.recovery), 0);
  asm.mov(4, R.rax, index);
  asm.mov(8, mem(R.rbp, WORDS_AT), R.rax);
  asm.mov(4, R.rdi, 2 + results);
  asm.call(printRecord);
}

/**
 * printRecord(rdi = word count): formats the words at [rbp + WORDS_AT] of the caller's frame as
 * hex text at [rbp + TEXT_AT] and writes the line. Runs on the caller's rbp (no frame of its own).
 */
function emitPrintRecord(asm: Assembler, entry: Label, env: DriverEnv): void {
  const word = asm.label(), digit = asm.label(), isDigit = asm.label();
  asm.bind(entry);
  asm.lea(8, R.rsi, mem(R.rbp, WORDS_AT)); // source words
  asm.lea(8, R.r8, mem(R.rbp, TEXT_AT)); // text cursor
  asm.bind(word);
  asm.mov(8, R.rdx, mem(R.rsi, 0));
  asm.mov(4, R.rcx, 16);
  asm.bind(digit);
  asm.shift("rol", 8, R.rdx, 4); // next nibble to the bottom
  asm.mov(4, R.rax, R.rdx);
  asm.alu("and", 4, R.rax, 15);
  asm.alu("add", 4, R.rax, 0x30);
  asm.alu("cmp", 4, R.rax, 0x3a);
  asm.jcc("b", isDigit);
  asm.alu("add", 4, R.rax, 0x27); // 'a' - '0' - 10
  asm.bind(isDigit);
  asm.mov(1, mem(R.r8, 0), R.rax);
  asm.alu("add", 8, R.r8, 1);
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", digit);
  asm.mov(1, mem(R.r8, 0), 0x20); // space
  asm.alu("add", 8, R.r8, 1);
  asm.alu("add", 8, R.rsi, 8);
  asm.unary("dec", 4, R.rdi);
  asm.jcc("ne", word);
  asm.mov(1, mem(R.r8, -1), 0x0a); // last space becomes the newline
  asm.lea(8, R.rsi, mem(R.rbp, TEXT_AT));
  asm.mov(8, R.rdx, R.r8);
  asm.alu("sub", 8, R.rdx, R.rsi);
  env.emitWrite(asm);
  asm.ret();
}
