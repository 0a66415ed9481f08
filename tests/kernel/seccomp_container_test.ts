/**
 * A config's seccomp profile is compiled, loaded by the native core just before the exec,
 * and holds for the init and for every process started later.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

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

/** The test seccomp agent (tests/support/seccomp_agent.py) on a fresh socket. */
async function startAgent(): Promise<
  { socket: string; states: () => Record<string, unknown>[]; stop: () => Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "cell-agent-" });
  const socket = `${dir}/agent.sock`;
  const log = `${dir}/states`;
  const script = new URL("../support/seccomp_agent.py", import.meta.url).pathname;
  const child = new Deno.Command("python3", {
    args: [script, socket, log],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
  const first = await reader.read();
  clearTimeout(timer);
  reader.releaseLock();
  assert.match(new TextDecoder().decode(first.value), /listening/, "the agent did not start");
  let stopped = false;
  return {
    socket,
    states: () => {
      let text = "";
      try {
        text = Deno.readTextFileSync(log);
      } catch { /* nothing yet */ }
      return text.trim().split("\n").filter((l) => l).map((l) => {
        const { state, fds } = JSON.parse(l);
        return { ...JSON.parse(state), received: fds };
      });
    },
    stop: async () => {
      if (!stopped) {
        stopped = true;
        child.kill("SIGKILL");
        await child.stdout.cancel().catch(() => {});
        await child.status;
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

for (const noNewPrivileges of [false, true]) {
  Deno.test(`seccomp notify (noNewPrivileges ${noNewPrivileges}): the agent gets the listener and the state, and answers the calls`, async () => {
    const agent = await startAgent();
    const factory = await testFactory();
    const id = uniqueId("notify");
    try {
      const config = await busyboxConfig(["sleep", "60"], (s) => {
        s.annotations = { "org.example": "yes" };
        s.process!.noNewPrivileges = noNewPrivileges;
        s.linux!.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          listenerPath: agent.socket,
          listenerMetadata: "bar",
          architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
          syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }],
        };
      });
      const box = await factory.create(id, config, { bundle: "/some/bundle" });
      try {
        const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
        const exec = await box.start({
          args: ["sh", "-c", "mkdir /tmp/x 2>&1; echo $?; ls -d /tmp/x 2>/dev/null || echo none"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        });
        const out = await exec.output();
        const text = new TextDecoder().decode(out.stdout);
        // The agent's answer, not the kernel's: ENOMEDIUM, and nothing made.
        assert.match(text, /No medium found\n1\nnone\n$/, text);
        const [first, second] = agent.states();
        assert.deepEqual(first, {
          ociVersion: "1.3.0",
          fds: ["seccompFd"],
          pid: init.pid,
          metadata: "bar",
          state: {
            ociVersion: "1.3.0",
            id,
            status: "creating",
            pid: init.pid,
            bundle: "/some/bundle",
            annotations: { "org.example": "yes" },
          },
          received: 1,
        });
        assert.equal(second.pid, exec.pid, "an exec'd process hands its own listener over");
        assert.deepEqual(second.state, { ...first.state as object, status: "running" });
        // With the agent gone, notified calls fail with ENOSYS instead of hanging.
        const late = await box.start({
          args: ["sh", "-c", "read go; mkdir /tmp/y 2>&1; echo $?"],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        });
        await agent.stop();
        const writer = late.stdin!.getWriter();
        await writer.write(new TextEncoder().encode("go\n"));
        await writer.close();
        const lateOut = new TextDecoder().decode((await late.output()).stdout);
        assert.match(lateOut, /Function not implemented\n1\n$/, lateOut);
        // And a new process cannot hand its listener over: refused before it is made.
        await assert.rejects(
          () => box.start({ args: ["true"], stdin: "null" }),
          (e) =>
            e instanceof ContainerError && e.code === "SystemError" &&
            /failed to connect with seccomp agent at .*: ENOENT|ECONNREFUSED/.test(e.message),
        );
      } finally {
        await box.destroy();
      }
      assertNothingLeft(factory, id);
    } finally {
      await agent.stop();
    }
  });
}
