// Counters of the stack: frames in and out, and every drop by reason. Each received frame ends
// in exactly one place: `rxAccepted` or one receive-side Drop reason (Interface.input returns the
// reason and counts it once), so rxFrames == rxAccepted + sum of receive drops, always.
// Reasons follow the checks of RFC 1122 §3.2.1 (IPv4), §3.2.2 (ICMP), §4.1.3 (UDP), §2.3.2 (ARP).
// May import: ./platform, ./wire/bytes.

import { TextSink } from "./platform";
import { zeroedArray } from "./wire/bytes";

/** Why a frame or an outgoing packet was dropped. Receive-side reasons come first. */
export const enum Drop {
  NONE = 0,
  /** Frame shorter than an Ethernet header. */
  ETH_TRUNCATED = 1,
  /** Destination MAC neither ours nor broadcast. */
  ETH_NOT_FOR_US = 2,
  /** EtherType other than IPv4 / ARP. */
  ETH_UNKNOWN_TYPE = 3,
  /** Too short, or not Ethernet/IPv4 ARP. */
  ARP_MALFORMED = 4,
  /** Opcode neither request nor reply. */
  ARP_UNKNOWN_OP = 5,
  /** A request for another host's address (nothing to merge either). */
  ARP_NOT_FOR_US = 6,
  /** Version != 4, IHL < 5, or Total Length inconsistent with IHL or the frame. */
  IPV4_MALFORMED = 7,
  /** Header checksum wrong. */
  IPV4_BAD_CHECKSUM = 8,
  /** Source is broadcast/multicast (RFC 1122 §3.2.1.3: MUST silently discard). */
  IPV4_BAD_SRC = 9,
  /** Destination is not our address nor a broadcast address. */
  IPV4_NOT_FOR_US = 10,
  /** MF set or fragment offset non-zero: no reassembly yet. */
  IPV4_FRAGMENT = 11,
  /** Protocol neither ICMP nor UDP. */
  IPV4_UNKNOWN_PROTOCOL = 12,
  /** Shorter than the ICMP header. */
  ICMP_TRUNCATED = 13,
  /** ICMP checksum wrong. */
  ICMP_BAD_CHECKSUM = 14,
  /** A type we do not act on (anything but echo request), or an echo request to broadcast. */
  ICMP_IGNORED = 15,
  /** UDP header or Length inconsistent. */
  UDP_MALFORMED = 16,
  /** UDP checksum wrong (RFC 1122 §4.1.3.4). */
  UDP_BAD_CHECKSUM = 17,
  /** No socket bound to the destination port. */
  UDP_NO_SOCKET = 18,
  /** First transmit-side reason: no TX buffer from the device (ring full). */
  TX_NO_BUFFER = 19,
  /** Datagram larger than the MTU (we do not fragment). */
  TX_TOO_BIG = 20,
  /** No room to queue a packet awaiting ARP resolution (queue full or pool empty). */
  ARP_QUEUE_FULL = 21,
  /** Packet queued for ARP resolution whose address never resolved. */
  ARP_TIMEOUT = 22,
  /** No route: destination off-link and no gateway configured. */
  TX_NO_ROUTE = 23,
  COUNT = 24,
}

/** First transmit-side reason. */
// @ts-ignore: decorator
@inline export const FIRST_TX_DROP: i32 = Drop.TX_NO_BUFFER;

/** The reason's name as printed (snake case). */
export function dropName(reason: i32): string {
  switch (reason) {
    case Drop.NONE: return "none";
    case Drop.ETH_TRUNCATED: return "eth_truncated";
    case Drop.ETH_NOT_FOR_US: return "eth_not_for_us";
    case Drop.ETH_UNKNOWN_TYPE: return "eth_unknown_type";
    case Drop.ARP_MALFORMED: return "arp_malformed";
    case Drop.ARP_UNKNOWN_OP: return "arp_unknown_op";
    case Drop.ARP_NOT_FOR_US: return "arp_not_for_us";
    case Drop.IPV4_MALFORMED: return "ipv4_malformed";
    case Drop.IPV4_BAD_CHECKSUM: return "ipv4_bad_checksum";
    case Drop.IPV4_BAD_SRC: return "ipv4_bad_src";
    case Drop.IPV4_NOT_FOR_US: return "ipv4_not_for_us";
    case Drop.IPV4_FRAGMENT: return "ipv4_fragment";
    case Drop.IPV4_UNKNOWN_PROTOCOL: return "ipv4_unknown_protocol";
    case Drop.ICMP_TRUNCATED: return "icmp_truncated";
    case Drop.ICMP_BAD_CHECKSUM: return "icmp_bad_checksum";
    case Drop.ICMP_IGNORED: return "icmp_ignored";
    case Drop.UDP_MALFORMED: return "udp_malformed";
    case Drop.UDP_BAD_CHECKSUM: return "udp_bad_checksum";
    case Drop.UDP_NO_SOCKET: return "udp_no_socket";
    case Drop.TX_NO_BUFFER: return "tx_no_buffer";
    case Drop.TX_TOO_BIG: return "tx_too_big";
    case Drop.ARP_QUEUE_FULL: return "arp_queue_full";
    case Drop.ARP_TIMEOUT: return "arp_timeout";
    case Drop.TX_NO_ROUTE: return "tx_no_route";
    default: return "unknown";
  }
}

export class NetStats {
  /** Frames handed to Interface.input. */
  rxFrames: u64 = 0;
  /** Frames processed to the end (answered, delivered, or learned from). */
  rxAccepted: u64 = 0;
  /** Frames given to the device. */
  txFrames: u64 = 0;
  /** Drops by reason (index: Drop). */
  drops: StaticArray<u64> = zeroedArray<u64>(Drop.COUNT);

  // @ts-ignore: decorator
  @inline count(reason: i32): void {
    unchecked((this.drops[reason] = this.drops[reason] + 1));
  }

  /** Drops of one reason (0 for an out-of-range reason). */
  dropped(reason: i32): u64 {
    return <u32>reason < <u32>Drop.COUNT ? unchecked(this.drops[reason]) : 0;
  }

  /** Sum of receive-side drops. */
  rxDropped(): u64 {
    let n: u64 = 0;
    for (let i = 1; i < FIRST_TX_DROP; i++) n += unchecked(this.drops[i]);
    return n;
  }

  /** Sum of transmit-side drops. */
  txDropped(): u64 {
    let n: u64 = 0;
    for (let i = FIRST_TX_DROP; i < Drop.COUNT; i++) n += unchecked(this.drops[i]);
    return n;
  }

  reset(): void {
    this.rxFrames = 0;
    this.rxAccepted = 0;
    this.txFrames = 0;
    for (let i = 0; i < Drop.COUNT; i++) unchecked((this.drops[i] = 0));
  }

  /** One line: `net: rx=N accepted=N tx=N drops: reason=N ...` (non-zero reasons only). */
  print(out: TextSink): void {
    out.write("net: rx=");
    out.writeU64(this.rxFrames);
    out.write(" accepted=");
    out.writeU64(this.rxAccepted);
    out.write(" tx=");
    out.writeU64(this.txFrames);
    out.write(" drops:");
    for (let i = 1; i < Drop.COUNT; i++) {
      const n = unchecked(this.drops[i]);
      if (n == 0) continue;
      out.write(" ");
      out.write(dropName(i));
      out.write("=");
      out.writeU64(n);
    }
    out.write("\n");
  }
}
