/**
 * Host tools the tests need, and their installation through apt on Debian/Ubuntu.
 *
 * The image toolchain itself needs only npm (see ARCHITECTURE.md); these binaries are for running
 * and checking images: QEMU, ISO inspectors, the WebAssembly spec-test tools, binutils for ELF
 * checks, and network clients for the guest's stack. `ensureHostTools` finds what is missing,
 * says exactly what it will run, runs `apt-get update` (once per process) and
 * `apt-get install -y <packages>` with DEBIAN_FRONTEND=noninteractive (through `sudo` when not
 * root, with apt's progress on the console), then checks again.
 *
 * Tools are looked up on PATH plus the sbin directories, because Debian leaves /usr/sbin (where
 * `ip` lives) off an ordinary user's PATH.
 */
import { spawn } from "node:child_process";
import { delimiter } from "node:path";
import { which } from "../qemu/runner.ts";

export interface HostTool {
  command: string; // executable looked up on PATH
  pkg: string; // Debian package that provides it
  purpose: string; // why the tests need it
}

/** Every host tool the tests use, with the Debian package providing it. */
export const HOST_TOOLS: readonly HostTool[] = [
  { command: "qemu-system-x86_64", pkg: "qemu-system-x86", purpose: "boot images" },
  { command: "xorriso", pkg: "xorriso", purpose: "cross-check ISO images" },
  { command: "isoinfo", pkg: "genisoimage", purpose: "inspect ISO 9660 / El Torito" },
  { command: "wast2json", pkg: "wabt", purpose: "WebAssembly spec tests" },
  { command: "spectest-interp", pkg: "wabt", purpose: "WebAssembly spec tests (reference)" },
  { command: "readelf", pkg: "binutils", purpose: "inspect ELF images" },
  { command: "objdump", pkg: "binutils", purpose: "disassemble images" },
  { command: "ping", pkg: "iputils-ping", purpose: "ICMP tests against the guest" },
  { command: "nc", pkg: "netcat-openbsd", purpose: "TCP/UDP tests against the guest" },
  { command: "ip", pkg: "iproute2", purpose: "tap devices and network namespaces" },
];

/** Directories searched in addition to PATH (Debian keeps them off non-root users' PATH). */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The search path used when none is given: PATH plus the sbin directories. */
export function defaultSearchPath(): string {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const d of SBIN_DIRS) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(delimiter);
}

/** Absolute path of a host tool, or null when it is not installed. */
export function findHostTool(command: string, searchPath: string = defaultSearchPath()): string | null {
  return which(command, searchPath);
}

/** The tools of `tools` that are not found on `searchPath`. */
export function missingTools(
  searchPath: string = defaultSearchPath(),
  tools: readonly HostTool[] = HOST_TOOLS,
): HostTool[] {
  return tools.filter((t) => which(t.command, searchPath) === null);
}

/** Distinct packages providing `tools`, in first-seen order. */
export function packagesFor(tools: readonly HostTool[]): string[] {
  return [...new Set(tools.map((t) => t.pkg))];
}

export interface InstallPlan {
  packages: string[];
  commands: string[][]; // argv of each command, in order
}

/**
 * The apt commands that install `packages`: `apt-get update` (unless already done in this
 * process) then `apt-get install -y`. Not root: each goes through `sudo`, carrying
 * DEBIAN_FRONTEND (sudo drops the caller's environment). Throws, naming the packages, when not
 * root and `sudo` is missing, or when `apt-get` is missing.
 */
export function planInstall(
  packages: readonly string[],
  host: { isRoot: boolean; hasSudo: boolean; hasAptGet: boolean; updateDone?: boolean },
): InstallPlan {
  const list = packages.join(" ");
  if (!host.hasAptGet) {
    throw new Error(
      `missing host tools and no apt-get here: install the equivalents of the Debian packages ${list} by hand`,
    );
  }
  if (!host.isRoot && !host.hasSudo) {
    throw new Error(
      `missing host tools, not root and sudo is not installed: as root run \`apt-get install -y ${list}\``,
    );
  }
  const prefix = host.isRoot ? [] : ["sudo", "DEBIAN_FRONTEND=noninteractive"];
  const commands: string[][] = [];
  if (!host.updateDone) commands.push([...prefix, "apt-get", "update"]);
  commands.push([...prefix, "apt-get", "install", "-y", ...packages]);
  return { packages: [...packages], commands };
}

/** True once `apt-get update` has succeeded in this process. */
let aptUpdated = false;

export interface EnsureOptions {
  /** Which tools to check (default: all of HOST_TOOLS). */
  tools?: readonly HostTool[];
  install: boolean; // false: only check, fail when something is missing
  log: (s: string) => void;
  searchPath?: string; // where tools, apt-get and sudo are looked up (default: PATH + sbin dirs)
  isRoot?: boolean; // default: effective uid is 0
}

/** Makes sure every tool in HOST_TOOLS is installed, installing the missing ones with apt. */
export async function ensureHostTools(opts: EnsureOptions): Promise<void> {
  const searchPath = opts.searchPath ?? defaultSearchPath();
  const wanted = opts.tools ?? HOST_TOOLS;
  const missing = missingTools(searchPath, wanted);
  if (missing.length === 0) return;

  const packages = packagesFor(missing);
  const describe = missing.map((t) => `${t.command} (${t.pkg}: ${t.purpose})`).join(", ");
  if (!opts.install) {
    throw new Error(`missing host tools: ${describe}; install with: apt-get install -y ${packages.join(" ")}`);
  }
  const plan = planInstall(packages, {
    isRoot: opts.isRoot ?? process.geteuid?.() === 0,
    hasSudo: which("sudo", searchPath) !== null,
    hasAptGet: which("apt-get", searchPath) !== null,
    updateDone: aptUpdated,
  });
  opts.log(`missing host tools: ${describe}`);
  opts.log("installing them now, running:");
  for (const argv of plan.commands) opts.log(`  ${argv.join(" ")}`);

  for (const argv of plan.commands) {
    opts.log(`$ ${argv.join(" ")}`);
    const code = await runInherited(argv, searchPath);
    if (code !== 0) throw new Error(`\`${argv.join(" ")}\` failed with exit code ${code}`);
    if (argv.includes("update")) aptUpdated = true;
  }

  const still = missingTools(searchPath, wanted);
  if (still.length > 0) {
    const names = still.map((t) => `${t.command} (${t.pkg})`).join(", ");
    throw new Error(`still missing after apt-get install: ${names}`);
  }
  opts.log("host tools installed");
}

/** Runs argv with the console as its stdio (apt's progress stays visible); resolves to its exit code. */
function runInherited(argv: string[], searchPath: string): Promise<number> {
  const binary = which(argv[0], searchPath) ?? argv[0];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, argv.slice(1), {
      stdio: "inherit",
      env: { ...process.env, PATH: searchPath, DEBIAN_FRONTEND: "noninteractive" },
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
