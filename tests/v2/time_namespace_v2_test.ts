/**
 * The time namespace tests of `tests/kernel/time_namespace_test.ts`, run again in the cgroup
 * v2 guest (`deno task test:vm`): there the first child that makes the namespace clones the
 * container process straight into its cgroup (clone3 `CLONE_INTO_CGROUP`), a path the
 * hybrid host never takes, on the guest's older kernel (Debian's 6.1).
 */

import "../kernel/time_namespace_test.ts";

Deno.test("time namespace (v2 guest): the host is a pure cgroup v2 system", () => {
  const type = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .find((line) => line.split(" ")[4] === "/sys/fs/cgroup")?.split(" - ")[1]?.split(" ")[0];
  if (type !== "cgroup2") {
    throw new Error(
      `tests/v2 run only in the cgroup v2 guest (deno task test:vm): /sys/fs/cgroup is ${type}`,
    );
  }
});
