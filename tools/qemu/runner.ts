/**
 * QEMU runner: boots an image (ISO via SeaBIOS, or PVH ELF via `-kernel`) under TCG with a hard
 * timeout, streams and records the serial console (COM1, port 0x3F8) and decodes the status the
 * guest wrote to `isa-debug-exit` (port 0xF4; QEMU then exits with `(status << 1) | 1`).
 *
 * Design:
 *  - COM1 is a `stdio` chardev, so the guest's bytes arrive on QEMU's stdout pipe as soon as QEMU
 *    issues the write(2). Bytes already written survive a SIGKILL: the pipe is drained until EOF
 *    before the result is returned, so a timed-out run still reports everything the guest said.
 *  - QEMU runs in its own process group (`detached`); on timeout the whole group gets SIGKILL.
 *    Groups still alive when this Node process exits are killed too.
 *  - Only the devices a test needs: `-nodefaults`, no display, no monitor, `-no-reboot` (a triple
 *    fault ends the run instead of looping), `isa-debug-exit` at 0xF4 (4 ports).
 *  - microvm: `isa-serial=on` gives ttyS0 at 0x3F8, `x-option-roms=off` (qboot itself loads a PVH
 *    ELF from fw_cfg), `rtc=off`; the PIC/PIT stay on so a kernel may use them. No PCI, no ACPI.
 *    QEMU merges repeated `-machine` options, so `extraArgs: ["-machine", "acpi=on,pcie=on"]`
 *    changes any of these.
 *
 * Exit status ambiguity: QEMU's own fatal errors also exit with 1, which is also what guest status
 * 0 produces. An exit code of 1 with a non-warning `qemu-system-x86_64:` line on stderr is read as
 * a QEMU error (status null); every other odd exit code is a guest status.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { StringDecoder } from "node:string_decoder";

export interface QemuOptions {
  cdrom?: string; // ISO path (BIOS boot, SeaBIOS)
  kernel?: string; // PVH ELF path (-kernel)
  append?: string; // kernel command line (-append), PVH only
  machine?: "pc" | "q35" | "microvm"; // default "pc"
  memory?: string; // default "128M"
  cpu?: string; // default "max"
  timeoutMs: number; // hard timeout: the QEMU process group is killed (SIGKILL) when it expires
  extraArgs?: string[];
  onSerial?: (text: string) => void; // streamed serial output
}

export interface QemuResult {
  serial: string; // everything the guest wrote to COM1
  status: number | null; // guest status written to isa-debug-exit; null if QEMU exited otherwise
  qemuExitCode: number | null;
  timedOut: boolean;
  wallMs: number;
  stderr: string;
  command: string[]; // the exact argv, for error messages
}

/** Name of the emulator binary looked up on PATH. */
export const QEMU_BINARY = "qemu-system-x86_64";

/** Message of the error thrown when QEMU is missing. */
export const QEMU_MISSING_MESSAGE =
  "QEMU is not installed: run `sudo apt-get install qemu-system-x86` (Debian/Ubuntu)";

/** First executable file called `name` in the directories of `pathVar`, or null. */
export function which(name: string, pathVar: string = process.env.PATH ?? ""): string | null {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable: keep looking
    }
  }
  return null;
}

/** Path of qemu-system-x86_64 on `pathVar` (default: this process's PATH), or throws. */
export function findQemu(pathVar: string = process.env.PATH ?? ""): string {
  const found = which(QEMU_BINARY, pathVar);
  if (found === null) throw new Error(QEMU_MISSING_MESSAGE);
  return found;
}

/** The `-machine` argument for each supported machine type. */
function machineArg(machine: NonNullable<QemuOptions["machine"]>): string {
  switch (machine) {
    case "pc":
      return "pc";
    case "q35":
      return "q35";
    case "microvm":
      return "microvm,isa-serial=on,rtc=off,pic=on,pit=on,x-option-roms=off,acpi=off,pcie=off";
  }
}

