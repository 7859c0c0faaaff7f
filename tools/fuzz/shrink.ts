/**
 * Isolate and shrink a mismatching program.
 *
 * Programs reset memory and globals before they start, so one program usually reproduces alone
 * (only memory.size carries over; when the lone program passes, the prefix 0..N is used).
 * Shrinking is greedy delta debugging over the generator's spans: every candidate replaces one more
 * span by constants (an expression) or nothing (a statement), which keeps the program valid. All
 * candidates of a round are copies of the program in ONE module, so a round costs one boot; the
 * first candidate whose output differs (candidates are ordered largest span first) is kept.
 */
import { compareWat, type Comparison } from "./differential.ts";

/** Runs a module on both sides (tests pass a simulated translator bug). */
export type Compare = (wat: string) => Promise<Comparison>;
import { moduleText, programText, render, type GeneratedModule, type Program, type Span } from "./generate.ts";

export interface Isolated {
  programs: Program[];
  comparison: Comparison;
}

/** The smallest program list (program alone, else its prefix) that still mismatches. */
export async function isolate(module: GeneratedModule, index: number, log: (s: string) => void, compare: Compare = compareWat): Promise<Isolated | undefined> {
  const target = module.programs[index];
  for (const programs of [[target], module.programs.slice(0, index + 1)]) {
    const wat = moduleText(module.gen, programs.map((program) => ({ program })));
    const comparison = await compare(wat);
    log(`isolate: ${programs.length} program(s): ${comparison.mismatch ? "still differs" : "agrees"}`);
    if (comparison.mismatch) return { programs, comparison };
  }
  return undefined;
}

/** Spans still rendered under `cut`, outermost first (the root itself excluded). */
function liveSpans(root: Span, cut: Set<number>): Span[] {
  const out: Span[] = [];
  const walk = (s: Span) => {
    for (const p of s.parts) {
      if (typeof p === "string") continue;
      if (cut.has(p.id)) continue;
      out.push(p);
      walk(p);
    }
  };
  walk(root);
  return out;
}

function size(s: Span): number {
  return render(s).length;
}

export interface Shrunk {
  program: Program;
  cut: Set<number>;
  text: string;
  comparison: Comparison;
  rounds: number;
}

/**
 * Shrink the last program of `prefix` (the others run unchanged before each candidate).
 * `maxRounds` bounds the number of boots.
 */
export async function shrink(module: GeneratedModule, prefix: Program[], log: (s: string) => void, compare: Compare = compareWat, maxRounds = 60, batch = 120): Promise<Shrunk> {
  const target = prefix[prefix.length - 1];
  const before = prefix.slice(0, -1);
  const cut = new Set<number>();
  let last: Comparison | undefined;
  let rounds = 0;
  while (rounds < maxRounds) {
    const root = target.body as Span;
    const candidates = liveSpans(root, cut)
      .filter((s) => render(s).trim() !== render(s, new Set([s.id])).trim()) // cutting must change something
      .sort((a, b) => size(b) - size(a))
      .slice(0, batch);
    if (!candidates.length) break;
    // Candidate k runs as program (base + k); its header tells which one differed first.
    const base = 1_000_000;
    const copies = candidates.map((s, k) => ({ program: { ...target, index: base + k }, cut: new Set([...cut, s.id]) }));
    const wat = moduleText(module.gen, [...before.map((program) => ({ program })), ...copies]);
    const comparison = await compare(wat);
    rounds++;
    const k = comparison.mismatch ? comparison.mismatch.program - base : -1;
    if (k < 0 || k >= candidates.length) {
      log(`shrink round ${rounds}: no candidate of ${candidates.length} differs: done`);
      break;
    }
    cut.add(candidates[k].id);
    last = comparison;
    log(`shrink round ${rounds}: cut a span of ${size(candidates[k])} chars; program now ${programText(target, cut).length} chars`);
  }
  if (!last) {
    const wat = moduleText(module.gen, prefix.map((program) => ({ program })));
    last = await compare(wat);
  }
  return { program: target, cut, text: programText(target, cut), comparison: last, rounds };
}
