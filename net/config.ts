// IPv4 interface configuration and its text form, e.g. from the kernel command line:
//   "ip=192.168.100.2/24 gw=192.168.100.1"
// Words are separated by spaces; unknown words are ignored (the command line carries other
// options); `ip=` needs its prefix length.
// Dotted-quad addresses per RFC 791 §2.3 / RFC 1122 §3.2.1.3 (address and subnet mask);
// default: QEMU user networking, 10.0.2.15/24 via 10.0.2.2.
// May import: nothing.

export class IpConfig {
  /** Our address (10.0.2.15 = 0x0a00020f). */
  address: u32 = 0x0a00020f;
  /** Prefix length, 0..32. */
  prefixLen: i32 = 24;
  /** Default gateway, 0 for none. */
  gateway: u32 = 0x0a000202;

  /** The netmask for prefixLen (24 -> 0xffffff00). */
  netmask(): u32 {
    return this.prefixLen == 0 ? 0 : <u32>(0xffff_ffff << (32 - this.prefixLen));
  }

  /** The subnet-directed broadcast address. */
  broadcast(): u32 {
    return (this.address & this.netmask()) | ~this.netmask();
  }

  /** True when `addr` is on our subnet. */
  onLink(addr: u32): bool {
    const m = this.netmask();
    return (addr & m) == (this.address & m);
  }

  set(address: u32, prefixLen: i32, gateway: u32): IpConfig {
    this.address = address;
    this.prefixLen = prefixLen;
    this.gateway = gateway;
    return this;
  }
}

/**
 * Parses a dotted quad in `s[start, end)`: the address, or -1 if malformed (each part 1-3
 * decimal digits, value <= 255, exactly four parts).
 */
export function parseIpv4(s: string, start: i32, end: i32): i64 {
  let addr: u32 = 0;
  let parts = 0;
  let i = start;
  while (parts < 4) {
    let v: u32 = 0;
    let digits = 0;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + <u32>(c - 0x30);
      digits++;
      i++;
      if (digits > 3) return -1;
    }
    if (digits == 0 || v > 255) return -1;
    addr = (addr << 8) | v;
    parts++;
    if (parts < 4) {
      if (i >= end || s.charCodeAt(i) != 0x2e) return -1;
      i++;
    }
  }
  return i == end ? <i64>addr : -1;
}

function startsWithAt(s: string, at: i32, end: i32, prefix: string): bool {
  const n = prefix.length;
  if (end - at < n) return false;
  for (let k = 0; k < n; k++) {
    if (s.charCodeAt(at + k) != prefix.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Applies `ip=A.B.C.D/N` and `gw=A.B.C.D` words of `s` to `config` (fields not mentioned keep
 * their values). False, with `config` untouched, if a recognised word is malformed.
 */
export function parseIpConfig(s: string, config: IpConfig): bool {
  let address = config.address;
  let prefixLen = config.prefixLen;
  let gateway = config.gateway;
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && s.charCodeAt(i) == 0x20) i++;
    let end = i;
    while (end < n && s.charCodeAt(end) != 0x20) end++;
    if (end == i) break;
    if (startsWithAt(s, i, end, "ip=")) {
      let slash = i + 3;
      while (slash < end && s.charCodeAt(slash) != 0x2f) slash++;
      if (slash >= end - 1) return false; // prefix length is required
      const a = parseIpv4(s, i + 3, slash);
      if (a < 0) return false;
      let p = 0;
      for (let k = slash + 1; k < end; k++) {
        const c = s.charCodeAt(k);
        if (c < 0x30 || c > 0x39 || k - slash > 2) return false;
        p = p * 10 + (c - 0x30);
      }
      if (p > 32) return false;
      address = <u32>a;
      prefixLen = p;
    } else if (startsWithAt(s, i, end, "gw=")) {
      const g = parseIpv4(s, i + 3, end);
      if (g < 0) return false;
      gateway = <u32>g;
    }
    i = end;
  }
  config.set(address, prefixLen, gateway);
  return true;
}
