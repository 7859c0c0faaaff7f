/**
 * The Linux guest of `npm run bench -- udp`: a stock Debian kernel and a busybox initramfs whose
 * /init (init.sh) loads virtio-net and runs a static UDP echo server (udp_echo_server.c) on port 7,
 * at apps/udp-echo's address (10.0.2.15/24).
 *
 * Everything is fetched from the Debian archive with `apt-get download` and built under
 * build/linux-guest/ (git-ignored), once; later calls reuse it:
 *   - linux-image-<version>-cloud-amd64: the version the `linux-image-cloud-amd64` meta-package
 *     points at. The cloud flavour is Debian's kernel for virtual machines (virtio, no bare-metal
 *     drivers); virtio_net and its dependencies are modules there, so they go into the initramfs.
 *   - busybox-static: /bin/busybox (sh, mount, insmod, ip).
 *   - udp_echo_server: `gcc -O2 -static` of udp_echo_server.c (host gcc + libc6-dev).
 * The initramfs is a gzip'd cpio (newc) written by `newcArchive` below: no cpio tool needed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));

/** virtio-net and what it needs, in load order (module dependencies of Linux 6.1). */
export const VIRTIO_NET_MODULES = [
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/drivers/virtio/virtio.ko",
  "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
  "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
  "kernel/drivers/virtio/virtio_pci.ko",
  "kernel/net/core/failover.ko",
  "kernel/drivers/net/net_failover.ko",
  "kernel/drivers/net/virtio_net.ko",
];

/** Kernel command line: console on COM1 (the runner's serial), no reboot on panic. */
export const LINUX_APPEND = "console=ttyS0 panic=-1 quiet";

/** Line the echo server prints once it is bound (the guest is ready). */
export const LINUX_READY = "udp-echo-server: listening on port 7";

export interface LinuxGuest {
  kernel: string; // bzImage path (QEMU -kernel)
  initrd: string; // gzip'd newc cpio (QEMU -initrd)
  kernelPackage: string; // e.g. linux-image-6.1.0-56-cloud-amd64 6.1.192-2
  busyboxPackage: string;
}

export interface CpioEntry {
  name: string; // path inside the archive, without a leading slash
  mode: number; // full st_mode: file type bits | permissions
  data?: Uint8Array; // file contents, or the target of a symlink
  rdev?: [number, number]; // major, minor of a device node
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

/**
 * A cpio archive in the "new ASCII" (newc) format the kernel unpacks into its initramfs
 * (after: Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte
 * header of "070701" and 13 eight-digit hex fields, the NUL-terminated name, padding to 4 bytes,
 * the data, padding to 4 bytes; closed by the entry "TRAILER!!!".
 */
export function newcArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const pad = () => {
    if (offset % 4) push(Buffer.alloc(4 - (offset % 4)));
  };
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const all = [...entries, { name: "TRAILER!!!", mode: 0 } as CpioEntry];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const name = Buffer.from(e.name + "\0");
    const fields = [
      i + 1, // c_ino
      e.mode, // c_mode
      0, // c_uid
      0, // c_gid
      (e.mode & 0o170000) === S_IFDIR ? 2 : 1, // c_nlink
      0, // c_mtime
      data.length, // c_filesize
      0, // c_devmajor
      0, // c_devminor
      e.rdev?.[0] ?? 0, // c_rdevmajor
      e.rdev?.[1] ?? 0, // c_rdevminor
      name.length, // c_namesize (with the NUL)
      0, // c_check
    ];
    push(Buffer.from("070701" + fields.map(hex).join(""), "ascii"));
    push(name);
    pad();
    push(Buffer.from(data));
    pad();
  });
  return Buffer.concat(parts);
}

