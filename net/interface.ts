// The IPv4 interface: one NetDevice, one address. Receives frames (ARP, IPv4 -> ICMP echo, UDP),
// answers ARP and echo requests, demultiplexes UDP to sockets, and sends IPv4 datagrams through
// the ARP cache, queueing them while their next hop resolves.
//
//   RFC 826   ARP: reply to requests for our address; merge/add sender (Packet Reception).
//   RFC 791   IPv4 §3.1 header; §3.2 fragments (not reassembled yet: counted and dropped).
//   RFC 792   ICMP echo: reply with type 0, same identifier, sequence number and data.
//   RFC 768   UDP demultiplexing by destination port.
//   RFC 1122  §3.2.1.1 version, §3.2.1.2 header checksum (MUST verify, silently discard),
//             §3.2.1.3 bad source addresses, §3.2.1.7 TTL (a host does NOT discard on TTL),
//             §3.2.2.6 echo, §3.3.6 broadcasts (no echo reply to broadcast), §4.1.3.1 port
//             unreachable for UDP without a socket, §4.1.3.4 UDP checksum, §2.3.2 ARP cache.
//
// Receive path allocates nothing: the views below are created once and re-pointed per frame;
// replies are built directly in a device TX buffer (or a pool buffer while ARP resolves).
// Each received frame is counted exactly once: accepted or one Drop reason (net/stats.ts).
// May import: ./device, ./platform, ./config, ./stats, ./arp_cache, ./udp_socket, ./wire/*.

import { copyBytes, MAC_BROADCAST, storeMac } from "./wire/bytes";
import { ETHERNET_HEADER_LEN, EthernetFrame, EtherType } from "./wire/ethernet";
import { ARP_HEADER_LEN, ArpOperation, ArpPacket, ArpRepr } from "./wire/arp";
import { IPV4_BROADCAST, IPV4_HEADER_LEN, IpProtocol, Ipv4Packet, Ipv4Repr } from "./wire/ipv4";
import { ICMP_HEADER_LEN, IcmpPacket, IcmpType, IcmpUnreachable } from "./wire/icmp";
import { UDP_HEADER_LEN, UdpPacket } from "./wire/udp";
import { NetDevice, PacketPool, PacketRef } from "./device";
import { Clock } from "./platform";
import { IpConfig } from "./config";
import { Drop, NetStats } from "./stats";
import { ARP_MISS, ARP_QUEUE_SIZE, ARP_RESOLVE_TIMEOUT_MS, ARP_RETRY_MS, ArpCache, ArpQueue } from "./arp_cache";
import { UdpSocket, UdpTransport } from "./udp_socket";

/** TTL of datagrams we send (RFC 1700's recommended default). */
// @ts-ignore: decorator
@inline const DEFAULT_TTL: u8 = 64;
/** Frames handled per `poll` call at most, so timers and other devices get their turn. */
// @ts-ignore: decorator
@inline const POLL_BUDGET: i32 = 64;
/** Bytes of the offending datagram quoted in an ICMP error beyond its IP header (RFC 792). */
// @ts-ignore: decorator
@inline const ICMP_ERROR_QUOTE: i32 = 8;

export class Interface extends UdpTransport {
  readonly stats: NetStats = new NetStats();
  readonly arpCache: ArpCache = new ArpCache();
  readonly arpQueue: ArpQueue = new ArpQueue();
  readonly mac: u64;
  readonly mtu: i32;

  // Receive views, re-pointed per frame.
  private rxRef: PacketRef = new PacketRef();
  private rxEth: EthernetFrame = new EthernetFrame();
  private rxArp: ArpPacket = new ArpPacket();
  private rxArpRepr: ArpRepr = new ArpRepr();
  private rxIp: Ipv4Packet = new Ipv4Packet();
  private rxIcmp: IcmpPacket = new IcmpPacket();
  private rxUdp: UdpPacket = new UdpPacket();

