// Test entry for test/net/net.test.ts: the stack plus exports that let a Node test drive it.
// Compiled by asc with `--runtime stub` (bump allocator: `allocMark` observes every allocation).
// Not part of any image. (Exercises RFC 826/791/792/768/1071/1122 code in net/.)
// May import: anything in net/.

import { NetDevice, PacketRef } from "../device";
import { FixedPacketPool } from "../pool";
import { ManualClock, TextSink } from "../platform";
import { IpConfig, parseIpConfig } from "../config";
import { Interface } from "../interface";
import { UdpSocket } from "../udp_socket";
import { copyBytes, zeroedArray } from "../wire/bytes";
import { finish, sum } from "../wire/checksum";
import { EthernetFrame, EthernetRepr, ETHERNET_HEADER_LEN, EtherType } from "../wire/ethernet";
import { ArpPacket, ArpRepr, ARP_HEADER_LEN } from "../wire/arp";
import { Ipv4Packet, Ipv4Repr, IPV4_HEADER_LEN, IpProtocol } from "../wire/ipv4";
import { IcmpEchoRepr, IcmpPacket, ICMP_HEADER_LEN } from "../wire/icmp";
import { UdpPacket, UdpRepr, UDP_HEADER_LEN } from "../wire/udp";
import { LoopbackDevice } from "./loopback";
import { FaultyDevice } from "./faulty";

@external("net", "print")
declare function hostPrint(ptr: usize, byteLen: i32): void;

// @ts-ignore: decorator
@inline const BUF_SIZE: i32 = 2048;
const scratchBuf = heap.alloc(BUF_SIZE);
const outBuf = heap.alloc(BUF_SIZE);
const sinkBuf = heap.alloc(BUF_SIZE);
const sampleBuf = heap.alloc(BUF_SIZE * 16);
const sampleLens = zeroedArray<i32>(16);
let sampleCount = 0;
const results = zeroedArray<u64>(16);
const ref = new PacketRef();

export const MAC_A: u64 = 0x5254_0012_3456;
export const MAC_B: u64 = 0x5254_00ab_cdef;

let pool: FixedPacketPool = new FixedPacketPool(8, 1536);
let clock: ManualClock = new ManualClock();
let devA: LoopbackDevice = new LoopbackDevice(MAC_A, pool);
let ifaceA: Interface = new Interface(devA, pool, clock, new IpConfig());
let devB: LoopbackDevice = new LoopbackDevice(MAC_B, pool);
let ifaceB: Interface = new Interface(devB, pool, clock, new IpConfig());
let faulty: FaultyDevice = new FaultyDevice(devA, 1);
let sender: UdpSocket | null = null;
let senderB: UdpSocket | null = null;
let sinkLength: i32 = -1;
let sinkSrcAddr: u32 = 0;
let sinkSrcPort: u16 = 0;

export function scratch(): usize { return scratchBuf; }
export function out(): usize { return outBuf; }
export function sink(): usize { return sinkBuf; }

/** Fresh stack: iface A (10.0.2.15/24 gw .2, MAC_A) on a capturing loopback device. */
export function setup(): void {
  pool = new FixedPacketPool(128, 1536);
  clock = new ManualClock();
  clock.now = 1000;
  devA = new LoopbackDevice(MAC_A, pool);
  ifaceA = new Interface(devA, pool, clock, new IpConfig());
  sender = null;
  sinkLength = -1;
}

/** Two stacks on one wire: A (10.0.2.15) and B (10.0.2.20, MAC_B). */
export function setupPair(): void {
  setup();
  devB = new LoopbackDevice(MAC_B, pool);
  ifaceB = new Interface(devB, pool, clock, new IpConfig().set(0x0a000214, 24, 0x0a000202));
  devA.peer = devB;
  devB.peer = devA;
  senderB = null;
}

/** Polls both stacks until neither has work; returns frames processed. */
export function pollPair(): i32 {
  let total = 0;
  for (let round = 0; round < 100; round++) {
    const n = ifaceA.poll() + ifaceB.poll();
    total += n;
    if (n == 0) break;
  }
  return total;
}

export function input(len: i32): i32 { return ifaceA.input(scratchBuf, len); }
export function injectAndPoll(len: i32): i32 {
  devA.inject(scratchBuf, len);
  return ifaceA.poll();
}

/** Copies the next captured TX frame to out(); its length, or -1. */
export function takeTx(): i32 {
  if (!devA.takeTx(ref)) return -1;
  copyBytes(outBuf, ref.ptr, ref.len);
  devA.release(ref.ptr);
  return ref.len;
}

