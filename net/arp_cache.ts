// The ARP cache and the queue of packets waiting for address resolution.
// RFC 826 "Packet Reception" (merge, then add if we are the target); RFC 1122 §2.3.2.1 (entries
// time out; MUST prevent ARP flooding: at most one request per address per second) and §2.3.2.2
// (SHOULD keep at least one queued packet per unresolved address; we keep a bounded queue).
// Fixed-size arrays: nothing here allocates after construction.
// May import: ./wire/bytes.

import { zeroedArray } from "./wire/bytes";

/** Cache entries. */
// @ts-ignore: decorator
@inline export const ARP_CACHE_SIZE: i32 = 16;
/** Lifetime of a learned entry (Linux's base_reachable_time is 30 s; RFC 1122 leaves it open). */
// @ts-ignore: decorator
@inline export const ARP_ENTRY_TTL_MS: u64 = 60_000;
/** Minimum interval between two requests for one address (RFC 1122 §2.3.2.1: 1 per second). */
// @ts-ignore: decorator
@inline export const ARP_RETRY_MS: u64 = 1_000;
/** A queued packet whose next hop does not resolve within this time is dropped. */
// @ts-ignore: decorator
@inline export const ARP_RESOLVE_TIMEOUT_MS: u64 = 3_000;
/** Packets that may wait for resolution at once (all addresses together). */
// @ts-ignore: decorator
@inline export const ARP_QUEUE_SIZE: i32 = 8;

/** `lookup` result when the address is not cached (a real MAC uses only 48 bits). */
// @ts-ignore: decorator
@inline export const ARP_MISS: u64 = 0x8000_0000_0000_0000;

export class ArpCache {
  private addrs: StaticArray<u32> = zeroedArray<u32>(ARP_CACHE_SIZE);
  private macs: StaticArray<u64> = zeroedArray<u64>(ARP_CACHE_SIZE);
  /** Expiry time in ms; 0 = empty slot. */
  private expires: StaticArray<u64> = zeroedArray<u64>(ARP_CACHE_SIZE);

  private find(addr: u32, now: u64): i32 {
    for (let i = 0; i < ARP_CACHE_SIZE; i++) {
      if (unchecked(this.expires[i]) > now && unchecked(this.addrs[i]) == addr) return i;
    }
    return -1;
  }

  /** The MAC address for `addr`, or ARP_MISS when absent or expired. */
  lookup(addr: u32, now: u64): u64 {
    const i = this.find(addr, now);
    return i < 0 ? ARP_MISS : unchecked(this.macs[i]);
  }

  /** RFC 826 merge: refreshes an existing entry for `addr`; false when there was none. */
  update(addr: u32, mac: u64, now: u64): bool {
    const i = this.find(addr, now);
    if (i < 0) return false;
    unchecked((this.macs[i] = mac));
    unchecked((this.expires[i] = now + ARP_ENTRY_TTL_MS));
    return true;
  }

  /** Adds or refreshes an entry, evicting an expired one or else the one closest to expiry. */
  fill(addr: u32, mac: u64, now: u64): void {
    if (this.update(addr, mac, now)) return;
    let victim = 0;
    let soonest = u64.MAX_VALUE;
    for (let i = 0; i < ARP_CACHE_SIZE; i++) {
      const e = unchecked(this.expires[i]);
      if (e <= now) { victim = i; break; }
      if (e < soonest) { soonest = e; victim = i; }
    }
    unchecked((this.addrs[victim] = addr));
    unchecked((this.macs[victim] = mac));
    unchecked((this.expires[victim] = now + ARP_ENTRY_TTL_MS));
  }

  /** Live entries at `now`. */
  size(now: u64): i32 {
    let n = 0;
    for (let i = 0; i < ARP_CACHE_SIZE; i++) if (unchecked(this.expires[i]) > now) n++;
    return n;
  }

  clear(): void {
    for (let i = 0; i < ARP_CACHE_SIZE; i++) unchecked((this.expires[i] = 0));
  }
}

/**
 * Complete frames (Ethernet header written except the destination MAC) waiting for their next
 * hop to resolve. Each holds one PacketPool buffer.
 */
export class ArpQueue {
  bufs: StaticArray<usize> = zeroedArray<usize>(ARP_QUEUE_SIZE);
  lens: StaticArray<i32> = zeroedArray<i32>(ARP_QUEUE_SIZE);
  nextHops: StaticArray<u32> = zeroedArray<u32>(ARP_QUEUE_SIZE);
  queuedAt: StaticArray<u64> = zeroedArray<u64>(ARP_QUEUE_SIZE);
  /** When the last request for this slot's next hop went out. */
  requestedAt: StaticArray<u64> = zeroedArray<u64>(ARP_QUEUE_SIZE);

  /** A free slot, or -1. */
  freeSlot(): i32 {
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) if (unchecked(this.bufs[i]) == 0) return i;
    return -1;
  }

  /** Slots in use. */
  length(): i32 {
    let n = 0;
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) if (unchecked(this.bufs[i]) != 0) n++;
    return n;
  }

  /**
   * True when a request for `nextHop` went out less than ARP_RETRY_MS ago (RFC 1122 §2.3.2.1);
   * `now` must be >= every recorded time.
   */
  recentlyRequested(nextHop: u32, now: u64): bool {
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) {
      if (unchecked(this.bufs[i]) != 0 && unchecked(this.nextHops[i]) == nextHop &&
          now - unchecked(this.requestedAt[i]) < ARP_RETRY_MS) return true;
    }
    return false;
  }

  /** Records that a request for `nextHop` went out at `now`. */
  markRequested(nextHop: u32, now: u64): void {
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) {
      if (unchecked(this.bufs[i]) != 0 && unchecked(this.nextHops[i]) == nextHop) unchecked((this.requestedAt[i] = now));
    }
  }
}
