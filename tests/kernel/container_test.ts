/**
 * The container lifecycle on the real kernel: namespaces, mounts, users, exit codes
 * and signals, stdio, exec, load from another process, destroy, and leaks.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ContainerError } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  cgroupDirsOf,
  exists,
  openFds,
  rootfs,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";
import { watchedCount } from "../../src/process/waiter.ts";

Deno.test("the init is pid 1 with the config's hostname, in fresh namespaces", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const config = await busyboxConfig(
    ["sh", "-c", "echo $$; hostname; readlink /proc/1/exe"],
    (s) => {
      s.hostname = "box-a";
    },
  );
  const c = await factory.create(id, config);
  try {
    assert.equal(await c.status(), "created");
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "1\nbox-a\n/bin/busybox\n");
    assert.equal(await c.status(), "stopped");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("the config's mounts are seen in /proc/self/mountinfo, root read-only", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["cat", "/proc/self/mountinfo"]));
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    const mounts = out.stdout.trim().split("\n").map((line) => {
      const [left, right] = line.split(" - ");
      const f = left.split(" ");
      return { target: f[4], options: f[5], type: right.split(" ")[0] };
    });
    const at = (t: string) => mounts.find((m) => m.target === t);
    assert.equal(at("/")?.options.split(",")[0], "ro");
    assert.equal(at("/proc")?.type, "proc");
    assert.equal(at("/dev")?.type, "tmpfs");
    assert.equal(at("/dev/pts")?.type, "devpts");
    assert.equal(at("/dev/shm")?.type, "tmpfs");
    assert.equal(at("/dev/mqueue")?.type, "mqueue");
    assert.equal(at("/sys")?.type, "sysfs");
    assert.equal(at("/sys/fs/cgroup")?.type, "tmpfs");
    assert.ok(mounts.some((m) => m.target === "/sys/fs/cgroup/memory" && m.type === "cgroup"));
    // masked and read-only paths of the runc spec defaults
    assert.ok(at("/proc/timer_list"), "a masked file has /dev/null bound over it");
    assert.equal(at("/proc/acpi")?.type, "tmpfs", "a masked directory is an empty tmpfs");
    assert.equal(at("/proc/acpi")?.options.split(",")[0], "ro");
    assert.equal(at("/proc/sys")?.options.split(",")[0], "ro");
    // nothing of the host's mount tree is left inside
    assert.equal(mounts.some((m) => m.target.startsWith("/work")), false);
  } finally {
    await c.destroy();
  }
});

Deno.test("/dev has the standard nodes and links", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const script =
    "stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; " +
    "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo ok";
  const c = await factory.create(id, await busyboxConfig(["sh", "-c", script]));
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(
      out.stdout,
      [
        "/dev/null character special file 1:3 666",
        "/dev/zero character special file 1:5 666",
        "/dev/full character special file 1:7 666",
        "/dev/random character special file 1:8 666",
        "/dev/urandom character special file 1:9 666",
        "/dev/tty character special file 5:0 666",
        "/proc/self/fd",
        "/proc/self/fd/0",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "pts/ptmx",
        "ok",
        "",
      ].join("\n"),
    );
  } finally {
    await c.destroy();
  }
});

Deno.test("uid, gid and extra groups inside; a user namespace maps ids", async () => {
  const factory = await testFactory();
  const plain = uniqueId();
  const c = await factory.create(plain, await busyboxConfig(["id"]));
  try {
    const out = await runIn(c, { user: { uid: 1000, gid: 1001, additionalGids: [5, 7] } });
    assert.equal(out.stdout.trim(), "uid=1000 gid=1001 groups=5,7");
  } finally {
    await c.destroy();
  }
  const mapped = uniqueId();
  const config = await busyboxConfig(
    ["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; echo $$"],
    (s) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      s.mounts = s.mounts!.filter((m) => m.type !== "cgroup" && m.destination !== "/sys");
    },
  );
  const u = await factory.create(mapped, config);
  try {
    const proc = await u.start({ stdin: "null", stdout: "piped", stderr: "piped" });
    const uidMap = Deno.readTextFileSync(`/proc/${proc.pid}/uid_map`).trim().split(/\s+/);
    const status = Deno.readTextFileSync(`/proc/${proc.pid}/status`);
    const out = await proc.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.equal(lines[0], "0");
    assert.deepEqual(lines[1].trim().split(/\s+/), ["0", "200000", "65536"]);
    assert.deepEqual(uidMap, ["0", "200000", "65536"]);
    // seen from the host, root inside is uid 200000
    assert.match(status, /^Uid:\s+200000\s+200000/m);
  } finally {
    await u.destroy();
  }
  assertNothingLeft(factory, mapped);
});

Deno.test("exit codes and signals come back as the process status", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["sh", "-c", "exit 42"]));
  try {
    const out = await runIn(c);
    assert.equal(out.code, 42);
    assert.equal(out.signal, null);
  } finally {
    await c.destroy();
  }
  const id2 = uniqueId();
  const c2 = await factory.create(id2, await busyboxConfig(["sleep", "60"]));
  try {
    const proc = await c2.start({ stdin: "null" });
    assert.equal(await c2.status(), "running");
    await c2.signal("SIGKILL");
    const status = await proc.status;
    assert.equal(status.code, null);
    assert.equal(status.signal, "SIGKILL");
    assert.equal(await c2.status(), "stopped");
  } finally {
    await c2.destroy();
  }
  const id3 = uniqueId();
  // a trap proves the signal reaches the process, not just kills it
  const script = "trap 'echo got-usr1; exit 7' USR1; echo ready; while true; do sleep 0.05; done";
  const c3 = await factory.create(id3, await busyboxConfig(["sh", "-c", script]));
  try {
    const proc = await c3.start({ stdin: "null", stdout: "piped" });
    const reader = proc.stdout!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "ready\n");
    await c3.signal("SIGUSR1");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, "got-usr1\n");
    assert.equal((await proc.status).code, 7);
  } finally {
    await c3.destroy();
  }
});

Deno.test("stdio pipes carry 10 MiB both ways with backpressure", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["cat"]));
  const size = 10 * 1024 * 1024;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  try {
    const proc = await c.start({ stdin: "piped", stdout: "piped", stderr: "piped" });
    const writing = (async () => {
      const writer = proc.stdin!.getWriter();
      for (let at = 0; at < size; at += 256 * 1024) {
        await writer.write(data.subarray(at, at + 256 * 1024));
      }
      await writer.close();
    })();
    // The event loop stays free while the pipes work.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const [out] = await Promise.all([proc.output(), writing]);
    clearInterval(timer);
    assert.equal(out.code, 0);
    assert.equal(out.stdout.length, size);
    assert.ok(out.stdout.every((b, i) => b === data[i]), "the bytes come back unchanged");
    assert.ok(ticks > 0, "timers kept running");
  } finally {
    await c.destroy();
  }
});

function nsLinks(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ["pid", "mnt", "uts", "ipc", "net", "cgroup"]) {
    out[ns] = Deno.readLinkSync(`/proc/${pid}/ns/${ns}`);
  }
  return out;
}

Deno.test("a later start joins every namespace and the cgroup of the init (exec)", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.hostname = "exec-box";
    }),
  );
  try {
    const init = await c.start({ stdin: "null" });
    const exec = await c.start({
      args: ["sh", "-c", "hostname; cat /proc/self/cgroup | grep memory; sleep 0.3"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const initNs = nsLinks(init.pid);
    const execNs = nsLinks(exec.pid);
    assert.deepEqual(execNs, initNs);
    assert.notDeepEqual(initNs, nsLinks(Deno.pid));
    const pids = await c.processes();
    assert.ok(pids.includes(init.pid) && pids.includes(exec.pid), `${pids}`);
    const out = await exec.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // the cgroup namespace makes the container's cgroup its root
    assert.match(new TextDecoder().decode(out.stdout), /^exec-box\n\d+:memory:\/\n$/);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("another Deno process loads the container, execs, signals and destroys it", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["sleep", "60"]));
  try {
    const init = await c.start({ stdin: "null" });
    const script = fileURLToPath(new URL("../support/second_process.ts", import.meta.url));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, factory.root, id],
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const seen = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(seen.before, "running");
    assert.deepEqual(seen.pids, [init.pid]);
    assert.equal(seen.execCode, 0);
    assert.match(seen.execOut, /:memory:\/\n/);
    assert.equal(seen.after, "destroyed");
    assert.deepEqual(seen.ids, []);
    // The init was killed by the other process; we, its parent, see it go.
    const status = await init.status;
    assert.equal(status.signal, "SIGKILL");
    assert.equal(await c.status(), "destroyed");
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("destroy kills every process, reaps them and leaves nothing", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  // the init forks children that ignore SIGTERM
  const script = "trap '' TERM; sleep 100 & sleep 100 & (trap '' TERM; sleep 100) & wait";
  const c = await factory.create(id, await busyboxConfig(["sh", "-c", script]));
  let pids: number[] = [];
  try {
    const init = await c.start({ stdin: "null" });
    for (let i = 0; i < 200 && pids.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 10));
      pids = await c.processes();
    }
    assert.ok(pids.length >= 4, `expected the init and its children, got ${pids}`);
    assert.ok(cgroupDirsOf(id).length > 0);
    await c.destroy();
    assert.equal((await init.status).signal, "SIGKILL");
    assert.equal(await c.status(), "destroyed");
    await c.destroy(); // idempotent
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id, pids);
  await assert.rejects(() => factory.load(id), (e: unknown) => {
    return e instanceof ContainerError && e.code === "ContainerNotFound";
  });
});

Deno.test("await using destroys the container", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  {
    await using c = await factory.create(id, await busyboxConfig(["sleep", "60"]));
    await c.start({ stdin: "null" });
    assert.equal(await c.status(), "running");
  }
  assertNothingLeft(factory, id);
});

Deno.test("200 create/start/destroy cycles leak no fds in this process", async () => {
  const factory = await testFactory();
  await rootfs();
  const config = await busyboxConfig(["true"]);
  // one warm-up cycle so lazily opened things (the library, the epoll fd) exist
  const warm = await factory.create(uniqueId("warm"), config);
  await (await warm.start({ stdin: "null", stdout: "piped" })).output();
  await warm.destroy();
  const before = openFds();
  for (let i = 0; i < 200; i++) {
    const id = uniqueId("cycle");
    const c = await factory.create(id, config);
    const proc = await c.start({ stdin: "null", stdout: i % 2 ? "piped" : "null" });
    const out = await proc.output();
    assert.equal(out.code, 0);
    await c.destroy();
  }
  assert.equal(openFds(), before);
  assert.equal(watchedCount(), 0);
  assert.deepEqual(await factory.list(), []);
});

Deno.test("a reused pid is never taken for the init (pid + start time)", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["sleep", "60"]));
  try {
    // Point the state at a live process (this test process) with another start time,
    // as if the init had exited and its pid been reused.
    const file = `${factory.root}/${id}/state.json`;
    const state = JSON.parse(Deno.readTextFileSync(file));
    state.init = { pid: Deno.pid, startTime: 1 };
    Deno.writeTextFileSync(file, JSON.stringify(state));
    const loaded = await factory.load(id);
    assert.equal(await loaded.status(), "stopped");
    await assert.rejects(() => loaded.signal("SIGKILL"), (e: unknown) => {
      return e instanceof ContainerError && e.code === "ContainerNotRunning";
    });
    await assert.rejects(() => loaded.start({ args: ["true"] }), (e: unknown) => {
      return e instanceof ContainerError && e.code === "ContainerNotRunning";
    });
    await loaded.destroy(); // must not kill this process
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("two concurrent first starts make one init; the other execs into it", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["sleep", "60"]));
  try {
    const [a, b] = await Promise.all([
      c.start({ stdin: "null" }),
      c.start({ stdin: "null" }),
    ]);
    const nsA = Deno.readLinkSync(`/proc/${a.pid}/ns/pid`);
    const nsB = Deno.readLinkSync(`/proc/${b.pid}/ns/pid`);
    assert.equal(nsA, nsB, "both processes are in the one container");
    assert.equal((await c.processes()).length, 2);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("the cgroup is made by the first start; destroy of a created container", async () => {
  const factory = await testFactory();
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["true"]));
  assert.deepEqual(cgroupDirsOf(id), [], "create alone makes no cgroup");
  assert.deepEqual(await c.processes(), []);
  await c.destroy();
  assert.equal(await c.status(), "destroyed");
  assertNothingLeft(factory, id);
  const c2 = await factory.create(id, await busyboxConfig(["sleep", "60"]));
  const init = await c2.start({ stdin: "null" });
  assert.ok(cgroupDirsOf(id).length > 0, "start makes the cgroup");
  const cgroupOfInit = Deno.readTextFileSync(`/proc/${init.pid}/cgroup`);
  assert.match(cgroupOfInit, new RegExp(`:memory:/cell/${id}\n`), "placed before it ran");
  await c2.destroy();
  assert.equal(await c.status(), "destroyed");
  assertNothingLeft(factory, id);
});

Deno.test("extra fds over a gap in our fd table: errors still reported, exit codes right", async () => {
  const { open, close, O } = await import("../../src/syscalls.ts");
  const factory = await testFactory();
  const files = Array.from({ length: 40 }, () => open("/dev/null", O.RDONLY));
  for (const fd of files.slice(0, 10)) close(fd);
  const extra = files.slice(10);
  const id = uniqueId();
  const c = await factory.create(id, await busyboxConfig(["sleep", "60"]));
  try {
    // The report pipe lands in the gap, below 3 + extra.length: it must be moved away.
    await assert.rejects(
      () => c.start({ args: ["/no/such/binary"], extraFds: extra, stdin: "null" }),
      (e: unknown) => e instanceof ContainerError && /not found/.test(e.message),
    );
    await c.start({ stdin: "null", extraFds: extra }); // the init
    await assert.rejects(
      () => c.start({ args: ["/no/such/binary"], extraFds: extra, stdin: "null" }),
      (e: unknown) => e instanceof ContainerError && /not found/.test(e.message),
    );
    for (let i = 0; i < 3; i++) {
      const out = await runIn(c, { args: ["sh", "-c", "exit 7"], extraFds: extra });
      assert.equal(out.code, 7);
      assert.equal(out.signal, null);
    }
  } finally {
    await c.destroy();
    for (const fd of extra) close(fd);
  }
  assertNothingLeft(factory, id);
});

Deno.test("two containers under the default /cell parent: the parent goes with the last", async () => {
  const factory = await testFactory();
  const isParent = (d: string) => /^\/sys\/fs\/cgroup\/[^/]+\/cell$/.test(d);
  // A parent another program holds (a container of its own) stays; none may be made anew.
  const before = cgroupDirsOf("cell").filter(isParent);
  const [a, b] = [uniqueId(), uniqueId()];
  const ca = await factory.create(a, await busyboxConfig(["sleep", "60"]));
  const cb = await factory.create(b, await busyboxConfig(["sleep", "60"]));
  await ca.start({ stdin: "null" });
  await cb.start({ stdin: "null" });
  await ca.destroy();
  assert.ok(cgroupDirsOf(b).length > 0);
  await cb.destroy();
  const after = cgroupDirsOf("cell").filter(isParent);
  assert.deepEqual(
    after.filter((d) => !before.includes(d)),
    [],
    "no parent outlives its last container",
  );
  if (before.length === 0) assert.deepEqual(after, []);
});

Deno.test("createInit stops the init before its exec; startInit from another loader runs it", async () => {
  const factory = await testFactory();
  const spec = await busyboxConfig(["sh", "-c", "echo ran; exit 7"]);
  await using box = await factory.create(uniqueId("split"), spec);
  const init = await box.createInit({ stdin: "null", stdout: "piped", stderr: "null" });
  assert.equal(await box.status(), "created");
  assert.deepEqual(await box.processes(), [init.pid], "the init is in the cgroup already");
  assert.match(Deno.readTextFileSync(`/proc/${init.pid}/status`), /State:\s+S/);
  await assert.rejects(() => box.createInit(), (e) => e instanceof ContainerError);
  const exec = await runIn(box, { args: ["sh", "-c", "hostname"] });
  assert.equal(exec.stdout, "cell\n", "exec works in a created container");
  const other = await factory.load(box.id);
  await other.startInit();
  const out = await init.output();
  assert.equal(new TextDecoder().decode(out.stdout), "ran\n");
  assert.equal(out.code, 7);
  assert.equal(await box.status(), "stopped");
  await assert.rejects(
    () => other.startInit(),
    (e) => e instanceof ContainerError && e.code === "ContainerNotRunning",
  );
  assert.ok(!exists(`${factory.root}/${box.id}/exec.fifo`), "the fifo is gone after start");
});

Deno.test("startInit on a container whose created init was killed fails clearly", async () => {
  const factory = await testFactory();
  await using box = await factory.create(uniqueId("split-dead"), await busyboxConfig(["true"]));
  const init = await box.createInit({ stdin: "null", stdout: "null", stderr: "null" });
  await box.signal("SIGKILL");
  await init.status;
  assert.equal(await box.status(), "stopped");
  await assert.rejects(
    () => box.startInit(),
    (e) => e instanceof ContainerError && e.code === "ContainerNotRunning",
  );
});
