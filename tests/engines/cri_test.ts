/**
 * Kubernetes' way in: containerd's CRI plugin with cell as a RuntimeClass handler
 * (`io.containerd.runc.v2` with `BinaryName` = an installed cell), driven by crictl as the
 * kubelet would drive it, through a whole pod life. Needs containerd, podman (to make the
 * images), Debian's containernetworking-plugins and crictl (`sudo tools/setup.sh
 * --with-engines`).
 */

import assert from "node:assert/strict";
import {
  BUSYBOX_IMAGE,
  CGROUP_PARENT,
  type Cri,
  crictlPath,
  startCri,
  waitFor,
} from "../support/cri.ts";
import { requirePrograms, type Run, sh } from "../support/engines.ts";

const MiB = 1024 * 1024;

/** Fails with what crictl said unless it exited 0; returns its stdout. */
function ok(run: Run, what: string): string {
  assert.equal(run.code, 0, `crictl ${what}: ${run.stderr}`);
  return run.stdout;
}

/** The pids of processes that are still alive (not gone, not zombies). */
function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      return !/\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
    } catch {
      return false;
    }
  });
}

/** Cgroup directories left below the pod's cgroup parent in any hierarchy. */
function cgroupsLeft(): string[] {
  return [...Deno.readDirSync("/sys/fs/cgroup")]
    .map((e) => `/sys/fs/cgroup/${e.name}/${CGROUP_PARENT}`)
    .filter((dir) => {
      try {
        return Deno.statSync(dir).isDirectory;
      } catch {
        return false;
      }
    });
}

Deno.test("CRI: containerd runs a whole pod life with cell as its runtime, driven by crictl", async () => {
  requirePrograms(["containerd", "ctr", "containerd-shim-runc-v2", "podman"]);
  crictlPath();
  const cri = await startCri();
  try {
    await podLife(cri);
  } finally {
    await cri.teardown();
  }
});

