/**
 * A hybrid host (v1 hierarchies plus a cgroup2 at /sys/fs/cgroup/unified, as on this
 * project's VM): every container also gets a directory in the unified hierarchy, and a
 * controller lives on whichever side the host puts it. The test moves hugetlb between the
 * sides (mounting a v1 hierarchy for it takes it off the cgroup2 side) and puts the host
 * back as it found it.
 */

import assert from "node:assert/strict";
import { hybridUnifiedRoot } from "../../src/cgroups/hybrid.ts";
import { mountV1, unmountV1 } from "../../tools/hybrid_host.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  rootfs,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

const MiB = 1024 * 1024;
const CHILD = new URL("../support/hybrid_child.ts", import.meta.url).pathname;

function requireHybrid(): string {
  const unified = hybridUnifiedRoot();
  assert.ok(
    unified,
    "these tests need a hybrid cgroup host (v1 hierarchies and a cgroup2 mount beside them, " +
      "e.g. /sys/fs/cgroup/unified as systemd's hybrid mode makes)",
  );
  return unified;
}

function controllers(dir: string): string[] {
  return Deno.readTextFileSync(`${dir}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean);
}

/** Where the host's v1 hugetlb hierarchy is mounted now, read afresh. */
function v1HugetlbMount(): string | undefined {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.startsWith("cgroup ") && right.split(" ")[2].split(",").includes("hugetlb")) {
      return left.split(" ")[4];
    }
  }
  return undefined;
}

interface ChildReport {
  v1Mounted: boolean;
  v1Limit: string | null;
  unifiedLimit: string | null;
  inside: string[];
  stats: string[];
}

async function runChild(id: string, limit: number): Promise<ChildReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, await rootfs(), id, String(limit)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  assert.ok(out.success, `hybrid_child failed:\n${d.decode(out.stderr)}`);
  return JSON.parse(d.decode(out.stdout));
}

Deno.test("hybrid: a container gets a cgroup in the unified hierarchy, mounted inside, removed on destroy", async () => {
  const unified = requireHybrid();
  const factory = await testFactory();
  const id = uniqueId("hyb");
  const box = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      if (!s.linux!.namespaces!.some((n) => n.type === "cgroup")) {
        s.linux!.namespaces!.push({ type: "cgroup" });
      }
    }),
  );
  try {
    const init = await box.start({ stdin: "null" });
    const mine = Deno.readTextFileSync(`/proc/${init.pid}/cgroup`).split("\n");
    assert.ok(mine.includes(`0::/cell/${id}`), `the init is in unified /cell/${id}: ${mine}`);
    assert.ok(Deno.statSync(`${unified}/cell/${id}`).isDirectory);
    assert.deepEqual(
      Deno.readTextFileSync(`${unified}/cell/${id}/cgroup.procs`).trim().split("\n"),
      [String(init.pid)],
    );
    // Inside, a cgroup namespace rooted at the container's cgroup: the cgroup2 mount at
    // /sys/fs/cgroup/unified shows the container's own directory as its root.
    const inside = await runIn(box, {
      args: [
        "sh",
        "-c",
        "cat /proc/self/cgroup | grep '^0::'; stat -f -c %t /sys/fs/cgroup/unified; grep -qx 1 /sys/fs/cgroup/unified/cgroup.procs && echo init-listed",
      ],
    });
    assert.equal(inside.code, 0, inside.stderr);
    const [line, fstype, listed] = inside.stdout.trim().split("\n");
    assert.equal(line, "0::/");
    assert.equal(fstype, "63677270", "CGROUP2_SUPER_MAGIC");
    assert.equal(listed, "init-listed", "the init (pid 1 inside) is in the container's root");
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("hybrid: hugetlb is limited and read on whichever side the host puts it, and the host is put back", async () => {
  const unified = requireHybrid();
  const before = v1HugetlbMount();
  const madeMountPoint = "/sys/fs/cgroup/hugetlb";
  let madeDir = false;
  try {
    // 1. hugetlb on the cgroup2 side (a fresh VM): take a v1 mount away if there is one.
    if (before !== undefined) await unmountV1("hugetlb", before);
    assert.ok(controllers(unified).includes("hugetlb"), "hugetlb is on the cgroup2 side");
    const a = await runChild(uniqueId("hyb-u"), 4 * MiB);
    assert.equal(a.v1Mounted, false);
    assert.equal(a.unifiedLimit, String(4 * MiB), "limit in unified hugetlb.2MB.max");
    assert.deepEqual(a.inside, [`/sys/fs/cgroup/unified/hugetlb.2MB.max=${4 * MiB}`]);
    assert.ok(a.stats.includes("2MB"), `stats read hugetlb from the unified side: ${a.stats}`);

    // 2. hugetlb on the v1 side: a v1 hierarchy mounted for it.
    try {
      Deno.mkdirSync(madeMountPoint);
      madeDir = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    await mountV1("hugetlb", madeMountPoint);
    try {
      assert.equal(controllers(unified).includes("hugetlb"), false, "mounting v1 took it over");
      const b = await runChild(uniqueId("hyb-v"), 6 * MiB);
      assert.equal(b.v1Mounted, true);
      assert.equal(b.v1Limit, String(6 * MiB), "limit in v1 hugetlb.2MB.limit_in_bytes");
      assert.equal(b.unifiedLimit, null, "nothing on the cgroup2 side");
      assert.deepEqual(b.inside, [`/sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes=${6 * MiB}`]);
      assert.ok(b.stats.includes("2MB"), `stats read hugetlb from v1: ${b.stats}`);
    } finally {
      await unmountV1("hugetlb", madeMountPoint);
    }
    assert.ok(controllers(unified).includes("hugetlb"), "hugetlb went back to the cgroup2 side");
  } finally {
    if (madeDir) Deno.removeSync(madeMountPoint);
    if (before !== undefined && v1HugetlbMount() === undefined) {
      await mountV1("hugetlb", before);
    }
  }
  assert.equal(v1HugetlbMount(), before, "the host's hugetlb is where it was");
});
