/**
 * A config's seccomp profile is compiled, loaded by the native core just before the exec,
 * and holds for the init and for every process started later.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
} from "./support/fixture.ts";

const probe = "mkdir /tmp/x 2>&1 && echo made || echo refused; " +
  "unshare -n true 2>&1 && echo unshared || echo no-unshare; echo alive";

Deno.test("seccomp: listed syscalls fail with their errno; the rest work; exec gets it too", async () => {
  const factory = await testFactory();
  const id = uniqueId("sc");
  const config = await busyboxConfig(["sh", "-c", probe], (s) => {
    s.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"] });
    s.process!.capabilities!.bounding!.push("CAP_SYS_ADMIN");
    s.process!.capabilities!.effective!.push("CAP_SYS_ADMIN");
    s.process!.capabilities!.permitted!.push("CAP_SYS_ADMIN");
    s.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
      syscalls: [
        { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
        { names: ["unshare"], action: "SCMP_ACT_ERRNO" },
      ],
    };
  });
  const c = await factory.create(id, config);
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Operation not permitted\nrefused\n/);
    assert.match(out.stdout, /no-unshare\nalive\n$/);
    assert.doesNotMatch(out.stdout, /made|unshared/);
  } finally {
    await c.destroy();
  }
  assertNothingLeft(factory, id);
  const id2 = uniqueId("sc");
  const c2 = await factory.create(
    id2,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
      };
    }),
  );
  try {
    await c2.start({ stdin: "null" });
    const exec = await runIn(c2, { args: ["sh", "-c", "mkdir /dev/shm/x 2>&1; echo $?"] });
    assert.match(exec.stdout, /Operation not permitted\n1\n$/, "an exec'd process is filtered too");
  } finally {
    await c2.destroy();
  }
  assertNothingLeft(factory, id2);
});

Deno.test("seccomp: a bad profile is ConfigInvalid naming the JSON path, before anything is made", async () => {
  const factory = await testFactory();
  const id = uniqueId("scbad");
  await assert.rejects(
    async () =>
      factory.create(
        id,
        await busyboxConfig(["true"], (s) => {
          s.linux!.seccomp = {
            defaultAction: "SCMP_ACT_ALLOW",
            syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_BOGUS" as "SCMP_ACT_ALLOW" }],
          };
        }),
      ),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      /linux\.seccomp\.syscalls\[0\]\.action/.test(e.message),
  );
  assertNothingLeft(factory, id);
});
