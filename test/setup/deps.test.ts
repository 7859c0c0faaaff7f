/**
 * Host-tool detection and apt installation, against a fake PATH: fake tools, a fake `apt-get`
 * that records its argv and "installs" packages by creating their commands, and a fake `sudo`.
 * No real package manager runs.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HOST_TOOLS, missingTools, packagesFor, planInstall } from "../../tools/setup/deps.ts";

let bin: string; // the fake PATH (one directory)
let aptLog: string; // one line per fake apt-get / sudo call

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), "setup-bin-"));
  aptLog = join(bin, "apt.log");
});
afterEach(() => rmSync(bin, { recursive: true, force: true }));

function script(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function fakeTools(commands: string[]): void {
  for (const c of commands) script(c, "exit 0");
}

/** apt-get that logs "<argv> FRONTEND=<DEBIAN_FRONTEND>" and, on install, creates each package's commands. */
function fakeAptGet(opts: { installs: boolean; exitCode?: number }): void {
  const cases = packagesFor(HOST_TOOLS)
    .map((pkg) => {
      const cmds = HOST_TOOLS.filter((t) => t.pkg === pkg).map((t) => t.command);
      const create = cmds.map((c) => `printf '#!/bin/sh\\n' > "${bin}/${c}"; /bin/chmod 755 "${bin}/${c}"`);
      return `      ${pkg}) ${create.join("; ")} ;;`;
    })
    .join("\n");
  script(
    "apt-get",
    [
      `echo "apt-get $* FRONTEND=$DEBIAN_FRONTEND" >> "${aptLog}"`,
      opts.exitCode ? `exit ${opts.exitCode}` : "",
      opts.installs && `if [ "$1" = install ]; then for p in "$@"; do case "$p" in\n${cases}\n    esac; done; fi`,
      "exit 0",
    ]
      .filter(Boolean)
      .join("\n"),
  );
}

/** sudo that logs its argv, then runs it through env (so VAR=value arguments work as with sudo). */
function fakeSudo(): void {
  script("sudo", `echo "sudo $*" >> "${aptLog}"\nexec /usr/bin/env "$@"`);
}

function logLines(): string[] {
  return existsSync(aptLog) ? readFileSync(aptLog, "utf8").trim().split("\n") : [];
}

/** A fresh copy of the module, so its "apt-get update already ran" flag starts false. */
async function freshDeps() {
  vi.resetModules();
  return import("../../tools/setup/deps.ts");
}

describe("missingTools", () => {
  it("lists exactly the tools absent from the search path", () => {
    fakeTools(["qemu-system-x86_64", "xorriso", "readelf", "objdump", "nc"]);
    writeFileSync(join(bin, "ping"), "not executable"); // present but not executable: missing
    const missing = missingTools(bin).map((t) => t.command);
    expect(missing).toEqual(["isoinfo", "wast2json", "spectest-interp", "ping", "ip"]);
  });

  it("finds nothing missing when every tool is there", () => {
    fakeTools(HOST_TOOLS.map((t) => t.command));
    expect(missingTools(bin)).toEqual([]);
  });
});

describe("packagesFor", () => {
  it("maps tools to Debian packages without duplicates", () => {
    expect(packagesFor(HOST_TOOLS)).toEqual([
      "qemu-system-x86",
      "xorriso",
      "genisoimage",
      "wabt",
      "binutils",
      "iputils-ping",
      "netcat-openbsd",
      "iproute2",
    ]);
  });
});

