/**
 * `npm test`: installs the host tools the tests need (QEMU, wabt, ...) when they are missing,
 * then runs vitest once (`vitest run`), passing through any extra arguments
 * (`npm test -- test/qemu`), and exits with vitest's status.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureHostTools } from "../setup/deps.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function main(): Promise<number> {
  try {
    await ensureHostTools({ install: true, log: (s) => console.log(`[setup] ${s}`) });
  } catch (err) {
    console.error(`[setup] ${(err as Error).message}`);
    return 1;
  }
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  if (!existsSync(vitest)) {
    console.error("vitest is not installed: run `npm ci` first");
    return 1;
  }
  const child = spawn(process.execPath, [vitest, "run", ...process.argv.slice(2)], {
    cwd: root,
    stdio: "inherit",
  });
  // Ctrl-C reaches vitest directly (same process group); wait for it to finish its cleanup.
  process.on("SIGINT", () => {});
  return new Promise((resolve) => {
    child.on("error", (err) => {
      console.error(`could not start vitest: ${err.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 1)));
  });
}

process.exitCode = await main();
