/**
 * The security baseline: only the fds asked for reach a container process, its cwd is
 * inside its root, it starts with a clean signal state, it cannot see the host's
 * processes, mount targets never resolve through a symlink out of the rootfs, special
 * filesystems are never mounted through a symlink, and the sandbox view of the host is
 * read-only with the hidden paths masked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Container,
  ContainerError,
  type CreateOptions,
  type Factory,
  sandboxConfig,
  type Spec,
} from "../../mod.ts";
import { close, O, open, pipe } from "../../src/syscalls.ts";
import { busyboxRootfs } from "../support/rootfs.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  exists,
  rootfs,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

/** Lists the fds of the shell itself (`ls` runs in a child, so its own fd is not seen). */
const LIST_SHELL_FDS = "ls /proc/$$/fd; exit 0";

/** Creates a container from `config`, runs `fn`, then destroys it and checks the host. */
async function withContainer(
  config: Spec,
  fn: (box: Container, factory: Factory, id: string) => unknown,
  options: CreateOptions = {},
): Promise<void> {
  const factory = await testFactory();
  const id = uniqueId("sec");
  const box = await factory.create(id, config, options);
  try {
    await fn(box, factory, id);
  } finally {
    await box.destroy();
    assertNothingLeft(factory, id);
    await Deno.remove(factory.root, { recursive: true }).catch(() => {});
  }
}

/** Starts a long-running init so that later starts are execs. */
async function startSleeper(box: Container): Promise<void> {
  await box.start({ args: ["sleep", "30"], stdin: "null", stdout: "null", stderr: "null" });
  assert.equal(await box.status(), "running");
}

function mountLines(): Set<string> {
  return new Set(Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l));
}

/** Mount lines of this process now that were not there in `before`. */
function newMounts(before: Set<string>): string[] {
  return [...mountLines()].filter((l) => !before.has(l));
}

/** The ContainerError a start rejects with. */
async function startError(box: Container, options: Parameters<Container["start"]>[0]) {
  let error: unknown;
  try {
    const proc = await box.start({ stdin: "null", stdout: "null", stderr: "null", ...options });
    await proc.status;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ContainerError, `expected the start to fail, got ${error}`);
  return error;
}

/**
 * Extra fds in this process for the leak tests: Deno files (close-on-exec), a raw
 * close-on-exec pipe, and an fd made by libc dup() which is NOT close-on-exec, so only
 * the runtime's explicit closing keeps it out of the container.
 */
function openExtraFds(): { fds: number[]; close(): void } {
  const files = [
    Deno.openSync("/etc/hostname"),
    Deno.openSync(Deno.execPath()),
    Deno.openSync("/proc/self/status"),
  ];
  const [r, w] = pipe();
  const libc = Deno.dlopen("libc.so.6", { dup: { parameters: ["i32"], result: "i32" } });
  const dirfd = open("/etc", O.PATH);
  const inheritable = libc.symbols.dup(dirfd);
  assert.ok(inheritable > 2, "dup failed");
  const O_CLOEXEC = 0o2000000;
  const flags = /^flags:\s+([0-7]+)$/m.exec(
    Deno.readTextFileSync(`/proc/self/fdinfo/${inheritable}`),
  );
  assert.ok(flags && (parseInt(flags[1], 8) & O_CLOEXEC) === 0, "the dup'd fd is close-on-exec");
  return {
    fds: [r, w, dirfd, inheritable],
    close() {
      files.forEach((f) => f.close());
      [r, w, dirfd, inheritable].forEach(close);
      libc.close();
    },
  };
}

// ---------------------------------------------------------------------------------------
// fds

Deno.test("the init gets only stdio: none of this process's fds leak in", async () => {
  const extra = openExtraFds();
  try {
    assert.ok(extra.fds.every((fd) => exists(`/proc/self/fd/${fd}`)));
    await withContainer(await busyboxConfig(["sh", "-c", LIST_SHELL_FDS]), async (box) => {
      const out = await runIn(box);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "0\n1\n2\n");
    });
  } finally {
    extra.close();
  }
});

