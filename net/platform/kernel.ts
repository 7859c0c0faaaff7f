// The stack's host interfaces (net/platform.ts) on the bare-metal kernel: time from the
// console's boot clock (TSC), text to the serial console. The only file in net/ that imports
// kernel/; Node tests never compile it. (Clock granularity for RFC 1122 §2.3.2.1 ARP timers.)
// May import: ../platform, kernel/console.

import { microsSinceBoot, print, printU64 } from "../../kernel/console";
import { Clock, TextSink } from "../platform";

/** Milliseconds since boot. */
export class KernelClock extends Clock {
  nowMillis(): u64 {
    return microsSinceBoot() / 1000;
  }
}

/** The serial console. */
export class ConsoleSink extends TextSink {
  write(s: string): void {
    print(s);
  }
  writeU64(v: u64): void {
    printU64(v);
  }
}
