/**
 * The stats readers: on this kernel's v1 hierarchies with a workload that moves every
 * counter, on the host's (controller-less) cgroup2 mount, on /proc/<pid>/net/dev, and on
 * hand-written file trees with known values.
 */

import assert from "node:assert/strict";
import { v1Hierarchies } from "../src/cgroups/v1.ts";
import { type CgroupStats, emptyStats, UNLIMITED } from "../src/cgroups/stats.ts";
import { readStatsV1, userHz } from "../src/cgroups/stats_v1.ts";
import { readStatsV2 } from "../src/cgroups/stats_v2.ts";
import { parseNetDev, readNetDev } from "../src/cgroups/net_stats.ts";

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
    assert.deepEqual(readStatsV2(dir, null), emptyStats());
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

Deno.test("network: /proc/net/dev parsing, counters touching the colon", () => {
  const text = [
    "Inter-|   Receive                                                |  Transmit",
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
    "    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0",
    "  eth0:188799904    4401    1    2    3     4          5         6   237680    3215    7    8    9    10      11         12",
    "",
  ].join("\n");
  assert.deepEqual(parseNetDev(text), [
    {
      name: "lo",
      rxBytes: 3193,
      rxPackets: 29,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: 3193,
      txPackets: 29,
      txErrors: 0,
      txDropped: 0,
    },
    {
      name: "eth0",
      rxBytes: 188799904,
      rxPackets: 4401,
      rxErrors: 1,
      rxDropped: 2,
      txBytes: 237680,
      txPackets: 3215,
      txErrors: 7,
      txDropped: 8,
    },
  ]);
});

// ---------------------------------------------------------------- fake trees

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(full, text);
  }
}

const V1_UNSET = "9223372036854771712\n";