export function stat(reason: i32): u64 { return ifaceA.stats.dropped(reason); }
export function statB(reason: i32): u64 { return ifaceB.stats.dropped(reason); }
export function rxFrames(): u64 { return ifaceA.stats.rxFrames; }
export function rxAccepted(): u64 { return ifaceA.stats.rxAccepted; }
export function rxDropped(): u64 { return ifaceA.stats.rxDropped(); }
export function txFrames(): u64 { return ifaceA.stats.txFrames; }
export function txDropped(): u64 { return ifaceA.stats.txDropped(); }
export function poolAvailable(): i32 { return pool.available(); }
export function advance(ms: i32): void { clock.advance(<u64>ms); }
export function pollTimers(): void { ifaceA.pollTimers(); }
export function arpLookup(addr: u32): u64 { return ifaceA.arpCache.lookup(addr, clock.now); }
export function arpFill(addr: u32, mac: u64): void { ifaceA.arpCache.fill(addr, mac, clock.now); }
export function arpQueueLength(): i32 { return ifaceA.arpQueue.length(); }
export function setTxLimit(n: i32): void { devA.txLimit = n; }

function echo(socket: UdpSocket, srcAddr: u32, srcPort: u16, payload: usize, len: i32): void {
  socket.sendTo(srcAddr, srcPort, payload, len);
}

function record(socket: UdpSocket, srcAddr: u32, srcPort: u16, payload: usize, len: i32): void {
  copyBytes(sinkBuf, payload, min(len, BUF_SIZE));
  sinkLength = len;
  sinkSrcAddr = srcAddr;
  sinkSrcPort = srcPort;
}

export function bindEcho(port: u16): bool { return ifaceA.udpSocket().bind(port, echo); }
export function bindSink(port: u16): bool { return ifaceA.udpSocket().bind(port, record); }
export function bindEchoB(port: u16): bool { return ifaceB.udpSocket().bind(port, echo); }
export function sinkLen(): i32 { return sinkLength; }
export function sinkAddr(): u32 { return sinkSrcAddr; }
export function sinkPort(): u16 { return sinkSrcPort; }

/** Sends scratch[0, len) from A's port `srcPort` (bound once, to a sink) to addr:port. */
export function sendUdp(srcPort: u16, addr: u32, port: u16, len: i32): bool {
  if (sender === null) {
    const s = ifaceA.udpSocket();
    if (!s.bind(srcPort, record)) return false;
    sender = s;
  }
  return sender!.sendTo(addr, port, scratchBuf, len);
}

/** Binding rules: returns a bit mask of the outcomes (see the test). */
export function bindRules(): i32 {
  const a = ifaceA.udpSocket();
  const b = ifaceA.udpSocket();
  let r = 0;
  if (a.bind(7000, record)) r |= 1;         // ok
  if (!b.bind(7000, record)) r |= 2;        // port taken
  if (!b.bind(0, record)) r |= 4;           // port 0
  if (!a.bind(7001, record)) r |= 8;        // already bound
  a.close();
  if (b.bind(7000, record)) r |= 16;        // free again after close
  if (!a.sendTo(0x0a000202, 9, scratchBuf, 1)) r |= 32; // unbound socket cannot send
  b.close();
  return r;
}

// ---- statistics printing -------------------------------------------------------------------

class HostSink extends TextSink {
  digits: usize = heap.alloc(24);
  write(s: string): void { hostPrint(changetype<usize>(s), s.length << 1); }
  writeU64(v: u64): void {
    let i = 24;
    do {
      i -= 2;
      store<u16>(this.digits + <usize>i, <u16>(0x30 + <u32>(v % 10)));
      v /= 10;
    } while (v != 0);
    hostPrint(this.digits + <usize>i, 24 - i);
  }
}
const hostSink = new HostSink();
export function printStats(): void { ifaceA.stats.print(hostSink); }

// ---- config ---------------------------------------------------------------------------------

const cfg = new IpConfig();
/** Parses the UTF-16 text in scratch[0, byteLen) into a fresh default config. */
export function parseConfig(byteLen: i32): bool {
  cfg.set(0x0a00020f, 24, 0x0a000202);
  return parseIpConfig(String.UTF16.decodeUnsafe(scratchBuf, <usize>byteLen), cfg);
}
export function cfgAddress(): u32 { return cfg.address; }
export function cfgPrefix(): i32 { return cfg.prefixLen; }
export function cfgGateway(): u32 { return cfg.gateway; }
export function cfgNetmask(): u32 { return cfg.netmask(); }

// ---- wire: parsers and builders (golden tests) ---------------------------------------------

export function result(i: i32): u64 { return results[i]; }
export function checksum(len: i32): u32 { return finish(sum(scratchBuf, len)); }

