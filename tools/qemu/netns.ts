/**
 * Guests on a tap device inside a private network namespace: the setup of the packet-path tests
 * and benchmarks (ARCHITECTURE.md, "Testing under QEMU"). Nothing reaches the host's own network:
 * the namespace holds only `lo` and the tap, whose host end gets the guest's gateway address
 * (10.0.2.2/24 by default, matching net/config.ts's default 10.0.2.15/24 via 10.0.2.2).
 *
 *   host namespace │ namespace tsuk-<purpose>-<pid>
 *                  │   lo
 *                  │   tap0 10.0.2.2/24 ── QEMU -netdev tap,ifname=tap0 ── guest 10.0.2.15
 *                  │   clients: `ip netns exec <ns> ping|nc|udp_load ...`
 *
 * QEMU must run inside the namespace (it attaches to the tap by name), so `spawnQemuInNetns`
 * starts `ip netns exec <ns> qemu-system-x86_64 <runner's argv>`: the same argv as runQemu
 * (tools/qemu/runner.ts qemuArgs), the same hard timeout on the process group, plus a `stop()` for
 * guests that never exit on their own. Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN).
 */
import { execFileSync, spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { decodeStatus, findQemu, qemuArgs, type QemuOptions, type QemuResult } from "./runner.ts";
import { findHostTool } from "../setup/deps.ts";

/** Prefix of every namespace made here; the suffix ends in the owning process id. */
const PREFIX = "tsuk-";

export interface TapNamespace {
  name: string; // namespace name
  tap: string; // tap device inside it
  hostAddress: string; // address of the tap's host end, e.g. "10.0.2.2"
  /** argv that runs `cmd args` inside the namespace. */
  argv(cmd: string, args?: string[]): string[];
  /** Runs `cmd args` inside the namespace to completion (throws on failure or timeout). */
  run(cmd: string, args?: string[], opts?: { timeoutMs?: number; input?: string }): string;
  /** Deletes the tap and the namespace (idempotent; also done when this process exits). */
  destroy(): void;
}

function ipPath(): string {
  const ip = findHostTool("ip");
  if (ip === null) throw new Error("`ip` is missing: apt-get install iproute2");
  return ip;
}

function ip(args: string[]): string {
  return execFileSync(ipPath(), args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes namespaces made here by processes that are gone (a run killed before cleaning up). */
function removeStaleNamespaces(): void {
  let list = "";
  try {
    list = ip(["netns", "list"]);
  } catch {
    return;
  }
  for (const line of list.split("\n")) {
    const name = line.split(" ")[0];
    const m = new RegExp(`^${PREFIX}.*-(\\d+)$`).exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      try {
        ip(["netns", "del", name]);
      } catch {
        // someone else got it first
      }
    }
  }
}

/**
 * Null when this process may create network namespaces and tap devices, else the reason it
 * may not (not root, `ip` missing, or the kernel refused a probe namespace).
 */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return "creating network namespaces and tap devices needs root";
  if (findHostTool("ip") === null) return "`ip` (iproute2) is not installed";
  const probe = `${PREFIX}probe-${process.pid}`;
  try {
    ip(["netns", "add", probe]);
    ip(["-n", probe, "tuntap", "add", "dev", "tap0", "mode", "tap"]);
  } catch (e) {
    return `the kernel refused a network namespace or tap device: ${(e as { stderr?: string }).stderr ?? e}`;
  } finally {
    try {
      ip(["netns", "del", probe]);
    } catch {
      // never made
    }
  }
  return null;
}

const live = new Set<TapNamespace>();
let exitHook = false;

/**
 * A fresh namespace `tsuk-<purpose>-<pid>` holding `lo` (up) and tap `tap0` (up, host end
 * `hostCidr`). Call destroy() when done; it is also run at process exit.
 */
export function createTapNamespace(purpose: string, hostCidr = "10.0.2.2/24"): TapNamespace {
  removeStaleNamespaces();
  const name = `${PREFIX}${purpose}-${process.pid}`;
  const tap = "tap0";
  try {
    ip(["netns", "del", name]); // left over from this very process (a retried test)
  } catch {
    // the usual case: not there
  }
  ip(["netns", "add", name]);
  let destroyed = false;
  const ns: TapNamespace = {
    name,
    tap,
    hostAddress: hostCidr.split("/")[0],
    argv: (cmd, args = []) => [ipPath(), "netns", "exec", name, cmd, ...args],
    run: (cmd, args = [], opts = {}) =>
      execFileSync(ipPath(), ["netns", "exec", name, cmd, ...args], {
        encoding: "utf8",
        input: opts.input,
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        timeout: opts.timeoutMs ?? 30_000,
        killSignal: "SIGKILL",
      }),
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      live.delete(ns);
      for (const args of [["-n", name, "link", "del", tap], ["netns", "del", name]]) {
        try {
          ip(args);
        } catch {
          // already gone
        }
      }
    },
  };
  live.add(ns);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const n of [...live]) n.destroy();
    });
  }
  try {
    ip(["-n", name, "link", "set", "lo", "up"]);
    ip(["-n", name, "tuntap", "add", "dev", tap, "mode", "tap"]);
    ip(["-n", name, "addr", "add", hostCidr, "dev", tap]);
    ip(["-n", name, "link", "set", tap, "up"]);
  } catch (e) {
    ns.destroy();
    throw e;
  }
  return ns;
}

/** The QEMU arguments that put one virtio-net-pci NIC on the namespace's tap. */
export function tapNicArgs(ns: TapNamespace): string[] {
  return [
    "-netdev", `tap,id=n0,ifname=${ns.tap},script=no,downscript=no`,
    "-device", "virtio-net-pci,netdev=n0",
  ];
}

export interface NetnsQemu {
  pid: number; // QEMU's pid (`ip netns exec` execs it in place)
  result: Promise<QemuResult>;
  /** Kills QEMU (SIGKILL to its process group); `result` then resolves. */
  stop(): void;
}

/** Boots `opts` like runQemu, but with QEMU inside namespace `ns`. */
export function spawnQemuInNetns(ns: TapNamespace, opts: QemuOptions): NetnsQemu {
  const command = ns.argv(findQemu(), qemuArgs(opts));
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const kill = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.on("exit", kill);
  let serial = "";
  let stderr = "";
  const out = new StringDecoder("utf8");
  const err = new StringDecoder("utf8");
  const emit = (t: string) => {
    if (t === "") return;
    serial += t;
    opts.onSerial?.(t);
  };
  child.stdout!.on("data", (b: Buffer) => emit(out.write(b)));
  child.stderr!.on("data", (b: Buffer) => (stderr += err.write(b)));
  child.stdin!.on("error", () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const result = new Promise<QemuResult>((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start QEMU (${command.join(" ")}): ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      process.off("exit", kill);
      child.stdin!.destroy();
      emit(out.end());
      stderr += err.end();
      resolve({
        serial,
        status: timedOut ? null : decodeStatus(code, stderr),
        qemuExitCode: code,
        timedOut,
        wallMs: performance.now() - started,
        stderr,
        command,
      });
    });
  });
  return { pid: child.pid ?? -1, result, stop: kill };
}