Deno.test("an exec'd process gets only stdio: none of this process's fds leak in", async () => {
  const extra = openExtraFds();
  try {
    await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
      await startSleeper(box);
      const out = await runIn(box, { args: ["sh", "-c", LIST_SHELL_FDS] });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "0\n1\n2\n");
      // And nothing leaked into the init either, seen from the second process.
      const init = await runIn(box, { args: ["ls", "/proc/1/fd"] });
      assert.equal(init.stdout, "0\n1\n2\n");
    });
  } finally {
    extra.close();
  }
});

Deno.test("with every stdio inherited, still only 0, 1 and 2", async () => {
  const extra = openExtraFds();
  try {
    await withContainer(await busyboxConfig(["sh", "-c", LIST_SHELL_FDS]), async (box) => {
      // stdout piped to read the listing; stdin and stderr inherited from this process.
      const proc = await box.start({ stdout: "piped" });
      const out = await proc.output();
      assert.equal(new TextDecoder().decode(out.stdout), "0\n1\n2\n");
    });
  } finally {
    extra.close();
  }
});

Deno.test("extraFds become fds 3, 4, ... in order, and nothing else comes along", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cell-extrafds-" });
  const extra = openExtraFds();
  const a = join(dir, "a"), b = join(dir, "b");
  Deno.writeTextFileSync(a, "content of a\n");
  Deno.writeTextFileSync(b, "content of b\n");
  // Fresh fds for each container: a read moves the shared file offset.
  const fds: number[] = [];
  const openBoth = () => {
    fds.push(open(a, O.RDONLY), open(b, O.RDONLY));
    return fds.slice(-2);
  };
  try {
    const script = `${LIST_SHELL_FDS.replace("; exit 0", "")}; cat <&3; cat <&4; exit 0`;
    await withContainer(await busyboxConfig(["sh", "-c", script]), async (box) => {
      // Passed in the order b, a: b must be fd 3.
      const [fa, fb] = openBoth();
      const init = await runIn(box, { extraFds: [fb, fa] });
      assert.equal(init.code, 0, init.stderr);
      assert.equal(init.stdout, "0\n1\n2\n3\n4\ncontent of b\ncontent of a\n");
    });
    await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
      await startSleeper(box);
      const [fa, fb] = openBoth();
      const exec = await runIn(box, { args: ["sh", "-c", script], extraFds: [fa, fb] });
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(exec.stdout, "0\n1\n2\n3\n4\ncontent of a\ncontent of b\n");
    });
  } finally {
    fds.forEach(close);
    extra.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------
// cwd

for (const noPivotRoot of [false, true]) {
  const how = noPivotRoot ? " (noPivotRoot: MS_MOVE + chroot)" : "";
  Deno.test(`a cwd through /proc/self/fd/<n> to a host directory is refused${how}`, async () => {
    const hostDir = await Deno.makeTempDir({ prefix: "cell-hostcwd-" });
    const dirfd = open(hostDir, O.PATH);
    const marker = join(hostDir, "escaped");
    const touch = ["sh", "-c", "touch escaped"];
    try {
      await withContainer(await busyboxConfig(["true"]), async (box) => {
        // The fd is not passed: it does not exist in the container.
        let e = await startError(box, { args: touch, cwd: `/proc/self/fd/${dirfd}` });
        assert.equal(e.code, "SystemError");
        assert.ok(e.message.includes(`/proc/self/fd/${dirfd}`), e.message);
        // The fd is passed as fd 3: chdir through the magic link works, and must be caught.
        e = await startError(box, { args: touch, cwd: "/proc/self/fd/3", extraFds: [dirfd] });
        assert.equal(e.code, "SystemError");
        assert.ok(e.message.includes(`cwd "/proc/self/fd/3"`), e.message);
        assert.equal(await box.status(), "created");
        assert.equal(exists(marker), false, "a process ran in the host directory");

        // The same for an exec into a running container.
        await startSleeper(box);
        e = await startError(box, { args: touch, cwd: "/proc/self/fd/3", extraFds: [dirfd] });
        assert.equal(e.code, "SystemError");
        assert.ok(e.message.includes("/proc/self/fd/3"), e.message);
        e = await startError(box, { args: touch, cwd: `/proc/1/cwd/../../../..${hostDir}` });
        assert.equal(e.code, "SystemError");
        assert.equal(exists(marker), false, "an exec'd process ran in the host directory");
        assert.equal((await box.processes()).length, 1);
      }, { noPivotRoot });
    } finally {
      close(dirfd);
      await Deno.remove(hostDir, { recursive: true });
    }
  });
}

// ---------------------------------------------------------------------------------------
// Signals and process identity

const SIGNAL_LINES = "grep -E 'Sig(Blk|Ign|Cgt)' /proc/self/status";

function assertCleanSignals(status: string): void {
  const fields = Object.fromEntries(
    status.trim().split("\n").map((l) => l.split(":").map((s) => s.trim())),
  );
  assert.deepEqual(Object.keys(fields).sort(), ["SigBlk", "SigCgt", "SigIgn"], status);
  for (const name of ["SigBlk", "SigIgn", "SigCgt"]) {
    assert.match(fields[name], /^0{16}$/, `${name} is ${fields[name]}`);
  }
}

Deno.test("container processes start with no signal blocked, ignored or caught", async () => {
  // This process ignores SIGPIPE (Deno does) and catches a few; none of it may carry over.
  const onSignal = () => {};
  Deno.addSignalListener("SIGUSR2", onSignal);
  try {
    await withContainer(await busyboxConfig(["true"]), async (box) => {
      const init = await runIn(box, { args: ["sh", "-c", `exec ${SIGNAL_LINES}`] });
      assert.equal(init.code, 0, init.stderr);
      assertCleanSignals(init.stdout);
    });
    await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
      await startSleeper(box);
      const exec = await runIn(box, { args: ["sh", "-c", `exec ${SIGNAL_LINES}`] });
      assert.equal(exec.code, 0, exec.stderr);
      assertCleanSignals(exec.stdout);
      // The init (sleep) too.
      const init = await runIn(box, { args: ["grep", "-E", "Sig(Blk|Ign|Cgt)", "/proc/1/status"] });
      assertCleanSignals(init.stdout);
    });
  } finally {
    Deno.removeSignalListener("SIGUSR2", onSignal);
  }
});

