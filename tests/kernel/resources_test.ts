/**
 * cgroup resources, pause/resume, stats, update and OOM notifications on this host's
 * kernel (cgroup v1; the device filter for v2 runs on the host's cgroup2 hierarchy).
 */

import assert from "node:assert/strict";
import { type Container, ContainerError, type ProcessStatus, type Spec } from "../../mod.ts";
import { hybridUnifiedRoot } from "../../src/cgroups/hybrid.ts";
import { v1Hierarchies } from "../../src/cgroups/v1.ts";
import { probeDevice } from "../support/device_probe.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  cgroupDirsOf,
  runIn,
  testFactory,
  uniqueId,
  until,
} from "../support/fixture.ts";

const MiB = 1024 * 1024;

async function withBox(
  args: string[],
  edit: (s: Spec) => void,
  fn: (c: Container, id: string) => Promise<void>,
): Promise<void> {
  const factory = await testFactory();
  const id = uniqueId("res");
  const c = await factory.create(id, await busyboxConfig(args, edit));
  try {
    await fn(c, id);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
}

function isCode(code: string) {
  return (e: unknown) => e instanceof ContainerError && e.code === code;
}

function v1File(controller: string, id: string, file: string): string {
  return Deno.readTextFileSync(`/sys/fs/cgroup/${controller}/cell/${id}/${file}`).trim();
}

function hugetlbLimitFile(id: string): string {
  const v1 = v1Hierarchies().find((h) => h.controllers.split(",").includes("hugetlb"));
  if (v1) return `${v1.mount}/cell/${id}/hugetlb.2MB.limit_in_bytes`;
  const unified = hybridUnifiedRoot();
  assert.ok(unified, "hugetlb is neither in a v1 hierarchy nor in a cgroup2 beside them");
  return `${unified}/cell/${id}/hugetlb.2MB.max`;
}

Deno.test("a process over its memory limit is OOM-killed and oom() yields once per kill", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources!.memory = { limit: 32 * MiB };
  }, async (c, id) => {
    await c.start({ stdin: "null" });
    assert.equal(v1File("memory", id, "memory.limit_in_bytes"), String(32 * MiB));
    const stream = await c.oom();
    const seen: number[] = [];
    const collecting = (async () => {
      for await (const event of stream) seen.push(event.kills);
    })();
    for (let round = 1; round <= 2; round++) {
      const out = await runIn(c, {
        args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
      });
      assert.equal(out.signal, "SIGKILL", `dd ${round} was OOM-killed`);
      await until(`OOM event ${round}`, () => seen.length >= round);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, [1, 2], "exactly one event per kill");
    assert.equal((await c.stats()).memory.limitBytes, 32 * MiB);
    await c.destroy();
    await collecting; // the stream ends with the container
    assert.deepEqual(seen, [1, 2]);
  });
});

Deno.test("a pids limit stops a fork bomb and the host is fine", async () => {
  // The inner shell dies when a fork is refused; the outer one reports and waits.
  const bomb = "sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null; " +
    "echo forked; exec sleep 30";
  await withBox(["sh", "-c", bomb], (s) => {
    s.linux!.resources!.pids = { limit: 16 };
  }, async (c, id) => {
    const proc = await c.start({ stdin: "null", stdout: "piped" });
    const reader = proc.stdout!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "forked\n");
    reader.releaseLock();
    const stats = await c.stats();
    assert.equal(stats.pids.limit, 16);
    assert.ok(stats.pids.current <= 16, `pids.current ${stats.pids.current}`);
    assert.ok((await c.processes()).length <= 16);
    assert.ok(Number(v1File("pids", id, "pids.events").split(" ")[1]) > 0, "forks were refused");
    // the host still forks
    assert.equal((await new Deno.Command("true").output()).code, 0);
  });
});

