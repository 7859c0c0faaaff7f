// Hello: the walking-skeleton application. The kernel's `_start` has already set up the console.

import { println } from "../../kernel/console";

/** Called by the boot stub after the kernel's `_start`. */
export function main(): void {
  println("Hello from TypeScript on bare metal!");
}