const ethView = new EthernetFrame();
const ethRepr = new EthernetRepr();
const arpView = new ArpPacket();
const arpRepr = new ArpRepr();
const ipView = new Ipv4Packet();
const ipRepr = new Ipv4Repr();
const icmpView = new IcmpPacket();
const icmpRepr = new IcmpEchoRepr();
const udpView = new UdpPacket();
const udpRepr = new UdpRepr();

export function parseEthernet(len: i32): bool {
  if (!ethRepr.parse(ethView.reset(scratchBuf, len))) return false;
  results[0] = ethRepr.dstAddr;
  results[1] = ethRepr.srcAddr;
  results[2] = ethRepr.etherType;
  results[3] = <u64>ethView.payloadLen;
  return true;
}
export function buildEthernet(dst: u64, src: u64, type: u16): i32 {
  ethRepr.dstAddr = dst;
  ethRepr.srcAddr = src;
  ethRepr.etherType = type;
  ethRepr.emit(ethView.reset(outBuf, ETHERNET_HEADER_LEN));
  return ETHERNET_HEADER_LEN;
}

/** Parses ARP at scratch + offset. */
export function parseArp(offset: i32, len: i32): bool {
  if (!arpRepr.parse(arpView.reset(scratchBuf + <usize>offset, len))) return false;
  results[0] = arpRepr.operation;
  results[1] = arpRepr.senderHardwareAddr;
  results[2] = arpRepr.senderProtocolAddr;
  results[3] = arpRepr.targetHardwareAddr;
  results[4] = arpRepr.targetProtocolAddr;
  return true;
}
export function buildArp(op: u16, sha: u64, spa: u32, tha: u64, tpa: u32): i32 {
  arpRepr.operation = op;
  arpRepr.senderHardwareAddr = sha;
  arpRepr.senderProtocolAddr = spa;
  arpRepr.targetHardwareAddr = tha;
  arpRepr.targetProtocolAddr = tpa;
  arpRepr.emit(arpView.reset(outBuf, ARP_HEADER_LEN));
  return ARP_HEADER_LEN;
}

export function parseIpv4(offset: i32, len: i32): bool {
  if (!ipRepr.parse(ipView.reset(scratchBuf + <usize>offset, len))) return false;
  results[0] = ipRepr.srcAddr;
  results[1] = ipRepr.dstAddr;
  results[2] = ipRepr.protocol;
  results[3] = ipRepr.ttl;
  results[4] = ipRepr.ident;
  results[5] = ipRepr.dontFragment ? 1 : 0;
  results[6] = <u64>ipRepr.payloadLen;
  results[7] = <u64>ipView.headerLen;
  return true;
}
export function buildIpv4(src: u32, dst: u32, proto: u8, ttl: u8, ident: u16, df: bool, payloadLen: i32): i32 {
  ipRepr.srcAddr = src;
  ipRepr.dstAddr = dst;
  ipRepr.protocol = proto;
  ipRepr.ttl = ttl;
  ipRepr.ident = ident;
  ipRepr.dontFragment = df;
  ipRepr.payloadLen = payloadLen;
  ipRepr.emit(ipView.reset(outBuf, IPV4_HEADER_LEN));
  return IPV4_HEADER_LEN;
}

export function parseIcmpEcho(offset: i32, len: i32): bool {
  if (!icmpRepr.parse(icmpView.reset(scratchBuf + <usize>offset, len))) return false;
  results[0] = icmpRepr.msgType;
  results[1] = icmpRepr.ident;
  results[2] = icmpRepr.seqNo;
  results[3] = <u64>(icmpRepr.data - scratchBuf);
  results[4] = <u64>icmpRepr.dataLen;
  return true;
}
/** Echo message in out(): header + scratch[0, dataLen). */
export function buildIcmpEcho(type: u8, ident: u16, seq: u16, dataLen: i32): i32 {
  copyBytes(outBuf + <usize>ICMP_HEADER_LEN, scratchBuf, dataLen);
  icmpRepr.msgType = type;
  icmpRepr.ident = ident;
  icmpRepr.seqNo = seq;
  icmpRepr.dataLen = dataLen;
  icmpRepr.emit(icmpView.reset(outBuf, ICMP_HEADER_LEN + dataLen));
  return ICMP_HEADER_LEN + dataLen;
}