/** "kernel/drivers/net/virtio_net.ko" -> "virtio_net" */
function moduleName(path: string): string {
  return path.split("/").pop()!.replace(/\.ko$/, "");
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The concrete kernel package behind Debian's `linux-image-cloud-amd64` meta-package. */
function cloudKernelPackage(): string {
  const find = () => /Depends: (linux-image-[^\s]+-cloud-amd64)/.exec(run("apt-cache", ["depends", "linux-image-cloud-amd64"]))?.[1];
  let pkg = find();
  if (pkg === undefined) {
    run("apt-get", ["update"]); // apt's package lists may be missing on a fresh machine
    pkg = find();
  }
  if (pkg === undefined) throw new Error("apt-cache knows no linux-image-cloud-amd64: is this a Debian host?");
  return pkg;
}

function debVersion(deb: string): string {
  return run("dpkg-deb", ["-f", deb, "Package", "Version"]).trim().replace(/\n/g, " ").replace(/Package: |Version: /g, "");
}

/** Downloads, builds and packs the Linux guest under `dir` (reused when already there). */
export function buildLinuxGuest(dir = "build/linux-guest", log: (s: string) => void = () => {}): LinuxGuest {
  const debs = join(dir, "debs");
  mkdirSync(debs, { recursive: true });
  const findDeb = (prefix: string) => readdirSync(debs).find((f) => f.startsWith(prefix) && f.endsWith(".deb"));
  if (findDeb("linux-image-") === undefined) {
    const pkg = cloudKernelPackage();
    log(`apt-get download ${pkg}`);
    run("apt-get", ["download", pkg], debs);
  }
  if (findDeb("busybox-static_") === undefined) {
    log("apt-get download busybox-static");
    run("apt-get", ["download", "busybox-static"], debs);
  }
  const kernelDeb = join(debs, findDeb("linux-image-")!);
  const busyboxDeb = join(debs, findDeb("busybox-static_")!);

  const root = join(dir, "extracted");
  if (!existsSync(join(root, "boot"))) {
    log("dpkg-deb -x (kernel, busybox)");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    run("dpkg-deb", ["-x", kernelDeb, root]);
    run("dpkg-deb", ["-x", busyboxDeb, root]);
  }
  const vmlinuz = readdirSync(join(root, "boot")).find((f) => f.startsWith("vmlinuz-"));
  if (vmlinuz === undefined) throw new Error(`no vmlinuz in ${kernelDeb}`);
  const release = vmlinuz.slice("vmlinuz-".length);
  const modules = join(root, "lib", "modules", release);

  const server = join(dir, "udp_echo_server");
  log("gcc -static udp_echo_server.c");
  run("gcc", ["-O2", "-static", "-o", server, join(HERE, "udp_echo_server.c")]);

  const file = (name: string, data: Uint8Array, perm = 0o644): CpioEntry => ({ name, mode: S_IFREG | perm, data });
  const directory = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  const entries: CpioEntry[] = [
    directory("bin"), directory("dev"), directory("proc"), directory("sys"), directory("modules"),
    // /init needs a console before devtmpfs exists: the kernel opens /dev/console for it
    { name: "dev/console", mode: S_IFCHR | 0o600, rdev: [5, 1] },
    file("bin/busybox", readFileSync(join(root, "bin", "busybox")), 0o755),
    { name: "bin/sh", mode: S_IFLNK | 0o777, data: Buffer.from("busybox") },
    file("init", readFileSync(join(HERE, "init.sh")), 0o755),
    file("udp_echo_server", readFileSync(server), 0o755),
    ...VIRTIO_NET_MODULES.map((m) => file(`modules/${moduleName(m)}.ko`, readFileSync(join(modules, m)))),
    file("modules/order", Buffer.from(VIRTIO_NET_MODULES.map(moduleName).join("\n") + "\n")),
  ];
  const initrd = join(dir, "initramfs.cpio.gz");
  writeFileSync(initrd, gzipSync(newcArchive(entries)));
  return {
    kernel: join(root, "boot", vmlinuz),
    initrd,
    kernelPackage: debVersion(kernelDeb),
    busyboxPackage: debVersion(busyboxDeb),
  };
}
