// Console output of the hosted Linux target: bytes go to standard output (fd 1) through write(2).
//
// kernel/console.ts calls `linuxPutByte` instead of the UART when the build defines the global
// KERNEL_HOSTED_LINUX (kernel/wasm-host-linux.ts does). Output is line-buffered in a small static
// buffer; `linuxFlush` runs before the process exits (kernel/arch/x86_64/debug_exit.ts), so
// nothing written before a trap or an abort is lost.

import { STDOUT, sysExit, sysWrite } from "./syscalls";

/** Bytes buffered before a write(2). */
@inline const BUFFER_BYTES: usize = 512;
/** write(2) attempts per flush before giving up (a short write is retried with the rest). */
@inline const MAX_WRITES: i32 = 64;

const buffer = memory.data(<i32>BUFFER_BYTES);
let used: usize = 0;

/** Writes everything buffered to fd 1. Errors (closed pipe) drop the output. */
export function linuxFlush(): void {
  let done: usize = 0;
  for (let i = 0; i < MAX_WRITES && done < used; i++) {
    const n = sysWrite(STDOUT, buffer + done, used - done);
    if (n <= 0) break;
    done += <usize>n;
  }
  used = 0;
}

/** Buffers one byte; flushes at end of line and when the buffer is full. */
export function linuxPutByte(b: u8): void {
  store<u8>(buffer + used, b);
  used++;
  if (b == 0x0a || used == BUFFER_BYTES) linuxFlush();
}

/** Flushes the console, then exit_group(status). */
export function linuxExit(status: i32): void {
  linuxFlush();
  sysExit(status);
}
