/**
 * The byte-moving halves of `memory.copy` and `memory.fill` (WebAssembly core spec §4.4.7, memory
 * instructions): one memmove and one memset routine per module, emitted once after its functions
 * and called from every site (function.ts), which has already checked the ranges and added the
 * memory's base. SSE2 16-byte unaligned loads and stores (always present on x86-64), 64 bytes per
 * loop iteration with aligned stores; both ends of a range by overlapping accesses, so no size
 * needs a byte loop. Copies of AVX_COPY_MIN bytes and more use AVX 32-byte moves, 128 bytes per
 * iteration, when the image's `cpu_avx` cell says the CPU and the OS support them (link/image.ts
 * emitCpuFeatureProbe), ending in `vzeroupper`. Long fills use `rep stosb` (STOS_THRESHOLD; the
 * direction flag is clear at every call, tools/link/ABI.md).
 *
 * Contract (a near `call` from a slot-based operator: the value stack is flushed, so only the
 * function's pinned locals, regalloc.ts PIN_POOL / XPIN_POOL, are live, and none is touched):
 *  - copy: rdi = destination, rsi = source, rcx = length (absolute addresses). memmove semantics:
 *    the result is as if the source were read completely before the destination is written.
 *  - fill: rdi = destination, eax = the byte value (zero-extended), rcx = length.
 *  - Clobber rax, rcx, rdx, rsi, rdi, r8, xmm0..xmm8 (ymm0..ymm8, and the upper halves of all
 *    ymm registers, which SSE code never reads) and the flags; no frame, no stack use.
 */
import { R, abs, mem, type Assembler, Label } from "../x86/assembler.ts";

/**
 * Fills of this many bytes and more use `rep stosb` (fast-string stores of whole cache lines on
 * CPUs with ERMS, as glibc does from 2 KiB on): twice the vector loop's speed on the memops bench.
 * Copies never use `rep movsb`: even with a 64-byte-aligned destination it was more than 10x
 * slower than the vector loop there (AMD Zen 4, source and destination a few bytes apart modulo 4 KiB).
 */
const STOS_THRESHOLD = 2048;
/**
 * Copies of this many bytes and more take the AVX loop when the CPU allows (32-byte loads and
 * aligned stores, 128 bytes per iteration): 13% faster than the SSE loop on the memops bench's
 * copies of up to 64 KiB (AMD EPYC; glibc's memmove also copies with 32-byte vectors there). Its
 * saved ends need at least 160 bytes; below 256 the SSE loop's few iterations cost as little.
 */
const AVX_COPY_MIN = 256;

export class BulkMemory {
  private readonly copyLabel: Label;
  private readonly fillLabel: Label;
  private copyUsed = false;
  private fillUsed = false;

  /** `avx`: the image's u64 cell, non-zero when AVX may be used (read at each long copy). */
  constructor(module: string, private readonly avx: Label) {
    this.copyLabel = new Label(`${module}.memory_copy`);
    this.fillLabel = new Label(`${module}.memory_fill`);
  }

  /** The memmove routine (emitted by `emit` once asked for). */
  get copy(): Label {
    this.copyUsed = true;
    return this.copyLabel;
  }
  /** The memset routine (emitted by `emit` once asked for). */
  get fill(): Label {
    this.fillUsed = true;
    return this.fillLabel;
  }

  /** The routines asked for so far, each 16-byte aligned; their code ranges, for the symbol table. */
  emit(a: Assembler): { name: string; start: Label; end: Label }[] {
    const out: { name: string; start: Label; end: Label }[] = [];
    const routine = (start: Label, body: () => void) => {
      a.align(16, 0xcc);
      a.bind(start);
      body();
      const end = a.label();
      a.bind(end);
      out.push({ name: start.name, start, end });
    };
    if (this.copyUsed) routine(this.copyLabel, () => emitCopy(a, this.avx));
    if (this.fillUsed) routine(this.fillLabel, () => emitFill(a));
    return out;
  }
}

/**
 * memmove(rdi, rsi, rcx). Up to 64 bytes: every load before the first store, so any overlap is
 * right. Longer: the copy runs away from the overlap (forward unless the destination starts inside
 * the source); the 16-byte-aligned middle goes through the loop, the unaligned ends are loaded
 * before it and stored after it.
 */