describe("planInstall", () => {
  const host = { isRoot: true, hasSudo: false, hasAptGet: true };

  it("as root: apt-get update, then apt-get install -y", () => {
    expect(planInstall(["wabt", "xorriso"], host).commands).toEqual([
      ["apt-get", "update"],
      ["apt-get", "install", "-y", "wabt", "xorriso"],
    ]);
  });

  it("not root: through sudo, carrying DEBIAN_FRONTEND", () => {
    expect(planInstall(["wabt"], { ...host, isRoot: false, hasSudo: true }).commands).toEqual([
      ["sudo", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update"],
      ["sudo", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "wabt"],
    ]);
  });

  it("skips the update when it already ran", () => {
    expect(planInstall(["wabt"], { ...host, updateDone: true }).commands).toEqual([
      ["apt-get", "install", "-y", "wabt"],
    ]);
  });

  it("fails naming the packages when not root and without sudo", () => {
    expect(() => planInstall(["wabt", "iproute2"], { ...host, isRoot: false })).toThrow(
      /sudo is not installed.*apt-get install -y wabt iproute2/,
    );
  });

  it("fails naming the packages without apt-get", () => {
    expect(() => planInstall(["wabt"], { ...host, hasAptGet: false })).toThrow(/no apt-get.*wabt/);
  });
});

describe("ensureHostTools", () => {
  it("does nothing when everything is installed", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.map((t) => t.command));
    fakeAptGet({ installs: true });
    const log: string[] = [];
    await ensureHostTools({ install: true, log: (s) => log.push(s), searchPath: bin, isRoot: true });
    expect(log).toEqual([]);
    expect(logLines()).toEqual([]);
  });

  it("without install: fails naming what is missing and how to install it", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.filter((t) => t.pkg !== "wabt").map((t) => t.command));
    fakeAptGet({ installs: true });
    await expect(
      ensureHostTools({ install: false, log: () => {}, searchPath: bin, isRoot: true }),
    ).rejects.toThrow(/wast2json \(wabt.*apt-get install -y wabt$/);
    expect(logLines()).toEqual([]);
  });

  it("as root: announces the plan, updates once, installs the missing packages", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.filter((t) => !["wabt", "iproute2"].includes(t.pkg)).map((t) => t.command));
    fakeAptGet({ installs: true });
    const log: string[] = [];
    await ensureHostTools({ install: true, log: (s) => log.push(s), searchPath: bin, isRoot: true });
    expect(logLines()).toEqual([
      "apt-get update FRONTEND=noninteractive",
      "apt-get install -y wabt iproute2 FRONTEND=noninteractive",
    ]);
    // the plan is printed before anything runs
    expect(log.slice(0, 4)).toEqual([
      expect.stringMatching(/^missing host tools: wast2json .*spectest-interp .*ip \(iproute2/),
      "installing them now, running:",
      "  apt-get update",
      "  apt-get install -y wabt iproute2",
    ]);
    expect(missingTools(bin)).toEqual([]);

    // a second install in the same process does not update again
    rmSync(join(bin, "ip"));
    await ensureHostTools({ install: true, log: () => {}, searchPath: bin, isRoot: true });
    expect(logLines().slice(2)).toEqual(["apt-get install -y iproute2 FRONTEND=noninteractive"]);
  });

  it("not root: goes through sudo with DEBIAN_FRONTEND on its command line", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.filter((t) => t.pkg !== "qemu-system-x86").map((t) => t.command));
    fakeAptGet({ installs: true });
    fakeSudo();
    await ensureHostTools({ install: true, log: () => {}, searchPath: bin, isRoot: false });
    expect(logLines()).toEqual([
      "sudo DEBIAN_FRONTEND=noninteractive apt-get update",
      "apt-get update FRONTEND=noninteractive",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-system-x86",
      "apt-get install -y qemu-system-x86 FRONTEND=noninteractive",
    ]);
    expect(missingTools(bin)).toEqual([]);
  });

  it("not root and no sudo: fails naming the packages, runs nothing", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.filter((t) => t.pkg !== "netcat-openbsd").map((t) => t.command));
    fakeAptGet({ installs: true });
    await expect(
      ensureHostTools({ install: true, log: () => {}, searchPath: bin, isRoot: false }),
    ).rejects.toThrow(/sudo is not installed.*apt-get install -y netcat-openbsd/);
    expect(logLines()).toEqual([]);
  });

  it("fails when apt-get fails", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeAptGet({ installs: true, exitCode: 100 });
    await expect(
      ensureHostTools({ install: true, log: () => {}, searchPath: bin, isRoot: true }),
    ).rejects.toThrow("`apt-get update` failed with exit code 100");
  });

  it("fails clearly when a tool is still missing after the install", async () => {
    const { ensureHostTools } = await freshDeps();
    fakeTools(HOST_TOOLS.filter((t) => t.command !== "isoinfo").map((t) => t.command));
    fakeAptGet({ installs: false });
    await expect(
      ensureHostTools({ install: true, log: () => {}, searchPath: bin, isRoot: true }),
    ).rejects.toThrow("still missing after apt-get install: isoinfo (genisoimage)");
  });
});
