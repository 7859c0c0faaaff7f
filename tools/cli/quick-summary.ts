/** One line on a `--quick` build (tools/translate/quick/): how many functions the quick tier took,
 *  and what sent the others to the optimising tier. */
import type { TierStats } from "../translate/module.ts";

export function quickSummary(f: TierStats): string {
  const others = Object.entries(f.refusedBy).sort((a, b) => b[1] - a[1]).map(([why, n]) => `${why} ${n}`).join(", ");
  return `quick tier: ${f.quick} of ${f.defined} functions${others ? `; optimised instead (operators it does not cover): ${others}` : ""}`;
}
