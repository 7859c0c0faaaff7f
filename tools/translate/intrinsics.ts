/**
 * Hardware intrinsics: imports from modules `x86` and `image` are not calls but a few inline
 * instructions (tools/link/ABI.md lists them). Only kernel/arch/ declares them.
 * Instruction references: Intel SDM Vol. 2 (IN, OUT, RDTSC, CPUID, RDMSR, WRMSR, MOV CR, HLT,
 * PAUSE, MFENCE/LFENCE/SFENCE). Operands arrive in frame slots; the result goes to a frame slot.
 */
import { Assembler, R, mem, type Mem } from "../x86/assembler.ts";
import type { FuncType, ValType } from "../wasm/types.ts";
import type { ModuleContext } from "./context.ts";
import { UnsupportedError } from "./errors.ts";

type Emit = (a: Assembler, args: Mem[], result: Mem | null, ctx: ModuleContext) => void;
interface Intrinsic { params: ValType[]; results: ValType[]; emit: Emit }

const I = "i32", L = "i64";

function store(a: Assembler, result: Mem | null): void {
  if (result) a.mov(8, result, R.rax);
}

const X86: Record<string, Intrinsic> = {
  outb: { params: [I, I], results: [], emit: (a, [p, v]) => { a.mov(4, R.rdx, p); a.mov(4, R.rax, v); a.outPort(1, "dx"); } },
  outw: { params: [I, I], results: [], emit: (a, [p, v]) => { a.mov(4, R.rdx, p); a.mov(4, R.rax, v); a.outPort(2, "dx"); } },
  outl: { params: [I, I], results: [], emit: (a, [p, v]) => { a.mov(4, R.rdx, p); a.mov(4, R.rax, v); a.outPort(4, "dx"); } },
  inb: { params: [I], results: [I], emit: (a, [p], r) => { a.mov(4, R.rdx, p); a.alu("xor", 4, R.rax, R.rax); a.inPort(1, "dx"); store(a, r); } },
  inw: { params: [I], results: [I], emit: (a, [p], r) => { a.mov(4, R.rdx, p); a.alu("xor", 4, R.rax, R.rax); a.inPort(2, "dx"); store(a, r); } },
  inl: { params: [I], results: [I], emit: (a, [p], r) => { a.mov(4, R.rdx, p); a.inPort(4, "dx"); store(a, r); } },
  rdtsc: { params: [], results: [L], emit: (a, _, r) => { a.rdtsc(); a.shift("shl", 8, R.rdx, 32); a.alu("or", 8, R.rax, R.rdx); store(a, r); } },
  cpuid: {
    params: [I, I, I], results: [I],
    emit: (a, [leaf, sub, reg], r) => {
      a.mov(4, R.rax, leaf);
      a.mov(4, R.rcx, sub);
      a.mov(4, R.r8, reg); // read before cpuid overwrites nothing of ours but rax..rdx
      a.cpuid();
      // Select eax/ebx/ecx/edx by reg = 0/1/2/3.
      a.alu("cmp", 4, R.r8, 1); a.cmovcc("e", 4, R.rax, R.rbx);
      a.alu("cmp", 4, R.r8, 2); a.cmovcc("e", 4, R.rax, R.rcx);
      a.alu("cmp", 4, R.r8, 3); a.cmovcc("e", 4, R.rax, R.rdx);
      a.mov(4, R.rax, R.rax);
      store(a, r);
    },
  },
  pause: { params: [], results: [], emit: (a) => a.pause() },
  hlt: { params: [], results: [], emit: (a) => a.hlt() },
  cli: { params: [], results: [], emit: (a) => a.cli() },
  sti: { params: [], results: [], emit: (a) => a.sti() },
  mfence: { params: [], results: [], emit: (a) => a.mfence() },
  lfence: { params: [], results: [], emit: (a) => a.lfence() },
  sfence: { params: [], results: [], emit: (a) => a.sfence() },
  rdmsr: { params: [I], results: [L], emit: (a, [msr], r) => { a.mov(4, R.rcx, msr); a.rdmsr(); a.shift("shl", 8, R.rdx, 32); a.alu("or", 8, R.rax, R.rdx); store(a, r); } },
  wrmsr: {
    params: [I, L], results: [],
    emit: (a, [msr, v]) => { a.mov(4, R.rcx, msr); a.mov(8, R.rax, v); a.mov(8, R.rdx, R.rax); a.shift("shr", 8, R.rdx, 32); a.wrmsr(); },
  },
  readCr2: { params: [], results: [L], emit: (a, _, r) => { a.movFromCr(R.rax, 2); store(a, r); } },
  readCr3: { params: [], results: [L], emit: (a, _, r) => { a.movFromCr(R.rax, 3); store(a, r); } },
  readFramePointer: { params: [], results: [L], emit: (a, _, r) => { a.mov(8, R.rax, R.rbp); store(a, r); } },
  // Tests only (kernel/arch/x86_64/testing.ts): call a raw address, e.g. to prove data is no-execute.
  callAddress: { params: [L], results: [], emit: (a, [addr]) => { a.mov(8, R.rax, addr); a.call(R.rax); } },
  // `sti; hlt` back to back: sti's one-instruction interrupt shadow (SDM Vol. 2B "STI") means an
  // interrupt pending at the sti is taken only once hlt has started, so it wakes the hlt instead of
  // being lost between a check and the halt (the idle race of kernel/events/loop.ts).
  stiHlt: { params: [], results: [], emit: (a) => { a.sti(); a.hlt(); } },
  // Atomic swap of the u32 at a kernel (identity) address: xchg with memory is always locked
  // (SDM Vol. 2B "XCHG"). Takes interrupt pending bits: old = *addr, *addr = v.
  xchg32: {
    params: [I, I], results: [I],
    emit: (a, [addr, v], r) => { a.mov(4, R.rcx, addr); a.mov(4, R.rax, v); a.xchg(4, R.rax, mem(R.rcx, 0)); store(a, r); },
  },
};
for (const [bits, size] of [[8, 1], [16, 2], [32, 4], [64, 8]] as const) {
  const t: ValType = size === 8 ? L : I;
  X86[`mmioRead${bits}`] = {
    params: [L], results: [t],
    emit: (a, [addr], r) => {
      a.mov(8, R.rcx, addr);
      if (size === 1 || size === 2) a.movzx(4, R.rax, size, mem(R.rcx, 0));
      else a.mov(size, R.rax, mem(R.rcx, 0));
      store(a, r);
    },
  };
  X86[`mmioWrite${bits}`] = {
    params: [L, t], results: [],
    emit: (a, [addr, v]) => { a.mov(8, R.rcx, addr); a.mov(8, R.rax, v); a.mov(size, mem(R.rcx, 0), R.rax); },
  };
}