Deno.test("pids limit 0 is a real limit: the init and an exec run, neither can fork (runtime-spec 1.3)", async () => {
  await withBox(["sh", "-c", "echo ran; exec sleep 30"], (s) => {
    s.linux!.resources!.pids = { limit: 0 };
  }, async (c, id) => {
    const proc = await c.start({ stdin: "null", stdout: "piped" });
    const reader = proc.stdout!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "ran\n");
    reader.releaseLock();
    assert.equal(v1File("pids", id, "pids.max"), "0");
    assert.equal((await c.stats()).pids.limit, 0);
    // An exec is placed into the cgroup, not forked in it, so it runs; its fork is refused.
    const exec = await runIn(c, { args: ["echo", "in"] });
    assert.equal(exec.stdout, "in\n");
    const fork = await runIn(c, { args: ["sh", "-c", "sleep 1 & wait; echo forked"] });
    assert.notEqual(fork.stdout, "forked\n");
    assert.match(fork.stderr, /fork/i);
    assert.ok(Number(v1File("pids", id, "pids.events").split(" ")[1]) > 0, "the fork was refused");
    await c.update({ pids: { limit: 5 } });
    assert.equal(v1File("pids", id, "pids.max"), "5");
  });
});

Deno.test("a cpu quota shows throttling in stats", async () => {
  await withBox(["sh", "-c", "while :; do :; done"], (s) => {
    s.linux!.resources!.cpu = { quota: 10000, period: 100000 };
  }, async (c, id) => {
    await c.start({ stdin: "null" });
    assert.equal(v1File("cpu", id, "cpu.cfs_quota_us"), "10000");
    await new Promise((r) => setTimeout(r, 600));
    const { cpu } = await c.stats();
    assert.ok(cpu.throttling.periods > 0, "periods counted");
    assert.ok(cpu.throttling.throttledPeriods > 0, "throttled");
    assert.ok(cpu.throttling.throttledTimeNs > 0);
    // 10% of one CPU for ~0.6 s: well under the wall time
    assert.ok(cpu.usageTotalNs < 400e6, `usage ${cpu.usageTotalNs}`);
  });
});

Deno.test("pause stops a counter; resume lets it move on", async () => {
  const script = "i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; usleep 5000; done";
  await withBox(["sh", "-c", script], () => {}, async (c) => {
    const init = await c.start({ stdin: "null" });
    const file = `/proc/${init.pid}/root/dev/shm/count`;
    const read = () => {
      try {
        return Number(Deno.readTextFileSync(file).trim() || "0");
      } catch {
        return 0; // not written yet
      }
    };
    await until("the counter to start", () => read() > 3);
    await c.pause();
    assert.equal(await c.status(), "paused");
    const frozen = read();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(read(), frozen, "no progress while paused");
    await assert.rejects(() => c.start({ args: ["true"] }), isCode("ContainerPaused"));
    await c.pause(); // already paused: nothing to do
    await c.resume();
    assert.equal(await c.status(), "running");
    await until("the counter to move again", () => read() > frozen + 3);
    await assert.rejects(() => c.resume(), isCode("ContainerNotRunning"));
  });
});

Deno.test("a paused container is signalled as by runc: SIGKILL thaws it and the init dies", async () => {
  await withBox(["sh", "-c", "trap '' TERM; sleep 60 & wait"], () => {}, async (c) => {
    const init = await c.start({ stdin: "null" });
    await until("the sleep", async () => (await c.processes()).length >= 2);
    await c.pause();
    await c.signal("SIGTERM"); // delivered; ignored by this init
    assert.equal(await c.status(), "paused");
    await c.signal("SIGKILL");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the paused init never died of SIGKILL")), 5000);
    });
    try {
      assert.equal((await Promise.race([init.status, timeout]) as ProcessStatus).signal, "SIGKILL");
    } finally {
      clearTimeout(timer);
    }
    assert.equal(await c.status(), "stopped");
  });
});

