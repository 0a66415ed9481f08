/**
 * Runs one container with a 2 MB huge page limit in a fresh process (so the host's cgroup
 * layout is read anew) and prints, as JSON, where the limit landed: the v1 hugetlb file,
 * the unified hierarchy's file, what the container itself reads, and the stats' sizes.
 *
 * usage: deno run -A hybrid_child.ts <rootfs> <id> <limit-bytes>
 *
 * @module
 */

import { createFactory, defaultConfig } from "../../mod.ts";
import { hybridUnifiedRoot } from "../../src/cgroups/hybrid.ts";
import { v1Hierarchies } from "../../src/cgroups/v1.ts";

const [rootfs, id, limit] = Deno.args;

function readOr(path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return null;
  }
}

const v1 = v1Hierarchies().find((h) => h.controllers.split(",").includes("hugetlb"));
const unified = hybridUnifiedRoot();
const root = await Deno.makeTempDir({ prefix: "cell-hybrid-" });
const config = defaultConfig({
  rootfs,
  args: ["sleep", "60"],
});
const LOOK = "for f in /sys/fs/cgroup/unified/hugetlb.2MB.max " +
  "/sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes; do [ -e $f ] && echo $f=$(cat $f); done; true";
if (!config.linux!.namespaces!.some((n) => n.type === "cgroup")) {
  config.linux!.namespaces!.push({ type: "cgroup" });
}
config.linux!.resources = {
  ...config.linux!.resources,
  hugepageLimits: [{ pageSize: "2MB", limit: Number(limit) }],
};
const factory = createFactory({ root });
const box = await factory.create(id, config);
try {
  await box.start({ stdin: "null" });
  const look = await box.start({ args: ["sh", "-c", LOOK], stdin: "null", stdout: "piped" });
  const out = await look.output();
  console.log(JSON.stringify({
    v1Mounted: v1 !== undefined,
    v1Limit: readOr(v1 && `${v1.mount}/cell/${id}/hugetlb.2MB.limit_in_bytes`),
    unifiedLimit: readOr(unified && `${unified}/cell/${id}/hugetlb.2MB.max`),
    inside: new TextDecoder().decode(out.stdout).trim().split("\n"),
    stats: Object.keys((await box.stats()).hugetlb),
  }));
} finally {
  await box.destroy();
  await Deno.remove(root, { recursive: true });
}
