// The kernel's event loop: timers, interrupt dispatch, driver pollers, and hlt when idle.
//
// Control never enters wasm code from an interrupt (shared/ARCHITECTURE.md): the native stubs only
// set pending bits (boot/interrupts.ts). Everything here runs on the one kernel stack, in order:
//
//   loop:  1. take pending interrupt bits, run the handlers registered with onInterrupt(), EOI
//          2. run every timer whose deadline has passed, earliest first
//          3. call every poller (drivers draining virtqueues); a poller returning true asks to be
//             called again at once (busy), so the loop does not halt this round
//          4. stop() called, or no timers and no pollers left -> return from run()
//          5. idle: arm the local APIC timer for the earliest deadline, then cli, check the
//             pending bits, `sti; hlt` as one sequence (the classic lost-wake-up race closed)
//
// Callbacks are function references plus a u32 context (AssemblyScript has no closures): a driver
// passes an index or a pointer to its state. Timers live in a binary min-heap ordered by
// (deadline, creation order), so equal deadlines fire in the order they were set; a cancelled
// timer is marked and dropped when it reaches the top (after: CLRS ch. 6, heaps; lazy deletion).
// An id is found by scanning the heap (no hash map: image size; cancelling is rare).
// Times are nanoseconds from kernel/time.ts; the *Ms helpers multiply.
// May import: kernel/time, kernel/arch/x86_64 (interrupts, tsc).

import { now, tscAt, NS_PER_MS } from "../time";
import { tscFrequencyHz } from "../arch/x86_64/tsc";
import {
  takePending, acknowledge, armTimer, waitForInterrupt, timerInterruptAvailable, relax, PENDING_WORDS, TIMER_VECTOR,
} from "../arch/x86_64/interrupts";

/** A timer callback: `ctx` is what was passed to setTimeout/setInterval. */
export type TimerCallback = (ctx: u32) => void;
/** An interrupt handler: the vector that fired and the `ctx` given to onInterrupt. */
export type InterruptHandler = (vector: u32, ctx: u32) => void;
/** A poller: returns true if it did work and wants to run again before the CPU halts. */
export type Poller = (ctx: u32) => bool;

@final class Timer {
  constructor(
    public id: u32,
    public deadline: u64,
    public seq: u64,
    public period: u64,
    public fn: TimerCallback,
    public ctx: u32,
  ) {}
  cancelled: bool = false;
}

@final class HandlerSlot {
  constructor(public fn: InterruptHandler, public ctx: u32) {}
}

@final class PollerSlot {
  constructor(public id: u32, public fn: Poller, public ctx: u32) {}
}

// Growable arrays on StaticArray with copy loops (no Array: its growth uses memory.copy, which
// the kernel module avoids; see test/kernel/compile.test.ts).
let heap = new StaticArray<Timer | null>(64);
let heapLen: i32 = 0;
let liveTimers: i32 = 0;
let nextTimerId: u32 = 1;
let nextSeq: u64 = 0;
const handlers = new StaticArray<HandlerSlot | null>(256);
let pollers = new StaticArray<PollerSlot | null>(8);
let pollerCount: i32 = 0;
let nextPollerId: u32 = 1;
let stopRequested = false;

// ---- statistics (for tests and benchmarks) ----
let iterations: u64 = 0;
let halts: u64 = 0;
let timersFired: u64 = 0;
const interruptCounts = new StaticArray<u64>(256);

// =============================== timers ===============================

/** Calls `fn(ctx)` once, `ms` milliseconds from now. Returns the timer's id (never 0). */
export function setTimeout(fn: TimerCallback, ms: u64, ctx: u32 = 0): u32 {
  return addTimer(fn, ms * NS_PER_MS, 0, ctx);
}

/** Calls `fn(ctx)` once, `ns` nanoseconds from now. */
export function setTimeoutNs(fn: TimerCallback, ns: u64, ctx: u32 = 0): u32 {
  return addTimer(fn, ns, 0, ctx);
}

/** Calls `fn(ctx)` every `ms` milliseconds (first call after one period) until clearTimeout(id). */
export function setInterval(fn: TimerCallback, ms: u64, ctx: u32 = 0): u32 {
  const period = ms * NS_PER_MS;
  return addTimer(fn, period, period == 0 ? 1 : period, ctx);
}

