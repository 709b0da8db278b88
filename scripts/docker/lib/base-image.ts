// A local stand-in for the official Bun image, for machines that cannot pull from a container registry:
// a minimal Debian bookworm root filesystem (mmdebstrap, from the apt mirror this machine already uses),
// the Bun binary that the npm package installed, and the host's CA bundle, imported as a Docker image.
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackages } from "./engine";
import { must, run, seconds } from "./exec";

export const BASE_REPOSITORY = "transportation-api/bun-base";
const SUITE = "bookworm";

function isElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    return magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** The real Bun executable from node_modules (the npm package's postinstall puts it at bin/bun.exe). */
export async function bunBinary(root = process.cwd()): Promise<{ path: string; version: string }> {
  const candidates = [
    join(root, "node_modules/@oven/bun-linux-x64/bin/bun"),
    join(root, "node_modules/@oven/bun-linux-x64-baseline/bin/bun"),
    join(root, "node_modules/bun/bin/bun.exe"),
  ];
  const path = candidates.find((p) => existsSync(p) && statSync(p).size > 1_000_000 && isElf(p));
  if (!path) throw new Error(`no Bun executable in node_modules (looked at ${candidates.join(", ")}); run npm ci`);
  const version = (await must(path, ["--version"])).trim();
  return { path, version };
}

/** The Debian mirror apt uses on this machine (deb822 .sources or one-line sources.list), else the default. */
export function debianMirror(): string {
  if (process.env.DEBIAN_MIRROR) return process.env.DEBIAN_MIRROR;
  const files: string[] = [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  if (existsSync("/etc/apt/sources.list.d"))
    for (const f of readdirSync("/etc/apt/sources.list.d"))
      if (f.endsWith(".sources") || f.endsWith(".list")) files.push(join("/etc/apt/sources.list.d", f));
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
        const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
        if (uri && suites.includes(SUITE) && /^Types:.*\bdeb\b/m.test(stanza)) return uri;
      }
    } else {
      const line = text.split("\n").find((l) => new RegExp(`^deb\\s+(\\[[^\\]]*\\]\\s+)?\\S+\\s+${SUITE}\\s`).test(l));
      const uri = line?.replace(/^deb\s+(\[[^\]]*\]\s+)?/, "").split(/\s+/)[0];
      if (uri) return uri;
    }
  }
  return "http://deb.debian.org/debian";
}

export async function imageExists(ref: string): Promise<boolean> {
  return (await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref])).code === 0;
}

export interface BaseImage {
  tag: string;
  bunVersion: string;
  /** False when the tag already existed and nothing was built. */
  built: boolean;
}

export async function buildBaseImage(options: { force?: boolean } = {}): Promise<BaseImage> {
  const bun = await bunBinary();
  const tag = `${BASE_REPOSITORY}:${bun.version}-${SUITE}`;
  if (!options.force && (await imageExists(tag))) {
    console.log(`base image ${tag}: present, reused`);
    return { tag, bunVersion: bun.version, built: false };
  }
  if (process.getuid?.() !== 0) throw new Error("building the base image runs mmdebstrap in root mode: run it as root");
  await ensureDebianPackages({ mmdebstrap: "mmdebstrap" });

  const work = mkdtempSync(join(tmpdir(), "tapi-base-"));
  const rootfs = join(work, "rootfs.tar");
  const caBundle = "/etc/ssl/certs/ca-certificates.crt";
  const mirror = debianMirror();
  try {
    let start = performance.now();
    const hooks = [
      `install -D -m 0755 '${bun.path}' "$1/usr/local/bin/bun"`,
      `ln -sf bun "$1/usr/local/bin/bunx"`,
      existsSync(caBundle) ? `install -D -m 0644 '${caBundle}' "$1/etc/ssl/certs/ca-certificates.crt"` : "true",
      // Nothing in the image needs package caches or logs from the build.
      `rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/cache/debconf/*-old`,
    ];
    await must(
      "mmdebstrap",
      [
        "--quiet",
        "--mode=root",
        // Essential packages only (libc, a shell, coreutils): Bun needs nothing else.
        "--variant=essential",
        // Merged /usr without the usrmerge package, which would pull Perl into the image.
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/info/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        ...hooks.map((h) => `--customize-hook=${h}`),
        SUITE,
        rootfs,
        mirror,
      ],
      { echo: true },
    );
    console.log(`base rootfs: mmdebstrap ${SUITE} from ${mirror} (${seconds(start)})`);
    start = performance.now();
    await must("docker", [
      "import",
      "--change",
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "--change",
      'CMD ["bun"]',
      // Bun ships its own root certificates; the host's bundle (which may hold a TLS-inspecting proxy's
      // CA, as on machines that reach the npm registry only through one) is trusted in addition.
      "--change",
      "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
      "--change",
      `LABEL org.opencontainers.image.title=bun-base org.opencontainers.image.version=${bun.version} org.opencontainers.image.base.name=debian:${SUITE}`,
      rootfs,
      tag,
    ]);
    const check = (await must("docker", ["run", "--rm", "--network", "none", tag, "bun", "--version"])).trim();
    if (check !== bun.version) throw new Error(`base image ${tag} runs bun ${check}, expected ${bun.version}`);
    console.log(`base image ${tag}: imported and checked (${seconds(start)})`);
    return { tag, bunVersion: bun.version, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
