// Kernel console: text, integers and log lines on the serial port, allocation-free.
//
// AssemblyScript strings are UTF-16; the console encodes them as UTF-8 (unpaired surrogates
// become U+FFFD). Integers print in decimal or hex without building strings, so the console works
// before any heap exists and from the panic path. Lines end in "\n" only.
//
// Log line format (Linux-like):   [    0.001234] info: message
// The timestamp is seconds.microseconds since the boot stub's first instruction (boot info +0).
// May import: kernel/arch/x86_64 (uart), kernel/time.

import { uartPutc } from "./arch/x86_64/uart16550";
import { linuxPutByte } from "./arch/linux/console";
import { now, NS_PER_US } from "./time";

/** Log severity, printed as the word after the timestamp. */
export const enum LogLevel { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3 }

let lineStart = true;

/** Writes one raw byte. */
export function putByte(b: u8): void {
  // Hosted Linux build (kernel/wasm-host-linux.ts defines the global): stdout instead of COM1.
  if (isDefined(KERNEL_HOSTED_LINUX)) linuxPutByte(b);
  else uartPutc(b);
  lineStart = b == 0x0a;
}

/** True when nothing has been written on the current line yet. */
export function atLineStart(): bool {
  return lineStart;
}

/** Ends the current line. */
export function newline(): void {
  putByte(0x0a);
}

/** Ends the current line unless it is empty (used before a panic screen). */
export function freshLine(): void {
  if (!lineStart) newline();
}

/** Writes one Unicode code point as UTF-8. */
export function putCodePoint(cp: u32): void {
  if (cp < 0x80) {
    putByte(<u8>cp);
  } else if (cp < 0x800) {
    putByte(<u8>(0xc0 | (cp >> 6)));
    putByte(<u8>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    putByte(<u8>(0xe0 | (cp >> 12)));
    putByte(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    putByte(<u8>(0x80 | (cp & 0x3f)));
  } else {
    putByte(<u8>(0xf0 | (cp >> 18)));
    putByte(<u8>(0x80 | ((cp >> 12) & 0x3f)));
    putByte(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    putByte(<u8>(0x80 | (cp & 0x3f)));
  }
}

/** Writes `byteLen` bytes of UTF-16LE text at `ptr` as UTF-8. */
export function printUtf16(ptr: usize, byteLen: usize): void {
  const end = ptr + (byteLen & ~<usize>1);
  while (ptr < end) {
    let cp = <u32>load<u16>(ptr);
    ptr += 2;
    if (cp >= 0xd800 && cp < 0xdc00 && ptr < end) {
      const lo = <u32>load<u16>(ptr);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        ptr += 2;
      } else {
        cp = 0xfffd;
      }
    } else if (cp >= 0xd800 && cp < 0xe000) {
      cp = 0xfffd; // unpaired surrogate
    }
    putCodePoint(cp);
  }
}

/** Writes `len` raw UTF-8 bytes at `ptr`. */
export function printUtf8(ptr: usize, len: usize): void {
  for (let i: usize = 0; i < len; i++) putByte(load<u8>(ptr + i));
}

/** Writes a string. */
export function print(s: string): void {
  printUtf16(changetype<usize>(s), <usize>s.length << 1);
}

/** Writes a string and ends the line. */
export function println(s: string): void {
  print(s);
  newline();
}

// Scratch for digits, most significant last written first read. 20 digits fit any u64.
const digitBuf = memory.data(24);

/** Writes `v` in decimal, left-padded with `pad` to at least `width` characters. */
export function printU64Padded(v: u64, width: i32, pad: u8): void {
  let n = 0;
  do {
    store<u8>(digitBuf + n, <u8>(0x30 + <u32>(v % 10)));
    v /= 10;
    n++;
  } while (v != 0);
  for (let i = n; i < width; i++) putByte(pad);
  while (n > 0) putByte(load<u8>(digitBuf + --n));
}

/** Writes an unsigned 64-bit integer in decimal. */
export function printU64(v: u64): void {
  printU64Padded(v, 0, 0x20);
}

/** Writes an unsigned 32-bit integer in decimal. */
export function printU32(v: u32): void {
  printU64Padded(<u64>v, 0, 0x20);
}

/** Writes a signed 64-bit integer in decimal. */
export function printI64(v: i64): void {
  if (v < 0) {
    putByte(0x2d); // '-'
    printU64(<u64>0 - <u64>v); // also right for i64.MIN_VALUE
  } else {
    printU64(<u64>v);
  }
}

/** Writes a signed 32-bit integer in decimal. */
export function printI32(v: i32): void {
  printI64(<i64>v);
}

/** Writes `v` in lowercase hex (no prefix), at least `minDigits` digits with leading zeros. */
export function printHex(v: u64, minDigits: i32 = 1): void {
  let digits = 1;
  while (digits < 16 && (v >> (<u64>digits << 2)) != 0) digits++;
  if (digits < minDigits) digits = min(minDigits, 16);
  for (let i = digits - 1; i >= 0; i--) {
    const nibble = <u32>((v >> (<u64>i << 2)) & 0xf);
    putByte(<u8>(nibble < 10 ? 0x30 + nibble : 0x57 + nibble));
  }
}

/** Writes "0x" then `v` in hex. */
export function printHex0x(v: u64, minDigits: i32 = 1): void {
  print("0x");
  printHex(v, minDigits);
}

/** Microseconds since the boot stub's first instruction (kernel/time.ts's now()). */
export function microsSinceBoot(): u64 {
  return now() / NS_PER_US;
}

/** Starts a log line: "[    0.001234] info: ". Finish it with print*() and newline(). */
export function logBegin(level: LogLevel): void {
  freshLine();
  const us = microsSinceBoot();
  putByte(0x5b); // '['
  printU64Padded(us / 1_000_000, 5, 0x20);
  putByte(0x2e); // '.'
  printU64Padded(us % 1_000_000, 6, 0x30);
  print("] ");
  print(levelName(level));
  print(": ");
}

/** Writes one complete log line. */
export function log(level: LogLevel, msg: string): void {
  logBegin(level);
  print(msg);
  newline();
}

export function debug(msg: string): void { log(LogLevel.DEBUG, msg); }
export function info(msg: string): void { log(LogLevel.INFO, msg); }
export function warn(msg: string): void { log(LogLevel.WARN, msg); }
export function error(msg: string): void { log(LogLevel.ERROR, msg); }

function levelName(level: LogLevel): string {
  switch (level) {
    case LogLevel.DEBUG: return "debug";
    case LogLevel.INFO: return "info";
    case LogLevel.WARN: return "warn";
    default: return "error";
  }
}