async function podLife(cri: Cri): Promise<void> {
  const { crictl } = cri;
  Deno.mkdirSync(`${cri.dir}/logs`);
  const podConfig = cri.file("pod.json", {
    metadata: { name: "cell-pod", namespace: "cell-engines", uid: "cell-pod-uid", attempt: 0 },
    log_directory: `${cri.dir}/logs`,
    linux: { cgroup_parent: `/${CGROUP_PARENT}` },
  });
  const pod = ok(await crictl(["runp", podConfig]), "runp").trim();
  const sandbox = JSON.parse(ok(await crictl(["inspectp", pod]), "inspectp"));
  assert.equal(sandbox.status.state, "SANDBOX_READY");
  assert.match(sandbox.status.network.ip, /^10\.213\.0\./, "CNI gave the pod an address");
  const pids: number[] = [sandbox.info.pid];
  assert.ok(
    [...Deno.readDirSync(`${cri.cellRoot}/k8s.io`)].some((e) => e.name === pod),
    "the sandbox is a cell container",
  );

  const start = async (name: string, command: string[], extra: object = {}) => {
    const config = cri.file(`${name}.json`, {
      metadata: { name },
      image: { image: BUSYBOX_IMAGE },
      command,
      log_path: `${name}.log`,
      ...extra,
    });
    const id = ok(await crictl(["create", pod, config, podConfig]), `create ${name}`).trim();
    ok(await crictl(["start", id]), `start ${name}`);
    return id;
  };
  const status = async (id: string) =>
    JSON.parse(ok(await crictl(["inspect", id]), `inspect ${id}`)).status;
  const logs = async (id: string) => await crictl(["logs", id]);
  const exited = (id: string) =>
    waitFor(`${id} to be seen exited`, async () => (await status(id)).state === "CONTAINER_EXITED");

  // A container that exits on its own: containerd records the exit and its code.
  const exit7 = await start("exit7", ["sh", "-c", "echo out; echo err >&2; exit 7"]);
  await exited(exit7);
  assert.equal((await status(exit7)).exitCode, 7);
  const exit7Logs = await logs(exit7);
  assert.equal(exit7Logs.stdout, "out\n");
  assert.equal(exit7Logs.stderr, "err\n");

  // Stopped within its grace period (it exits on SIGTERM) and killed after it.
  const ready = (id: string) =>
    waitFor(`${id} to trap SIGTERM`, async () => (await logs(id)).stdout.includes("ready"));
  const graceful = await start("graceful", [
    "sh",
    "-c",
    "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done",
  ]);
  const stubborn = await start("stubborn", [
    "sh",
    "-c",
    "trap '' TERM; echo ready; while :; do sleep 0.1; done",
  ]);
  await ready(graceful);
  await ready(stubborn);
  let t0 = Date.now();
  ok(await crictl(["stop", "--timeout", "20", graceful]), "stop graceful");
  assert.ok(Date.now() - t0 < 10_000, `graceful stop took ${Date.now() - t0} ms`);
  assert.equal((await status(graceful)).exitCode, 0);
  assert.match((await logs(graceful)).stdout, /bye/);
  t0 = Date.now();
  ok(await crictl(["stop", "--timeout", "2", stubborn]), "stop stubborn");
  assert.ok(Date.now() - t0 >= 2000, "killed before its grace period ended");
  assert.equal((await status(stubborn)).exitCode, 137, "SIGKILL after the grace period");

  // A long-running container: exec (sync, streaming, stdin, tty), stats, update.
  const sleeper = await start("sleeper", ["sleep", "1000"], {
    linux: { resources: { memory_limit_in_bytes: 128 * MiB } },
  });
  await waitFor(
    "sleeper to run",
    async () => (await status(sleeper)).state === "CONTAINER_RUNNING",
  );
  const info = JSON.parse(ok(await crictl(["inspect", sleeper]), "inspect")).info;
  pids.push(info.pid);
  assert.equal(
    ok(await crictl(["exec", "--sync", sleeper, "echo", "sync"]), "exec --sync").trim(),
    "sync",
  );
  const failedSync = await crictl(["exec", "--sync", sleeper, "sh", "-c", "exit 3"]);
  assert.notEqual(failedSync.code, 0);
  assert.match(failedSync.stderr, /exited with 3/);
  const streamed = await crictl(["exec", sleeper, "sh", "-c", "echo streamed; exit 4"]);
  assert.equal(streamed.stdout, "streamed\n");
  assert.match(streamed.stderr, /exit code 4/);
  assert.equal((await crictl(["exec", "-i", sleeper, "cat"], "piped\n")).stdout, "piped\n");
  const tty = await sh("script", [
    "-qec",
    `${crictlPath()} --config ${cri.dir}/crictl.yaml exec -it ${sleeper} tty`,
    "/dev/null",
  ]);
  assert.match(tty.stdout, /\/dev\/pts\/\d+/, tty.stderr);
  const limit = () =>
    crictl(["exec", "--sync", sleeper, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]);
  assert.equal(ok(await limit(), "exec cat").trim(), String(128 * MiB));
  ok(await crictl(["update", "--memory", String(64 * MiB), sleeper]), "update");
  assert.equal(ok(await limit(), "exec cat").trim(), String(64 * MiB));
  const stats = JSON.parse(ok(await crictl(["stats", "-o", "json", sleeper]), "stats")).stats[0];
  assert.ok(Number(stats.memory.workingSetBytes.value) > 0, JSON.stringify(stats));
  assert.ok(Number(stats.cpu.usageCoreNanoSeconds.value) > 0, JSON.stringify(stats));
  ok(await crictl(["stop", "--timeout", "5", sleeper]), "stop sleeper");
  assert.equal((await status(sleeper)).state, "CONTAINER_EXITED");

  // Remove the containers, then stop and remove the pod: nothing may be left.
  ok(await crictl(["rm", exit7, graceful, stubborn, sleeper]), "rm");
  assert.equal(ok(await crictl(["ps", "-a", "-q"]), "ps").trim(), "");
  ok(await crictl(["stopp", pod]), "stopp");
  ok(await crictl(["rmp", pod]), "rmp");
  assert.equal(ok(await crictl(["pods", "-q"]), "pods").trim(), "");
  // No container's state; the resident planner's socket (the door's path) is no container.
  const left = [...Deno.readDirSync(`${cri.cellRoot}/k8s.io`)].filter((e) =>
    e.name !== "planner.sock"
  );
  assert.deepEqual(left, [], "cell state left");
  assert.deepEqual(cgroupsLeft(), [], "cgroups left");
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .filter((l) => l.split(" ")[4]?.startsWith(`${cri.dir}/`));
  assert.deepEqual(mounts, [], "mounts left");
  await waitFor("the pod's processes to be gone", () => alive(pids).length === 0, 10);
}