function emitCopy(a: Assembler, avx: Label): void {
  const small = a.label(), upTo64 = a.label(), long = a.label(), backward = a.label();
  a.alu("cmp", 8, R.rcx, 16);
  a.jcc("b", small);
  a.alu("cmp", 8, R.rcx, 32);
  a.jcc("a", upTo64);
  // 16..32: the first and the last 16 bytes.
  a.movups(0, mem(R.rsi));
  a.movups(1, mem(R.rsi, -16, R.rcx, 1));
  a.movups(mem(R.rdi), 0);
  a.movups(mem(R.rdi, -16, R.rcx, 1), 1);
  a.ret();

  a.bind(upTo64);
  a.alu("cmp", 8, R.rcx, 64);
  a.jcc("a", long);
  // 33..64: the first and the last 32 bytes.
  a.movups(0, mem(R.rsi));
  a.movups(1, mem(R.rsi, 16));
  a.movups(2, mem(R.rsi, -32, R.rcx, 1));
  a.movups(3, mem(R.rsi, -16, R.rcx, 1));
  a.movups(mem(R.rdi), 0);
  a.movups(mem(R.rdi, 16), 1);
  a.movups(mem(R.rdi, -32, R.rcx, 1), 2);
  a.movups(mem(R.rdi, -16, R.rcx, 1), 3);
  a.ret();

  a.bind(long);
  a.mov(8, R.rax, R.rdi);
  a.alu("sub", 8, R.rax, R.rsi);
  a.alu("cmp", 8, R.rax, R.rcx);
  a.jcc("b", backward); // source <= destination < source + length
  emitVectorChoice(a, avx, "forward");
  a.bind(backward);
  emitVectorChoice(a, avx, "backward");

  // 0..15: two overlapping moves of 8, 4 or 2 bytes, or one byte.
  a.bind(small);
  const done = a.label(), one = a.label();
  for (const size of [8, 4] as const) {
    ifAtLeast(a, size, () => {
      a.mov(size, R.rax, mem(R.rsi));
      a.mov(size, R.rdx, mem(R.rsi, -size, R.rcx, 1));
      a.mov(size, mem(R.rdi), R.rax);
      a.mov(size, mem(R.rdi, -size, R.rcx, 1), R.rdx);
    });
  }
  a.alu("cmp", 4, R.rcx, 1);
  a.jcc("b", done);
  a.movzx(4, R.rax, 1, mem(R.rsi));
  a.jcc("e", one); // flags of the cmp: length 1
  a.movzx(4, R.rdx, 2, mem(R.rsi, -2, R.rcx, 1)); // 2..3: the first byte and the last two
  a.mov(2, mem(R.rdi, -2, R.rcx, 1), R.rdx);
  a.bind(one);
  a.mov(1, mem(R.rdi), R.rax);
  a.bind(done);
  a.ret();
}

/** When the length (rcx) is at least `size`: `emit` (two overlapping moves of `size` bytes cover
 *  size..2*size bytes) and `ret`; shorter lengths go on after it. */
function ifAtLeast(a: Assembler, size: 4 | 8, emit: () => void): void {
  const below = a.label();
  a.alu("cmp", 4, R.rcx, size);
  a.jcc("b", below);
  emit();
  a.ret();
  a.bind(below);
}

/** The copy of more than 64 bytes in one direction: with AVX when the length is at least
 *  AVX_COPY_MIN and the `avx` cell is set, else with SSE. */
function emitVectorChoice(a: Assembler, avx: Label, dir: "forward" | "backward"): void {
  const sse = a.label();
  a.alu("cmp", 8, R.rcx, AVX_COPY_MIN);
  a.jcc("b", sse);
  a.alu("cmp", 8, abs(avx), 0);
  a.jcc("e", sse);
  emitCopyLoop(a, dir, 32);
  a.bind(sse);
  emitCopyLoop(a, dir, 16);
}

/**
 * The copy of more than 4 vectors in one direction, ending in `ret`; `vec` 16 (SSE, movups and
 * movaps) or 32 (AVX, vmovdqu and vmovdqa, then vzeroupper). Forward: the first vector and the
 * last four are loaded first (registers 4..8); the loop copies 4-vector blocks from the first
 * vector-aligned destination address after the start while a block starts before the last four
 * vectors; then the saved ends are stored. Each block is loaded before it is stored, and a forward
 * loop only writes below the source bytes it has yet to read (destination <= source, or no
 * overlap), so nothing is read after it was overwritten. Backward mirrors it (first four, last one
 * saved; blocks downward from the last aligned address).
 */
