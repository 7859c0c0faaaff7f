// Linux x86-64 system calls: the only place the kernel declares `linux.*` intrinsics.
//
// Used only by the hosted target (kernel/wasm-host-linux.ts, tools/link/hosted.ts): the kernel
// module then runs as an ordinary Linux process. The translator expands each import inline into
// a `syscall` instruction (tools/link/ABI.md "Hosted Linux target"; Linux x86-64 syscall ABI:
// rax = number, arguments in rdi, rsi, rdx; numbers from arch/x86/entry/syscalls/syscall_64.tbl:
// write = 1, exit_group = 231). Pointers are kernel (identity) addresses.

@external("linux", "write") declare function linux_write(fd: i32, ptr: usize, len: usize): i32;
@external("linux", "exit") declare function linux_exit(status: i32): void;

/** Standard output. */
@inline export const STDOUT: i32 = 1;

/** write(2): bytes written, or -errno. */
@inline export function sysWrite(fd: i32, ptr: usize, len: usize): i32 { return linux_write(fd, ptr, len); }
/** exit_group(2): ends the process with `status`; never returns. */
@inline export function sysExit(status: i32): void { linux_exit(status); }
