// The boundary between the stack and a network driver: NetDevice, PacketPool, PacketRef.
// (Ethernet framing per RFC 894; buffer sizes follow from the MTU, RFC 1122 §3.3.2-3.3.3.)
//
// Drivers (drivers/virtio-net, ...) implement NetDevice; the stack never imports drivers/.
// Buffers are raw memory: `usize` pointers into identity-mapped RAM, so a buffer address is also
// its DMA address. Ownership moves explicitly and nothing is allocated per packet:
//
//   receive  driver --(ptr,len)--> stack: either the stack polls `receive(ref)`, processes the
//            frame, then hands the buffer back with `release(ptr)`; or the driver (or event loop)
//            calls `Interface.input(ptr, len)` itself and keeps ownership.
//   transmit stack asks `txBuffer()` (0 = ring full), writes one frame of at most
//            ETHERNET_HEADER_LEN + mtu() bytes into it, then either `transmit(ptr, len)` (the
//            device owns it again) or `txDiscard(ptr)`.
//
// PacketPool is the minimal interface of the kernel's fixed packet-buffer pools
// (kernel/runtime); net/pool.ts has a fixed-array implementation for Node tests.
// May import: nothing.

/** One received frame: where it is and how long it is. Filled by `NetDevice.receive`. */
export class PacketRef {
  ptr: usize = 0;
  len: i32 = 0;
}

/** An Ethernet device as the stack sees it. */
export abstract class NetDevice {
  /** The device's Ethernet address (48 bits, first octet most significant, see wire/bytes.ts). */
  abstract macAddress(): u64;

  /** Largest Ethernet payload (IP datagram) in bytes: 1500 for virtio-net without offloads. */
  abstract mtu(): i32;

  /**
   * Takes the next received frame: fills `out` and returns true, or returns false when none is
   * waiting. The stack owns `out.ptr` until it calls `release(out.ptr)`.
   */
  abstract receive(out: PacketRef): bool;

  /** Gives a buffer obtained from `receive` back to the device (e.g. to refill its RX ring). */
  abstract release(ptr: usize): void;

  /** A buffer of at least ETHERNET_HEADER_LEN + mtu() bytes for one outgoing frame, or 0 if none. */
  abstract txBuffer(): usize;

  /** Sends the first `len` bytes of a `txBuffer()` buffer; ownership returns to the device. */
  abstract transmit(ptr: usize, len: i32): void;

  /** Returns a `txBuffer()` buffer without sending it. */
  abstract txDiscard(ptr: usize): void;

  // ---- interrupt wake-up (optional; the defaults mean "poll only") ----

  /** The interrupt vector the device raises for received frames / finished transmits; 0: none. */
  interruptVector(): u32 {
    return 0;
  }

  /**
   * Before the CPU idles: asks for an interrupt at the next event. Returns false when the device
   * cannot interrupt or work is already waiting: then poll again instead of sleeping.
   */
  armInterrupt(): bool {
    return false;
  }

  /** The interrupt fired (or traffic flows): suppress further interrupts while polling. */
  disarmInterrupt(): void {}
}

/** Fixed-size packet buffers, allocated and freed explicitly (never by a garbage collector). */
export abstract class PacketPool {
  /** Bytes per buffer. */
  abstract bufferSize(): i32;

  /** A free buffer, or 0 when the pool is exhausted. */
  abstract alloc(): usize;

  /** Returns a buffer from `alloc`. */
  abstract free(ptr: usize): void;

  /** Buffers currently free. */
  abstract available(): i32;
}