Deno.test("pid 1 runs the container's busybox and the host's processes are out of sight", async () => {
  const hostPid = Deno.pid;
  const script = `readlink /proc/1/exe; cat /proc/${hostPid}/environ; echo "cat:$?"; ` +
    `ls /proc/${hostPid}/exe 2>/dev/null; echo "ls:$?"; ls -d /proc/[0-9]*`;
  await withContainer(await busyboxConfig(["sh", "-c", script]), async (box) => {
    const out = await runIn(box);
    const lines = out.stdout.trim().split("\n");
    assert.equal(lines[0], "/bin/busybox");
    assert.ok(lines.includes("cat:1"), out.stdout);
    assert.ok(lines.includes("ls:1"), out.stdout);
    assert.ok(!out.stdout.includes("PATH="), "the host process's environment was read");
    const pids = lines.filter((l) => l.startsWith("/proc/")).map((l) => Number(l.slice(6)));
    assert.ok(pids.length > 0 && pids.every((p) => p < 10), `pids seen: ${pids}`);
  });
});

Deno.test({
  name: "regression: starting a container leaves this process dumpable",
  async fn() {
    // The child runs on this process's memory (CLONE_VM), and PR_SET_DUMPABLE is a flag
    // of the memory (mm), not of the task: the child's prctl(PR_SET_DUMPABLE, 0) used to
    // make the calling Deno process non-dumpable for good (no core dumps, /proc/<pid>
    // owned by root, ptrace by the same user refused). Now the process is non-dumpable
    // only while a child has not exec'd.
    const PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4;
    const libc = Deno.dlopen("libc.so.6", {
      prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
    });
    const prctl = (op: number, arg = 0n) => libc.symbols.prctl(op, arg, 0n, 0n, 0n);
    try {
      assert.equal(prctl(PR_SET_DUMPABLE, 1n), 0);
      assert.equal(prctl(PR_GET_DUMPABLE), 1);
      await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
        await startSleeper(box);
        assert.equal(prctl(PR_GET_DUMPABLE), 1, "the init's start made this process non-dumpable");
        await runIn(box, { args: ["true"] });
        assert.equal(prctl(PR_GET_DUMPABLE), 1, "an exec made this process non-dumpable");
      });
    } finally {
      libc.close();
    }
  },
});