export function parseUdp(offset: i32, len: i32, src: u32, dst: u32): bool {
  if (!udpRepr.parse(udpView.reset(scratchBuf + <usize>offset, len), src, dst)) return false;
  results[0] = udpRepr.srcPort;
  results[1] = udpRepr.dstPort;
  results[2] = <u64>(udpRepr.payload - scratchBuf);
  results[3] = <u64>udpRepr.payloadLen;
  return true;
}
/** Datagram in out(): header + scratch[0, payloadLen). */
export function buildUdp(srcPort: u16, dstPort: u16, src: u32, dst: u32, payloadLen: i32): i32 {
  copyBytes(outBuf + <usize>UDP_HEADER_LEN, scratchBuf, payloadLen);
  udpRepr.srcPort = srcPort;
  udpRepr.dstPort = dstPort;
  udpRepr.payloadLen = payloadLen;
  udpRepr.emit(udpView.reset(outBuf, UDP_HEADER_LEN + payloadLen), src, dst);
  return UDP_HEADER_LEN + payloadLen;
}

// ---- allocation probe -----------------------------------------------------------------------

/** The stub allocator's current top: equal marks mean nothing was allocated in between. */
export function allocMark(): usize {
  const p = heap.alloc(1);
  heap.free(p); // the stub discards the last block: the mark itself allocates nothing
  return p;
}
/** Negative control for the probe. */
export function allocateOne(): void {
  const o = new PacketRef();
  o.len = 1;
}

// ---- fuzzing --------------------------------------------------------------------------------

/** Stores scratch[0, len) as a fuzz sample. */
export function addSample(len: i32): void {
  copyBytes(sampleBuf + <usize>(sampleCount * BUF_SIZE), scratchBuf, len);
  sampleLens[sampleCount++] = len;
}

let fuzzInjected: u64 = 0;
export function fuzzInjectedCount(): u64 { return fuzzInjected; }
export function faultyDropped(): u64 { return faulty.dropped; }
export function faultyCorrupted(): u64 { return faulty.corrupted; }
export function faultyTruncated(): u64 { return faulty.truncated; }
export function faultyReordered(): u64 { return faulty.reordered; }

/** Fixes the IPv4 header and ICMP/UDP checksums of a mutated frame where the lengths allow. */
function fixChecksums(p: usize, len: i32): void {
  const eth = ethView.reset(p, len);
  if (!eth.checkLen() || eth.etherType != EtherType.IPV4) return;
  const ip = ipView.reset(eth.payload, eth.payloadLen);
  if (!ip.checkLen()) return;
  ip.fillChecksum();
  if (ip.protocol == IpProtocol.ICMP) {
    const icmp = icmpView.reset(ip.payload, ip.payloadLen);
    if (icmp.checkLen()) icmp.fillChecksum();
  } else if (ip.protocol == IpProtocol.UDP) {
    const udp = udpView.reset(ip.payload, ip.payloadLen);
    if (udp.checkLen()) udp.fillChecksum(ip.srcAddr, ip.dstAddr);
  }
}

/**
 * Feeds `iterations` mutated samples through a FaultyDevice (seeded) into iface A, whose stats
 * then account for every frame that reached it. Mutations: 1-8 random byte changes, a random
 * length (shorter or longer, up to 1514), and in half the cases repaired checksums so that the
 * inner layers see the damage.
 */
export function fuzz(iterations: i32, seed: u32): void {
  faulty = new FaultyDevice(devA, seed);
  faulty.dropRate = 2000;
  faulty.corruptRate = 8000;
  faulty.truncateRate = 4000;
  faulty.reorderRate = 4000;
  const iface = new Interface(faulty, pool, clock, ifaceA.config);
  ifaceA = iface; // stats readable through the usual exports
  const socket = iface.udpSocket();
  socket.bind(7, echo);
  const work = heap.alloc(BUF_SIZE);
  let rng: u32 = seed | 1;
  for (let it = 0; it < iterations; it++) {
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    const s = <i32>(rng % <u32>sampleCount);
    let len = sampleLens[s];
    copyBytes(work, sampleBuf + <usize>(s * BUF_SIZE), len);
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    const mode = rng & 7;
    if (mode < 5) {
      const changes = 1 + <i32>((rng >> 3) & 7);
      for (let k = 0; k < changes; k++) {
        rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
        // Bias towards the headers, where the parsing decisions are.
        const at = <i32>(rng % <u32>min(len, (rng & 0x100) != 0 ? 64 : len));
        store<u8>(work + <usize>at, <u8>(rng >> 24));
      }
    } else if (mode == 5) {
      rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
      len = <i32>(rng % 1515);
    }
    if ((rng & 0x10000) != 0) fixChecksums(work, len);
    devA.inject(work, len);
    fuzzInjected++;
    iface.poll();
    if (((it + 1) & 15) == 0) clock.advance(100);
    devA.dropCaptured();
  }
  // Deliver anything still held back by reordering.
  iface.poll();
  devA.dropCaptured();
}

/** Sets iface A's gateway (0 = none). */
export function setGateway(gw: u32): void { ifaceA.config.gateway = gw; }