Deno.test("destroy of a paused container works and leaves nothing", async () => {
  await withBox(["sh", "-c", "sleep 60 & sleep 60"], () => {}, async (c) => {
    await c.start({ stdin: "null" });
    await until("two processes", async () => (await c.processes()).length >= 2);
    await c.pause();
    const pids = await c.processes();
    await c.destroy();
    assert.equal(await c.status(), "destroyed");
    for (const pid of pids) {
      let alive = false;
      try {
        alive = !/\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
      } catch { /* gone */ }
      assert.equal(alive, false, `pid ${pid} survived`);
    }
  });
});

Deno.test("update changes the limits of a running container, all or nothing", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources!.memory = { limit: 64 * MiB };
    s.linux!.resources!.pids = { limit: 50 };
  }, async (c, id) => {
    await c.start({ stdin: "null" });
    await c.update({ memory: { limit: 128 * MiB }, pids: { limit: 70 } });
    assert.equal(v1File("memory", id, "memory.limit_in_bytes"), String(128 * MiB));
    assert.equal(v1File("pids", id, "pids.max"), "70");
    assert.equal((await c.stats()).memory.limitBytes, 128 * MiB);
    assert.equal(
      c.config.linux?.resources?.memory?.limit,
      64 * MiB,
      "the handle's config is the one it was made with",
    );
    // A value the kernel refuses (cpus that do not exist) changes nothing.
    await assert.rejects(
      () => c.update({ pids: { limit: 80 }, cpu: { cpus: "0-999" } }),
      (e: unknown) =>
        e instanceof ContainerError && e.code === "ConfigInvalid" && /cpus/.test(e.message),
    );
    assert.equal(v1File("pids", id, "pids.max"), "70");
    // A value the kernel refuses after others were written rolls those back: pids.max is
    // written, then a throttle for a device that does not exist is refused (ENODEV).
    await assert.rejects(
      () =>
        c.update({
          pids: { limit: 90 },
          blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 99, rate: 1000 }] },
        }),
      (e: unknown) =>
        e instanceof ContainerError && e.message.includes("blkio.throttle.read_bps_device") &&
        e.message.includes("8:99 1000"),
    );
    assert.equal(v1File("pids", id, "pids.max"), "70", "pids.max was put back");
    // memory.oom_control reads back as "oom_kill_disable 0 ..." but takes "0".
    await assert.rejects(() =>
      c.update({
        memory: { disableOOMKiller: true },
        blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 99, rate: 1000 }] },
      })
    );
    assert.match(v1File("memory", id, "memory.oom_control"), /^oom_kill_disable 0$/m);
    await assert.rejects(() => c.update({ memory: { limit: -7 } }), isCode("ConfigInvalid"));
    assert.equal(v1File("memory", id, "memory.limit_in_bytes"), String(128 * MiB));
  });
});