  // Transmit views and the datagram being built (ipBegin .. ipCommit).
  private txEth: EthernetFrame = new EthernetFrame();
  private txArp: ArpPacket = new ArpPacket();
  private txArpRepr: ArpRepr = new ArpRepr();
  private txIp: Ipv4Packet = new Ipv4Packet();
  private txIpRepr: Ipv4Repr = new Ipv4Repr();
  private txIcmp: IcmpPacket = new IcmpPacket();
  private txUdp: UdpPacket = new UdpPacket();
  private txBuf: usize = 0;
  private txLen: i32 = 0;
  /** ARP queue slot of the datagram being built, or -1 when it goes straight to the device. */
  private txSlot: i32 = -1;
  private txNextHop: u32 = 0;
  private nextIdent: u16 = 1;

  constructor(
    private device: NetDevice,
    private pool: PacketPool,
    private clock: Clock,
    readonly config: IpConfig,
  ) {
    super();
    this.mac = device.macAddress();
    this.mtu = device.mtu();
    // Queued frames are copied whole into TX buffers later: a pool buffer must hold one.
    assert(pool.bufferSize() >= ETHERNET_HEADER_LEN + this.mtu, "net: pool buffers smaller than a frame");
  }

  /** A new, unbound UDP socket on this interface. */
  udpSocket(): UdpSocket {
    return new UdpSocket(this);
  }

  /**
   * Drains up to POLL_BUDGET received frames from the device, then runs ARP timers. Returns the
   * number of frames processed.
   */
  poll(): i32 {
    let n = 0;
    const ref = this.rxRef;
    while (n < POLL_BUDGET && this.device.receive(ref)) {
      this.input(ref.ptr, ref.len);
      this.device.release(ref.ptr);
      n++;
    }
    this.pollTimers();
    return n;
  }

  /**
   * Processes one received frame that the caller owns (it may reuse the buffer after this
   * returns). Returns Drop.NONE if accepted, or the reason it was dropped (already counted).
   */
  input(ptr: usize, len: i32): i32 {
    this.stats.rxFrames++;
    const reason = this.processEthernet(ptr, len);
    if (reason == Drop.NONE) this.stats.rxAccepted++;
    else this.stats.count(reason);
    return reason;
  }

