/**
 * Hostile images and racing mounts: the runtime-escape classes of 2025–2026 (runc's
 * CVE-2025-31133, CVE-2025-52565, CVE-2025-52881, CVE-2026-41579 and crun's /dev symlink
 * advisories). Each test plants what an attacker would (a symlink where the runtime expects a
 * device, a mount over a file of /proc it writes) and fails if the guard that stops it is
 * removed. docs/security.md lists each guard with its test. Runs as root.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Container, ContainerError, type Mount, type Spec } from "../../mod.ts";
import { busyboxRootfs } from "../support/rootfs.ts";
import { busyboxConfig, exists, runIn, withContainer } from "../support/fixture.ts";
import { openConsole } from "../support/console.ts";

/** A private busybox rootfs (the image) in a temp dir, removed by the caller. */
async function image(): Promise<{ dir: string; rootfs: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cell-hostile-" });
  return { dir, rootfs: await busyboxRootfs(join(dir, "rootfs")) };
}

/** The default config on `rootfs`, with the image's own /dev (no tmpfs there, nor below). */
async function imageDevConfig(rootfs: string, args: string[], keep: string[] = []): Promise<Spec> {
  return await busyboxConfig(args, (s) => {
    s.root.path = rootfs;
    s.mounts = s.mounts!.filter((m: Mount) =>
      !m.destination.startsWith("/dev") || keep.includes(m.destination)
    );
  });
}

async function startError(box: Container, args?: string[]): Promise<ContainerError> {
  let error: unknown;
  try {
    const proc = await box.start({ args, stdin: "null", stdout: "null", stderr: "null" });
    await proc.status;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ContainerError, `expected the start to fail, got ${error}`);
  return error;
}

function mountLines(): Set<string> {
  return new Set(Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l));
}

function newMounts(before: Set<string>): string[] {
  return [...mountLines()].filter((l) => !before.has(l));
}

