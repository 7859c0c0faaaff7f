/**
 * `npm run image [-- --app apps/<name>] [--out build]`: builds a bootable ISO (BIOS, El Torito)
 * and a PVH ELF (qemu -kernel, microvm, Firecracker) of an application, printing each stage.
 * `--no-inline` keeps every call (tools/translate/inline.ts off): each function keeps its own frame
 * and ELF symbol, for stepping through it in gdb. `--quick` translates through the quick tier
 * (tools/translate/quick/: one pass per function, slower code) what it takes.
 */
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { buildAppImage } from "../link/build.ts";
import { Stages, kib } from "./stages.ts";
import { UnsupportedError } from "../translate/errors.ts";
import type { Tier } from "../translate/module.ts";
import { quickSummary } from "./quick-summary.ts";

const USAGE = "usage: npm run image [-- --app apps/<name>] [--out <dir>] [--no-inline] [--quick]";

async function main(argv: string[]): Promise<number> {
  let app = "apps/hello";
  let out = "build";
  let inline = true;
  let tier: Tier = "optimizing";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--app") app = argv[++i];
    else if (a === "--out") out = argv[++i];
    else if (a === "--no-inline") inline = false;
    else if (a === "--quick") tier = "quick";
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else { console.error(`unknown argument: ${a}\n${USAGE}`); return 2; }
  }
  app = app.replace(/\/+$/, "");
  if (!existsSync(join(app, "main.ts"))) {
    console.error(`no application at ${app}: expected ${join(app, "main.ts")} exporting main()`);
    return 2;
  }
  const name = basename(app);
  console.error(`building ${name} (${app})`);
  const stages = new Stages();
  let img;
  try {
    img = await buildAppImage(app, stages, { inline, tier });
  } catch (e) {
    if (e instanceof UnsupportedError) {
      console.error(`refused: ${e.message}`);
      return 3;
    }
    throw e;
  }
  mkdirSync(out, { recursive: true });
  const iso = join(out, `${name}.iso`), elf = join(out, `${name}.elf`), wasm = join(out, `${name}.wasm`);
  writeFileSync(iso, img.iso);
  writeFileSync(elf, img.elf);
  writeFileSync(wasm, img.wasm);
  console.error(`  wrote ${iso} (${kib(img.iso.length)}), ${elf} (${kib(img.elf.length)}), ${wasm}`);
  if (tier === "quick") console.error(`  ${quickSummary(img.functions)}`);
  console.error(`done in ${stages.totalMs().toFixed(0)} ms. Boot it:`);
  console.error(`  qemu-system-x86_64 -accel tcg -cpu max -cdrom ${iso} -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot`);
  console.error(`  qemu-system-x86_64 -accel tcg -cpu max -M microvm,isa-serial=on -kernel ${elf} -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot`);
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
