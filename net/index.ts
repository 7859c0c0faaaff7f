// net/: the network stack, in the shape of smoltcp.
//
// Three layers, imports pointing down only:
//   sockets    udp_socket.ts   bind(port, callback) / sendTo(addr, port, ptr, len)
//   interface  interface.ts    one NetDevice + one IPv4 address: ARP (arp_cache.ts), IPv4 receive
//                              checks, ICMP echo, UDP demux, routing via gateway, drop counters
//                              (stats.ts), configuration text (config.ts)
//   wire       wire/*.ts       one protocol per file: typed views over bytes + plain Reprs
//                              (ethernet, arp, ipv4, icmp, udp) and the RFC 1071 checksum
// Boundaries: device.ts (NetDevice, PacketPool, PacketRef) is what drivers implement; platform.ts
// (Clock, TextSink) is what the host provides; net/platform/kernel.ts provides it on bare metal,
// with a kernel-pool PacketPool and NetLoop (event-loop glue: interrupt wake-up, polling fast path).
// net/ never imports drivers/, and imports kernel/ only in net/platform/kernel.ts, so everything
// else also runs under Node (net/testing/: loopback and fault-injecting devices, test entry).
//
// Memory: views and reprs are allocated once per Interface and re-pointed per packet; replies
// are built in device TX buffers; packets waiting for ARP sit in PacketPool buffers. After
// start-up, the receive -> reply path allocates nothing (test/net proves it with the allocator).
// Copy/fill are loops and arrays are zeroed by hand (wire/bytes.ts): the translator does not yet
// support bulk-memory operators.
//
// Implements: RFC 826 (ARP), 791 (IPv4), 792 (ICMP echo, port unreachable), 768 (UDP),
// 1071 (checksum), 1122 (host requirements, as cited in each file).
// May import: everything below it in net/; kernel/ only via net/platform/kernel.ts.

export { NetDevice, PacketPool, PacketRef } from "./device";
export { Clock, ManualClock, TextSink } from "./platform";
export { FixedPacketPool } from "./pool";
export { IpConfig, parseIpConfig, parseIpv4 } from "./config";
export { Drop, NetStats, dropName } from "./stats";
export { Interface } from "./interface";
export { UdpReceiveFn, UdpSocket } from "./udp_socket";
