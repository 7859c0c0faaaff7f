/**
 * Independent JavaScript builders for test frames (Ethernet, ARP, IPv4, ICMP, UDP) and a
 * reference RFC 1071 checksum, written from the RFCs without looking at net/: the oracle for
 * the AssemblyScript stack's parsers and builders.
 */

/** "52 54 00 ..." / "525400..." -> bytes. */
export function hex(s: string): Uint8Array {
  const t = s.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** RFC 1071 §1: 16-bit big-endian words, end-around carry, complement. */
export function inetChecksum(b: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export function ip(a: string): number {
  return a.split(".").reduce((acc, p) => acc * 256 + Number(p), 0) >>> 0;
}

function be16(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
function be32(v: number): number[] { return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]; }
export function macBytes(m: bigint): number[] {
  return [40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((m >> s) & 0xffn));
}

export const MAC_A = 0x5254_0012_3456n; // the stack under test, 10.0.2.15
export const MAC_GW = 0x5254_0012_3502n; // QEMU's gateway, 10.0.2.2
export const MAC_B = 0x5254_00ab_cdefn;
export const BROADCAST = 0xffff_ffff_ffffn;

export function ether(dst: bigint, src: bigint, type: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...macBytes(dst), ...macBytes(src), ...be16(type), ...payload]);
}

export function arp(op: number, sha: bigint, spa: number, tha: bigint, tpa: number): Uint8Array {
  return Uint8Array.from([0, 1, 8, 0, 6, 4, ...be16(op), ...macBytes(sha), ...be32(spa), ...macBytes(tha), ...be32(tpa)]);
}

export interface IpOpts { ttl?: number; ident?: number; flagsFrag?: number; ihl?: number; totalLen?: number; version?: number; badChecksum?: boolean }

export function ipv4(src: number, dst: number, proto: number, payload: Uint8Array, o: IpOpts = {}): Uint8Array {
  const ihl = o.ihl ?? 5;
  const hdrLen = Math.max(ihl, 5) * 4;
  const h = new Uint8Array(hdrLen);
  h[0] = ((o.version ?? 4) << 4) | ihl;
  h.set(be16(o.totalLen ?? hdrLen + payload.length), 2);
  h.set(be16(o.ident ?? 1), 4);
  h.set(be16(o.flagsFrag ?? 0), 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  h.set(be32(src), 12);
  h.set(be32(dst), 16);
  const c = inetChecksum(h) ^ (o.badChecksum ? 0x0101 : 0);
  h.set(be16(c), 10);
  return Uint8Array.from([...h, ...payload]);
}

export function icmpEcho(type: number, ident: number, seq: number, data: Uint8Array, badChecksum = false): Uint8Array {
  const m = Uint8Array.from([type, 0, 0, 0, ...be16(ident), ...be16(seq), ...data]);
  m.set(be16(inetChecksum(m) ^ (badChecksum ? 0x0001 : 0)), 2);
  return m;
}

export function pseudoSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

export function udp(src: number, dst: number, sport: number, dport: number, payload: Uint8Array, o: { length?: number; checksum?: number } = {}): Uint8Array {
  const len = 8 + payload.length;
  const d = Uint8Array.from([...be16(sport), ...be16(dport), ...be16(o.length ?? len), 0, 0, ...payload]);
  let c = o.checksum ?? inetChecksum(d, pseudoSum(src, dst, 17, len));
  if (o.checksum === undefined && c === 0) c = 0xffff;
  d.set(be16(c), 6);
  return d;
}
