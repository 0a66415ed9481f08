/**
 * The stats readers: on this kernel's v1 hierarchies with a workload that moves every
 * counter, on the host's (controller-less) cgroup2 mount, on /proc/<pid>/net/dev, and on
 * hand-written file trees with known values.
 */

import assert from "node:assert/strict";
import { v1Hierarchies } from "../../src/cgroups/v1.ts";
import { type CgroupStats, emptyStats, UNLIMITED } from "../../src/cgroups/stats.ts";
import { readStatsV1, userHz } from "../../src/cgroups/stats_v1.ts";
import { readStatsV2 } from "../../src/cgroups/stats_v2.ts";
import { readNetDev } from "../../src/cgroups/net_stats.ts";

const TEST_NAME = `cell-stats-test-${Deno.pid}`;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- helpers

function readPids(dir: string): number[] {
  try {
    return Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter((l) => l !== "")
      .map(Number);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** SIGKILLs what is left in the test cgroups (only our workload), then removes them. */
async function removeCgroups(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 500; attempt++) {
      const pids = readPids(dir);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 500; attempt++) {
      try {
        Deno.removeSync(dir);
        break;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) break;
        if (attempt === 499) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}

/** Every cell-stats-test directory left directly under the cgroup mounts. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const h of Deno.readDirSync("/sys/fs/cgroup")) {
    if (!h.isDirectory) continue;
    try {
      for (const e of Deno.readDirSync(`/sys/fs/cgroup/${h.name}`)) {
        if (e.name.startsWith("cell-stats-test-")) found.push(`/sys/fs/cgroup/${h.name}/${e.name}`);
      }
    } catch { /* not a directory we can list */ }
  }
  return found;
}

/**
 * A shell running `script` once it reads a line on stdin (so it can be moved into a
 * cgroup first); `waitFor` resolves when it prints a line.
 */
