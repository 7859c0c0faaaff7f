/**
 * Register pools for the one-pass translator (tools/translate/function.ts), Winch style: a value on
 * the wasm operand stack may live in a register until an operator consumes it; when a pool is empty
 * the translator spills the oldest register-resident value to its frame slot and takes its register.
 *
 * Reserved, never handed out: rsp/rbp (frame), rax/rcx/rdx (scratch of every operator: division,
 * shift counts, setcc, loading a constant or a second memory operand), xmm0/xmm1 (float scratch).
 * Every register is caller-saved (tools/link/ABI.md), so values in registers are spilled at calls
 * and at control-flow merges; the pools are reset at every label.
 */

/** rbx, rsi, rdi, r8, r11: the integer registers operand-stack values may live in (rbx also carries
 *  a block's integer result to its end: function.ts RESULT_REG). */
export const GPR_POOL: readonly number[] = [3, 6, 7, 8, 11];
/**
 * r12..r15, r9, r10: hot integer locals, one register each for a whole function (saved to their
 * slots around calls). No slot-based operator, intrinsic (cpuid: rbx; syscall: rcx, r11), string
 * instruction (rsi, rdi, rcx), bulk memory routine (bulk.ts) or call_indirect (r11) touches them.
 */
export const PIN_POOL: readonly number[] = [12, 13, 14, 15, 9, 10];
/**
 * r8, r11: the first pin registers of a leaf function (function.ts `leafPinsFit`): caller-saved,
 * so pinning them costs no save and restore, which in a small function called often (a string
 * comparison, the GC's list operations) is most of what pinning costs. Taken out of GPR_POOL while
 * it runs (`RegPool.exclude`), so only where its values fit the three pool registers left.
 */
export const LEAF_PIN_POOL: readonly number[] = [8, 11];
/** Integer values a leaf function may compute at once and still lend r8 and r11 to pins. */
export const LEAF_PIN_MAX_DEPTH = 3;
/** xmm2..xmm9: the float registers values may live in. */
export const XMM_POOL: readonly number[] = [2, 3, 4, 5, 6, 7, 8, 9];
/**
 * xmm10..xmm15: hot float locals, one register each for a whole function, restored like PIN_POOL
 * (a translated function returns with them as it found them; saved around calls that may leave
 * translated code). Nothing else touches them: float.ts uses xmm0..xmm2 and bulk.ts xmm0..xmm8,
 * both with the stack flushed.
 */
export const XPIN_POOL: readonly number[] = [10, 11, 12, 13, 14, 15];

/**
 * Locals worth a pin register (PIN_POOL, XPIN_POOL), best first: weighted uses (a use weighing
 * 8^loop depth) of at least `least` (8 by default: used inside loops), and more than twice as often
 * as calls that make the pins reload (`callWeight`, weighted the same way). Ties keep the order of
 * `keys` (first use).
 */
export function rankPinCandidates(keys: number[], uses: (key: number) => number, callWeight: number, least = 8): number[] {
  const ranked = keys.filter((k) => uses(k) >= least && uses(k) > 2 * callWeight);
  if (ranked.length > 1) ranked.sort((x, y) => uses(y) - uses(x));
  return ranked;
}

export class RegPool {
  private free: number[];
  /** Registers of the pool lent to pins (`exclude`): never free until the set changes. */
  private excluded: readonly number[] = [];
  constructor(private readonly pool: readonly number[]) {
    this.free = [...pool].reverse();
  }
  /** Take `regs` out of the pool (replacing the set taken out before; call it with the registers free). */
  exclude(regs: readonly number[]): void {
    if (regs.length === 0 && this.excluded.length === 0) return;
    for (const r of this.excluded) if (!regs.includes(r) && !this.free.includes(r)) this.free.push(r);
    for (const r of regs) {
      const k = this.free.indexOf(r);
      if (k >= 0) this.free.splice(k, 1);
    }
    this.excluded = regs;
  }
  /** A free register, or undefined when every one holds a value. */
  take(): number | undefined {
    return this.free.pop();
  }
  give(r: number): void {
    if (!this.pool.includes(r)) throw new Error(`regalloc: register ${r} is not in the pool`);
    if (this.free.includes(r)) throw new Error(`regalloc: register ${r} released twice`);
    this.free.push(r);
  }
  /** Release `r` as the last choice of `take` (it still holds something worth keeping a while). */
  giveLast(r: number): void {
    if (!this.pool.includes(r)) throw new Error(`regalloc: register ${r} is not in the pool`);
    if (this.free.includes(r)) throw new Error(`regalloc: register ${r} released twice`);
    this.free.unshift(r);
  }
  /** Take the free register `r` (it must be free). */
  claim(r: number): void {
    const k = this.free.indexOf(r);
    if (k < 0) throw new Error(`regalloc: register ${r} is not free`);
    this.free.splice(k, 1);
  }
  /** Every register free again (at a label: all values are in their slots). */
  reset(): void {
    const free = this.free, pool = this.pool, n = pool.length;
    if (this.excluded.length === 0) {
      let same = free.length === n;
      for (let i = 0; same && i < n; i++) same = free[i] === pool[n - 1 - i];
      if (same) return; // already so (the usual case): nothing to rebuild
    }
    free.length = 0;
    for (let i = n - 1; i >= 0; i--) if (!this.excluded.includes(pool[i])) free.push(pool[i]);
  }
  /** The free set, to be put back with `restore` (a path that rejoins code translated before it). */
  snapshot(): number[] {
    return [...this.free];
  }
  restore(free: number[]): void {
    this.free = [...free];
  }
  get allFree(): boolean {
    return this.free.length === this.pool.length - this.excluded.length;
  }
}
