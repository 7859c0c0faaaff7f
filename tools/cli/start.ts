/**
 * `npm start [-- --app apps/<name>] [--iso]`: builds the image and boots it under QEMU with the
 * serial console on this terminal (installing QEMU with apt-get first when it is missing).
 * Default: the PVH ELF on QEMU's microvm machine (fastest); `--iso` boots the ISO through SeaBIOS.
 * The VM ends by itself when the app is done; Ctrl-C stops it otherwise.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { buildAppImage } from "../link/build.ts";
import { runQemu } from "../qemu/runner.ts";
import { ensureHostTools, HOST_TOOLS } from "../setup/deps.ts";
import { Stages } from "./stages.ts";

async function main(argv: string[]): Promise<number> {
  let app = "apps/hello";
  let iso = false;
  let timeout = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--app") app = argv[++i].replace(/\/+$/, "");
    else if (argv[i] === "--iso") iso = true;
    else if (argv[i] === "--timeout") timeout = Number(argv[++i]);
    else {
      console.error(`unknown argument: ${argv[i]}\nusage: npm start [-- --app apps/<name>] [--iso] [--timeout <s>]`);
      return 2;
    }
  }
  await ensureHostTools({
    install: true,
    tools: HOST_TOOLS.filter((t) => t.command === "qemu-system-x86_64"),
    log: (s) => console.error(`[setup] ${s}`),
  });
  const name = basename(app);
  console.error(`building ${name}`);
  const img = await buildAppImage(app, new Stages());
  mkdirSync("build", { recursive: true });
  const file = join("build", iso ? `${name}.iso` : `${name}.elf`);
  writeFileSync(file, iso ? img.iso : img.elf);
  console.error(`booting ${file} (${iso ? "SeaBIOS, pc" : "PVH, microvm"}); serial console follows`);
  const r = await runQemu({
    ...(iso ? { cdrom: file, machine: "pc" as const } : { kernel: file, machine: "microvm" as const }),
    timeoutMs: timeout > 0 ? timeout * 1000 : 24 * 3600 * 1000,
    onSerial: (t) => process.stdout.write(t),
  });
  if (r.timedOut) {
    console.error(`stopped after ${timeout} s`);
    return 124;
  }
  console.error(`VM exited with status ${r.status ?? `? (QEMU exit code ${r.qemuExitCode})`}`);
  return r.status ?? 1;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
