/**
 * Root filesystem and process settings: bind mounts, no pivot_root, domainname, sysctl,
 * rlimits, umask, env and cwd, and joining another container's namespaces by path.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  exists,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";
import { busyboxRootfs } from "../support/rootfs.ts";

Deno.test("bind mounts: a read-only directory, a file, and nosuid/noexec flags", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const host = await Deno.makeTempDir({ prefix: "cell-bind-" });
  Deno.writeTextFileSync(`${host}/hello.txt`, "from the host\n");
  Deno.writeTextFileSync(`${host}.file`, "single file\n");
  const script = "cat /data/hello.txt /etc/single; " +
    "touch /data/new 2>/dev/null && echo writable || echo read-only; " +
    "grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    s.mounts!.push(
      {
        destination: "/data",
        type: "bind",
        source: host,
        options: ["rbind", "ro", "nosuid", "noexec"],
      },
      { destination: "/etc/single", type: "bind", source: `${host}.file`, options: ["bind", "ro"] },
    );
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 3), ["from the host", "single file", "read-only"]);
    const flags = lines[3].split(",");
    for (const f of ["ro", "nosuid", "noexec"]) assert.ok(flags.includes(f), `${f} in ${flags}`);
  } finally {
    await c.destroy();
    Deno.removeSync(host, { recursive: true });
    Deno.removeSync(`${host}.file`);
  }
  assertNothingLeft(factory, id);
});

Deno.test("noPivotRoot moves the rootfs over / and chroots", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(
    id,
    await busyboxConfig(["sh", "-c", "ls /bin/busybox; ls / | grep -c work; hostname"]),
    { noPivotRoot: true },
  );
  try {
    const out = await runIn(c);
    assert.equal(out.stdout, "/bin/busybox\n0\ncell\n", out.stderr);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("domainname, sysctl, rlimits, umask, env and cwd reach the process", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const script =
    "cat /proc/sys/kernel/domainname /proc/sys/kernel/shmmni; ulimit -n; ulimit -Hn; umask; " +
    "echo $GREETING; pwd";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    s.domainname = "example.test";
    s.linux!.sysctl = { "kernel.shmmni": "1234" };
    s.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 321, hard: 654 }];
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c, {
      env: ["PATH=/bin", "GREETING=hi there"],
      cwd: "/tmp",
      umask: 0o027,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "example.test\n1234\n321\n654\n0027\nhi there\n/tmp\n");
    // the sysctl is the container's ipc namespace's, not the host's
    assert.notEqual(Deno.readTextFileSync("/proc/sys/kernel/shmmni").trim(), "1234");
  } finally {
    await c.destroy();
  }
});

Deno.test("a container joins another's namespaces by path", async () => {
  const factory = await testFactory();
  const first = uniqueId();
  const a = await factory.create(
    first,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.hostname = "shared-uts";
    }),
  );
  const second = uniqueId();
  try {
    const initA = await a.start({ stdin: "null" });
    const config = await busyboxConfig(["sh", "-c", "hostname; sleep 0.2"], (s) => {
      delete s.hostname;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === "network" || n.type === "uts" || n.type === "ipc"
          ? { type: n.type, path: `/proc/${initA.pid}/ns/${n.type === "network" ? "net" : n.type}` }
          : n
      );
    });
    const b = await factory.create(second, config);
    try {
      const proc = await b.start({ stdin: "null", stdout: "piped" });
      for (const ns of ["net", "uts", "ipc"]) {
        assert.equal(
          Deno.readLinkSync(`/proc/${proc.pid}/ns/${ns}`),
          Deno.readLinkSync(`/proc/${initA.pid}/ns/${ns}`),
          `${ns} is shared`,
        );
      }
      assert.notEqual(
        Deno.readLinkSync(`/proc/${proc.pid}/ns/pid`),
        Deno.readLinkSync(`/proc/${initA.pid}/ns/pid`),
        "pid is not",
      );
      const out = await proc.output();
      assert.equal(new TextDecoder().decode(out.stdout), "shared-uts\n");
    } finally {
      await b.destroy();
    }
  } finally {
    await a.destroy();
  }
  assertNothingLeft(factory, first);
  assertNothingLeft(factory, second);
});

Deno.test("a read-only bind of a nosuid,nodev source works in a user namespace", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  // /dev/shm is mounted nosuid,nodev on the host: a remount must keep those (locked).
  const source = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "cell-bind-" });
  Deno.writeTextFileSync(`${source}/f`, "shm\n");
  const config = await busyboxConfig(["cat", "/data/f"], (s) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    s.mounts = s.mounts!.filter((m) => m.type !== "cgroup" && m.destination !== "/sys");
    s.mounts.push({ destination: "/data", type: "bind", source, options: ["bind", "ro"] });
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.stdout, "shm\n", out.stderr);
  } finally {
    await c.destroy();
    Deno.removeSync(source, { recursive: true });
  }
  assertNothingLeft(factory, id);
});

Deno.test("oomScoreAdj is set before the process runs", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(
    id,
    await busyboxConfig(["cat", "/proc/self/oom_score_adj"], (s) => {
      s.process!.oomScoreAdj = 500;
    }),
  );
  try {
    const out = await runIn(c);
    assert.equal(out.stdout, "500\n", out.stderr);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("a cwd only root may enter works for a non-root process (entered before the uid switch)", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const secret = await Deno.makeTempDir({ prefix: "cell-cwd-" });
  Deno.chmodSync(secret, 0o700); // root's: uid 1000 may not enter it
  const config = await busyboxConfig(
    ["sh", "-c", "pwd; ls . 2>&1 >/dev/null || echo unreadable"],
    (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.cwd = "/secret";
      s.mounts!.push({ destination: "/secret", type: "bind", source: secret, options: ["bind"] });
    },
  );
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    // In it, but its own permissions still apply to what it does there.
    assert.equal(out.stdout.split("\n")[0], "/secret");
    assert.match(out.stdout, /unreadable/);
  } finally {
    await c.destroy();
    Deno.removeSync(secret, { recursive: true });
  }
  assertNothingLeft(factory, id);
});

/** Runs a host command; throws with its stderr when it fails. */
async function host(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test("rro makes a bind and every mount under it read-only; ro only the top; rnosuid too", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  // A volume with a mount inside it, as runc's mounts_recursive test has.
  const volume = await Deno.makeTempDir({ prefix: "cell-rro-" });
  await host("mount", "-t", "tmpfs", "none", volume);
  try {
    Deno.writeTextFileSync(`${volume}/foo`, "foo\n");
    Deno.mkdirSync(`${volume}/sub`);
    await host("mount", "-t", "tmpfs", "none", `${volume}/sub`);
    const probe = (dir: string) =>
      `for f in ${dir}/foo ${dir}/sub/bar; do touch $f 2>/dev/null && echo rw || echo ro; done`;
    const script = [
      probe("/ro"),
      probe("/rro"),
      probe("/rro-ro"),
      "grep ' /rnosuid/sub ' /proc/self/mountinfo | cut -d' ' -f6",
    ]
      .join("; ");
    const config = await busyboxConfig(["sh", "-c", script], (s) => {
      s.mounts!.push(
        { destination: "/ro", type: "bind", source: volume, options: ["rbind", "ro"] },
        { destination: "/rro", type: "bind", source: volume, options: ["rbind", "rro"] },
        { destination: "/rro-ro", type: "bind", source: volume, options: ["rbind", "ro", "rro"] },
        { destination: "/rnosuid", type: "bind", source: volume, options: ["rbind", "rnosuid"] },
      );
    });
    const c = await factory.create(id, config);
    try {
      const out = await runIn(c);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 6), ["ro", "rw", "ro", "ro", "ro", "ro"], out.stdout);
      assert.ok(lines[6].split(",").includes("nosuid"), `nosuid on the inner mount: ${lines[6]}`);
    } finally {
      await c.destroy();
    }
    assertNothingLeft(factory, id);
  } finally {
    await host("umount", "-R", volume);
    Deno.removeSync(volume, { recursive: true });
  }
});

