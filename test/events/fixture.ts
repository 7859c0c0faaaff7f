/**
 * In-guest test application for the event loop, timers and interrupts (kernel/events/loop.ts,
 * kernel/arch/x86_64/{interrupts,lapic,ioapic,pic8259}.ts, boot/interrupts.ts). One image runs every
 * scenario in turn, each with its own `run()` of the loop, and prints `name ... [ok]` or
 * `name ... [FAILED: why]`; `main` ends with isa-debug-exit status 0 only if all passed (else 1).
 * It also prints `timer <requested> us -> <actual> us` and `idle ... halts` figure lines, which the
 * benchmark script (tools/cli/bench-timers.ts) records; tests never assert upper time bounds.
 *
 * A string, not a file: the repository typecheck must not see AssemblyScript (test/kernel/fixtures.ts).
 */
import { compileKernelApp, type CompileResult } from "../../tools/build/compile.ts";

export const EVENTS_APP_DIR = "test/events/app";
const K = "../../../kernel";

export const EVENTS_APP = String.raw`// In-guest tests: event loop, timers, interrupts.
import { print, printU64, newline, println } from "${K}/console";
import { now, NS_PER_MS, NS_PER_US } from "${K}/time";
import {
  run, setTimeout, setTimeoutNs, setInterval, clearTimeout, onInterrupt, addPoller, removePoller, stop,
  timerDeadline, loopHalts, timerInterrupts, interruptCount, pendingTimers,
} from "${K}/events/loop";
import { allocateVector, timerInterruptAvailable } from "${K}/arch/x86_64/interrupts";
import { lapicSelfIpi, lapicPresent } from "${K}/arch/x86_64/lapic";
import { ioapicPins, ioapicRoute, ioapicEntryLow, ioapicSetMasked, IrqTrigger } from "${K}/arch/x86_64/ioapic";
import { picMask } from "${K}/arch/x86_64/pic8259";
import { exit } from "${K}/arch/x86_64/debug_exit";

let failures = 0;
let failure: string | null = null;
function check(cond: bool, why: string): void {
  if (!cond && failure === null) failure = why;
}
function report(name: string): void {
  print(name);
  if (failure === null) {
    println(" ... [ok]");
  } else {
    print(" ... [FAILED: ");
    print(failure!);
    println("]");
    failures++;
  }
  failure = null;
}

// ---- one timer: fires, not before its delay ----
let firedAt: u64 = 0;
let firedCount = 0;
function onFire(ctx: u32): void {
  firedAt = now();
  firedCount++;
  check(ctx == 7, "context not passed");
}

function timerFires(): void {
  firedCount = 0;
  const start = now();
  const id = setTimeout(onFire, 20, 7);
  check(id != 0, "id 0");
  check(pendingTimers() == 1, "not pending");
  run();
  check(firedCount == 1, "did not fire exactly once");
  check(firedAt - start >= 20 * NS_PER_MS, "fired before 20 ms");
  check(now() >= firedAt, "time went backwards");
  check(pendingTimers() == 0, "still pending");
  report("timer_fires_after_delay");
}

// ---- a cancelled timer never fires ----
let cancelledFired = 0;
let keeperFired = 0;
function mustNotFire(_ctx: u32): void { cancelledFired++; }
function keeper(_ctx: u32): void { keeperFired++; }
let victim: u32 = 0;
function cancelVictim(_ctx: u32): void { check(clearTimeout(victim), "clearTimeout of a live timer returned false"); }

function cancelledNeverFires(): void {
  const a = setTimeout(mustNotFire, 5);
  check(clearTimeout(a), "clearTimeout returned false");
  check(!clearTimeout(a), "second clearTimeout returned true");
  victim = setTimeout(mustNotFire, 30);
  setTimeout(cancelVictim, 10); // cancelled from inside another callback, before it is due
  setTimeout(keeper, 40); // runs past both deadlines
  run();
  check(keeperFired == 1, "keeper did not fire");
  check(cancelledFired == 0, "a cancelled timer fired");
  check(!clearTimeout(victim), "clearTimeout after cancel returned true");
  report("cancelled_timer_never_fires");
}

// ---- 1000 timers with random delays fire in deadline order ----
const N = 1000;
const ids = new StaticArray<u32>(N);
const deadlines = new StaticArray<u64>(N);
let order = 0;
let lastDeadline: u64 = 0;
let outOfOrder = 0;
let early = 0;
let seed: u32 = 0x9e3779b9;
function random(): u32 { // xorshift32 (Marsaglia 2003)
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}
function inOrder(ctx: u32): void {
  const d = deadlines[ctx];
  if (d < lastDeadline) outOfOrder++;
  if (now() < d) early++;
  lastDeadline = d;
  order++;
}

function thousandTimers(): void {
  for (let i = 0; i < N; i++) {
    const delayNs = <u64>(random() % 40_000) * NS_PER_US; // 0 .. 40 ms, many ties
    ids[i] = setTimeoutNs(inOrder, delayNs, <u32>i);
    deadlines[i] = timerDeadline(ids[i]);
    check(deadlines[i] != 0, "no deadline");
  }
  // Cancel every 10th: they must not fire.
  let cancelled = 0;
  for (let i = 0; i < N; i += 10) { if (clearTimeout(ids[i])) cancelled++; }
  run();
  check(order == N - cancelled, "wrong number fired");
  check(outOfOrder == 0, "fired out of deadline order");
  check(early == 0, "fired before its deadline");
  report("thousand_timers_fire_in_deadline_order");
}

// ---- the LAPIC timer wakes the CPU from hlt ----
function noop(_ctx: u32): void {}

function timerWakesHlt(): void {
  check(lapicPresent(), "no local APIC");
  check(timerInterruptAvailable(), "no APIC timer");
  const halts0 = loopHalts();
  const ticks0 = timerInterrupts();
  setTimeout(noop, 100);
  run();
  const halts = loopHalts() - halts0;
  const ticks = timerInterrupts() - ticks0;
  check(halts >= 1, "never halted");
  check(ticks >= 1, "no timer interrupt");
  print("idle 100 ms: ");
  printU64(halts);
  print(" halts, ");
  printU64(ticks);
  println(" timer interrupts");
  report("lapic_timer_wakes_hlt");
}

// ---- pending bits dispatch to handlers (self-IPIs through the local APIC) ----
let seenA: u32 = 0;
let seenB: u32 = 0;
let ctxA: u32 = 0;
let vectorA: u32 = 0;
let vectorB: u32 = 0;
function handlerA(vector: u32, ctx: u32): void { seenA++; ctxA = ctx; check(vector == vectorA, "wrong vector"); }
function handlerB(_vector: u32, _ctx: u32): void {
  seenB++;
  if (seenB < 3) lapicSelfIpi(<u8>vectorB); // re-raised from the loop: EOI must have been sent
}
function sendA(_ctx: u32): void { lapicSelfIpi(<u8>vectorA); }

function pendingDispatch(): void {
  vectorA = allocateVector();
  vectorB = allocateVector();
  check(vectorA >= 0x30 && vectorB == vectorA + 1, "vector allocation");
  onInterrupt(vectorA, handlerA, 42);
  onInterrupt(vectorB, handlerB);
  lapicSelfIpi(<u8>vectorB); // before run(): held in the IRR until the loop's first sti
  setTimeout(sendA, 5);
  setTimeout(noop, 30);
  run();
  check(seenA == 1, "handler A not run once");
  check(ctxA == 42, "handler A context");
  check(seenB == 3, "handler B not run three times");
  check(interruptCount(vectorB) == 3, "count of B");
  report("pending_bits_dispatch_to_handlers");
}

// ---- pollers, intervals and stop() ----
let polls: u32 = 0;
let ticksSeen: u32 = 0;
let intervalId: u32 = 0;
let pollerId: u32 = 0;
function poller(_ctx: u32): bool { polls++; return false; }
function tick(_ctx: u32): void {
  ticksSeen++;
  if (ticksSeen == 5) {
    check(clearTimeout(intervalId), "clear interval");
    check(removePoller(pollerId), "remove poller");
    stop();
  }
}
function pollersAndIntervals(): void {
  pollerId = addPoller(poller);
  intervalId = setInterval(tick, 2);
  run();
  check(ticksSeen == 5, "interval count");
  check(polls >= 5, "poller not called each iteration");
  check(pendingTimers() == 0, "interval still live");
  report("pollers_intervals_and_stop");
}

// ---- controllers: 8259 masked, IOAPIC route helper ----
function controllers(): void {
  check(picMask() == 0xffff, "8259 not fully masked");
  const pins = ioapicPins();
  check(pins >= 16, "IOAPIC has fewer than 16 pins");
  const v = allocateVector();
  const pin = pins - 1; // an unused line on pc and microvm
  ioapicRoute(pin, <u8>v, IrqTrigger.LEVEL_HIGH);
  check(ioapicEntryLow(pin) == (v | (1 << 15)), "route entry");
  ioapicSetMasked(pin, true);
  check((ioapicEntryLow(pin) & (1 << 16)) != 0, "mask bit");
  report("interrupt_controllers");
}

// ---- precision figures (printed, never asserted) ----
let precisionFiredAt: u64 = 0;
function markFired(_ctx: u32): void { precisionFiredAt = now(); }
function precision(): void {
  const delaysUs: u64[] = [100, 1000, 5000, 20000];
  for (let i = 0; i < delaysUs.length; i++) {
    const start = now();
    setTimeoutNs(markFired, delaysUs[i] * NS_PER_US);
    run();
    print("timer ");
    printU64(delaysUs[i]);
    print(" us -> ");
    printU64((precisionFiredAt - start) / NS_PER_US);
    println(" us");
  }
}

export function main(): void {
  timerFires();
  cancelledNeverFires();
  thousandTimers();
  timerWakesHlt();
  pendingDispatch();
  pollersAndIntervals();
  controllers();
  precision();
  if (failures != 0) exit(1);
  println("events: all passed");
}
`;

export function compileEventsApp(): Promise<CompileResult> {
  return compileKernelApp(EVENTS_APP_DIR, { files: { [`${EVENTS_APP_DIR}/main.ts`]: EVENTS_APP } });
}