// ---------------------------------------------------------------------------------------
// Mount targets and symlinks in the rootfs

/** A private busybox rootfs in a temp dir (for tests that plant symlinks in it). */
async function privateRootfs(): Promise<{ dir: string; rootfs: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cell-evil-" });
  return { dir, rootfs: await busyboxRootfs(join(dir, "rootfs")) };
}

Deno.test("mount targets through symlinks out of the rootfs land inside the rootfs", async () => {
  const { dir, rootfs } = await privateRootfs();
  const id = uniqueId("esc");
  const one = `/tmp/cell-escape-${id}`, two = `/tmp/cell-escape2-${id}`;
  const three = `/tmp/cell-escape3-${id}`;
  const before = mountLines();
  try {
    await Deno.symlink("/", join(rootfs, "evil"));
    await Deno.symlink("../../../../..", join(rootfs, "evil2"));
    // A chain: a relative link to the relative link.
    await Deno.symlink("../evil2", join(rootfs, "tmp", "hop"));
    const script = `stat -f -c %T ${one} ${two} ${three}; ls -d /tmp/cell-escape*`;
    const config = await busyboxConfig(["sh", "-c", script], (s) => {
      s.root.path = rootfs;
      s.mounts!.push(
        { destination: `/evil${one}`, type: "tmpfs", source: "tmpfs", options: [] },
        { destination: `/evil2${two}`, type: "tmpfs", source: "tmpfs", options: [] },
        { destination: `/tmp/hop${three}`, type: "tmpfs", source: "tmpfs", options: [] },
      );
    });
    await withContainer(config, async (box) => {
      const proc = await box.start({ stdin: "null", stdout: "piped", stderr: "piped" });
      // While it runs: nothing on the host.
      for (const p of [one, two, three]) assert.equal(exists(p), false, `${p} made on the host`);
      const out = await proc.output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      // Each mount is a tmpfs inside the container's /tmp, i.e. the rootfs's tmp.
      assert.equal(text, `tmpfs\ntmpfs\ntmpfs\n${one}\n${two}\n${three}\n`);
    });
    for (const p of [one, two, three]) {
      assert.equal(exists(p), false, `${p} was made on the host`);
      assert.ok(Deno.statSync(join(rootfs, p)).isDirectory, `${p} is not in the rootfs`);
    }
    assert.deepEqual(newMounts(before), [], "something new is mounted on the host");
  } finally {
    for (const p of [one, two, three]) await Deno.remove(p).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bind mount target through a symlink out of the rootfs lands inside it", async () => {
  const { dir, rootfs } = await privateRootfs();
  const id = uniqueId("escb");
  const target = `/tmp/cell-escape-bind-${id}`;
  const source = join(dir, "source");
  const before = mountLines();
  try {
    await Deno.mkdir(source);
    Deno.writeTextFileSync(join(source, "hello"), "from the bind source\n");
    await Deno.symlink("/", join(rootfs, "evil"));
    const config = await busyboxConfig(["cat", `${target}/hello`], (s) => {
      s.root.path = rootfs;
      s.mounts!.push({ destination: `/evil${target}`, type: "bind", source, options: ["bind"] });
    });
    await withContainer(config, async (box) => {
      const out = await runIn(box);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, "from the bind source\n");
    });
    assert.equal(exists(target), false, `${target} was made on the host`);
    assert.ok(Deno.statSync(join(rootfs, target)).isDirectory);
    assert.deepEqual(newMounts(before), []);
  } finally {
    await Deno.remove(target).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a mount target through an absolute link to an existing host directory stays out of it", async () => {
  const { dir, rootfs } = await privateRootfs();
  const id = uniqueId("esch");
  // dir exists on the host, not in the rootfs: the mount must not land in the host's dir.
  const hostTarget = join(dir, `cell-escape-${id}`);
  const before = mountLines();
  try {
    await Deno.symlink(dir, join(rootfs, "evil"));
    const config = await busyboxConfig(
      ["stat", "-f", "-c", "%T", `/evil/cell-escape-${id}`],
      (s) => {
        s.root.path = rootfs;
        s.mounts!.push({
          destination: `/evil/cell-escape-${id}`,
          type: "tmpfs",
          source: "tmpfs",
          options: [],
        });
      },
    );
    await withContainer(config, async (box) => {
      // Either refused (the link dangles inside the root) or made inside the rootfs.
      try {
        const out = await runIn(box);
        assert.equal(out.stdout, "tmpfs\n", out.stderr);
        assert.ok(Deno.statSync(join(rootfs, hostTarget)).isDirectory);
      } catch (e) {
        assert.ok(e instanceof ContainerError, `${e}`);
        assert.equal(e.code, "SystemError");
        assert.ok(e.message.includes(`/evil/cell-escape-${id}`), e.message);
      }
      assert.equal(exists(hostTarget), false, `${hostTarget} was made on the host`);
    });
    assert.equal(exists(hostTarget), false, `${hostTarget} was made on the host`);
    assert.deepEqual(newMounts(before), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const special of ["proc", "sys", "dev"]) {
  Deno.test(`a rootfs whose /${special} is a symlink is refused (ELOOP)`, async () => {
    const { dir, rootfs } = await privateRootfs();
    const before = mountLines();
    try {
      await Deno.remove(join(rootfs, special));
      await Deno.symlink("/tmp", join(rootfs, special));
      const config = await busyboxConfig(["true"], (s) => s.root.path = rootfs);
      await withContainer(config, async (box) => {
        const e = await startError(box, { args: ["true"] });
        assert.equal(e.code, "SystemError");
        assert.ok(e.message.includes(`/${special}`), e.message);
        assert.ok(e.message.includes("ELOOP"), e.message);
        assert.equal(e.errnoName, "ELOOP");
        assert.equal(await box.status(), "created");
      });
      assert.deepEqual([...Deno.readDirSync(join(rootfs, "tmp"))], []);
      assert.deepEqual(newMounts(before), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// ---------------------------------------------------------------------------------------
// The sandbox view of the host

Deno.test("sandbox: hidden paths are the null device, /etc is read-only, /tmp is private", async () => {
  const id = uniqueId("sbx");
  const deno = Deno.execPath();
  const etcProbe = `/etc/cell-probe-${id}`;
  const tmpProbe = `/tmp/cell-sbx-${id}`;
  const hostPid = Deno.pid;
  const script = [
    `stat -c %t:%T ${deno}`,
    `wc -c < ${deno}`,
    `if touch ${etcProbe} 2>/dev/null; then echo etc:writable; else echo etc:read-only; fi`,
    `if echo x > /cell-probe-${id} 2>/dev/null; then echo root:writable; else echo root:read-only; fi`,
    `echo inside > ${tmpProbe} && cat ${tmpProbe}`,
    `if [ -e /proc/${hostPid} ]; then echo host-pid:visible; else echo host-pid:hidden; fi`,
  ].join("; ");
  const config = sandboxConfig({ args: ["sh", "-c", script], hide: [deno] });
  try {
    await withContainer(config, async (box) => {
      const out = await runIn(box);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(out.stdout.trim().split("\n"), [
        "1:3",
        "0",
        "etc:read-only",
        "root:read-only",
        "inside",
        "host-pid:hidden",
      ]);
      // Meanwhile, on the host: the binary is untouched and nothing was written.
      assert.ok(Deno.statSync(deno).isFile);
      assert.ok(Deno.statSync(deno).size > 0);
    });
    assert.equal(exists(etcProbe), false, "the sandbox wrote to the host's /etc");
    assert.equal(exists(`/cell-probe-${id}`), false, "the sandbox wrote to the host's /");
    assert.equal(exists(tmpProbe), false, "the sandbox's /tmp is the host's /tmp");
  } finally {
    for (const p of [etcProbe, tmpProbe, `/cell-probe-${id}`]) {
      await Deno.remove(p).catch(() => {});
    }
  }
});

Deno.test("sandbox: a hidden path reached through a symlink is refused, not left visible", async () => {
  // Not under /tmp: the sandbox has its own /tmp, which would hide the file anyway.
  const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "cell-hide-" });
  const secret = join(dir, "secret");
  const link = join(dir, "link");
  try {
    Deno.writeTextFileSync(secret, "top secret\n");
    await Deno.mkdir(join(dir, "real"));
    await Deno.symlink(dir, link);
    const config = sandboxConfig({ args: ["cat", `${link}/secret`], hide: [`${link}/secret`] });
    await withContainer(config, async (box) => {
      let e: unknown;
      let out = "";
      try {
        out = (await runIn(box)).stdout;
      } catch (err) {
        e = err;
      }
      assert.ok(!out.includes("top secret"), "the hidden file was readable");
      assert.ok(e instanceof ContainerError, `expected a refusal, got output ${out}`);
      assert.equal(e.code, "SystemError");
      assert.ok(e.message.includes(`${link}/secret`), e.message);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec as uid 1 runs as uid 1, never as root", async () => {
  await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
    await startSleeper(box);
    const out = await runIn(box, { args: ["id"], user: { uid: 1, gid: 1 } });
    assert.equal(out.stdout.trim().split(" ").slice(0, 2).join(" "), "uid=1 gid=1");
  });
});

Deno.test("the host's deno binary cannot be opened for writing from a container (CVE-2019-5736 class)", async () => {
  const deno = Deno.execPath();
  const before = await crypto.subtle.digest("SHA-256", Deno.readFileSync(deno));
  // While execs into the container come and go (each is a copy of this process until
  // its exec), a container process keeps looking at every /proc/<pid>/exe it can see:
  // it must never resolve one to the runtime (the process is non-dumpable until exec),
  // nor open one for writing.
  const attack = "end=$(( $(date +%s) + 2 )); seen=0; n=0; while [ $(date +%s) -lt $end ]; do " +
    "for e in /proc/[0-9]*/exe; do " +
    'case "$(readlink $e 2>/dev/null)" in *deno*|*libcell*) seen=$((seen+1));; esac; ' +
    "(exec 3>>$e) 2>/dev/null && n=$((n+1)); done; done; echo seen=$seen opened=$n";
  await withContainer(await busyboxConfig(["sleep", "30"]), async (box) => {
    await startSleeper(box);
    const attacker = await box.start({
      args: ["sh", "-c", attack],
      stdin: "null",
      stdout: "piped",
    });
    for (let i = 0; i < 20; i++) await runIn(box, { args: ["true"] });
    const out = await attacker.output();
    assert.equal(new TextDecoder().decode(out.stdout), "seen=0 opened=0\n");
  });
  const after = await crypto.subtle.digest("SHA-256", Deno.readFileSync(deno));
  assert.deepEqual(new Uint8Array(after), new Uint8Array(before), "the deno binary is unchanged");
});

Deno.test("a created init's exe (a copy of deno until start) cannot be read or written from the container (CVE-2019-5736 class)", async () => {
  const deno = Deno.execPath();
  const before = await crypto.subtle.digest("SHA-256", Deno.readFileSync(deno));
  await withContainer(await busyboxConfig(["sh", "-c", "echo started"]), async (box) => {
    const init = await box.createInit({ stdin: "null", stdout: "piped", stderr: "null" });
    assert.equal(await box.status(), "created");
    // pid 1 is the init, blocked before its exec: its exe is the host's deno binary.
    assert.equal(Deno.readLinkSync(`/proc/${init.pid}/exe`), Deno.realPathSync(deno));
    const probe = await runIn(box, {
      args: [
        "sh",
        "-c",
        "readlink /proc/1/exe && echo readable; (exec 3>>/proc/1/exe) && echo writable; " +
        "(exec 3</proc/1/exe) && echo openable; cat /proc/1/environ >/dev/null && echo environ; " +
        "echo done",
      ],
    });
    assert.equal(probe.stdout, "done\n", probe.stderr);
    assert.match(probe.stderr, /Permission denied/);
    await box.startInit();
    assert.equal(new TextDecoder().decode((await init.output()).stdout), "started\n");
  });
  const after = await crypto.subtle.digest("SHA-256", Deno.readFileSync(deno));
  assert.deepEqual(new Uint8Array(after), new Uint8Array(before), "the deno binary is unchanged");
});

Deno.test("a directory swapped for a symlink to / during create mounts nothing on the host (race)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cell-race-" });
  const rootfs = await busyboxRootfs(join(dir, "rootfs"));
  const marker = `cell-race-${Deno.pid}`;
  const hostMounts = () => Deno.readTextFileSync("/proc/self/mountinfo").split("\n").length;
  const before = hostMounts();
  // A flipper swaps rootfs/mnt between a directory and a symlink to / as fast as it can.
  const flip = `cd ${rootfs} && end=$(( $(date +%s) + 3 )); ` +
    "while [ $(date +%s) -lt $end ]; do rm -rf mnt; mkdir mnt; rm -rf mnt; ln -s / mnt; done";
  const flipper = new Deno.Command("sh", { args: ["-c", flip] }).spawn();
  const factory = await testFactory();
  try {
    for (let i = 0; i < 25; i++) {
      const id = uniqueId("race");
      const config = await busyboxConfig(["true"], (s) => {
        s.root.path = rootfs;
        s.mounts!.push({
          destination: `/mnt/tmp/${marker}`,
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid"],
        });
      });
      const c = await factory.create(id, config);
      try {
        await runIn(c).catch(() => {}); // a lost race may fail the start: that is fine
      } finally {
        await c.destroy();
      }
    }
  } finally {
    await flipper.status;
    Deno.removeSync(dir, { recursive: true });
  }
  assert.equal(exists(`/tmp/${marker}`), false, "nothing was made in the host's /tmp");
  assert.equal(hostMounts(), before, "no mount appeared on the host");
});

Deno.test("a capability the runtime lacks is named when the process cannot get it", async () => {
  // The runtime runs without CAP_SYS_MODULE in its bounding (and so permitted) set.
  const script = `
    import { createFactory, defaultConfig } from "${new URL("../../mod.ts", import.meta.url).href}";
    const config = defaultConfig({ rootfs: Deno.args[0], args: ["true"] });
    for (const set of ["bounding", "effective", "permitted"]) {
      config.process.capabilities[set].push("CAP_SYS_MODULE");
    }
    const root = await Deno.makeTempDir({ prefix: "cell-caps-" });
    const box = await createFactory({ root }).create("caps-" + Deno.pid, config);
    try {
      await box.start({ stdin: "null" });
      console.log("started");
    } catch (e) {
      console.log(e.message);
    } finally {
      await box.destroy();
      await Deno.remove(root, { recursive: true });
    }`;
  const out = await new Deno.Command("setpriv", {
    args: ["--bounding-set", "-sys_module", "--", Deno.execPath(), "eval", script, await rootfs()],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  assert.equal(
    text.decode(out.stdout).trim(),
    "cannot set the process's capabilities: capset: EPERM: this runtime does not have " +
      "CAP_SYS_MODULE (effective, permitted) itself, so it cannot give it (process.capabilities)",
  );
});