Deno.test("a read-only /dev and a read-only tmpfs are set up first, then made read-only", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const script =
    "echo x > /dev/null && echo null-ok; ls /dev/zero /data/sub >/dev/null && echo made; " +
    "touch /dev/new 2>/dev/null || echo dev-ro; touch /data/new 2>/dev/null || echo data-ro; " +
    "touch /data/sub/new && echo sub-rw";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    const dev = s.mounts!.find((m) => m.destination === "/dev")!;
    dev.options = [...dev.options ?? [], "ro"];
    s.mounts!.push(
      { destination: "/data", type: "tmpfs", source: "tmpfs", options: ["ro", "mode=755"] },
      { destination: "/data/sub", type: "tmpfs", source: "tmpfs" },
    );
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "null-ok\nmade\ndev-ro\ndata-ro\nsub-rw\n");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("noPivotRoot leaves no host procfs reachable: a new procfs cannot be mounted inside", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  // runc's no_pivot test: a new user, mount and pid namespace may mount procfs only while a
  // whole procfs is visible in its mount namespace (the container's own /proc has masks).
  const script = "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted || echo refused'";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    // Mapping root in a new user namespace needs CAP_SETFCAP.
    s.process!.capabilities!.bounding!.push("CAP_SETFCAP");
    s.process!.capabilities!.permitted!.push("CAP_SETFCAP");
  });
  const c = await factory.create(id, config, { noPivotRoot: true });
  try {
    const out = await runIn(c);
    assert.equal(out.stdout, "refused\n", out.stderr);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("tmpcopyup: a tmpfs holding a copy of its target's content, writable, the original untouched", async () => {
  const factory = await testFactory();
  const id = uniqueId("copyup");
  const root = await busyboxRootfs(await Deno.makeTempDir({ prefix: "cell-copyup-" }));
  const data = `${root}/srv/data`;
  Deno.mkdirSync(`${data}/sub/deeper`, { recursive: true });
  Deno.writeTextFileSync(`${data}/a`, "hello\n");
  Deno.chmodSync(`${data}/a`, 0o604);
  Deno.chownSync(`${data}/a`, 1000, 1001);
  Deno.writeTextFileSync(`${data}/sub/deeper/b`, "deep\n");
  Deno.chmodSync(`${data}/sub`, 0o750);
  Deno.symlinkSync("/etc/passwd", `${data}/abs-link`);
  Deno.symlinkSync("../../../../../etc", `${data}/escape-link`);
  new Deno.Command("mkfifo", { args: [`${data}/fifo`] }).outputSync();
  const script = [
    "cat /srv/data/a /srv/data/sub/deeper/b",
    "stat -c '%a %u:%g' /srv/data/a /srv/data/sub",
    "readlink /srv/data/abs-link; readlink /srv/data/escape-link",
    "stat -c %F /srv/data/fifo",
    "echo new > /srv/data/new && cat /srv/data/new",
    "grep ' /srv/data ' /proc/self/mountinfo | cut -d' ' -f9",
  ].join("; ");
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    s.root = { path: root, readonly: true };
    s.mounts!.push({
      destination: "/srv/data",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "tmpcopyup", "size=1m"],
    });
  });
  const c = await factory.create(id, config).catch((e) => {
    Deno.removeSync(root, { recursive: true });
    throw e;
  });
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split("\n"), [
      "hello",
      "deep",
      "604 1000:1001",
      "750 0:0",
      "/etc/passwd",
      "../../../../../etc",
      "fifo",
      "new",
      "tmpfs",
    ]);
    await c.destroy();
    assertNothingLeft(factory, id);
    // The copy went to the tmpfs: the rootfs is as it was.
    assert.equal(Deno.readTextFileSync(`${data}/a`), "hello\n");
    assert.equal(exists(`${data}/new`), false, "a write reached the rootfs");
  } finally {
    await c.destroy();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("tmpcopyup is refused on anything but a tmpfs", async () => {
  const factory = await testFactory();
  await assert.rejects(
    async () =>
      await factory.create(
        uniqueId("copyup-bad"),
        await busyboxConfig(["true"], (s) => {
          s.mounts!.push({
            destination: "/x",
            type: "bind",
            source: "/tmp",
            options: ["bind", "tmpcopyup"],
          });
        }),
      ),
    (e) => e instanceof ContainerError && e.code === "ConfigInvalid" && /tmpcopyup/.test(e.message),
  );
});

Deno.test("a read-only tmpfs is made read-only after the mounts inside it (as runc)", async () => {
  const factory = await testFactory();
  const id = uniqueId("rotmpfs");
  const file = await Deno.makeTempFile({ prefix: "cell-rotmpfs-" });
  Deno.writeTextFileSync(file, "inside\n");
  const script =
    "cat /srv/ro/inner; touch /srv/ro/x 2>/dev/null && echo writable || echo read-only; " +
    "grep ' /srv/ro ' /proc/self/mountinfo | cut -d' ' -f6 | cut -d, -f1";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    s.mounts!.push(
      { destination: "/srv/ro", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid"] },
      { destination: "/srv/ro/inner", type: "bind", source: file, options: ["bind", "ro"] },
    );
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "inside\nread-only\nro\n");
  } finally {
    await c.destroy();
    Deno.removeSync(file);
  }
  assertNothingLeft(factory, id);
});

Deno.test("a read-only tmpfs reached through an image's own absolute symlink is made read-only there", async () => {
  // runc's issue 2683: in the image /conf -> /real/conf; the tmpfs goes on /real/conf/stack.
  const factory = await testFactory();
  const id = uniqueId("rolink");
  const root = await busyboxRootfs(await Deno.makeTempDir({ prefix: "cell-rolink-" }));
  Deno.mkdirSync(`${root}/real/conf`, { recursive: true });
  Deno.symlinkSync("/real/conf", `${root}/conf`);
  const script = "touch /conf/stack/x 2>/dev/null && echo writable || echo read-only; " +
    "grep ' /real/conf/stack ' /proc/self/mountinfo | cut -d' ' -f6 | cut -d, -f1";
  const config = await busyboxConfig(["sh", "-c", script], (s) => {
    s.root!.path = root;
    s.mounts!.push({
      destination: "/conf/stack",
      type: "tmpfs",
      source: "tmpfs",
      options: ["ro", "nodev", "nosuid"],
    });
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "read-only\nro\n");
  } finally {
    await c.destroy();
    Deno.removeSync(root, { recursive: true });
  }
  assertNothingLeft(factory, id);
});
