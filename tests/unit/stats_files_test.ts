/**
 * The stats readers on hand-written file trees with known values (v1, v2, /proc/net/dev),
 * without root.
 */

import assert from "node:assert/strict";
import { emptyStats, UNLIMITED } from "../../src/cgroups/stats.ts";
import { readStatsV1, userHz } from "../../src/cgroups/stats_v1.ts";
import { readStatsV2 } from "../../src/cgroups/stats_v2.ts";
import { parseNetDev } from "../../src/cgroups/net_stats.ts";

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
      pressure: {},
      misc: {},
      rdma: { limit: [], current: [] },
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
      "cpu.pressure": "some avg10=0.50 avg60=0.10 avg300=0.00 total=7000\n" +
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=100\n",
      "io.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=3\n" +
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=2\n",
      "misc.current": "sev 1\n",
      "misc.events": "sev.max 4\n",
      "rdma.max": "mlx5_0 hca_handle=2 hca_object=max\n",
      "rdma.current": "mlx5_0 hca_handle=1 hca_object=7\n",
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
      pressure: {
        cpu: {
          some: { avg10: 0.5, avg60: 0.1, avg300: 0, totalUs: 7000 },
          full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 100 },
        },
        io: {
          some: { avg10: 0, avg60: 0, avg300: 0, totalUs: 3 },
          full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 2 },
        },
      },
      misc: { sev: { current: 1, events: 4 } },
      rdma: {
        limit: [{ device: "mlx5_0", hcaHandles: 2, hcaObjects: UNLIMITED }],
        current: [{ device: "mlx5_0", hcaHandles: 1, hcaObjects: 7 }],
      },
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
