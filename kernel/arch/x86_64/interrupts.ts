// Interrupt plumbing of the x86-64 platform: vector plan, controller set-up, the pending bitmap the
// native stubs fill (boot/interrupts.ts), end-of-interrupt, and the idle wait.
//
// Sources: Intel SDM Vol. 3A §6.2-6.3 (vectors 0..31 reserved, 32..255 free), §6.8.1 (IF flag, STI
// interrupt shadow), ch. 11 (local APIC: priority class = vector >> 4, higher class wins; EOI);
// 8259A data sheet (pic8259.ts); 82093AA IOAPIC data sheet (ioapic.ts).
//
// Vector plan:
// ```
//   0x00..0x1F  CPU exceptions (boot/entry.ts stubs -> __trap -> panic)
//   0x20..0x2F  the remapped, fully masked 8259 pair: never acknowledged with an EOI
//   0x30..0xEF  device vectors, handed out by allocateVector() (MSI-X, IOAPIC routes, tests)
//   0xF0        local APIC timer (highest class: never held back by a device in service)
//   0xFF        local APIC spurious vector (stub is a bare iretq, no EOI: SDM §11.9)
// ```
// Protocol with the stubs (tools/link/ABI.md "Interrupts"): a delivered vector v sets pending bit v
// and stays in service in the local APIC (no EOI yet). takePending() swaps a 32-bit word to zero
// atomically; after the handlers of the bits it returned ran, acknowledge() sends one EOI per bit.

import { cli, sti, stiHlt, xchg32, pause, rdtsc } from "./intrinsics";
import { interruptPendingAddress } from "./image";
import { picRemapAndMask } from "./pic8259";
import { lapicInit, lapicEoi, lapicPresent, lapicTimerInit, lapicTimerArm, lapicTimerDisarm, lapicTscDeadline, lapicTimerHz } from "./lapic";
import { ioapicMaskAll, ioapicPins } from "./ioapic";

export const LEGACY_PIC_FIRST_VECTOR: u32 = 0x20;
export const FIRST_DEVICE_VECTOR: u32 = 0x30;
export const LAST_DEVICE_VECTOR: u32 = 0xef;
export const TIMER_VECTOR: u32 = 0xf0;
export const SPURIOUS_VECTOR: u32 = 0xff;
/** Number of 32-bit words in the pending bitmap. */
export const PENDING_WORDS: i32 = 8;

let nextDeviceVector: u32 = FIRST_DEVICE_VECTOR;
let timerReady = false;
let ioapicPinCount: u32 = 0;

/**
 * Remaps and masks the 8259s, enables the local APIC (spurious vector 0xFF), masks every IOAPIC
 * pin, and sets the APIC timer up on TIMER_VECTOR (one-shot rate measured over ~5 ms of TSC).
 * Interrupts stay disabled (IF = 0) until the event loop first idles. Returns false when there is
 * no usable local APIC: then the event loop polls instead of halting.
 */
export function interruptsInit(tscHz: u64): bool {
  picRemapAndMask();
  if (!lapicInit(<u8>SPURIOUS_VECTOR)) return false;
  ioapicPinCount = ioapicPins();
  if (ioapicPinCount > 0) ioapicMaskAll();
  if (tscHz != 0) {
    lapicTimerInit(<u8>TIMER_VECTOR, tscHz / 200, tscHz);
    timerReady = lapicTscDeadline() || lapicTimerHz() != 0;
  }
  return true;
}

/** True when a timer interrupt can wake the CPU from hlt (local APIC timer set up). */
export function timerInterruptAvailable(): bool { return timerReady; }
/** Redirection entries of the IOAPIC found at boot (0: none). */
export function ioapicPinsFound(): u32 { return ioapicPinCount; }

/** Hands out a free device vector (0x30..0xEF, ascending); 0 when all are taken. */
export function allocateVector(): u32 {
  if (nextDeviceVector > LAST_DEVICE_VECTOR) return 0;
  return nextDeviceVector++;
}

/** Atomically takes pending word `word` (vectors 32*word .. 32*word+31), leaving it zero. */
@inline export function takePending(word: i32): u32 {
  return xchg32(interruptPendingAddress() + (<usize>word << 2), 0);
}

/** True if any vector is pending (plain reads: a hint, the take is what counts). */
export function anyPending(): bool {
  const p = interruptPendingAddress();
  for (let w = 1; w < PENDING_WORDS; w++) if (load<u32>(p + (<usize>w << 2)) != 0) return true;
  return false;
}

/**
 * Ends the interrupts of `word`'s `bits` (just taken and handled): one local-APIC EOI per vector
 * the APIC delivered. The masked 8259's vectors and the spurious vector owe none.
 */
export function acknowledge(word: i32, bits: u32): void {
  if (!lapicPresent()) return;
  if (word == 1) bits &= 0xffff_0000; // 0x20..0x2F: legacy 8259 range
  if (word == 7) bits &= 0x7fff_ffff; // 0xFF: spurious
  let n = popcnt<u32>(bits);
  while (n-- > 0) lapicEoi();
}

/** Arms the timer interrupt for TSC value `deadlineTsc` (u64.MAX_VALUE: disarm). */
export function armTimer(deadlineTsc: u64, tscHz: u64): void {
  if (!timerReady) return;
  if (deadlineTsc == u64.MAX_VALUE) lapicTimerDisarm();
  else lapicTimerArm(deadlineTsc, rdtsc(), tscHz);
}

/** Busy-wait hint (`pause`): the idle step when no interrupt can be relied on to wake us. */
@inline export function relax(): void { pause(); }

/**
 * The idle step: with interrupts off, check for pending work; if there is none, `sti; hlt` as one
 * sequence (an interrupt arriving between the check and the hlt is taken right after sti's
 * one-instruction shadow and ends the hlt, so no wake-up is lost). Returns true if it halted.
 * Without a timer interrupt source it only pauses (busy polling).
 */
export function waitForInterrupt(): bool {
  if (!lapicPresent()) {
    pause();
    return false;
  }
  cli();
  if (anyPending()) {
    sti();
    return false;
  }
  stiHlt(); // returns after the waking interrupt's stub; IF = 1 from here on
  return true;
}