function gatedShell(script: string, program: string[] = ["sh", "-c"]) {
  const child = new Deno.Command(program[0], {
    args: [...program.slice(1), `read go; ${script}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    child,
    go: () => writer.write(new TextEncoder().encode("go\n")),
    async waitFor(word: string, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!buffered.split("\n").includes(word)) {
        if (Date.now() > deadline) throw new Error(`no "${word}" from the workload`);
        const { value, done } = await lines.read();
        if (done) throw new Error(`workload ended before "${word}"`);
        buffered += value;
      }
    },
    async stop(): Promise<void> {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await writer.close().catch(() => {});
      await lines.cancel().catch(() => {});
    },
  };
}

/** The whole disk holding `path`, as "major:minor", or undefined (tmpfs, overlay...). */
function wholeDiskOf(path: string): string | undefined {
  const dev = Deno.statSync(path).dev;
  const major = Number((BigInt(dev) >> 8n) & 0xfffn | ((BigInt(dev) >> 32n) & ~0xfffn));
  const minor = Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
  const sys = `/sys/dev/block/${major}:${minor}`;
  try {
    Deno.statSync(`${sys}/partition`);
    return Deno.readTextFileSync(`${sys}/../dev`).trim(); // a partition: its disk
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  try {
    Deno.statSync(sys);
    return `${major}:${minor}`;
  } catch {
    return undefined;
  }
}

/** The huge page sizes of this kernel, named like the hugetlb files ("2MB"). */
function kernelHugePageSizes(): string[] {
  const sizes: number[] = [];
  try {
    for (const e of Deno.readDirSync("/sys/kernel/mm/hugepages")) {
      const m = /^hugepages-(\d+)kB$/.exec(e.name);
      if (m) sizes.push(Number(m[1]));
    }
  } catch { /* no hugetlbfs support */ }
  return sizes.sort((a, b) => a - b).map((kb) =>
    kb >= 1024 * 1024 ? `${kb / 1024 / 1024}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`
  );
}

function assertCountersOk(network: CgroupStats["network"]): void {
  for (const nic of network) {
    for (const [key, value] of Object.entries(nic)) {
      if (key === "name") continue;
      assert.ok(Number.isInteger(value) && (value as number) >= 0, `${nic.name}.${key} = ${value}`);
    }
  }
}

// ---------------------------------------------------------------- v1, real kernel

Deno.test("v1: the stats of a cgroup follow a workload, and show the limits set", async () => {
  const paths: Record<string, string> = {};
  const tmp = Deno.makeTempDirSync({ prefix: "cell-stats-" });
  const shell = gatedShell(
    [
      // memory and system time: tail keeps its whole (newline-free) input
      "head -c 60000000 /dev/zero | tail >/dev/null",
      // block I/O past the page cache
      `dd if=/dev/zero of=${tmp}/f bs=1M count=8 oflag=direct 2>/dev/null`,
      `dd if=${tmp}/f of=/dev/null bs=1M iflag=direct 2>/dev/null`,
      // user time
      "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
      // three processes from here on: this shell and two sleepers
      "sleep 60 & sleep 60 &",
      "echo ready; read done",
    ].join("\n"),
  );
  try {
    for (const h of v1Hierarchies()) {
      const dir = `${h.mount}/${TEST_NAME}`;
      Deno.mkdirSync(dir);
      paths[h.controllers] = dir;
      if (h.controllers.split(",").includes("cpuset")) {
        for (const file of ["cpuset.cpus", "cpuset.mems"]) {
          Deno.writeTextFileSync(`${dir}/${file}`, Deno.readTextFileSync(`${h.mount}/${file}`));
        }
      }
    }
    const dirOf = (c: string) => Object.entries(paths).find(([k]) => k.split(",").includes(c))?.[1];
    const memory = dirOf("memory"), pids = dirOf("pids"), blkio = dirOf("blkio");
    assert.ok(memory && pids && dirOf("cpuacct") && dirOf("cpu"), "the hierarchies are mounted");
    for (const dir of Object.values(paths)) {
      Deno.writeTextFileSync(`${dir}/cgroup.procs`, String(shell.child.pid));
    }

    // before: one process, nothing limited
    const before = readStatsV1(paths, shell.child.pid);
    const hasMemsw = (() => {
      try {
        Deno.statSync(`${memory}/memory.memsw.limit_in_bytes`);
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(before.pids.current, 1);
    assert.equal(before.pids.limit, UNLIMITED);
    assert.equal(before.memory.limitBytes, UNLIMITED);
    assert.equal(before.memory.swapLimitBytes, hasMemsw ? UNLIMITED : 0);

    // limits, then the workload
    Deno.writeTextFileSync(`${pids}/pids.max`, "50");
    Deno.writeTextFileSync(`${memory}/memory.limit_in_bytes`, String(256 * MiB));
    if (hasMemsw) {
      Deno.writeTextFileSync(`${memory}/memory.memsw.limit_in_bytes`, String(512 * MiB));
    }
    // Kernels since 6.9 only count v1 throttle I/O on a queue with a throttle rule.
    const disk = wholeDiskOf(tmp);
    if (disk && blkio) {
      Deno.writeTextFileSync(`${blkio}/blkio.throttle.write_bps_device`, `${disk} ${2 ** 40}`);
    }
    await shell.go();
    await shell.waitFor("ready");
    const s = readStatsV1(paths, shell.child.pid);

    // cpu
    assert.ok(
      s.cpu.usageTotalNs > before.cpu.usageTotalNs + 10e6,
      `cpu usage grows: ${before.cpu.usageTotalNs} -> ${s.cpu.usageTotalNs}`,
    );
    assert.ok(s.cpu.usageUserNs + s.cpu.usageSystemNs > 0, "user + system > 0");
    assert.equal(s.cpu.usageUserNs % (1e9 / userHz()), 0, "user time counts whole ticks");
    assert.ok(s.cpu.usagePerCpuNs.length >= navigator.hardwareConcurrency);
    const perCpuSum = s.cpu.usagePerCpuNs.reduce((a, b) => a + b, 0);
    assert.ok(
      Math.abs(perCpuSum - s.cpu.usageTotalNs) <= Math.max(1e6, s.cpu.usageTotalNs * 0.01),
      `per-cpu sum ${perCpuSum} ≈ total ${s.cpu.usageTotalNs}`,
    );
    assert.deepEqual(s.cpu.throttling, { periods: 0, throttledPeriods: 0, throttledTimeNs: 0 });

    // memory
    assert.ok(s.memory.usageBytes > 0);
    assert.ok(s.memory.maxUsageBytes >= s.memory.usageBytes);
    assert.ok(s.memory.maxUsageBytes >= 50e6, `tail's 60 MB show: ${s.memory.maxUsageBytes}`);
    assert.equal(s.memory.limitBytes, 256 * MiB);
    assert.equal(s.memory.swapLimitBytes, hasMemsw ? 256 * MiB : 0);
    assert.equal(s.memory.failcnt, 0);
    assert.ok(s.memory.swapUsageBytes >= 0);
    for (const key of ["cache", "rss", "pgfault", "total_cache", "total_rss"]) {
      assert.equal(typeof s.memory.stat[key], "number", `memory.stat has ${key}`);
    }
    assert.equal(s.memory.cacheBytes, s.memory.stat.total_cache);
    assert.equal(s.memory.rssBytes, s.memory.stat.total_rss);
    assert.ok(s.memory.stat.pgfault > 0);

    // pids
    assert.equal(s.pids.current, 3);
    assert.equal(readPids(pids).length, 3);
    assert.equal(s.pids.limit, 50);

    // block I/O
    if (disk && blkio) {
      const io = s.blockIO.find((d) => d.device === disk);
      assert.ok(io, `${disk} in ${JSON.stringify(s.blockIO)}`);
      assert.ok(io.writeBytes >= 8 * MiB && io.readBytes >= 8 * MiB, JSON.stringify(io));
      assert.ok(io.writeOps >= 1 && io.readOps >= 1, JSON.stringify(io));
    } else {
      console.warn(`no whole disk under ${tmp}: block I/O not checked`);
    }

    // hugetlb: every size the kernel has, unused
    if (dirOf("hugetlb")) {
      assert.deepEqual(Object.keys(s.hugetlb), kernelHugePageSizes());
      for (const h of Object.values(s.hugetlb)) {
        assert.deepEqual(h, { usageBytes: 0, maxUsageBytes: 0, failcnt: 0 });
      }
    }

    // network: the shell is in our namespace
    assert.deepEqual(s.network.map((n) => n.name), readNetDev(Deno.pid).map((n) => n.name));
    assert.ok(s.network.some((n) => n.name === "lo"));
    assertCountersOk(s.network);

    // JSON round-trips exactly (no Infinity, no NaN)
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  } finally {
    await removeCgroups(Object.values(paths));
    await shell.stop();
    Deno.removeSync(tmp, { recursive: true });
  }
  assert.deepEqual(leftovers(), []);
});

// ---------------------------------------------------------------- v2, host's cgroup2

function unifiedMount(): string {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.startsWith("cgroup2 ")) return left.split(" ")[4];
  }
  throw new Error("no cgroup2 mount on this host: mount one (mount -t cgroup2 none DIR)");
}

