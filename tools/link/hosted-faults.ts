/**
 * Fault handler of the hosted Linux target (tools/link/ABI.md "Hosted Linux target"). Guest
 * memories there are "guarded" (tools/translate/context.ts MemoryConfig): a load or store is the
 * access alone, and one out of bounds hits a PROT_NONE page of the memory's reservation. The
 * SIGSEGV handler turns that into the trap the explicit check would have raised (WebAssembly core
 * spec §4.4.7 memory instructions: "out of bounds memory access"); any other SIGSEGV or SIGBUS is
 * reported on stderr and then kills the process as the signal's default action.
 *
 * Native code emitted by the linker, like the trap stubs: wasm never runs in signal context
 * (ARCHITECTURE.md "Control never enters wasm code from an interrupt"). The handler only rewrites
 * the interrupted context, as if the faulting instruction had been `call trap_5`, and returns
 * through rt_sigreturn: the ordinary trap path then runs on the interrupted stack (panic text,
 * backtrace, exit status 2; in driver mode, the recovery cell). The return address it pushes is
 * the faulting instruction + 1, so the stub's pc (return address - 1) is that instruction. x86
 * faults on a store that straddles the end of accessible memory before writing any byte, which
 * is what the spec requires of a partially out-of-bounds store.
 *
 * The handler runs on its own stack (sigaltstack, SA_ONSTACK), so even a fault next to the stack
 * guard page is handled. Linux x86-64 layouts relied on (arch/x86/include/uapi/asm/signal.h,
 * sigcontext.h, ucontext.h; include/uapi/asm-generic/siginfo.h, signal-defs.h):
 * - struct sigaction as the rt_sigaction(2) system call (13) takes it: +0 sa_handler, +8 sa_flags,
 *   +16 sa_restorer, +24 sa_mask (u64: sigsetsize = 8). SA_SIGINFO = 4, SA_ONSTACK = 0x08000000,
 *   SA_RESTORER = 0x04000000 (the handler returns to sa_restorer, which calls rt_sigreturn (15)).
 * - stack_t for sigaltstack(2) (131): +0 ss_sp, +8 ss_flags (i32), +16 ss_size.
 * - handler(sig = rdi, info = rsi: siginfo_t*, uc = rdx: ucontext_t*); all registers may be
 *   clobbered: rt_sigreturn restores the interrupted ones from `uc`.
 * - siginfo_t: +0 si_signo, +4 si_errno, +8 si_code, +16 si_addr (SIGSEGV/SIGBUS: fault address).
 * - ucontext_t: +0 uc_flags, +8 uc_link, +16 uc_stack (stack_t, 24 bytes), +40 uc_mcontext =
 *   struct sigcontext: r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx,
 *   rsp, rip, ... (8 bytes each), so rsp at +160 and rip at +168.
 */
import { Assembler, Label, R, mem } from "../x86/assembler.ts";

const SYS_WRITE = 1, SYS_RT_SIGACTION = 13, SYS_RT_SIGRETURN = 15, SYS_SIGALTSTACK = 131;
const SIGBUS = 7, SIGSEGV = 11;
const SA_SIGINFO = 4, SA_ONSTACK = 0x0800_0000, SA_RESTORER = 0x0400_0000;
const SI_ADDR = 16, UC_RSP = 40 + 15 * 8, UC_RIP = 40 + 16 * 8;
/** Bytes of the signal stack (the kernel's signal frame with the xsave area takes a few KiB). */
export const SIGNAL_STACK_BYTES = 64 * 1024;

const REPORT = "rip=0x0000000000000000, addr=0x0000000000000000\n";
const REPORT_RIP = 6, REPORT_ADDR = 31;
const SEGV_TEXT = "hosted: segmentation fault at ", BUS_TEXT = "hosted: bus error at ";

export interface FaultHandler {
  /** The handler, its restorer and the hex helper: one symbol-table range. */
  start: Label;
  end: Label;
  restorer: Label;
  /** Bottom of the signal stack (bss, SIGNAL_STACK_BYTES, bound by the linker). */
  signalStack: Label;
  /** Read-only data: the handler's sigaction, SIG_DFL's, the signal stack's stack_t, texts. */
  action: Label;
  defaultAction: Label;
  stack: Label;
  report: Label;
  digits: Label;
  segv: Label;
  bus: Label;
}