Deno.test("update({pids: {}}) writes nothing and the state keeps the pids limit", async () => {
  const factory = await testFactory();
  const id = uniqueId("res");
  const c = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.linux!.resources!.pids = { limit: 0 };
    }),
  );
  try {
    await c.start({ stdin: "null" });
    await c.update({ pids: {} });
    assert.equal(v1File("pids", id, "pids.max"), "0");
    const state = JSON.parse(Deno.readTextFileSync(`${factory.root}/${id}/state.json`));
    assert.deepEqual(state.config.linux.resources.pids, { limit: 0 });
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("update on a stopped container fails and changes nothing", async () => {
  await withBox(["true"], () => {}, async (c) => {
    await runIn(c);
    assert.equal(await c.status(), "stopped");
    await assert.rejects(() => c.update({ pids: { limit: 5 } }), isCode("ContainerNotRunning"));
  });
});

Deno.test("stats move the way the workload makes them, network counters included", async () => {
  await withBox(["sleep", "60"], () => {}, async (c) => {
    await c.start({ stdin: "null" });
    const before = await c.stats();
    const out = await runIn(c, {
      args: [
        "sh",
        "-c",
        "ping -c 3 -i 0.2 127.0.0.1 >/dev/null || exit 3; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
      ],
      // ping needs a raw socket
      capabilities: {
        bounding: ["CAP_NET_RAW"],
        effective: ["CAP_NET_RAW"],
        permitted: ["CAP_NET_RAW"],
      },
    });
    assert.equal(out.code, 0, out.stderr);
    const after = await c.stats();
    assert.ok(after.cpu.usageTotalNs > before.cpu.usageTotalNs, "cpu time grew");
    assert.ok(after.cpu.usageUserNs + after.cpu.usageSystemNs > 0);
    assert.ok(after.memory.usageBytes > 0 && after.memory.maxUsageBytes >= after.memory.usageBytes);
    assert.equal(after.pids.current, 1, "only the init is left");
    const lo = after.network.find((n) => n.name === "lo");
    assert.ok(lo, "the container's loopback is reported");
    assert.ok(lo.rxPackets >= 6 && lo.txPackets >= 6, `lo ${JSON.stringify(lo)}`);
    assert.equal(after.network.some((n) => n.name === "eth0"), false, "not the host's interfaces");
  });
});

Deno.test("device rules: deny-all refuses a device the rules do not allow (v1)", async () => {
  const fuse = { destination: "/dev/fuse", type: "bind", source: "/dev/fuse", options: ["bind"] };
  const probe = [
    "sh",
    "-c",
    "(exec 3</dev/fuse) 2>/dev/null && echo open || echo denied; echo x > /dev/null && echo null-ok",
  ];
  await withBox(probe, (s) => {
    s.mounts!.push(fuse);
  }, async (c) => {
    const out = await runIn(c);
    assert.equal(out.stdout, "denied\nnull-ok\n");
  });
  await withBox(probe, (s) => {
    s.mounts!.push(fuse);
    s.linux!.resources!.devices!.push({
      allow: true,
      type: "c",
      major: 10,
      minor: 229,
      access: "r",
    });
  }, async (c) => {
    const out = await runIn(c);
    assert.equal(out.stdout, "open\nnull-ok\n");
  });
});

Deno.test("device rules on cgroup v2: the eBPF filter refuses and allows", async () => {
  const unified = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((l) => l.split(" - "))
    .find(([, right]) => right?.startsWith("cgroup2 "))?.[0].split(" ")[4];
  assert.ok(unified, "a cgroup2 hierarchy is mounted (needed to test the v2 device filter)");
  const denyAll = { allow: false, access: "rwm" };
  const fuse = { allow: true, type: "c" as const, major: 10, minor: 229, access: "r" };
  assert.equal(await probeDevice([denyAll], "/dev/fuse", unified), "denied");
  assert.equal(await probeDevice([denyAll, fuse], "/dev/fuse", unified), "open");
});

Deno.test("bad resources: clear errors, nothing made", async () => {
  const factory = await testFactory();
  const bad: [string, (s: Spec) => void, string][] = [
    ["negative memory", (s) => (s.linux!.resources!.memory = { limit: -5 }), "memory.limit"],
    ["absurd shares", (s) => (s.linux!.resources!.cpu = { shares: 10 ** 9 }), "cpu.shares"],
    [
      "unknown device type",
      (s) => s.linux!.resources!.devices!.push({ allow: true, type: "x" as "c" }),
      "devices[1].type",
    ],
  ];
  for (const [what, edit, field] of bad) {
    const id = uniqueId("bad");
    await assert.rejects(
      async () => factory.create(id, await busyboxConfig(["true"], edit)),
      (e: unknown) =>
        e instanceof ContainerError && e.code === "ConfigInvalid" && e.message.includes(field),
      what,
    );
    assertNothingLeft(factory, id);
  }
  // cpus out of range is a host fact: found when the cgroup is made, and undone.
  const id = uniqueId("cpus");
  const c = await factory.create(
    id,
    await busyboxConfig(["true"], (s) => {
      s.linux!.resources!.cpu = { cpus: "0-999" };
    }),
  );
  await assert.rejects(
    () => c.start({ stdin: "null" }),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      /cpu\.cpus: .*not available/.test(e.message),
  );
  assert.deepEqual(cgroupDirsOf(id), [], "the cgroup was undone");
  assert.equal(await c.status(), "created");
  await c.destroy();
  assertNothingLeft(factory, id);
});

Deno.test("linux.cgroupsPath: nested parents are made and removed; absolute and relative", async () => {
  const factory = await testFactory();
  for (
    const [path, dir] of [["/cell-test/a/b", "cell-test/a/b"], ["cell-test/rel", "cell-test/rel"]]
  ) {
    const id = uniqueId("cgp");
    const c = await factory.create(
      id,
      await busyboxConfig(["sleep", "60"], (s) => {
        s.linux!.cgroupsPath = `${path}/${id}`;
      }),
    );
    try {
      const init = await c.start({ stdin: "null" });
      assert.match(
        Deno.readTextFileSync(`/proc/${init.pid}/cgroup`),
        new RegExp(`:memory:/${dir}/${id}\\n`),
      );
      assert.deepEqual(await c.processes(), [init.pid]);
    } finally {
      await c.destroy();
    }
    assertNothingLeft(factory, id);
    let parentLeft = true;
    try {
      Deno.statSync("/sys/fs/cgroup/memory/cell-test");
    } catch {
      parentLeft = false;
    }
    assert.equal(parentLeft, false, "the parents it made are gone");
  }
});

Deno.test("device rules on cgroup v2: an update replaces the program (the old one is detached)", async () => {
  const { V2Manager } = await import("../../src/cgroups/v2.ts");
  const unified = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((l) => l.split(" - "))
    .find(([, right]) => right?.startsWith("cgroup2 "))?.[0].split(" ")[4];
  assert.ok(unified, "a cgroup2 hierarchy is mounted");
  const id = uniqueId("bpfup");
  const denyAll = { allow: false, access: "rwm" };
  const cg = new V2Manager({
    path: `/cell/${id}`,
    root: unified,
    resources: { devices: [denyAll] },
  });
  cg.create();
  try {
    const script =
      "while read cmd; do (exec 3</dev/fuse) 2>/dev/null && echo open || echo denied; done";
    const child = new Deno.Command("sh", { args: ["-c", script], stdin: "piped", stdout: "piped" })
      .spawn();
    Deno.writeTextFileSync(cg.procsFiles()[0], String(child.pid));
    const writer = child.stdin.getWriter();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const ask = async () => {
      await writer.write(new TextEncoder().encode("go\n"));
      return (await reader.read()).value?.trim();
    };
    assert.equal(await ask(), "denied");
    cg.apply({
      devices: [denyAll, { allow: true, type: "c", major: 10, minor: 229, access: "r" }],
    });
    // With the deny-all program still attached (multi mode ANDs them) this would stay denied.
    assert.equal(await ask(), "open");
    await writer.close();
    reader.releaseLock();
    await child.status;
  } finally {
    await cg.remove();
  }
});

Deno.test("every v1 resource file gets its value: memory, cpu, cpuset, pids, hugetlb", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources = {
      ...s.linux!.resources,
      memory: { limit: 96 * MiB, reservation: 48 * MiB, swap: 128 * MiB, swappiness: 7 },
      cpu: { shares: 512, quota: 30000, period: 60000, cpus: "0", mems: "0", idle: 0 },
      pids: { limit: 33 },
      hugepageLimits: [{ pageSize: "2MB", limit: 4 * 2 * MiB }],
    };
  }, async (c, id) => {
    await c.start({ stdin: "null" });
    const expect: [string, string, string][] = [
      ["memory", "memory.limit_in_bytes", String(96 * MiB)],
      ["memory", "memory.soft_limit_in_bytes", String(48 * MiB)],
      ["memory", "memory.memsw.limit_in_bytes", String(128 * MiB)],
      ["memory", "memory.swappiness", "7"],
      ["cpu", "cpu.shares", "512"],
      ["cpu", "cpu.cfs_quota_us", "30000"],
      ["cpu", "cpu.cfs_period_us", "60000"],
      ["cpu", "cpu.idle", "0"],
      ["cpuset", "cpuset.cpus", "0"],
      ["cpuset", "cpuset.mems", "0"],
      ["pids", "pids.max", "33"],
    ];
    for (const [controller, file, value] of expect) {
      assert.equal(v1File(controller, id, file), value, file);
    }
    // hugetlb lives in a v1 hierarchy where one is mounted, else in the hybrid host's
    // unified hierarchy (tests/kernel/hybrid_test.ts moves it between the two).
    const hugetlb = hugetlbLimitFile(id);
    assert.equal(Deno.readTextFileSync(hugetlb).trim(), String(8 * MiB), hugetlb);
    await c.update({ memory: { swappiness: 9 }, cpu: { shares: 256 } });
    assert.equal(v1File("memory", id, "memory.swappiness"), "9");
    assert.equal(v1File("cpu", id, "cpu.shares"), "256");
    assert.equal(v1File("cpu", id, "cpu.cfs_quota_us"), "30000", "fields not named stay");
  });
});

