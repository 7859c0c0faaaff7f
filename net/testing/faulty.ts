// A seeded fault-injecting NetDevice wrapper for tests: on receive it drops, corrupts (flips
// bits in random bytes), truncates, or reorders (holds one frame back and delivers the next
// first) frames of the wrapped device, with rates in 1/65536 units and a xorshift32 generator,
// so a run is reproducible from its seed. Transmit passes straight through.
// (Models the unreliable link that RFC 1122 §1.2.2 tells hosts to expect.)
// May import: ../device.

import { NetDevice, PacketRef } from "../device";

export class FaultyDevice extends NetDevice {
  /** Per-frame probabilities in 1/65536. */
  dropRate: u32 = 0;
  corruptRate: u32 = 0;
  truncateRate: u32 = 0;
  reorderRate: u32 = 0;

  // Counts of what was done.
  dropped: u64 = 0;
  corrupted: u64 = 0;
  truncated: u64 = 0;
  reordered: u64 = 0;

  private state: u32;
  private held: PacketRef = new PacketRef();
  private hasHeld: bool = false;

  constructor(private inner: NetDevice, seed: u32) {
    super();
    this.state = seed == 0 ? 0x9e3779b9 : seed;
  }

  /** xorshift32 (Marsaglia 2003). */
  next(): u32 {
    let x = this.state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.state = x;
    return x;
  }

  private roll(rate: u32): bool {
    return (this.next() & 0xffff) < rate;
  }

  macAddress(): u64 { return this.inner.macAddress(); }
  mtu(): i32 { return this.inner.mtu(); }

  receive(out: PacketRef): bool {
    while (this.inner.receive(out)) {
      if (this.roll(this.dropRate)) {
        this.dropped++;
        this.inner.release(out.ptr);
        continue;
      }
      if (out.len > 0 && this.roll(this.corruptRate)) {
        const flips = 1 + (this.next() & 3);
        for (let k: u32 = 0; k < <u32>flips; k++) {
          const at = out.ptr + <usize>(this.next() % <u32>out.len);
          store<u8>(at, load<u8>(at) ^ <u8>(1 + (this.next() % 255)));
        }
        this.corrupted++;
      }
      if (out.len > 0 && this.roll(this.truncateRate)) {
        out.len = <i32>(this.next() % <u32>out.len);
        this.truncated++;
      }
      if (!this.hasHeld && this.roll(this.reorderRate)) {
        this.held.ptr = out.ptr;
        this.held.len = out.len;
        this.hasHeld = true;
        this.reordered++;
        continue; // deliver a later frame first
      }
      return true;
    }
    if (this.hasHeld) {
      out.ptr = this.held.ptr;
      out.len = this.held.len;
      this.hasHeld = false;
      return true;
    }
    return false;
  }

  release(ptr: usize): void { this.inner.release(ptr); }
  txBuffer(): usize { return this.inner.txBuffer(); }
  transmit(ptr: usize, len: i32): void { this.inner.transmit(ptr, len); }
  txDiscard(ptr: usize): void { this.inner.txDiscard(ptr); }
}
