/**
 * cgroup v2 resources, freezer, stats, OOM and device filter, run in the cgroup v2 guest
 * (`deno task test:vm`). On a host where /sys/fs/cgroup is not cgroup2 each test fails
 * and says where it belongs.
 */

import assert from "node:assert/strict";
import { type Container, ContainerError, type Spec } from "../../mod.ts";
import { probeDevice } from "../support/device_probe.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
  until,
} from "../support/fixture.ts";

const MiB = 1024 * 1024;
const ROOT = "/sys/fs/cgroup";

function requireUnified(): void {
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n");
  const type = mounts.map((l) => l.split(" - ")).filter(([left]) => left?.split(" ")[4] === ROOT)
    .map(([, right]) => right.split(" ")[0]).pop();
  assert.equal(type, "cgroup2", `${ROOT} is not cgroup2: tests/v2/ runs in deno task test:vm`);
}

async function withBox(
  args: string[],
  edit: (s: Spec) => void,
  fn: (c: Container, dir: string) => Promise<void>,
): Promise<void> {
  requireUnified();
  const factory = await testFactory();
  const id = uniqueId("v2");
  const c = await factory.create(id, await busyboxConfig(args, edit));
  try {
    await fn(c, `${ROOT}/cell/${id}`);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
}

const read = (file: string) => Deno.readTextFileSync(file).trim();
const isCode = (code: string) => (e: unknown) => e instanceof ContainerError && e.code === code;

Deno.test("v2: the init is cloned into its cgroup, controllers are enabled, limits applied", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources!.memory = { limit: 64 * MiB, swap: 96 * MiB, reservation: 16 * MiB };
    s.linux!.resources!.cpu = { shares: 1024, quota: 50000, period: 100000 };
    s.linux!.resources!.pids = { limit: 40 };
  }, async (c, dir) => {
    const init = await c.start({ stdin: "null" });
    assert.equal(read(`/proc/${init.pid}/cgroup`), `0::${dir.slice(ROOT.length)}`);
    for (const ctl of ["cpu", "io", "memory", "pids"]) {
      assert.ok(read(`${dir}/cgroup.controllers`).split(" ").includes(ctl), ctl);
    }
    assert.equal(read(`${dir}/memory.max`), String(64 * MiB));
    assert.equal(read(`${dir}/memory.swap.max`), String(32 * MiB), "swap = memory+swap - memory");
    assert.equal(read(`${dir}/memory.low`), String(16 * MiB));
    assert.equal(read(`${dir}/cpu.weight`), "39", "shares 1024 → weight 39");
    assert.equal(read(`${dir}/cpu.max`), "50000 100000");
    assert.equal(read(`${dir}/pids.max`), "40");
    // The container's own view: its cgroup is the root of its namespace.
    const out = await runIn(c, { args: ["cat", "/proc/self/cgroup"] });
    assert.equal(out.stdout, "0::/\n");
  });
});

Deno.test("v2: OOM kills are reported once each through memory.events", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources!.memory = { limit: 32 * MiB, swap: 32 * MiB };
  }, async (c) => {
    await c.start({ stdin: "null" });
    const stream = await c.oom();
    const seen: number[] = [];
    const collecting = (async () => {
      for await (const e of stream) seen.push(e.kills);
    })();
    for (let round = 1; round <= 2; round++) {
      const out = await runIn(c, {
        args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
      });
      assert.equal(out.signal, "SIGKILL");
      await until(`OOM event ${round}`, () => seen.length >= round);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, [1, 2]);
    await c.destroy();
    await collecting;
  });
});

Deno.test("v2: pids limit, cpu throttling and stats", async () => {
  const bomb = "sh -c 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null; " +
    "echo forked; while :; do :; done";
  await withBox(["sh", "-c", bomb], (s) => {
    s.linux!.resources!.pids = { limit: 12 };
    s.linux!.resources!.cpu = { quota: 10000, period: 100000 };
  }, async (c, dir) => {
    const proc = await c.start({ stdin: "null", stdout: "piped" });
    const reader = proc.stdout!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "forked\n");
    reader.releaseLock();
    await new Promise((r) => setTimeout(r, 500));
    const stats = await c.stats();
    assert.equal(stats.pids.limit, 12);
    assert.ok(stats.pids.current <= 12, `${stats.pids.current}`);
    assert.ok(/^max (\d+)$/m.exec(read(`${dir}/pids.events`))![1] !== "0", "forks were refused");
    assert.ok(stats.cpu.throttling.throttledPeriods > 0, "throttled");
    assert.ok(stats.cpu.usageTotalNs > 0 && stats.memory.usageBytes > 0);
  });
});

