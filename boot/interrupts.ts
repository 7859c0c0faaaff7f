/**
 * Native handlers for the device and timer vectors 32..255: each one sets its vector's bit in the
 * pending bitmap and returns. Control never enters wasm code from an interrupt
 * (shared/ARCHITECTURE.md); the kernel's event loop (kernel/events/loop.ts) takes the bits with an
 * atomic exchange, runs the handlers registered for them, and only then signals end-of-interrupt.
 *
 * Sources:
 *  - Intel SDM Vol. 3A §6.12.1 (interrupt gates: IF cleared on entry), §6.14.1 (64-bit IDT gate
 *    descriptor), §6.14.2 (64-bit stack frame: SS, RSP, RFLAGS, CS, RIP always pushed), §6.14.3/IRET
 *    (iretq restores RFLAGS, so the stub may clobber the flags and nothing else).
 *  - Intel SDM Vol. 2A "BTS" and "LOCK": `lock bts m32, imm8` is one atomic read-modify-write.
 *  - Intel SDM Vol. 3A §11.8.4-11.8.5 (interrupt acceptance, ISR/IRR, EOI) and §11.9 (spurious
 *    interrupt: no ISR bit is set, so it must not be acknowledged with an EOI).
 *
 * Why the stub sends no EOI: while a vector's ISR bit is set the local APIC holds back that vector
 * and every lower-priority class, so a level-triggered line (PCI INTx through the IOAPIC) cannot
 * re-interrupt before its driver has silenced the device. Each delivery sets exactly one pending
 * bit and one ISR bit, and the same vector is not delivered again before its EOI, so the kernel
 * sends one EOI per bit it takes (after the handlers ran) and the counts always match.
 *
 * Pending bitmap (`pending` label, 32 bytes, in the image's data: zero at load):
 * ```
 *   +0   u32 vectors   0..31  (bit v)        never set: exceptions have their own stubs
 *   +4   u32 vectors  32..63  (bit v - 32)
 *   ...
 *   +28  u32 vectors 224..255 (bit v - 224)  bit 31 (0xFF, spurious) is never set
 * ```
 * Stub for vector v (16 bytes apart, stub v at `stubs + 16 * (v - 32)`):
 * ```
 *   f0 0f ba 2c 25 <disp32> <v & 31>   lock bts dword [pending + 4 * (v >> 5)], v & 31
 *   48 cf                              iretq
 * ```
 */
import { Assembler, Label, R, abs, mem } from "../tools/x86/assembler.ts";

/** First vector handled here (0..31 are CPU exceptions, SDM §6.3). */
export const FIRST_INTERRUPT_VECTOR = 32;
/** The local APIC's spurious-interrupt vector (kernel/arch/x86_64/lapic.ts programs it): stub is a bare iretq. */
export const SPURIOUS_VECTOR = 0xff;
/** Bytes of the pending bitmap: one bit for each of the 256 vectors. */
export const PENDING_BYTES = 32;
/** Each per-vector stub (exceptions and interrupts alike) is padded to this size: stub v = stubs + 16 * v. */
export const STUB_BYTES = 16;
const GATE_TYPE_INTERRUPT64 = 0x8e; // P = 1, DPL = 0, type 0xE: 64-bit interrupt gate (IF cleared on entry)

/** Emits the 224 stubs for vectors 32..255 at the current position, binding `stubs` to the first. */
export function emitInterruptStubs(asm: Assembler, pending: Label, stubs: Label): void {
  asm.align(STUB_BYTES, 0xcc);
  asm.bind(stubs);
  for (let v = FIRST_INTERRUPT_VECTOR; v < 256; v++) {
    const start = asm.offset;
    if (v !== SPURIOUS_VECTOR) {
      const word = abs(pending, 4 * (v >> 5));
      asm.bitImm("bts", 4, word, v & 31, true); // pending[v] = 1, atomically
    }
    asm.iretq(); // restores RIP, CS, RFLAGS (IF = 1 again), RSP, SS
    const size = asm.offset - start;
    if (size > STUB_BYTES) throw new Error(`interrupt stub ${v} is ${size} bytes, more than ${STUB_BYTES}`);
    asm.align(STUB_BYTES, 0xcc); // int3 padding: never executed
  }
}

/**
 * 64-bit code: fills `count` consecutive IDT gates from rdi with interrupt gates (IST 0) pointing at
 * consecutive stubs from rsi, STUB_BYTES apart (gate diagram at boot/entry.ts emitIdtDiagram).
 * Clobbers rax, rcx, rsi, rdi.
 */
export function emitGateFill(asm: Assembler, loopName: string, count: number, codeSelector: number): void {
  const loop = asm.label(loopName);
  asm.mov(4, R.rcx, count);
  asm.bind(loop);
  asm.mov(8, R.rax, R.rsi); // rax = handler address
  asm.mov(2, mem(R.rdi, 0), R.rax); // offset 15:0
  asm.mov(2, mem(R.rdi, 2), codeSelector); // segment selector: the 64-bit code segment
  asm.mov(2, mem(R.rdi, 4), GATE_TYPE_INTERRUPT64 << 8); // IST = 0 (current stack), type/DPL/P
  asm.shift("shr", 8, R.rax, 16);
  asm.mov(2, mem(R.rdi, 6), R.rax); // offset 31:16
  asm.shift("shr", 8, R.rax, 16);
  asm.mov(4, mem(R.rdi, 8), R.rax); // offset 63:32
  asm.mov(4, mem(R.rdi, 12), 0); // reserved
  asm.alu("add", 8, R.rsi, STUB_BYTES); // next stub
  asm.alu("add", 8, R.rdi, 16); // next gate
  asm.unary("dec", 4, R.rcx);
  asm.jcc("ne", loop);
}

/** 64-bit code: fills IDT gates 32..255 with interrupt gates pointing at the stubs. Clobbers rax, rcx, rsi, rdi. */
export function emitInterruptGates(asm: Assembler, idt: Label, stubs: Label, codeSelector: number): void {
  asm.movabs(R.rdi, idt);
  asm.alu("add", 8, R.rdi, 16 * FIRST_INTERRUPT_VECTOR); // rdi = &gate[32]
  asm.movabs(R.rsi, stubs); // rsi = stub for vector 32
  emitGateFill(asm, "boot.irqGateLoop", 256 - FIRST_INTERRUPT_VECTOR, codeSelector); // 224 gates
}
