/**
 * `npm run ts -- tools/fuzz/cli.ts --seed N --count K [options]`: differential fuzzing of the translator
 * against V8. Runs K generated modules (seeds N .. N+K-1), each holding `--programs` random programs,
 * under V8 and on bare metal, and reports the first differing line of each.
 *
 *   --programs P   programs per module (default 200, as in `npm test`)
 *   --traps        generate programs that may trap (as the test's trap batch)
 *   --program I    only look at program I of the seed: isolate it (and shrink it with --shrink)
 *   --shrink       on a mismatch, isolate the program and shrink it by delta debugging
 *   --print        print the module text instead of running it (with --program: that program only)
 *   --out FILE     write the (shrunk) reproducer module here (default /tmp/fuzz-<seed>-<prog>.wat)
 *
 * Exit status: 0 all agree, 1 some mismatch, 2 usage error.
 */
import { writeFileSync } from "node:fs";
import { describeMismatch, runSeed } from "./differential.ts";
import { generateModule, moduleText, programText, type GenOptions } from "./generate.ts";
import { isolate, shrink } from "./shrink.ts";

const USAGE = "usage: npm run ts -- tools/fuzz/cli.ts --seed N [--count K] [--programs P] [--traps] [--program I] [--shrink] [--print] [--out FILE]";

async function replay(seed: number, programs: number, opts: GenOptions, index: number, doShrink: boolean, out?: string): Promise<number> {
  const module = generateModule(seed, programs, opts);
  if (index >= module.programs.length) throw new Error(`seed ${seed} has only ${module.programs.length} programs`);
  const log = (s: string) => console.log(`  ${s}`);
  console.log(`seed ${seed} program ${index}:\n${programText(module.programs[index])}`);
  const iso = await isolate(module, index, log);
  if (!iso) {
    console.log(`seed ${seed} program ${index}: V8 and metal agree`);
    return 0;
  }
  let text = programText(module.programs[index]);
  let cmp = iso.comparison;
  let wat = moduleText(module.gen, iso.programs.map((program) => ({ program })));
  if (doShrink) {
    const s = await shrink(module, iso.programs, log);
    text = s.text;
    cmp = s.comparison;
    wat = moduleText(module.gen, [...iso.programs.slice(0, -1).map((program) => ({ program })), { program: s.program, cut: s.cut }]);
  }
  const file = out ?? `/tmp/fuzz-${seed}-${index}.wat`;
  writeFileSync(file, wat);
  const m = cmp.mismatch!;
  console.log(`\nreproducer (${iso.programs.length} program(s), module written to ${file}):\n${text}`);
  console.log(`  v8:    ${m?.v8}\n  metal: ${m?.metal}`);
  return 1;
}

async function main(argv: string[]): Promise<number> {
  let seed: number | undefined, count = 1, programs = 200, index: number | undefined;
  let traps = false, doShrink = false, print = false, out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v)) throw new Error(`${a} needs an integer\n${USAGE}`);
      return v;
    };
    if (a === "--seed") seed = num();
    else if (a === "--count") count = num();
    else if (a === "--programs") programs = num();
    else if (a === "--program") index = num();
    else if (a === "--traps") traps = true;
    else if (a === "--shrink") doShrink = true;
    else if (a === "--print") print = true;
    else if (a === "--out") out = argv[++i];
    else if (a === "-h" || a === "--help") { console.log(USAGE); return 0; }
    else { console.error(`unknown option: ${a}\n${USAGE}`); return 2; }
  }
  if (seed === undefined) { console.error(USAGE); return 2; }
  const opts: GenOptions = { traps };
  if (print) {
    const m = generateModule(seed, programs, opts);
    console.log(index === undefined ? moduleText(m.gen, m.programs.map((program) => ({ program }))) : programText(m.programs[index]));
    return 0;
  }
  if (index !== undefined) return replay(seed, programs, opts, index, doShrink, out);
  let failed = 0;
  for (let s = seed; s < seed + count; s++) {
    const t0 = Date.now();
    const run = await runSeed(s, programs, opts);
    const ms = Date.now() - t0;
    if (!run.mismatch) {
      console.log(`seed ${s}: ${programs} programs agree (${run.v8.output.length} lines, status ${run.v8.status}, ${ms} ms)`);
      continue;
    }
    failed++;
    console.log(describeMismatch(run, opts));
    if (doShrink && run.mismatch.program >= 0) await replay(s, programs, opts, run.mismatch.program, true, out);
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 2; });