export function faultHandlerLabels(asm: Assembler): FaultHandler {
  const L = (n: string) => asm.label(n);
  return {
    start: L("fault_handler"), end: L("fault_handler.end"), restorer: L("fault_restorer"), signalStack: L("signal_stack"),
    action: L("fault_action"), defaultAction: L("fault_default_action"), stack: L("signal_stack_t"),
    report: L("fault_report"), digits: L("hex_digits"), segv: L("fault_segv_text"), bus: L("fault_bus_text"),
  };
}

/** Process start: sigaltstack, then the handler for SIGSEGV and SIGBUS; jumps to `failed` if the
 *  kernel refuses one. */
export function emitFaultHandlerSetup(asm: Assembler, h: FaultHandler, failed: Label): void {
  asm.movabs(R.rdi, h.stack);
  asm.alu("xor", 4, R.rsi, R.rsi);
  asm.mov(4, R.rax, SYS_SIGALTSTACK);
  asm.db(0x0f, 0x05); // syscall
  asm.test(8, R.rax, R.rax);
  asm.jcc("ne", failed);
  for (const sig of [SIGSEGV, SIGBUS]) {
    asm.mov(4, R.rdi, sig);
    asm.movabs(R.rsi, h.action);
    asm.alu("xor", 4, R.rdx, R.rdx);
    asm.mov(4, R.r10, 8);
    asm.mov(4, R.rax, SYS_RT_SIGACTION);
    asm.db(0x0f, 0x05); // syscall
    asm.test(8, R.rax, R.rax);
    asm.jcc("ne", failed);
  }
}

/**
 * The handler (text). A fault at an address in [memoryStart, memoryEnd) (the guarded
 * reservations) by an instruction in [codeStart, codeEnd) (the guests' translated code) becomes
 * `call trap`; anything else prints "hosted: segmentation fault at rip=0x..., addr=0x..." (or
 * "bus error") on stderr, restores the default action and returns, so the instruction faults again
 * and the process dies of the signal.
 */