/**
 * `linux.*` (hosted target only, tools/link/ABI.md "Hosted Linux target"): system calls of the
 * Linux x86-64 ABI (rax = number, rdi/rsi/rdx = arguments, `syscall` = 0F 05 clobbers rcx, r11).
 * Numbers from arch/x86/entry/syscalls/syscall_64.tbl. Pointers are kernel (identity) addresses.
 */
const SYS_WRITE = 1, SYS_EXIT_GROUP = 231;
function syscall(a: Assembler): void { a.db(0x0f); a.db(0x05); }
const LINUX: Record<string, Intrinsic> = {
  write: {
    params: [I, I, I], results: [I],
    emit: (a, [fd, ptr, len], r) => {
      a.mov(4, R.rdi, fd); a.mov(4, R.rsi, ptr); a.mov(4, R.rdx, len); a.mov(4, R.rax, SYS_WRITE); syscall(a);
      a.mov(4, R.rax, R.rax); store(a, r); // i32 result (bytes written or -errno), zero-extended
    },
  },
  exit: { params: [I], results: [], emit: (a, [status]) => { a.mov(4, R.rdi, status); a.mov(4, R.rax, SYS_EXIT_GROUP); syscall(a); a.ud2(); } },
};

/** `image.*`: addresses and values the linker fixes (labels or numbers in ctx.imageSymbols). */
function imageIntrinsic(name: string, ctx: ModuleContext): Intrinsic | undefined {
  const sym = ctx.imageSymbols.get(name);
  if (sym === undefined) return undefined;
  if (name === "guestMemoryBytes" && typeof sym !== "number") {
    // Current size of the guest's memory: a cell the translator keeps up to date.
    return { params: [], results: [I], emit: (a, _, r) => { a.movabs(R.rax, sym); a.mov(8, R.rax, mem(R.rax, 0)); store(a, r); } };
  }
  return { params: [], results: [I], emit: (a, _, r) => { a.movabs(R.rax, sym); store(a, r); } };
}

export function isIntrinsicModule(module: string): boolean {
  return module === "x86" || module === "image" || module === "linux";
}

export function lookupIntrinsic(ctx: ModuleContext, module: string, name: string): Intrinsic | undefined {
  if (module === "x86") return Object.hasOwn(X86, name) ? X86[name] : undefined;
  if (module === "image") return imageIntrinsic(name, ctx);
  if (module === "linux") return Object.hasOwn(LINUX, name) ? LINUX[name] : undefined;
  return undefined;
}

/** Check an import's declared type against the intrinsic's; throws naming both. */
export function checkIntrinsicType(ctx: ModuleContext, module: string, name: string, ft: FuncType): void {
  const intr = lookupIntrinsic(ctx, module, name);
  if (!intr) throw new UnsupportedError(`unknown intrinsic import: ${module}.${name}`);
  const sig = (p: ValType[], r: ValType[]) => `(${p.join(", ")}) -> (${r.join(", ")})`;
  if (sig(intr.params, intr.results) !== sig(ft.params, ft.results)) {
    throw new UnsupportedError(
      `intrinsic ${module}.${name} is declared as ${sig(ft.params, ft.results)} but must be ${sig(intr.params, intr.results)}`,
    );
  }
}

export function emitIntrinsic(
  a: Assembler, ctx: ModuleContext, module: string, name: string, ft: FuncType, args: Mem[], result: Mem | null, _depth: number,
): void {
  const intr = lookupIntrinsic(ctx, module, name);
  if (!intr) throw new UnsupportedError(`unknown intrinsic import: ${module}.${name}`);
  intr.emit(a, args, result, ctx);
}