Deno.test("v1 files: exact parsing, units, unlimited, Total lines skipped", () => {
  const root = Deno.makeTempDirSync({ prefix: "cell-stats-v1-" });
  try {
    writeTree(root, {
      "cpuset/cpu.stat": "nr_periods 999\n", // "cpuset" is not "cpu"
      "cpu,cpuacct/cpuacct.usage": "123456789\n",
      "cpu,cpuacct/cpuacct.usage_percpu": "100000000 23456789 \n",
      "cpu,cpuacct/cpuacct.stat": "user 12\nsystem 3\n",
      "cpu,cpuacct/cpu.stat":
        "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n",
      "memory/memory.usage_in_bytes": "1048576\n",
      "memory/memory.max_usage_in_bytes": "2097152\n",
      "memory/memory.limit_in_bytes": V1_UNSET,
      "memory/memory.failcnt": "7\n",
      "memory/memory.memsw.usage_in_bytes": "1572864\n",
      "memory/memory.memsw.limit_in_bytes": V1_UNSET,
      "memory/memory.stat": "cache 4096\nrss 8192\ntotal_cache 40960\ntotal_rss 81920\n" +
        "hierarchical_memory_limit 9223372036854771712\n",
      "pids/pids.current": "5\n",
      "pids/pids.max": "max\n",
      "blkio/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n" +
        "8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n" +
        "8:16 Read 1\n8:16 Write 2\n8:16 Total 3\nTotal 12291\n",
      "blkio/blkio.throttle.io_serviced_recursive":
        "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\n8:16 Read 5\n8:16 Write 6\n8:16 Total 11\nTotal 14\n",
      "blkio/blkio.throttle.io_service_bytes": "Total 0\n", // not the recursive one: unused
      "hugetlb/hugetlb.2MB.usage_in_bytes": "4194304\n",
      "hugetlb/hugetlb.2MB.max_usage_in_bytes": "6291456\n",
      "hugetlb/hugetlb.2MB.failcnt": "1\n",
      "hugetlb/hugetlb.2MB.rsvd.usage_in_bytes": "999\n",
      "hugetlb/hugetlb.1GB.usage_in_bytes": "0\n",
      "hugetlb/hugetlb.1GB.max_usage_in_bytes": "0\n",
      "hugetlb/hugetlb.1GB.failcnt": "0\n",
    });
    const paths: Record<string, string> = {};
    for (const key of ["cpuset", "cpu,cpuacct", "memory", "pids", "blkio", "hugetlb"]) {
      paths[key] = `${root}/${key}`;
    }
    const tick = 1e9 / userHz();
    assert.deepEqual(readStatsV1(paths, null), {
      cpu: {
        usageTotalNs: 123456789,
        usagePerCpuNs: [100000000, 23456789],
        usageUserNs: 12 * tick,
        usageSystemNs: 3 * tick,
        throttling: { periods: 10, throttledPeriods: 4, throttledTimeNs: 5000 },
      },
      memory: {
        usageBytes: 1048576,
        maxUsageBytes: 2097152,
        limitBytes: UNLIMITED,
        failcnt: 7,
        cacheBytes: 40960,
        rssBytes: 81920,
        swapUsageBytes: 524288,
        swapLimitBytes: UNLIMITED,
        stat: {
          cache: 4096,
          rss: 8192,
          total_cache: 40960,
          total_rss: 81920,
          hierarchical_memory_limit: 9223372036854771712,
        },
      },
      pids: { current: 5, limit: UNLIMITED },
      blockIO: [
        { device: "8:0", readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 },
        { device: "8:16", readBytes: 1, writeBytes: 2, readOps: 5, writeOps: 6 },
      ],
      hugetlb: {
        "2MB": { usageBytes: 4194304, maxUsageBytes: 6291456, failcnt: 1 },
        "1GB": { usageBytes: 0, maxUsageBytes: 0, failcnt: 0 },
      },
      network: [],
    });
    assert.deepEqual(Object.keys(readStatsV1(paths, null).hugetlb), ["2MB", "1GB"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("v1 files: limits set, no swap accounting, no per-cpu, older blkio files", () => {
  const root = Deno.makeTempDirSync({ prefix: "cell-stats-v1b-" });
  try {
    writeTree(root, {
      "cpuacct/cpuacct.usage": "42\n",
      "memory/memory.usage_in_bytes": "4096\n",
      "memory/memory.limit_in_bytes": "268435456\n",
      "memory/memory.stat": "cache 1\nrss 2\n",
      "pids/pids.max": "100\n",
      "blkio/blkio.throttle.io_service_bytes_recursive": "Total 0\n",
      "blkio/blkio.throttle.io_service_bytes": "253:0 Read 10\n253:0 Write 20\nTotal 30\n",
      "blkio/blkio.throttle.io_serviced": "253:0 Read 1\n253:0 Write 2\nTotal 3\n",
    });
    const paths = {
      cpuacct: `${root}/cpuacct`,
      memory: `${root}/memory`,
      pids: `${root}/pids`,
      blkio: `${root}/blkio`,
      hugetlb: `${root}/absent`,
    };
    const s = readStatsV1(paths, null);
    assert.equal(s.cpu.usageTotalNs, 42);
    assert.deepEqual(s.cpu.usagePerCpuNs, []);
    assert.equal(s.cpu.usageUserNs, 0);
    assert.deepEqual(s.cpu.throttling, { periods: 0, throttledPeriods: 0, throttledTimeNs: 0 });
    assert.equal(s.memory.limitBytes, 268435456);
    assert.equal(s.memory.swapUsageBytes, 0);
    assert.equal(s.memory.swapLimitBytes, 0);
    assert.equal(s.memory.cacheBytes, 1);
    assert.equal(s.memory.rssBytes, 2);
    assert.equal(s.memory.maxUsageBytes, 0);
    assert.deepEqual(s.pids, { current: 0, limit: 100 });
    assert.deepEqual(s.blockIO, [
      { device: "253:0", readBytes: 10, writeBytes: 20, readOps: 1, writeOps: 2 },
    ]);
    assert.deepEqual(s.hugetlb, {});
    // memsw: memory + swap; the swap part alone is reported
    writeTree(root, {
      "memory/memory.memsw.usage_in_bytes": "4096\n",
      "memory/memory.memsw.limit_in_bytes": "536870912\n",
    });
    const t = readStatsV1(paths, null);
    assert.equal(t.memory.swapUsageBytes, 0);
    assert.equal(t.memory.swapLimitBytes, 268435456);
    // no hierarchy at all
    assert.deepEqual(readStatsV1({}, null), emptyStats());
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("v2 files: exact parsing, usec → ns, max → unlimited, events as failcnt", () => {
  const dir = Deno.makeTempDirSync({ prefix: "cell-stats-v2-" });
  try {
    writeTree(dir, {
      "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnice_usec 0\n" +
        "nr_periods 3\nnr_throttled 1\nthrottled_usec 250\nnr_bursts 0\nburst_usec 0\n",
      "memory.current": "1000\n",
      "memory.peak": "2000\n",
      "memory.max": "max\n",
      "memory.swap.current": "300\n",
      "memory.swap.max": "4096\n",
      "memory.stat": "anon 111\nfile 222\nkernel 5\n",
      "memory.events": "low 0\nhigh 2\nmax 9\noom 1\noom_kill 1\noom_group_kill 0\n",
      "pids.current": "4\n",
      "pids.max": "64\n",
      "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n" +
        "253:1 rbytes=5 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
      "hugetlb.2MB.current": "2097152\n",
      "hugetlb.2MB.max": "max\n",
      "hugetlb.2MB.events": "max 3\n",
      "hugetlb.2MB.rsvd.current": "5\n",
      "hugetlb.1GB.current": "0\n",
      "hugetlb.1GB.events": "max 0\n",
    });
    assert.deepEqual(readStatsV2(dir, null), {
      cpu: {
        usageTotalNs: 1500000,
        usagePerCpuNs: [],
        usageUserNs: 1000000,
        usageSystemNs: 500000,
        throttling: { periods: 3, throttledPeriods: 1, throttledTimeNs: 250000 },
      },
      memory: {
        usageBytes: 1000,
        maxUsageBytes: 2000,
        limitBytes: UNLIMITED,
        failcnt: 9,
        cacheBytes: 222,
        rssBytes: 111,
        swapUsageBytes: 300,
        swapLimitBytes: 4096,
        stat: { anon: 111, file: 222, kernel: 5 },
      },
      pids: { current: 4, limit: 64 },
      blockIO: [
        { device: "8:0", readBytes: 10, writeBytes: 20, readOps: 1, writeOps: 2 },
        { device: "253:1", readBytes: 5, writeBytes: 0, readOps: 1, writeOps: 0 },
      ],
      hugetlb: {
        "2MB": { usageBytes: 2097152, maxUsageBytes: 0, failcnt: 3 },
        "1GB": { usageBytes: 0, maxUsageBytes: 0, failcnt: 0 },
      },
      network: [],
    });
    // limits set the other way round; a kernel without memory.peak
    writeTree(dir, { "memory.max": "1073741824\n", "memory.swap.max": "max\n", "pids.max": "max" });
    Deno.removeSync(`${dir}/memory.peak`);
    const s = readStatsV2(dir, null);
    assert.equal(s.memory.limitBytes, 1073741824);
    assert.equal(s.memory.swapLimitBytes, UNLIMITED);
    assert.equal(s.pids.limit, UNLIMITED);
    assert.equal(s.memory.maxUsageBytes, 0);
    // a directory that is not there reads as nothing
    assert.deepEqual(readStatsV2(`${dir}/absent`, null), emptyStats());
    assert.deepEqual(readStatsV2("", null), emptyStats(), "no cgroup");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("userHz is the kernel's USER_HZ", async () => {
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output().catch(() => null);
  if (out?.success) assert.equal(userHz(), Number(new TextDecoder().decode(out.stdout).trim()));
  else assert.equal(userHz(), 100);
});