Deno.test("realtime cpu limits (v1): written to the container's cgroup, refused clearly without a parent budget", async () => {
  // As runc, the parents are the host's to give real-time budget (a new cgroup has none).
  const parent = `cell-native-rt-${Deno.pid}`;
  const parentDir = `/sys/fs/cgroup/cpu/${parent}`;
  Deno.mkdirSync(parentDir);
  try {
    Deno.writeTextFileSync(`${parentDir}/cpu.rt_runtime_us`, "100000");
    const id = uniqueId("rt");
    const factory = await testFactory();
    const c = await factory.create(
      id,
      await busyboxConfig(["sleep", "60"], (s) => {
        s.linux!.cgroupsPath = `/${parent}/${id}`;
        s.linux!.resources!.cpu = { realtimePeriod: 500000, realtimeRuntime: 50000 };
      }),
    );
    try {
      await c.start({ stdin: "null" });
      const file = (name: string) => Deno.readTextFileSync(`${parentDir}/${id}/${name}`).trim();
      assert.equal(file("cpu.rt_period_us"), "500000");
      assert.equal(file("cpu.rt_runtime_us"), "50000");
      // A shorter period than the runtime in force: the runtime goes first.
      await c.update({ cpu: { realtimePeriod: 40000, realtimeRuntime: 4000 } });
      assert.equal(file("cpu.rt_period_us"), "40000");
      assert.equal(file("cpu.rt_runtime_us"), "4000");
      await assert.rejects(
        () => c.update({ cpu: { realtimeRuntime: 90000, realtimePeriod: 80000 } }),
        (e) => isCode("ConfigInvalid")(e) && /more than realtimePeriod/.test((e as Error).message),
      );
    } finally {
      await c.destroy();
    }
    assertNothingLeft(factory, id);
  } finally {
    try {
      Deno.removeSync(parentDir);
    } catch { /* removed with the container's parents */ }
  }
  await withBox(["true"], (s) => {
    s.linux!.resources!.cpu = { realtimeRuntime: 50000 };
  }, async (c) => {
    await assert.rejects(
      () => c.start({ stdin: "null" }),
      (e) =>
        isCode("ConfigInvalid")(e) &&
        /realtimeRuntime: .*cpu\.rt_runtime_us: EINVAL \(every parent cgroup/.test(
          (e as Error).message,
        ),
    );
  });
});
