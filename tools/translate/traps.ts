/**
 * Trap kinds shared by the translator, the linker's trap stubs and the kernel's panic screen.
 * The numbering is fixed by tools/link/ABI.md; texts are the WebAssembly core specification's
 * wording as used by its test suite (assert_trap messages).
 */

export const Trap = {
  unreachable: 1,
  divideByZero: 2,
  integerOverflow: 3,
  invalidConversion: 4,
  memoryOutOfBounds: 5,
  tableOutOfBounds: 6,
  indirectCallTypeMismatch: 7,
  undefinedElement: 8,
  uninitializedElement: 9,
  callStackExhausted: 10,
} as const;
export type TrapKind = (typeof Trap)[keyof typeof Trap];

export const TRAP_TEXT: Record<number, string> = {
  1: "unreachable",
  2: "integer divide by zero",
  3: "integer overflow",
  4: "invalid conversion to integer",
  5: "out of bounds memory access",
  6: "out of bounds table access",
  7: "indirect call type mismatch",
  8: "undefined element",
  9: "uninitialized element",
  10: "call stack exhausted",
};

export const ALL_TRAPS: TrapKind[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