Deno.test("v2: a cgroup without controllers reads as zeros, cpu usage still counts", async () => {
  // A parent of our own enables nothing in its subtree_control, whatever the root's
  // (containers on a hybrid host enable hugetlb there): its child has no controllers.
  const parent = `${unifiedMount()}/${TEST_NAME}`;
  const dir = `${parent}/leaf`;
  const shell = gatedShell("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo ready; read x");
  Deno.mkdirSync(parent);
  Deno.mkdirSync(dir);
  try {
    assert.equal(Deno.readTextFileSync(`${dir}/cgroup.controllers`).trim(), "");
    // PSI files are in every cgroup2 directory: pressure is read even without controllers.
    const { pressure, ...rest } = readStatsV2(dir, null);
    const { pressure: _none, ...emptyRest } = emptyStats();
    assert.deepEqual(rest, emptyRest);
    assert.ok(pressure.cpu && pressure.memory && pressure.io, JSON.stringify(pressure));
    Deno.writeTextFileSync(`${dir}/cgroup.procs`, String(shell.child.pid));
    await shell.go();
    await shell.waitFor("ready");
    const s = readStatsV2(dir, shell.child.pid);
    assert.ok(s.cpu.usageTotalNs >= 10e6, `core cpu.stat counts: ${s.cpu.usageTotalNs}`);
    assert.equal(s.cpu.usageTotalNs % 1000, 0, "microseconds → nanoseconds");
    assert.ok(s.cpu.usageUserNs + s.cpu.usageSystemNs > 0);
    assert.ok(s.cpu.usageUserNs + s.cpu.usageSystemNs <= s.cpu.usageTotalNs + 1000);
    assert.deepEqual(s.cpu.usagePerCpuNs, []);
    const empty = emptyStats();
    assert.deepEqual(s.memory, empty.memory);
    assert.deepEqual(s.pids, empty.pids);
    assert.deepEqual(s.blockIO, []);
    assert.deepEqual(s.hugetlb, {});
    assert.ok(s.network.some((n) => n.name === "lo"));
  } finally {
    await removeCgroups([dir, parent]);
    await shell.stop();
  }
  assert.deepEqual(leftovers(), []);
});