/** `mknod` through busybox on the host (Deno has no mknod). */
async function mknod(path: string, major: number, minor: number): Promise<void> {
  const out = await new Deno.Command("/bin/busybox", {
    args: ["mknod", path, "c", String(major), String(minor)],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

// ---------------------------------------------------------------------------------------
// maskedPaths bind the container's /dev/null (CVE-2025-31133)

const NOT_NULL: [string, (path: string) => Promise<void>][] = [
  ["a symlink to a procfs file", (p) => Deno.symlink("/proc/sys/kernel/core_pattern", p)],
  ["a regular file", (p) => Deno.writeTextFile(p, "")],
  ["another device (zero, 1:5)", (p) => mknod(p, 1, 5)],
];

for (const [what, plant] of NOT_NULL) {
  Deno.test(`maskedPaths: an image whose /dev/null is ${what} is refused, nothing is masked with it`, async () => {
    const { dir, rootfs } = await image();
    const before = mountLines();
    try {
      await plant(join(rootfs, "dev", "null"));
      const config = await imageDevConfig(rootfs, ["true"]);
      await withContainer(config, async (box) => {
        const e = await startError(box);
        assert.ok(e.message.includes("/dev/null"), e.message);
        assert.equal(await box.status(), "created");
      });
      assert.deepEqual(newMounts(before), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// ---------------------------------------------------------------------------------------
// Device nodes over an image's symlinks (crun's /dev symlink advisories)

for (const userns of [false, true]) {
  const how = userns ? "bound from the host (user namespace)" : "made with mknod";
  Deno.test(`devices: a node the config asks for (${how}) replaces the image's symlink there, never following it`, async () => {
    const { dir, rootfs } = await image();
    const hostFile = join(dir, "host-file");
    const before = mountLines();
    try {
      await Deno.writeTextFile(hostFile, "host data\n");
      // Absolute: a host path (the rootfs has no such file); relative: out through "..".
      await Deno.symlink(hostFile, join(rootfs, "dev", "null"));
      await Deno.symlink(`../../..${hostFile}`, join(rootfs, "dev", "zero"));
      const config = await imageDevConfig(rootfs, [
        "sh",
        "-c",
        "stat -c '%F %t:%T' /dev/null /dev/zero /proc/keys",
      ], []);
      config.linux!.devices = [
        { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666 },
        { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666 },
      ];
      if (userns) {
        // The container's root (host uid 100000) owns the image's /dev, as an engine's
        // id-mapped image would have it.
        config.linux!.namespaces!.push({ type: "user" });
        config.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        config.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        await Deno.chown(join(rootfs, "dev"), 100000, 100000);
        await Deno.chmod(dir, 0o755); // a temp dir is 0700: the mapped root could not enter
      }
      await withContainer(config, async (box) => {
        const out = await runIn(box);
        assert.equal(out.code, 0, out.stderr);
        // Real nodes, and the masked /proc/keys is the null device.
        assert.equal(
          out.stdout,
          "character special file 1:3\ncharacter special file 1:5\ncharacter special file 1:3\n",
        );
      });
      assert.equal(await Deno.readTextFile(hostFile), "host data\n");
      // A node, or (bound from the host) the file it was bound on: no link any more.
      const left = Deno.lstatSync(join(rootfs, "dev", "null"));
      assert.ok(userns ? left.isFile : left.isCharDevice);
      assert.deepEqual(newMounts(before), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// ---------------------------------------------------------------------------------------
// An image whose /dev is a symlink to a host directory (CVE-2026-41579)

for (const how of ["absolute", "relative"] as const) {
  for (const inImage of [false, true]) {
    const where = inImage ? "present in the image too" : "absent from the image";
    Deno.test(`devices: /dev as an ${how} link to a host directory (${where}) gets nothing there`, async () => {
      const { dir, rootfs } = await image();
      const hostDir = join(dir, "host-dev");
      const before = mountLines();
      try {
        await Deno.mkdir(hostDir);
        if (inImage) await Deno.mkdir(join(rootfs, hostDir), { recursive: true });
        await Deno.remove(join(rootfs, "dev"));
        await Deno.symlink(
          how === "absolute" ? hostDir : `../../../../..${hostDir}`,
          join(rootfs, "dev"),
        );
        // Nodes, and (where the link resolves in the root) a tmpfs and a devpts under /dev,
        // as an engine's config has them; a dangling link makes the nodes the first step.
        const keep = inImage ? ["/dev/pts", "/dev/shm"] : [];
        const config = await imageDevConfig(rootfs, ["sh", "-c", "ls /dev"], keep);
        config.linux!.devices = [
          { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666 },
          { type: "c", path: "/dev/fuse-ish", major: 1, minor: 5, fileMode: 0o666 },
        ];
        config.linux!.maskedPaths = []; // no /dev/null is needed for this
        await withContainer(config, async (box) => {
          try {
            const out = await runIn(box);
            assert.equal(out.code, 0, out.stderr);
            assert.ok(inImage, "started although the link dangles inside the root");
            assert.equal(out.stdout, "fuse-ish\nnull\npts\nshm\n");
            assert.ok(Deno.lstatSync(join(rootfs, hostDir, "null")).isCharDevice);
          } catch (e) {
            // The link dangles inside the root: refused, never followed out of it.
            if (inImage || !(e instanceof ContainerError)) throw e;
            assert.ok(e.message.includes("/dev"), e.message);
          }
          assert.deepEqual([...Deno.readDirSync(hostDir)], [], "something was made on the host");
        });
        assert.deepEqual([...Deno.readDirSync(hostDir)], [], "something was made on the host");
        assert.deepEqual(newMounts(before), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

// ---------------------------------------------------------------------------------------
// The runtime's writes and mounts through /proc (CVE-2025-52881)

Deno.test("sysctls: a file mounted over /proc/sys/... does not take the write, the kernel does", async () => {
  const { dir, rootfs } = await image();
  const decoy = join(dir, "decoy");
  const value = `hostile-${Deno.pid}`;
  try {
    await Deno.writeTextFile(decoy, "untouched\n");
    const config = await busyboxConfig(["sleep", "30"], (s) => {
      s.root.path = rootfs;
      // What a racing shared mount would put there: a file of the attacker's choosing.
      s.mounts!.push({
        destination: "/proc/sys/kernel/domainname",
        type: "bind",
        source: decoy,
        options: ["bind"],
      });
      s.linux!.sysctl = { "kernel.domainname": value };
    });
    await withContainer(config, async (box) => {
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      assert.equal(await Deno.readTextFile(decoy), "untouched\n", "the sysctl went to the decoy");
      // The container's UTS namespace holds the value.
      const out = await new Deno.Command("nsenter", {
        args: ["-t", String(init.pid), "-u", "cat", "/proc/sys/kernel/domainname"],
      }).output();
      assert.equal(
        out.code,
        0,
        `nsenter (util-linux) failed: ${new TextDecoder().decode(out.stderr)}`,
      );
      assert.equal(new TextDecoder().decode(out.stdout), `${value}\n`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("masks: a directory mounted over /proc/1/fd cannot redirect the runtime's fd mounts", async () => {
  const { dir, rootfs } = await image();
  const fake = join(dir, "fake-fd");
  try {
    // Every fd number a link to a decoy file: mounts named /proc/self/fd/N through the
    // container's /proc would all land on it.
    await Deno.mkdir(fake);
    for (let fd = 0; fd < 128; fd++) await Deno.symlink("/etc/decoy", join(fake, String(fd)));
    await Deno.writeTextFile(join(rootfs, "etc", "decoy"), "decoy\n");
    const config = await busyboxConfig([
      "sh",
      "-c",
      "stat -c %F /proc/keys /proc/acpi; cat /etc/decoy; touch /proc/sysrq-trigger 2>&1 || echo ro",
    ], (s) => {
      s.root.path = rootfs;
      s.mounts!.push({ destination: "/proc/1/fd", type: "bind", source: fake, options: ["bind"] });
    });
    await withContainer(config, async (box) => {
      const out = await runIn(box);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.trim().split("\n");
      assert.equal(lines[0], "character special file", "/proc/keys is not masked");
      assert.equal(lines[1], "directory");
      assert.equal(lines[2], "decoy", "the decoy was masked instead");
      assert.equal(lines.at(-1), "ro", "/proc/sysrq-trigger is writable");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------
// The terminal: /dev/ptmx, /dev/pts and /dev/console in the image (CVE-2025-52565 class)

const PTMX: [string, string][] = [
  ["a magic link to one of the runtime's fds", "/proc/self/fd/0"],
  ["a link to a regular file", "/etc/passwd"],
];

for (const [what, target] of PTMX) {
  Deno.test(`terminal: an image's /dev/ptmx that is ${what} is passed over for the devpts's own`, async () => {
    const { dir, rootfs } = await image();
    try {
      const passwd = await Deno.readTextFile(join(rootfs, "etc", "passwd"));
      await Deno.symlink(target, join(rootfs, "dev", "ptmx"));
      const config = await imageDevConfig(rootfs, ["sh", "-c", "tty; echo done"], ["/dev/pts"]);
      config.root.readonly = false; // a file the runtime could open read-write
      config.process!.terminal = true;
      config.linux!.maskedPaths = [];
      await withContainer(config, async (box) => {
        using console = openConsole();
        const proc = await box.start({ consoleSocket: console.socket });
        const got = console.receive();
        assert.equal(got.text, "/dev/pts/0");
        const text = await console.readUntil("done");
        assert.ok(text.includes("/dev/pts/0"), text);
        assert.deepEqual(await proc.status, { success: true, code: 0, signal: null });
      });
      assert.equal(await Deno.readTextFile(join(rootfs, "etc", "passwd")), passwd);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("terminal: a /dev/console symlink in the image makes cell write or mount nothing", async () => {
  const { dir, rootfs } = await image();
  const hostFile = join(dir, "console-target");
  const before = mountLines();
  try {
    await Deno.writeTextFile(hostFile, "host\n");
    await Deno.writeTextFile(join(rootfs, "etc", "console-target"), "image\n");
    await Deno.symlink(hostFile, join(rootfs, "dev", "console"));
    await Deno.symlink("/etc/console-target", join(rootfs, "dev", "tty0"));
    const config = await imageDevConfig(rootfs, [
      "sh",
      "-c",
      "grep -c console /proc/self/mountinfo; echo done",
    ], ["/dev/pts"]);
    config.process!.terminal = true;
    config.linux!.maskedPaths = [];
    await withContainer(config, async (box) => {
      using console = openConsole();
      const proc = await box.start({ consoleSocket: console.socket });
      console.receive();
      const text = await console.readUntil("done");
      assert.ok(text.startsWith("0"), `a mount names console: ${text}`);
      await proc.status;
    });
    assert.equal(await Deno.readTextFile(hostFile), "host\n");
    assert.equal(await Deno.readTextFile(join(rootfs, "etc", "console-target")), "image\n");
    assert.ok(Deno.lstatSync(join(rootfs, "dev", "console")).isSymlink);
    assert.equal(exists(join(rootfs, hostFile)), false);
    assert.deepEqual(newMounts(before), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