export function emitFaultHandler(
  asm: Assembler, h: FaultHandler,
  o: { memoryStart: number; memoryEnd: number; codeStart: Label; codeEnd: Label; trap: Label },
): void {
  const other = asm.label(), hex = asm.label();
  asm.align(16, 0xcc);
  asm.bind(h.start);
  /** Jump to `other` unless start <= value < end (`scratch` clobbered). */
  const unlessWithin = (value: number, start: number | Label, end: number | Label, scratch: number) => {
    for (const [bound, cc] of [[start, "b"], [end, "ae"]] as const) {
      asm.movabs(scratch, bound);
      asm.alu("cmp", 8, value, scratch);
      asm.jcc(cc, other);
    }
  };
  asm.mov(8, R.rax, mem(R.rsi, SI_ADDR));
  unlessWithin(R.rax, o.memoryStart, o.memoryEnd, R.rcx);
  asm.mov(8, R.rcx, mem(R.rdx, UC_RIP));
  unlessWithin(R.rcx, o.codeStart, o.codeEnd, R.r8);
  // A guarded access out of bounds: push rip + 1 on the interrupted stack, continue at the trap stub.
  asm.unary("inc", 8, R.rcx);
  asm.mov(8, R.rax, mem(R.rdx, UC_RSP));
  asm.alu("sub", 8, R.rax, 8);
  asm.mov(8, mem(R.rax, 0), R.rcx);
  asm.mov(8, mem(R.rdx, UC_RSP), R.rax);
  asm.movabs(R.rcx, o.trap);
  asm.mov(8, mem(R.rdx, UC_RIP), R.rcx);
  asm.ret(); // to the restorer: rt_sigreturn

  asm.bind(other);
  asm.mov(4, R.r12, R.rdi); // signal number
  asm.mov(8, R.r13, mem(R.rdx, UC_RIP));
  asm.mov(8, R.r14, mem(R.rsi, SI_ADDR));
  const write = asm.label();
  asm.movabs(R.rsi, h.segv);
  asm.mov(4, R.rdx, SEGV_TEXT.length);
  asm.alu("cmp", 4, R.r12, SIGBUS);
  asm.jcc("ne", write);
  asm.movabs(R.rsi, h.bus);
  asm.mov(4, R.rdx, BUS_TEXT.length);
  asm.bind(write);
  asm.mov(4, R.rdi, 2); // stderr
  asm.mov(4, R.rax, SYS_WRITE);
  asm.db(0x0f, 0x05); // syscall
  asm.alu("sub", 8, R.rsp, 64); // the report line, on the signal stack
  asm.cld();
  asm.mov(8, R.rdi, R.rsp);
  asm.movabs(R.rsi, h.report);
  asm.mov(4, R.rcx, REPORT.length);
  asm.repMovs(1);
  asm.mov(8, R.rax, R.r13);
  asm.lea(8, R.rdi, mem(R.rsp, REPORT_RIP));
  asm.call(hex);
  asm.mov(8, R.rax, R.r14);
  asm.lea(8, R.rdi, mem(R.rsp, REPORT_ADDR));
  asm.call(hex);
  asm.mov(8, R.rsi, R.rsp);
  asm.mov(4, R.rdx, REPORT.length);
  asm.mov(4, R.rdi, 2);
  asm.mov(4, R.rax, SYS_WRITE);
  asm.db(0x0f, 0x05); // syscall
  asm.alu("add", 8, R.rsp, 64);
  asm.mov(4, R.rdi, R.r12); // rt_sigaction(sig, SIG_DFL, NULL, 8)
  asm.movabs(R.rsi, h.defaultAction);
  asm.alu("xor", 4, R.rdx, R.rdx);
  asm.mov(4, R.r10, 8);
  asm.mov(4, R.rax, SYS_RT_SIGACTION);
  asm.db(0x0f, 0x05); // syscall
  asm.ret();

  asm.bind(h.restorer); // sa_restorer: the handler returns here
  asm.mov(4, R.rax, SYS_RT_SIGRETURN);
  asm.db(0x0f, 0x05); // syscall
  asm.ud2();

  // hex: the 16 lowercase hex digits of rax at [rdi] (clobbers rcx, rdx, r8).
  asm.bind(hex);
  asm.movabs(R.rdx, h.digits);
  asm.mov(4, R.r8, 16);
  const digit = asm.label();
  asm.bind(digit);
  asm.shift("rol", 8, R.rax, 4);
  asm.mov(4, R.rcx, R.rax);
  asm.alu("and", 4, R.rcx, 15);
  asm.movzx(4, R.rcx, 1, mem(R.rdx, 0, R.rcx, 1));
  asm.mov(1, mem(R.rdi, 0), R.rcx);
  asm.unary("inc", 8, R.rdi);
  asm.unary("dec", 4, R.r8);
  asm.jcc("ne", digit);
  asm.ret();
  asm.bind(h.end);
}

/** The sigaction records, the stack_t and the report texts (read-only data). */
export function emitFaultHandlerRodata(asm: Assembler, h: FaultHandler): void {
  asm.align(8, 0);
  asm.bind(h.action);
  asm.dq(h.start);
  asm.dq(SA_SIGINFO | SA_ONSTACK | SA_RESTORER);
  asm.dq(h.restorer);
  asm.dq(0); // sa_mask: only the signal itself is blocked while the handler runs
  asm.bind(h.defaultAction);
  for (let i = 0; i < 4; i++) asm.dq(0); // SIG_DFL
  asm.bind(h.stack);
  asm.dq(h.signalStack);
  asm.dq(0);
  asm.dq(SIGNAL_STACK_BYTES);
  const enc = new TextEncoder();
  asm.bind(h.report);
  asm.bytes(enc.encode(REPORT));
  asm.bind(h.digits);
  asm.bytes(enc.encode("0123456789abcdef"));
  asm.bind(h.segv);
  asm.bytes(enc.encode(SEGV_TEXT));
  asm.bind(h.bus);
  asm.bytes(enc.encode(BUS_TEXT));
}