Deno.test("v2: pressure (PSI) of a cgroup2 directory rises when its tasks wait for a CPU", async () => {
  const parent = `${unifiedMount()}/${TEST_NAME}`;
  const dir = `${parent}/leaf`;
  // Two busy loops on one CPU: one of them always waits, which PSI counts as "some".
  const loop = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
  const shell = gatedShell(
    `taskset -c 0 sh -c '${loop}' & taskset -c 0 sh -c '${loop}' & wait; echo ready; read x`,
  );
  Deno.mkdirSync(parent);
  Deno.mkdirSync(dir);
  try {
    const before = readStatsV2(dir, null).pressure.cpu?.some.totalUs ?? -1;
    assert.equal(before, 0, "a new cgroup has no stall yet");
    Deno.writeTextFileSync(`${dir}/cgroup.procs`, String(shell.child.pid));
    await shell.go();
    await shell.waitFor("ready");
    const cpu = readStatsV2(dir, null).pressure.cpu!;
    assert.ok(cpu.some.totalUs > 10_000, `cpu some total ${cpu.some.totalUs} us`);
    // The averages are updated every 2 s: in range, not necessarily above 0 yet.
    assert.ok(cpu.some.avg10 >= 0 && cpu.some.avg10 <= 100, `avg10 ${cpu.some.avg10}`);
  } finally {
    await removeCgroups([dir, parent]);
    await shell.stop();
  }
  assert.deepEqual(leftovers(), []);
});

// ---------------------------------------------------------------- network

Deno.test("network: this process's namespace, another one, and a process that is gone", async () => {
  const mine = readNetDev(Deno.pid);
  const lo = mine.find((n) => n.name === "lo");
  assert.ok(lo, "lo is listed");
  assertCountersOk(mine);

  assert.deepEqual(readNetDev(2 ** 31 - 2), [], "no such process");

  // a fresh network namespace has only lo, down, with nothing counted
  const shell = gatedShell("echo ready; read x", ["unshare", "-n", "sh", "-c"]);
  try {
    await shell.go();
    await shell.waitFor("ready");
    assert.deepEqual(readNetDev(shell.child.pid), [{
      name: "lo",
      rxBytes: 0,
      rxPackets: 0,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: 0,
      txPackets: 0,
      txErrors: 0,
      txDropped: 0,
    }]);
  } finally {
    await shell.stop();
  }
  assert.deepEqual(readNetDev(shell.child.pid), [], "reaped");
});
