/**
 * AssemblyScript sources of small test applications compiled together with the kernel.
 *
 * They are strings, not files, because the repository typecheck (tsconfig includes test/**\/*.ts)
 * must not see AssemblyScript. `compileFixture(name)` compiles one as <FIXTURE_DIR>/<name>/main.ts
 * through compileKernelApp's `files` option; relative imports resolve against that virtual path.
 */
import { compileKernelApp, type CompileResult } from "../../tools/build/compile.ts";

export const FIXTURE_DIR = "test/kernel/fixtures";
const KERNEL = "../../../../kernel";

export const FIXTURES = {
  /** main fails an assertion: exercises asc --use abort=kernel/panic/abort. Line 4 col 3. */
  abort_app: String.raw`// Test fixture: main fails an assertion.
export function main(): void {
  const answer = 6 * 7;
  assert(answer == 41, "the answer is wrong");
}
`,

  /** One of each console form, checked byte for byte by boot.test.ts. */
  console_app: String.raw`// Test fixture: console output forms.
import {
  print, println, newline, printU32, printI32, printU64, printI64, printHex, printHex0x, info, warn, error, debug,
} from "${KERNEL}/console";

export function main(): void {
  printU64(0xffff_ffff_ffff_ffff); newline();
  printI64(i64.MIN_VALUE); newline();
  printI64(-42); newline();
  printI32(i32.MIN_VALUE); newline();
  printU32(0); print(" "); printU32(u32.MAX_VALUE); newline();
  printHex(0xdeadbeef); print(" "); printHex(0, 4); print(" "); printHex0x(0xffff_ffff_ffff_ffff); newline();
  println("h\u00e9llo \u20ac \ud834\udd1e \ud800!");
  print("no newline");
  info("after a partial line");
  debug("d");
  warn("w");
  error("e");
}
`,

  /** A top-level statement calling an intrinsic: needs a start section next to our _start. */
  start_app: String.raw`// Test fixture: start section.
import { readTsc } from "${KERNEL}/arch/x86_64/tsc";
import { printU64, newline } from "${KERNEL}/console";

const tscAtStartSection = readTsc();

export function main(): void {
  printU64(tscAtStartSection);
  newline();
}
`,

  /** Prints what kernel/bootinfo.ts reads: source, memory map, command line. */
  bootinfo_app: String.raw`// Test fixture: boot info.
import {
  bootSourceName, memoryRegionCount, memoryRegionBase, memoryRegionLength, memoryRegionType, cmdlineAddress,
  cmdlineLength, totalRamBytes,
} from "${KERNEL}/bootinfo";
import { print, printHex0x, printU32, printU64, printUtf8, newline } from "${KERNEL}/console";

export function main(): void {
  print(bootSourceName());
  print(" regions=");
  printU32(<u32>memoryRegionCount());
  print(" ram=");
  printU64(totalRamBytes());
  newline();
  for (let i = 0; i < memoryRegionCount(); i++) {
    printHex0x(memoryRegionBase(i));
    print(" ");
    printHex0x(memoryRegionLength(i));
    print(" ");
    printU32(memoryRegionType(i));
    newline();
  }
  print("cmdline=[");
  printUtf8(cmdlineAddress(), cmdlineLength());
  print("]");
  newline();
}
`,
};

export type FixtureName = keyof typeof FIXTURES;

/** Compiles kernel + fixture `name` as one module (like compileKernelApp for a real app). */
export function compileFixture(name: FixtureName): Promise<CompileResult> {
  const dir = `${FIXTURE_DIR}/${name}`;
  return compileKernelApp(dir, { files: { [`${dir}/main.ts`]: FIXTURES[name] } });
}
