// What the stack needs from its host, as two small interfaces: a clock (ARP cache expiry and
// retransmission, RFC 1122 §2.3.2.1) and a text sink (printing statistics). The kernel implements
// them with kernel/console.ts and the TSC (net/platform/kernel.ts); Node tests with a manual clock
// and an imported print function. The stack itself never imports kernel/.
// May import: nothing.

/** Monotonic milliseconds since some fixed point. */
export abstract class Clock {
  abstract nowMillis(): u64;
}

/** Where printable output goes. */
export abstract class TextSink {
  abstract write(s: string): void;
  abstract writeU64(v: u64): void;
}

/** A clock that moves only when told to (tests, or hosts without a timer yet). */
export class ManualClock extends Clock {
  now: u64 = 0;
  nowMillis(): u64 {
    return this.now;
  }
  advance(ms: u64): void {
    this.now += ms;
  }
}