/** Cancels a timer: it will never fire (again). Returns false if it had already fired or was unknown. */
export function clearTimeout(id: u32): bool {
  const t = findLive(id);
  if (t === null) return false;
  t.cancelled = true;
  liveTimers--;
  return true;
}

/**
 * The live timer with `id`, or null. A linear scan of the heap (live timers are exactly its
 * entries not marked cancelled): no id map, which keeps the image small; cancelling is rare.
 */
function findLive(id: u32): Timer | null {
  for (let i = 0; i < heapLen; i++) {
    const t = heapAt(i);
    if (t.id == id && !t.cancelled) return t;
  }
  return null;
}

/** Same as clearTimeout (for intervals). */
export function clearInterval(id: u32): bool {
  return clearTimeout(id);
}

/** Deadline (now() nanoseconds) of live timer `id`; 0 if it fired, was cancelled or is unknown. */
export function timerDeadline(id: u32): u64 {
  const t = findLive(id);
  return t === null ? 0 : t.deadline;
}

/** Timers that are set and not yet fired or cancelled. */
export function pendingTimers(): i32 {
  return liveTimers;
}

/** Deadline (now() nanoseconds) of the earliest live timer; u64.MAX_VALUE when there is none. */
export function nextDeadline(): u64 {
  dropCancelledTop();
  return heapLen > 0 ? heapAt(0).deadline : u64.MAX_VALUE;
}

function addTimer(fn: TimerCallback, delayNs: u64, period: u64, ctx: u32): u32 {
  const id = nextTimerId++;
  if (nextTimerId == 0) nextTimerId = 1;
  const t = new Timer(id, now() + delayNs, nextSeq++, period, fn, ctx);
  liveTimers++;
  heapPush(t);
  return id;
}

/** Runs every live timer whose deadline is at or before `t`, earliest first. */
function runDueTimers(t: u64): void {
  while (true) {
    dropCancelledTop();
    if (heapLen == 0) return;
    const top = heapAt(0);
    if (top.deadline > t) return;
    heapPop();
    if (top.period != 0) {
      // Interval: next deadline one period on; if we fell behind, skip the missed ones.
      top.deadline += top.period;
      if (top.deadline <= t) top.deadline = t + top.period;
      top.seq = nextSeq++;
      heapPush(top);
    } else {
      liveTimers--;
    }
    timersFired++;
    const fn = top.fn;
    fn(top.ctx);
  }
}

function dropCancelledTop(): void {
  while (heapLen > 0 && heapAt(0).cancelled) heapPop();
}

@inline function before(a: Timer, b: Timer): bool {
  return a.deadline < b.deadline || (a.deadline == b.deadline && a.seq < b.seq);
}

@inline function heapAt(i: i32): Timer {
  return changetype<Timer>(unchecked(heap[i]));
}

function heapPush(t: Timer): void {
  if (heapLen == heap.length) {
    const bigger = new StaticArray<Timer | null>(heapLen << 1);
    for (let k = 0; k < heapLen; k++) unchecked(bigger[k] = heap[k]);
    heap = bigger;
  }
  let i = heapLen++;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heapAt(parent);
    if (!before(t, p)) break;
    unchecked(heap[i] = p);
    i = parent;
  }
  unchecked(heap[i] = t);
}

function heapPop(): void {
  const n = --heapLen;
  const last = heapAt(n);
  unchecked(heap[n] = null);
  if (n == 0) return;
  let i = 0;
  while (true) {
    const l = 2 * i + 1;
    if (l >= n) break;
    let c = l;
    if (l + 1 < n && before(heapAt(l + 1), heapAt(l))) c = l + 1;
    const child = heapAt(c);
    if (!before(child, last)) break;
    unchecked(heap[i] = child);
    i = c;
  }
  unchecked(heap[i] = last);
}

// =============================== interrupts ===============================

/**
 * Runs `fn(vector, ctx)` from the loop each time `vector` (0x30..0xEF) fired. One handler per
 * vector; a later call replaces it. For a level-triggered line the handler must silence the device
 * (e.g. read virtio's ISR status): the EOI follows right after it.
 */