/** The argv (without the binary) for `opts`; throws on contradictory options. */
export function qemuArgs(opts: QemuOptions): string[] {
  const machine = opts.machine ?? "pc";
  if ((opts.cdrom === undefined) === (opts.kernel === undefined)) {
    throw new Error("runQemu: give exactly one of `cdrom` (ISO) or `kernel` (PVH ELF)");
  }
  if (opts.append !== undefined && opts.kernel === undefined) {
    throw new Error("runQemu: `append` needs `kernel` (a command line exists only for PVH boot)");
  }
  if (opts.cdrom !== undefined && machine === "microvm") {
    throw new Error("runQemu: microvm has no CD drive or BIOS disk boot; use `kernel` (PVH ELF)");
  }
  for (const file of [opts.cdrom, opts.kernel]) {
    if (file !== undefined && !existsSync(file)) throw new Error(`runQemu: no such image: ${file}`);
  }
  const args = [
    "-machine", machineArg(machine),
    "-accel", "tcg",
    "-cpu", opts.cpu ?? "max",
    "-m", opts.memory ?? "128M",
    "-nodefaults",
    "-display", "none",
    "-monitor", "none",
    "-no-reboot",
    // COM1 -> our stdout pipe; signal=off: QEMU must not treat guest/console input as Ctrl-C
    "-chardev", "stdio,id=com1,signal=off",
    "-serial", "chardev:com1",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
  ];
  if (opts.cdrom !== undefined) args.push("-cdrom", opts.cdrom, "-boot", "d");
  if (opts.kernel !== undefined) args.push("-kernel", opts.kernel);
  if (opts.append !== undefined) args.push("-append", opts.append);
  args.push(...(opts.extraArgs ?? []));
  return args;
}

/** Guest status from QEMU's exit code, or null when QEMU did not exit through isa-debug-exit. */
export function decodeStatus(exitCode: number | null, stderr: string): number | null {
  if (exitCode === null || (exitCode & 1) === 0) return null;
  if (exitCode === 1 && qemuReportedError(stderr)) return null;
  return exitCode >> 1;
}

/** True when stderr holds a QEMU error line (not merely a warning). */
function qemuReportedError(stderr: string): boolean {
  return stderr
    .split("\n")
    .some((line) => /^qemu-system-x86_64: /.test(line) && !/: warning: /.test(line));
}

/** Process groups of running QEMUs, killed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function trackGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  liveGroups.add(child.pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const pid of liveGroups) killGroup(pid);
    });
  }
}

/** Boots `opts` under QEMU and resolves when QEMU has exited (or was killed) and all output is read. */
export async function runQemu(opts: QemuOptions): Promise<QemuResult> {
  const binary = findQemu();
  const command = [binary, ...qemuArgs(opts)];
  const started = performance.now();
  // Watchdog: coreutils `timeout` kills QEMU on its own if this process dies before its timer
  // fires (e.g. a test worker torn down mid-run), so no VM outlives its deadline.
  const watchdog = which("timeout");
  const argv = watchdog
    ? [watchdog, "--signal=KILL", String(Math.ceil(opts.timeoutMs / 1000) + 10), ...command]
    : command;
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ["pipe", "pipe", "pipe"], // stdin stays open (and silent) until QEMU exits
    detached: true, // own process group, so the timeout can kill everything QEMU started
  });
  trackGroup(child);

  let serial = "";
  let stderr = "";
  const serialDecoder = new StringDecoder("utf8");
  const stderrDecoder = new StringDecoder("utf8");
  const emit = (text: string) => {
    if (text === "") return;
    serial += text;
    opts.onSerial?.(text);
  };
  child.stdout!.on("data", (chunk: Buffer) => emit(serialDecoder.write(chunk)));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += stderrDecoder.write(chunk)));
  child.stdin!.on("error", () => {}); // EPIPE once QEMU is gone

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) killGroup(child.pid);
  }, opts.timeoutMs);

  // 'close' fires after the process exited AND its stdio pipes reached EOF: nothing is lost.
  const [exitCode, spawnError] = await new Promise<[number | null, Error | null]>((resolve) => {
    child.on("error", (err) => resolve([null, err]));
    child.on("close", (code) => resolve([code, null]));
  });
  clearTimeout(timer);
  if (child.pid !== undefined) liveGroups.delete(child.pid);
  child.stdin!.destroy();
  if (spawnError !== null) {
    throw new Error(`could not start QEMU (${command.join(" ")}): ${spawnError.message}`);
  }
  emit(serialDecoder.end());
  stderr += stderrDecoder.end();

  return {
    serial,
    status: timedOut ? null : decodeStatus(exitCode, stderr),
    qemuExitCode: exitCode,
    timedOut,
    wallMs: performance.now() - started,
    stderr,
    command,
  };
}
