/**
 * AppArmor, in the guest (`deno task test:vm`), whose Debian kernel runs AppArmor: a
 * container's `process.apparmorProfile` is applied at the exec, a profile that is not
 * loaded fails the start, and an exec'd process gets the profile too.
 */

import assert from "node:assert/strict";
import { ContainerError, createFactory, defaultConfig } from "../../mod.ts";
import { lsmEnabled } from "../../src/config/validate_process.ts";
import { busyboxRootfs } from "../support/rootfs.ts";
import { runIn, uniqueId } from "../support/fixture.ts";

const PROFILE = "cell-test-confined";

/** Our own test profile: everything allowed but reading /etc/cell-secret. */
const PROFILE_TEXT = `profile ${PROFILE} flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  signal,
  unix,
  network,
  mount,
  umount,
  pivot_root,
  ptrace,
  deny /etc/cell-secret r,
}
`;

async function loadProfile(): Promise<void> {
  assert.ok(
    lsmEnabled("AppArmor"),
    "this kernel does not run AppArmor: tests/v2 runs in the guest of deno task test:vm",
  );
  const file = await Deno.makeTempFile({ suffix: ".apparmor" });
  await Deno.writeTextFile(file, PROFILE_TEXT);
  const out = await new Deno.Command("/usr/sbin/apparmor_parser", {
    args: ["--replace", "--skip-cache", "--quiet", file],
    stderr: "piped",
  }).output().catch((e) => {
    throw new Error(`apparmor_parser is missing (sudo tools/setup.sh --with-vm): ${e}`);
  });
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

async function secretRootfs(): Promise<string> {
  const rootfs = await busyboxRootfs("/tmp/cell-apparmor-rootfs");
  await Deno.writeTextFile(`${rootfs}/etc/cell-secret`, "secret\n");
  return rootfs;
}

Deno.test("apparmorProfile confines the init and execs; an unknown profile fails the start", async () => {
  await loadProfile();
  const rootfs = await secretRootfs();
  const factory = createFactory({ root: await Deno.makeTempDir() });
  const script = "cat /proc/self/attr/current; cat /etc/cell-secret";

  // Without a profile the file is readable: the denial below is the profile's doing.
  const open = defaultConfig({ rootfs, args: ["sh", "-c", script] });
  await using free = await factory.create(uniqueId("aa-free"), open);
  const freeRun = await runIn(free);
  assert.equal(freeRun.stdout, "unconfined\nsecret\n");

  const spec = defaultConfig({ rootfs, args: ["sh", "-c", `${script}; sleep 30`] });
  spec.process!.apparmorProfile = PROFILE;
  await using box = await factory.create(uniqueId("aa"), spec);
  const init = await box.start({ stdin: "null", stdout: "piped", stderr: "piped" });
  const exec = await runIn(box, { args: ["sh", "-c", script] });
  assert.equal(exec.stdout, `${PROFILE} (enforce)\n`);
  assert.match(exec.stderr, /cell-secret.*Permission denied/);
  assert.match(Deno.readTextFileSync(`/proc/${init.pid}/attr/current`), /cell-test-confined/);
  await box.destroy();
  const out = await init.output();
  assert.equal(new TextDecoder().decode(out.stdout), `${PROFILE} (enforce)\n`);

  const missing = defaultConfig({ rootfs, args: ["true"] });
  missing.process!.apparmorProfile = "cell-no-such-profile";
  await using never = await factory.create(uniqueId("aa-missing"), missing);
  await assert.rejects(
    () => never.start(),
    (e) =>
      e instanceof ContainerError && e.code === "SystemError" &&
      /AppArmor profile "cell-no-such-profile"/.test(e.message),
  );
  assert.equal(await never.status(), "created");
});

Deno.test("the profile is written to the kernel, not to a file mounted over /proc/thread-self/attr (CVE-2025-52881)", async () => {
  await loadProfile();
  const rootfs = await secretRootfs();
  const factory = createFactory({ root: await Deno.makeTempDir() });
  const decoy = await Deno.makeTempFile({ prefix: "cell-attr-decoy-" });
  await Deno.writeTextFile(decoy, "untouched\n");
  try {
    const spec = defaultConfig({ rootfs, args: ["sh", "-c", "cat /proc/self/attr/current"] });
    spec.process!.apparmorProfile = PROFILE;
    // What a racing shared mount would put where the runtime writes the label: the init is
    // pid 1 of its namespace, so thread-self is 1/task/1.
    spec.mounts!.push({
      destination: "/proc/1/task/1/attr/apparmor/exec",
      type: "bind",
      source: decoy,
      options: ["bind"],
    });
    await using box = await factory.create(uniqueId("aa-decoy"), spec);
    const run = await runIn(box);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${PROFILE} (enforce)\n`, "the init runs unconfined");
    assert.equal(await Deno.readTextFile(decoy), "untouched\n", "the label went to the decoy");
  } finally {
    await Deno.remove(decoy);
  }
});