// A pids limit of 0 however set (runtime-spec 1.3's pids.limit, or unified pids.max): clone3
// into the cgroup is refused (EAGAIN), so the init and an exec are placed, not cloned, into it.
const PIDS_ZERO: [string, (s: Spec) => void][] = [
  ["pids limit 0 (runtime-spec 1.3)", (s) => (s.linux!.resources!.pids = { limit: 0 })],
  ['unified pids.max "0"', (s) => (s.linux!.resources!.unified = { "pids.max": "0" })],
];
for (const [what, edit] of PIDS_ZERO) {
  Deno.test(`v2: ${what}: init and exec are placed, not cloned, into the cgroup; forks refused`, async () => {
    await withBox(["sh", "-c", "echo ran; exec sleep 30"], edit, async (c, dir) => {
      const proc = await c.start({ stdin: "null", stdout: "piped" });
      const reader = proc.stdout!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "ran\n");
      reader.releaseLock();
      assert.equal(read(`${dir}/pids.max`), "0");
      assert.deepEqual(await c.processes(), [proc.pid]);
      const exec = await runIn(c, { args: ["echo", "in"] });
      assert.equal(exec.stdout, "in\n");
      const fork = await runIn(c, { args: ["sh", "-c", "sleep 1 & wait; echo forked"] });
      assert.notEqual(fork.stdout, "forked\n");
      assert.ok(
        /^max (\d+)$/m.exec(read(`${dir}/pids.events`))![1] !== "0",
        "the fork was refused",
      );
    });
  });
}

Deno.test("v2: stats carry memory.peak and pressure (PSI) from the container's cgroup", async () => {
  // 20 MB held by tail and freed, then two busy loops on the one CPU the cpuset allows.
  const script = "head -c 20000000 /dev/zero | tail >/dev/null; " +
    "(while :; do :; done) & (while :; do :; done) & echo ready; wait";
  await withBox(["sh", "-c", script], (s) => {
    s.linux!.resources!.cpu = { cpus: "0" };
  }, async (c) => {
    const proc = await c.start({ stdin: "null", stdout: "piped" });
    const reader = proc.stdout!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "ready\n");
    reader.releaseLock();
    await until("the busy loops to stall each other", async () => {
      return ((await c.stats()).pressure.cpu?.some.totalUs ?? 0) > 50_000;
    });
    const stats = await c.stats();
    assert.ok(stats.memory.maxUsageBytes >= 20e6, `memory.peak ${stats.memory.maxUsageBytes}`);
    assert.ok(stats.memory.maxUsageBytes > stats.memory.usageBytes, "the peak outlived the use");
    assert.ok(stats.pressure.memory && stats.pressure.io, "memory and io pressure read too");
    assert.deepEqual(stats.misc, {}, "no misc resource on this machine");
  });
});

Deno.test("v2: pause freezes through cgroup.freeze; resume; destroy of a paused container", async () => {
  const script = "i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; usleep 5000; done";
  await withBox(["sh", "-c", script], () => {}, async (c, dir) => {
    const init = await c.start({ stdin: "null" });
    const count = () => {
      try {
        return Number(read(`/proc/${init.pid}/root/dev/shm/count`) || "0");
      } catch {
        return 0; // not written yet
      }
    };
    await until("the counter", () => count() > 3);
    await c.pause();
    assert.equal(await c.status(), "paused");
    assert.match(read(`${dir}/cgroup.events`), /^frozen 1$/m);
    const frozen = count();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(count(), frozen);
    await assert.rejects(() => c.start({ args: ["true"] }), isCode("ContainerPaused"));
    await c.resume();
    await until("the counter to move", () => count() > frozen + 3);
    await c.pause();
    // destroy (cgroup.kill) of the paused container, checked by withBox
  });
});

Deno.test("v2: update changes a running container's limits; a refused value changes nothing", async () => {
  await withBox(["sleep", "60"], (s) => {
    s.linux!.resources!.memory = { limit: 64 * MiB };
  }, async (c, dir) => {
    await c.start({ stdin: "null" });
    await c.update({ memory: { limit: 80 * MiB }, cpu: { shares: 2048 } });
    assert.equal(read(`${dir}/memory.max`), String(80 * MiB));
    assert.equal(read(`${dir}/cpu.weight`), "79");
    await assert.rejects(() => c.update({ memory: { swappiness: 10 } }), isCode("ConfigInvalid"));
    await assert.rejects(
      () => c.update({ pids: { limit: 9 }, unified: { "memory.nosuchfile": "1" } }),
      isCode("ConfigInvalid"),
    );
    assert.equal(read(`${dir}/pids.max`), "max", "nothing half-applied");
    // cgroup v2 has no real-time group scheduling: refused, never dropped.
    await assert.rejects(
      () => c.update({ cpu: { realtimeRuntime: 1000 } }),
      (e) =>
        isCode("ConfigInvalid")(e) && /realtimeRuntime: cgroup v2 has no real-time/.test(`${e}`),
    );
  });
});

Deno.test("v2: the eBPF device filter denies, and an allow rule opens one device", async () => {
  requireUnified();
  const denyAll = { allow: false, access: "rwm" };
  const kmsg = { allow: true, type: "c" as const, major: 1, minor: 11, access: "r" };
  assert.equal(await probeDevice([denyAll], "/dev/kmsg"), "denied");
  assert.equal(await probeDevice([denyAll, kmsg], "/dev/kmsg"), "open");
});