  /** Expires queued packets whose next hop did not resolve and retransmits ARP requests. */
  pollTimers(): void {
    const now = this.clock.nowMillis();
    const q = this.arpQueue;
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) {
      const buf = unchecked(q.bufs[i]);
      if (buf == 0) continue;
      if (now - unchecked(q.queuedAt[i]) >= ARP_RESOLVE_TIMEOUT_MS) {
        this.pool.free(buf);
        unchecked((q.bufs[i] = 0));
        this.stats.count(Drop.ARP_TIMEOUT);
      }
    }
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) {
      if (unchecked(q.bufs[i]) == 0 || now - unchecked(q.requestedAt[i]) < ARP_RETRY_MS) continue;
      const hop = unchecked(q.nextHops[i]);
      this.sendArpRequest(hop);
      q.markRequested(hop, now);
    }
  }

  // ---- receive -------------------------------------------------------------------------------

  private processEthernet(ptr: usize, len: i32): i32 {
    const eth = this.rxEth.reset(ptr, len);
    if (!eth.checkLen()) return Drop.ETH_TRUNCATED;
    const dst = eth.dstAddr;
    if (dst != this.mac && dst != MAC_BROADCAST) return Drop.ETH_NOT_FOR_US;
    const type = eth.etherType;
    if (type == EtherType.IPV4) return this.processIpv4(eth.payload, eth.payloadLen);
    if (type == EtherType.ARP) return this.processArp(eth.payload, eth.payloadLen);
    return Drop.ETH_UNKNOWN_TYPE;
  }

  /** RFC 826 "Packet Reception", for hardware Ethernet and protocol IPv4 only. */
  private processArp(ptr: usize, len: i32): i32 {
    const repr = this.rxArpRepr;
    if (!repr.parse(this.rxArp.reset(ptr, len))) return Drop.ARP_MALFORMED;
    const op = repr.operation;
    if (op != ArpOperation.REQUEST && op != ArpOperation.REPLY) return Drop.ARP_UNKNOWN_OP;
    const sha = repr.senderHardwareAddr;
    const spa = repr.senderProtocolAddr;
    // A group address as sender hardware address is never legitimate (it would redirect our
    // unicast traffic to a broadcast).
    if ((sha >> 40) & 1) return Drop.ARP_MALFORMED;
    const now = this.clock.nowMillis();
    // Merge: refresh an entry we already have, whoever the target (spa 0 is a probe: skip).
    const merged = spa != 0 && this.arpCache.update(spa, sha, now);
    if (repr.targetProtocolAddr != this.config.address) return merged ? Drop.NONE : Drop.ARP_NOT_FOR_US;
    if (spa != 0) {
      if (!merged) this.arpCache.fill(spa, sha, now);
      this.releaseQueued(spa, sha);
    }
    if (op == ArpOperation.REQUEST) this.sendArpReply(sha, spa);
    return Drop.NONE;
  }

  private processIpv4(ptr: usize, len: i32): i32 {
    const ip = this.rxIp.reset(ptr, len);
    if (!ip.checkLen() || ip.version != 4) return Drop.IPV4_MALFORMED;
    if (!ip.verifyChecksum()) return Drop.IPV4_BAD_CHECKSUM;
    const src = ip.srcAddr;
    const dst = ip.dstAddr;
    const config = this.config;
    const subnetBroadcast = config.broadcast();
    // RFC 1122 §3.2.1.3: broadcast, multicast/class E and loopback sources are discarded.
    if (src == IPV4_BROADCAST || src == subnetBroadcast || (src >> 28) >= 0xe || (src >> 24) == 127) {
      return Drop.IPV4_BAD_SRC;
    }
    const broadcast = dst == IPV4_BROADCAST || dst == subnetBroadcast;
    if (dst != config.address && !broadcast) return Drop.IPV4_NOT_FOR_US;
    if (ip.moreFragments || ip.fragOffset != 0) return Drop.IPV4_FRAGMENT;
    const proto = ip.protocol;
    if (proto == <u8>IpProtocol.ICMP) return this.processIcmp(ip, broadcast);
    if (proto == <u8>IpProtocol.UDP) return this.processUdp(ip, broadcast);
    return Drop.IPV4_UNKNOWN_PROTOCOL;
  }

  /** RFC 792 echo; RFC 1122 §3.2.2.6 (echo reply), §3.2.2 (silently ignore unknown types). */
  private processIcmp(ip: Ipv4Packet, broadcast: bool): i32 {
    const icmp = this.rxIcmp.reset(ip.payload, ip.payloadLen);
    if (!icmp.checkLen()) return Drop.ICMP_TRUNCATED;
    if (!icmp.verifyChecksum()) return Drop.ICMP_BAD_CHECKSUM;
    if (icmp.msgType != IcmpType.ECHO_REQUEST || icmp.code != 0 || broadcast) return Drop.ICMP_IGNORED;
    // The reply is the request with type 0 and a new checksum; identifier, sequence number and
    // data are returned unchanged. A failed send is counted as a transmit drop; the request
    // itself was accepted.
    const len = icmp.len;
    const p = this.ipBegin(ip.srcAddr, <u8>IpProtocol.ICMP, len);
    if (p != 0) {
      copyBytes(p, icmp.ptr, len);
      const reply = this.txIcmp.reset(p, len);
      reply.msgType = <u8>IcmpType.ECHO_REPLY;
      reply.code = 0;
      reply.fillChecksum();
      this.ipCommit();
    }
    return Drop.NONE;
  }

  private processUdp(ip: Ipv4Packet, broadcast: bool): i32 {
    const udp = this.rxUdp.reset(ip.payload, ip.payloadLen);
    if (!udp.checkLen()) return Drop.UDP_MALFORMED;
    const src = ip.srcAddr;
    if (!udp.verifyChecksum(src, ip.dstAddr)) return Drop.UDP_BAD_CHECKSUM;
    const socket = this.udpSocketFor(udp.dstPort);
    if (socket === null) {
      // RFC 1122 §4.1.3.1 SHOULD send port unreachable, §3.2.2: never for a broadcast.
      if (!broadcast) this.sendIcmpError(ip, <u8>IcmpUnreachable.PORT);
      return Drop.UDP_NO_SOCKET;
    }
    socket.deliver(src, udp.srcPort, udp.payload, udp.payloadLen);
    return Drop.NONE;
  }

  // ---- transmit ------------------------------------------------------------------------------

  /** UdpTransport: one datagram from our address. */
  sendUdp(srcPort: u16, dstAddr: u32, dstPort: u16, payload: usize, len: i32): bool {
    if (len < 0) return false;
    const total = UDP_HEADER_LEN + len;
    const p = this.ipBegin(dstAddr, <u8>IpProtocol.UDP, total);
    if (p == 0) return false;
    copyBytes(p + <usize>UDP_HEADER_LEN, payload, len);
    const udp = this.txUdp.reset(p, total);
    udp.srcPort = srcPort;
    udp.dstPort = dstPort;
    udp.length = <u16>total;
    udp.fillChecksum(this.config.address, dstAddr);
    this.ipCommit();
    return true;
  }

  /** ICMP destination unreachable quoting the offending header + 8 bytes (RFC 792). */
  private sendIcmpError(offending: Ipv4Packet, code: u8): void {
    let quote = offending.headerLen + ICMP_ERROR_QUOTE;
    if (quote > <i32>offending.totalLen) quote = <i32>offending.totalLen;
    const len = ICMP_HEADER_LEN + quote;
    const p = this.ipBegin(offending.srcAddr, <u8>IpProtocol.ICMP, len);
    if (p == 0) return;
    copyBytes(p + <usize>ICMP_HEADER_LEN, offending.ptr, quote);
    const icmp = this.txIcmp.reset(p, len);
    icmp.msgType = <u8>IcmpType.DEST_UNREACHABLE;
    icmp.code = code;
    icmp.clearRest();
    icmp.fillChecksum();
    this.ipCommit();
  }

  /**
   * Starts an IPv4 datagram to `dst` with `payloadLen` payload bytes: picks the next hop, writes
   * the Ethernet and IP headers into a device TX buffer (next hop resolved) or a pool buffer
   * (queued for ARP), and returns where the payload goes, or 0 if the datagram was dropped
   * (reason counted). Finish with `ipCommit`.
   */
  private ipBegin(dst: u32, protocol: u8, payloadLen: i32): usize {
    if (IPV4_HEADER_LEN + payloadLen > this.mtu) {
      this.stats.count(Drop.TX_TOO_BIG);
      return 0;
    }
    const config = this.config;
    let mac: u64;
    let nextHop: u32 = dst;
    if (dst == IPV4_BROADCAST || dst == config.broadcast()) {
      mac = MAC_BROADCAST;
    } else {
      if (!config.onLink(dst)) {
        if (config.gateway == 0) {
          this.stats.count(Drop.TX_NO_ROUTE);
          return 0;
        }
        nextHop = config.gateway;
      }
      mac = this.arpCache.lookup(nextHop, this.clock.nowMillis());
    }
    let buf: usize;
    let slot = -1;
    if (mac != ARP_MISS) {
      buf = this.device.txBuffer();
      if (buf == 0) {
        this.stats.count(Drop.TX_NO_BUFFER);
        return 0;
      }
    } else {
      slot = this.arpQueue.freeSlot();
      buf = slot < 0 ? 0 : this.pool.alloc();
      if (buf == 0) {
        this.stats.count(Drop.ARP_QUEUE_FULL);
        return 0;
      }
      mac = 0; // filled in when the next hop resolves
    }
    const eth = this.txEth.reset(buf, ETHERNET_HEADER_LEN);
    eth.dstAddr = mac;
    eth.srcAddr = this.mac;
    eth.etherType = <u16>EtherType.IPV4;
    const repr = this.txIpRepr;
    repr.srcAddr = config.address;
    repr.dstAddr = dst;
    repr.protocol = protocol;
    repr.ttl = DEFAULT_TTL;
    repr.ident = this.nextIdent++;
    repr.dontFragment = false;
    repr.payloadLen = payloadLen;
    repr.emit(this.txIp.reset(eth.payload, IPV4_HEADER_LEN));
    this.txBuf = buf;
    this.txLen = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + payloadLen;
    this.txSlot = slot;
    this.txNextHop = nextHop;
    return eth.payload + <usize>IPV4_HEADER_LEN;
  }

  /** Sends or queues the datagram started by `ipBegin`. */
  private ipCommit(): void {
    const slot = this.txSlot;
    if (slot < 0) {
      this.device.transmit(this.txBuf, this.txLen);
      this.stats.txFrames++;
      return;
    }
    const q = this.arpQueue;
    const now = this.clock.nowMillis();
    const hop = this.txNextHop;
    const alreadyAsked = q.recentlyRequested(hop, now);
    unchecked((q.bufs[slot] = this.txBuf));
    unchecked((q.lens[slot] = this.txLen));
    unchecked((q.nextHops[slot] = hop));
    unchecked((q.queuedAt[slot] = now));
    unchecked((q.requestedAt[slot] = now));
    if (!alreadyAsked) this.sendArpRequest(hop);
  }

  /** Sends every queued frame whose next hop is `addr`, now known to be at `mac`. */
  private releaseQueued(addr: u32, mac: u64): void {
    const q = this.arpQueue;
    for (let i = 0; i < ARP_QUEUE_SIZE; i++) {
      const buf = unchecked(q.bufs[i]);
      if (buf == 0 || unchecked(q.nextHops[i]) != addr) continue;
      const len = unchecked(q.lens[i]);
      const tx = this.device.txBuffer();
      if (tx == 0) {
        this.stats.count(Drop.TX_NO_BUFFER);
      } else {
        copyBytes(tx, buf, len);
        storeMac(tx, mac); // destination is the frame's first field
        this.device.transmit(tx, len);
        this.stats.txFrames++;
      }
      this.pool.free(buf);
      unchecked((q.bufs[i] = 0));
    }
  }

  private sendArp(op: u16, dstMac: u64, targetMac: u64, targetAddr: u32): void {
    const buf = this.device.txBuffer();
    if (buf == 0) {
      this.stats.count(Drop.TX_NO_BUFFER);
      return;
    }
    const eth = this.txEth.reset(buf, ETHERNET_HEADER_LEN + ARP_HEADER_LEN);
    eth.dstAddr = dstMac;
    eth.srcAddr = this.mac;
    eth.etherType = <u16>EtherType.ARP;
    const repr = this.txArpRepr;
    repr.operation = op;
    repr.senderHardwareAddr = this.mac;
    repr.senderProtocolAddr = this.config.address;
    repr.targetHardwareAddr = targetMac;
    repr.targetProtocolAddr = targetAddr;
    repr.emit(this.txArp.reset(eth.payload, ARP_HEADER_LEN));
    this.device.transmit(buf, ETHERNET_HEADER_LEN + ARP_HEADER_LEN);
    this.stats.txFrames++;
  }

  /** Broadcast "who has `addr`" (RFC 826; target hardware address left zero). */
  sendArpRequest(addr: u32): void {
    this.sendArp(<u16>ArpOperation.REQUEST, MAC_BROADCAST, 0, addr);
  }

  /** Unicast reply to a request for our address (RFC 826: swap fields, put ours as sender). */
  private sendArpReply(requesterMac: u64, requesterAddr: u32): void {
    this.sendArp(<u16>ArpOperation.REPLY, requesterMac, requesterMac, requesterAddr);
  }
}
