// UDP sockets: a port, a receive callback, and sendTo. RFC 768 (ports, datagrams); RFC 1122
// §4.1.3 (demultiplexing by destination port, SHOULD pass the source address/port up).
//
// Callbacks are plain AssemblyScript function references: closures cannot capture, so the
// callback receives its socket (and `socket.userData`, a word the application may set).
// The payload pointer is valid only during the callback (it points into the receive buffer).
// The socket table lives in UdpTransport, which net/interface.ts implements: sockets call down
// into the interface to send; the interface demultiplexes received datagrams to them.
// May import: ./wire/bytes (the transport is an abstract class defined here).

import { zeroedArray } from "./wire/bytes";

/** Sockets bound at once. */
// @ts-ignore: decorator
@inline export const MAX_UDP_SOCKETS: i32 = 16;

/** Receive callback: (socket, source address, source port, payload pointer, payload length). */
export type UdpReceiveFn = (socket: UdpSocket, srcAddr: u32, srcPort: u16, payload: usize, len: i32) => void;

/** What a socket needs from the interface below it. */
export abstract class UdpTransport {
  /** Bound sockets (null = free slot). */
  udpSockets: StaticArray<UdpSocket | null> = zeroedArray<UdpSocket | null>(MAX_UDP_SOCKETS);

  /** Sends one datagram; false when it was dropped (the reason is counted in the stats). */
  abstract sendUdp(srcPort: u16, dstAddr: u32, dstPort: u16, payload: usize, len: i32): bool;

  /** The socket bound to `port`, or null. */
  udpSocketFor(port: u16): UdpSocket | null {
    for (let i = 0; i < MAX_UDP_SOCKETS; i++) {
      const s = unchecked(this.udpSockets[i]);
      if (s !== null && s.port == port) return s;
    }
    return null;
  }
}

export class UdpSocket {
  /** Bound port, 0 when unbound. */
  port: u16 = 0;
  /** Free for the application (e.g. a pointer to its state). */
  userData: usize = 0;
  /** Datagrams delivered to the callback. */
  received: u64 = 0;
  callback: UdpReceiveFn | null = null;

  constructor(private transport: UdpTransport) {}

  /**
   * Binds to `port` (1..65535) with a receive callback. False when the port is 0, already bound
   * by another socket, this socket is already bound, or the table is full.
   */
  bind(port: u16, callback: UdpReceiveFn): bool {
    if (port == 0 || this.port != 0 || this.transport.udpSocketFor(port) !== null) return false;
    const table = this.transport.udpSockets;
    for (let i = 0; i < MAX_UDP_SOCKETS; i++) {
      if (unchecked(table[i]) === null) {
        unchecked((table[i] = this));
        this.port = port;
        this.callback = callback;
        return true;
      }
    }
    return false;
  }

  /** Unbinds; the port becomes free. */
  close(): void {
    const table = this.transport.udpSockets;
    for (let i = 0; i < MAX_UDP_SOCKETS; i++) {
      if (unchecked(table[i]) === this) unchecked((table[i] = null));
    }
    this.port = 0;
    this.callback = null;
  }

  /**
   * Sends `len` bytes at `payload` from our bound port to `addr:port`. The bytes are copied into
   * a transmit buffer before this returns. False when dropped (unbound socket, too big, no TX
   * buffer, ARP queue full; counted in the interface's stats).
   */
  sendTo(addr: u32, port: u16, payload: usize, len: i32): bool {
    if (this.port == 0) return false;
    return this.transport.sendUdp(this.port, addr, port, payload, len);
  }

  /** Called by the interface for each datagram to our port. */
  deliver(srcAddr: u32, srcPort: u16, payload: usize, len: i32): void {
    this.received++;
    const cb = this.callback;
    if (cb !== null) cb(this, srcAddr, srcPort, payload, len);
  }
}
