/**
 * How to start one of this project's TypeScript files in a new Node process: Node with the
 * TypeScript loader (register.mjs) and the young generation the npm scripts give (package.json).
 */
import { fileURLToPath } from "node:url";

export const REGISTER = fileURLToPath(new URL("./register.mjs", import.meta.url));

/** [command, args] for `spawn`/`spawnSync`: run `file` (a path) with `args`. */
export function nodeTs(file: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ["--import", REGISTER, "--max-semi-space-size=64", file, ...args]];
}
