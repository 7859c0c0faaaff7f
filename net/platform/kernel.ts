// The stack's host interfaces (net/platform.ts) on the bare-metal kernel, and the glue that runs
// an Interface from the kernel's event loop:
//   KernelClock        milliseconds from the console's boot clock (TSC); granularity for the
//                      RFC 1122 §2.3.2.1 ARP timers
//   ConsoleSink        text to the serial console
//   KernelPacketPool   net's PacketPool over a kernel packet pool (kernel/runtime/pool.ts), so its
//                      occupancy shows in the runtime's counters
//   NetLoop            interrupt wake-up with a polling fast path (the NAPI pattern):
//
//      device interrupt ──> handler: disarm (suppress further interrupts)
//      poller, every loop iteration: drain up to a budget of frames (Interface.poll)
//        frames handled      -> busy: the loop polls again at once, no interrupts meanwhile
//        none                -> arm the device's interrupt; if work slipped in, busy again;
//                               else idle: the loop halts until the next interrupt or timer
//      interval timer: ARP retransmission / expiry (Interface.pollTimers) while idle
//
//   A device without an interrupt vector never arms: the poller stays busy (pure polling).
// The only file in net/ that imports kernel/; Node tests never compile it.
// May import: ../platform, ../device, ../interface, kernel/console, kernel/events, kernel/runtime.

import { microsSinceBoot, print, printU64 } from "../../kernel/console";
import { addPoller, removePoller, setInterval, clearInterval, onInterrupt, offInterrupt } from "../../kernel/events/loop";
import { BufferPool, createPool } from "../../kernel/runtime/pool";
import { Clock, TextSink } from "../platform";
import { NetDevice, PacketPool } from "../device";
import { Interface } from "../interface";

/** Period of the ARP timer while the loop is otherwise idle (ARP_RETRY_MS is 1000). */
// @ts-ignore: decorator
@inline const TIMER_PERIOD_MS: u64 = 250;

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

/** A PacketPool backed by a kernel runtime pool (buffer size a power of two). */
export class KernelPacketPool extends PacketPool {
  constructor(readonly pool: BufferPool) {
    super();
  }

  /** `count` buffers of `size` bytes (power of two), or null when RAM is short. */
  static create(size: u32, count: u32): KernelPacketPool | null {
    const p = createPool(size, count);
    return p == null ? null : new KernelPacketPool(p);
  }

  bufferSize(): i32 {
    return <i32>this.pool.bufferSize;
  }

  alloc(): usize {
    return this.pool.alloc();
  }

  free(ptr: usize): void {
    this.pool.free(ptr);
  }

  available(): i32 {
    return <i32>(this.pool.capacity - this.pool.inUse);
  }
}

/** Runs one Interface from the event loop: interrupt wake-up, polling while traffic flows. */
export class NetLoop {
  /** Device interrupts handled. */
  interrupts: u64 = 0;
  /** Poller calls. */
  polls: u64 = 0;
  /** Polls that handled at least one frame (fast path). */
  busyPolls: u64 = 0;
  /** Times the device's interrupt was armed before idling. */
  sleeps: u64 = 0;
  private pollerId: u32 = 0;
  private timerId: u32 = 0;
  private vector: u32 = 0;

  constructor(readonly iface: Interface, readonly device: NetDevice) {}

  /** Registers the poller, the interrupt handler (if the device has a vector) and the ARP timer. */
  start(): void {
    if (this.pollerId != 0) return;
    const ctx = <u32>changetype<usize>(this);
    this.vector = this.device.interruptVector();
    if (this.vector != 0) onInterrupt(this.vector, netInterrupt, ctx);
    this.pollerId = addPoller(netPoll, ctx);
    this.timerId = setInterval(netTimers, TIMER_PERIOD_MS, ctx);
  }

  /** Unregisters everything start() registered (run() may then return). */
  stop(): void {
    if (this.pollerId == 0) return;
    removePoller(this.pollerId);
    clearInterval(this.timerId);
    if (this.vector != 0) offInterrupt(this.vector);
    this.device.disarmInterrupt();
    this.pollerId = 0;
  }

  /** True when the device wakes the CPU by interrupt (otherwise the loop busy-polls). */
  get interruptDriven(): bool {
    return this.vector != 0;
  }
}

function netInterrupt(vector: u32, ctx: u32): void {
  const s = changetype<NetLoop>(<usize>ctx);
  s.interrupts++;
  s.device.disarmInterrupt();
}

function netPoll(ctx: u32): bool {
  const s = changetype<NetLoop>(<usize>ctx);
  s.polls++;
  if (s.iface.poll() > 0) {
    s.busyPolls++;
    return true;
  }
  if (!s.device.armInterrupt()) return true; // no interrupts, or work slipped in: poll again
  s.sleeps++;
  return false;
}

function netTimers(ctx: u32): void {
  changetype<NetLoop>(<usize>ctx).iface.pollTimers();
}