export function onInterrupt(vector: u32, fn: InterruptHandler, ctx: u32 = 0): void {
  handlers[vector & 0xff] = new HandlerSlot(fn, ctx);
}

/** Removes the handler of `vector` (later interrupts on it are counted and acknowledged only). */
export function offInterrupt(vector: u32): void {
  handlers[vector & 0xff] = null;
}

/** How many times `vector` was dispatched since boot. */
export function interruptCount(vector: u32): u64 {
  return interruptCounts[vector & 0xff];
}

/** Takes every pending bit, runs the handlers, then sends the EOIs owed. Returns how many fired. */
export function dispatchInterrupts(): i32 {
  let fired = 0;
  for (let w = 1; w < PENDING_WORDS; w++) {
    const bits = takePending(w);
    if (bits == 0) continue;
    let rest = bits;
    while (rest != 0) {
      const v = (<u32>w << 5) | ctz<u32>(rest);
      rest &= rest - 1;
      fired++;
      unchecked(interruptCounts[v]++);
      const slot = unchecked(handlers[v]);
      if (slot !== null) {
        const fn = slot.fn;
        fn(v, slot.ctx);
      }
    }
    acknowledge(w, bits);
  }
  return fired;
}

// =============================== pollers ===============================

/** Calls `fn(ctx)` on every loop iteration until removePoller(id). Keeps run() going. */
export function addPoller(fn: Poller, ctx: u32 = 0): u32 {
  const id = nextPollerId++;
  if (pollerCount == pollers.length) {
    const bigger = new StaticArray<PollerSlot | null>(pollerCount << 1);
    for (let k = 0; k < pollerCount; k++) unchecked(bigger[k] = pollers[k]);
    pollers = bigger;
  }
  unchecked(pollers[pollerCount++] = new PollerSlot(id, fn, ctx));
  return id;
}

/** Removes a poller; returns false if the id is unknown. */
export function removePoller(id: u32): bool {
  for (let i = 0; i < pollerCount; i++) {
    if (changetype<PollerSlot>(unchecked(pollers[i])).id == id) {
      for (let k = i + 1; k < pollerCount; k++) unchecked(pollers[k - 1] = pollers[k]);
      unchecked(pollers[--pollerCount] = null);
      return true;
    }
  }
  return false;
}

function runPollers(): bool {
  let busy = false;
  // Re-reads the count each time: a poller may add or remove pollers.
  for (let i = 0; i < pollerCount; i++) {
    const p = changetype<PollerSlot>(unchecked(pollers[i]));
    const fn = p.fn;
    if (fn(p.ctx)) busy = true;
  }
  return busy;
}

// =============================== the loop ===============================

/** Makes run() return after the current iteration. */
export function stop(): void {
  stopRequested = true;
}

/**
 * Runs the loop until stop() is called or nothing is left to wait for (no live timers and no
 * pollers). Interrupt handlers alone do not keep it running.
 */
export function run(): void {
  stopRequested = false;
  const hz = tscFrequencyHz();
  while (true) {
    iterations++;
    dispatchInterrupts();
    runDueTimers(now());
    const busy = runPollers();
    if (stopRequested) break;
    if (liveTimers == 0 && pollerCount == 0) break;
    if (busy) continue;
    // ---- idle ----
    const deadline = nextDeadline();
    if (deadline != u64.MAX_VALUE) {
      if (deadline <= now()) continue; // became due meanwhile
      if (!timerInterruptAvailable()) {
        relax(); // no timer interrupt: must not sleep through the deadline, so spin
        continue;
      }
      armTimer(tscAt(deadline), hz);
    } else {
      armTimer(u64.MAX_VALUE, hz);
    }
    if (waitForInterrupt()) halts++;
  }
  armTimer(u64.MAX_VALUE, hz);
  stopRequested = false;
}

/** Loop iterations since boot. */
export function loopIterations(): u64 { return iterations; }
/** Times the loop halted the CPU (each ended by an interrupt: wake-ups). */
export function loopHalts(): u64 { return halts; }
/** Timer callbacks run since boot. */
export function loopTimersFired(): u64 { return timersFired; }
/** Timer interrupts (LAPIC timer vector) dispatched since boot. */
export function timerInterrupts(): u64 { return interruptCounts[TIMER_VECTOR]; }
