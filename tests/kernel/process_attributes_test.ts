/**
 * Process attributes of runtime-spec 1.3 the child sets before its exec: `linux.personality`
 * (the execution domain), `process.ioPriority` (the I/O scheduling class) and
 * `process.scheduler` (the CPU policy) and `linux.memoryPolicy` (NUMA), for the init and for a
 * process joining it, and `process.execCPUAffinity`, for a joining process only.
 */

import assert from "node:assert/strict";
import { busyboxConfig, runIn, withContainer } from "../support/fixture.ts";

/** What `ionice -p PID` (util-linux, on the host) says of a process's I/O priority. */
async function ionice(pid: number): Promise<string> {
  const out = await new Deno.Command("ionice", { args: ["-p", String(pid)] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("linux.personality LINUX32: uname -m inside says i686, for the init and an exec", async () => {
  if (Deno.build.arch !== "x86_64") throw new Error("this test needs an x86_64 host");
  const config = await busyboxConfig(["uname", "-m"], (s) => {
    s.linux!.personality = { domain: "LINUX32" };
  });
  await withContainer(config, async (box) => {
    const init = await runIn(box);
    assert.equal(init.stdout, "i686\n", init.stderr);
  });
  const plain = await busyboxConfig(["uname", "-m"]);
  await withContainer(plain, async (box) => {
    assert.equal((await runIn(box)).stdout, "x86_64\n", "LINUX, the default, is unchanged");
  });
  const sleeper = await busyboxConfig(["sleep", "30"], (s) => {
    s.linux!.personality = { domain: "LINUX32" };
  });
  await withContainer(sleeper, async (box) => {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    const exec = await runIn(box, { args: ["uname", "-m"] });
    assert.equal(exec.stdout, "i686\n", exec.stderr);
  });
});

Deno.test("process.ioPriority: the init and an exec run in the class and level asked", async () => {
  for (
    const [io, expected] of [
      [{ class: "IOPRIO_CLASS_BE", priority: 6 }, "best-effort: prio 6"],
      // Real-time needs CAP_SYS_ADMIN: set before the capabilities are dropped.
      [{ class: "IOPRIO_CLASS_RT", priority: 3 }, "realtime: prio 3"],
      [{ class: "IOPRIO_CLASS_IDLE", priority: 0 }, "idle"],
    ] as const
  ) {
    const config = await busyboxConfig(["sleep", "30"], (s) => {
      s.process!.ioPriority = { ...io };
    });
    await withContainer(config, async (box) => {
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      assert.equal(await ionice(init.pid), expected, `${io.class} ${io.priority}`);
      const exec = await box.start({
        args: ["sleep", "30"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      assert.equal(await ionice(exec.pid), expected, "an exec too");
    });
  }
  const plain = await busyboxConfig(["sleep", "30"]);
  await withContainer(plain, async (box) => {
    const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    assert.notEqual(await ionice(init.pid), "realtime: prio 3", "nothing set without the field");
  });
});

/** A process's policy, real-time priority and nice value, from /proc/<pid>/stat. */
function schedOf(pid: number): { policy: number; rtPriority: number; nice: number } {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  // After "pid (comm) ": state is field 3, so field N is fields[N - 3].
  return {
    nice: Number(fields[19 - 3]),
    rtPriority: Number(fields[40 - 3]),
    policy: Number(fields[41 - 3]),
  };
}

Deno.test("process.scheduler: policy, nice and real-time priority, for the init and an exec", async () => {
  for (
    const [sched, expected] of [
      [{ policy: "SCHED_BATCH", nice: 7 }, { policy: 3, rtPriority: 0, nice: 7 }],
      [{ policy: "SCHED_IDLE" }, { policy: 5, rtPriority: 0, nice: 0 }],
    ] as const
  ) {
    const config = await busyboxConfig(["sleep", "30"], (s) => {
      s.process!.scheduler = { ...sched };
    });
    await withContainer(config, async (box) => {
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      assert.deepEqual(schedOf(init.pid), expected, sched.policy);
      const exec = await box.start({
        args: ["sleep", "30"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      assert.deepEqual(schedOf(exec.pid), expected, `${sched.policy}, an exec`);
    });
  }
});

Deno.test("process.scheduler: a real-time policy the kernel refuses fails the start, naming the field", async () => {
  // A v1 cpu cgroup gets no real-time runtime of its own (cpu.rt_runtime_us 0), so the kernel
  // refuses SCHED_FIFO in it with EPERM, as it does for runc.
  const config = await busyboxConfig(["true"], (s) => {
    s.process!.scheduler = { policy: "SCHED_FIFO", priority: 5 };
  });
  await withContainer(config, async (box) => {
    await assert.rejects(
      () => box.start({ stdin: "null" }),
      (e: Error) => /sched_setattr "process\.scheduler": EPERM/.test(e.message),
    );
  });
});

/** The CPUs a process may run on, from /proc/<pid>/status. */
function cpusOf(pid: number): string {
  return /^Cpus_allowed_list:\s+(\S+)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1];
}

Deno.test("process.execCPUAffinity: a joining process ends on the final CPUs, the init is untouched", async () => {
  const all = cpusOf(Deno.pid);
  if (all === "0") throw new Error("this test needs a machine with 2 CPUs or more");
  const config = await busyboxConfig(["sleep", "30"], (s) => {
    s.process!.execCPUAffinity = { initial: "0", final: "1" };
  });
  await withContainer(config, async (box) => {
    const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    assert.equal(cpusOf(init.pid), all, "not applicable to the init");
    const exec = await box.start({
      args: ["sleep", "30"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    assert.equal(cpusOf(exec.pid), "1");
  });
  const initialOnly = await busyboxConfig(["sleep", "30"], (s) => {
    s.process!.execCPUAffinity = { initial: "1" };
  });
  await withContainer(initialOnly, async (box) => {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    const exec = await runIn(box, { args: ["true"] });
    assert.equal(exec.code, 0, exec.stderr);
  });
});

/** The policy numa_maps shows for a process's first mapping (its task policy when it has none). */
function numaPolicyOf(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/numa_maps`).split("\n")[0].split(" ")[1];
}

Deno.test("linux.memoryPolicy: the init and an exec run under the NUMA policy asked", async () => {
  if (!Deno.statSync("/sys/devices/system/node/node0").isDirectory) {
    throw new Error("this test needs a NUMA kernel (CONFIG_NUMA, node0)");
  }
  for (
    const [policy, expected] of [
      [{ mode: "MPOL_BIND", nodes: "0" }, "bind:0"],
      [{ mode: "MPOL_INTERLEAVE", nodes: "0" }, "interleave:0"],
      [{ mode: "MPOL_LOCAL" }, "local"],
    ] as const
  ) {
    const config = await busyboxConfig(["sleep", "30"], (s) => {
      s.linux!.memoryPolicy = { ...policy };
    });
    await withContainer(config, async (box) => {
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      assert.equal(numaPolicyOf(init.pid), expected, policy.mode);
      const exec = await box.start({
        args: ["sleep", "30"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
      assert.equal(numaPolicyOf(exec.pid), expected, `${policy.mode}, an exec`);
    });
  }
  const plain = await busyboxConfig(["sleep", "30"]);
  await withContainer(plain, async (box) => {
    const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    assert.equal(numaPolicyOf(init.pid), "default");
  });
});