function emitCopyLoop(a: Assembler, dir: "forward" | "backward", vec: 16 | 32): void {
  const loop = a.label(), stores = a.label();
  const fwd = dir === "forward", block = 4 * vec;
  const load = (x: number, m: ReturnType<typeof mem>) => (vec === 16 ? a.movups(x, m) : a.vmovdqu(x, m));
  const storeU = (m: ReturnType<typeof mem>, x: number) => (vec === 16 ? a.movups(m, x) : a.vmovdqu(m, x));
  const storeA = (m: ReturnType<typeof mem>, x: number) => (vec === 16 ? a.movaps(m, x) : a.vmovdqaStore(m, x));
  const headBytes = fwd ? vec : block, tailBytes = fwd ? block : vec;
  const saved: { x: number; at: number }[] = []; // offsets from the start (>= 0) or from the end (< 0)
  for (let k = 0; k < headBytes; k += vec) saved.push({ x: 4 + saved.length, at: k });
  for (let k = tailBytes; k > 0; k -= vec) saved.push({ x: 4 + saved.length, at: -k });
  for (const s of saved) load(s.x, s.at >= 0 ? mem(R.rsi, s.at) : mem(R.rsi, s.at, R.rcx, 1));
  a.mov(8, R.rdx, R.rdi); // the destination
  a.lea(8, R.r8, mem(R.rdi, 0, R.rcx, 1)); // its end
  a.alu("sub", 8, R.rsi, R.rdi); // source - destination: rdi walks, [rdi + rsi] is the source
  if (fwd) {
    a.alu("add", 8, R.rdi, vec);
    a.alu("and", 8, R.rdi, -vec); // first aligned block start, in (destination, destination + vec]
    a.lea(8, R.rax, mem(R.r8, -block)); // blocks must start below this
    a.alu("cmp", 8, R.rdi, R.rax);
    a.jcc("ae", stores);
    a.bind(loop);
    for (let k = 0; k < 4; k++) load(k, mem(R.rdi, vec * k, R.rsi, 1));
    for (let k = 0; k < 4; k++) storeA(mem(R.rdi, vec * k), k);
    a.alu("add", 8, R.rdi, block);
    a.alu("cmp", 8, R.rdi, R.rax);
    a.jcc("b", loop);
  } else {
    a.mov(8, R.rdi, R.r8);
    a.alu("and", 8, R.rdi, -vec); // end of the last aligned block, in (end - vec, end]
    a.lea(8, R.rax, mem(R.rdx, block)); // blocks must end above this
    a.alu("cmp", 8, R.rdi, R.rax);
    a.jcc("be", stores);
    a.bind(loop);
    a.alu("sub", 8, R.rdi, block);
    for (let k = 0; k < 4; k++) load(k, mem(R.rdi, vec * k, R.rsi, 1));
    for (let k = 0; k < 4; k++) storeA(mem(R.rdi, vec * k), k);
    a.alu("cmp", 8, R.rdi, R.rax);
    a.jcc("a", loop);
  }
  a.bind(stores);
  for (const s of saved) storeU(s.at >= 0 ? mem(R.rdx, s.at) : mem(R.r8, s.at), s.x);
  if (vec === 32) a.vzeroupper();
  a.ret();
}

/**
 * memset(rdi, al, rcx): the byte spread over a qword (and for 16 bytes and more over xmm0), then
 * overlapping stores from both ends; beyond 64 bytes an aligned loop of 64-byte blocks fills
 * between the first 16 and the last 64 bytes; from STOS_THRESHOLD on `rep stosb` does it all.
 */
function emitFill(a: Assembler): void {
  const small = a.label(), vectors = a.label(), done = a.label(), loop = a.label();
  a.movabs(R.rdx, 0x0101010101010101n);
  a.imul(8, R.rax, R.rdx);
  a.alu("cmp", 8, R.rcx, 16);
  a.jcc("b", small);
  a.alu("cmp", 8, R.rcx, STOS_THRESHOLD);
  a.jcc("b", vectors);
  a.repStos(1);
  a.ret();
  a.bind(vectors);
  a.movToXmm(8, 0, R.rax);
  a.sse("punpcklqdq", 0, 0);
  a.movups(mem(R.rdi), 0);
  a.movups(mem(R.rdi, -16, R.rcx, 1), 0);
  a.alu("cmp", 8, R.rcx, 32);
  a.jcc("be", done);
  a.movups(mem(R.rdi, 16), 0);
  a.movups(mem(R.rdi, -32, R.rcx, 1), 0);
  a.alu("cmp", 8, R.rcx, 64);
  a.jcc("be", done);
  a.movups(mem(R.rdi, -48, R.rcx, 1), 0);
  a.movups(mem(R.rdi, -64, R.rcx, 1), 0);
  a.lea(8, R.rdx, mem(R.rdi, -64, R.rcx, 1)); // blocks must start below this
  a.alu("add", 8, R.rdi, 16);
  a.alu("and", 8, R.rdi, -16); // first aligned block start, in (destination, destination + 16]
  a.alu("cmp", 8, R.rdi, R.rdx);
  a.jcc("ae", done);
  a.bind(loop);
  for (let k = 0; k < 4; k++) a.movaps(mem(R.rdi, 16 * k), 0);
  a.alu("add", 8, R.rdi, 64);
  a.alu("cmp", 8, R.rdi, R.rdx);
  a.jcc("b", loop);
  a.ret();

  // 0..15: two overlapping stores of 8, 4 or 2 bytes, or one byte.
  a.bind(small);
  for (const size of [8, 4] as const) {
    ifAtLeast(a, size, () => {
      a.mov(size, mem(R.rdi), R.rax);
      a.mov(size, mem(R.rdi, -size, R.rcx, 1), R.rax);
    });
  }
  a.alu("cmp", 4, R.rcx, 1);
  a.jcc("b", done);
  a.mov(1, mem(R.rdi), R.rax);
  a.jcc("e", done); // flags of the cmp: length 1
  a.mov(2, mem(R.rdi, -2, R.rcx, 1), R.rax);
  a.bind(done);
  a.ret();
}
