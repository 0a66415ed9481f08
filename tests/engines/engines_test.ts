/**
 * podman and containerd with cell as their OCI runtime, driven as a user would, each with
 * private configuration and state (nothing of the host's engines is touched). Needs
 * Debian's podman, conmon, containerd (`sudo tools/setup.sh --with-engines`).
 */

import assert from "node:assert/strict";
import {
  mountMissingHierarchies,
  removeEmptyCgroups,
  requirePrograms,
  sh,
  unmountBelow,
  unmountHierarchies,
  workspace,
  writePodmanConfig,
} from "../support/engines.ts";

Deno.test("podman runs, execs, pauses, stops and limits containers with cell as its runtime", async () => {
  requirePrograms(["podman", "conmon"]);
  const cgroupTop = () => [...Deno.readDirSync("/sys/fs/cgroup")].map((e) => e.name).sort();
  const topBefore = cgroupTop();
  const { dir, cell, rootfsTar } = await workspace();
  const env = writePodmanConfig(dir, { cell });
  const podman = (args: string[], stdin?: string) => sh("podman", args, env, stdin);
  const image = "localhost/cell-busybox";
  try {
    const imported = await podman(["import", "-q", rootfsTar, image]);
    assert.equal(imported.code, 0, imported.stderr);

    const echo = await podman(["run", "--rm", image, "echo", "hi"]);
    assert.equal(echo.stdout, "hi\n", echo.stderr);
    assert.equal((await podman(["run", "--rm", image, "sh", "-c", "exit 3"])).code, 3);
    assert.equal((await podman(["run", "--rm", "-i", image, "cat"], "piped\n")).stdout, "piped\n");
    const env3 = await podman([
      "run",
      "--rm",
      "--user",
      "1000",
      "--workdir",
      "/tmp",
      "--env",
      "FOO=bar",
      image,
      "sh",
      "-c",
      "echo $(id -u) $(pwd) $FOO",
    ]);
    assert.equal(env3.stdout, "1000 /tmp bar\n", env3.stderr);
    const readOnly = await podman(["run", "--rm", "--read-only", image, "touch", "/x"]);
    assert.notEqual(readOnly.code, 0, "the root filesystem is read-only");
    // --read-only puts tmpfs mounts with tmpcopyup on /tmp, /var/tmp and /run.
    const tmp = await podman([
      "run",
      "--rm",
      "--read-only",
      image,
      "sh",
      "-c",
      "echo x > /tmp/x && cat /tmp/x && grep ' /tmp ' /proc/mounts | cut -d' ' -f3",
    ]);
    assert.equal(tmp.stdout, "x\ntmpfs\n", tmp.stderr);
    // --tmpfs on a directory with content (tmpcopyup): the content shows, and is writable.
    const etc = await podman([
      "run",
      "--rm",
      "--tmpfs",
      "/etc",
      image,
      "sh",
      "-c",
      "head -1 /etc/passwd && touch /etc/new && grep ' /etc ' /proc/mounts | cut -d' ' -f3",
    ]);
    assert.equal(etc.stdout, "root:x:0:0:root:/root:/bin/sh\ntmpfs\n", etc.stderr);
    // Read-only: podman's /etc/hostname bind inside it comes first (runc does the same).
    const etcRo = await podman([
      "run",
      "--rm",
      "--tmpfs",
      "/etc:ro",
      image,
      "sh",
      "-c",
      "head -1 /etc/passwd && grep ' /etc ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1",
    ]);
    assert.equal(etcRo.stdout, "root:x:0:0:root:/root:/bin/sh\nro\n", etcRo.stderr);
    const memory = await podman([
      "run",
      "--rm",
      "--memory",
      "64m",
      image,
      "cat",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    assert.equal(memory.stdout, "67108864\n", memory.stderr);
    const pids = await podman([
      "run",
      "--rm",
      "--pids-limit",
      "50",
      image,
      "cat",
      "/sys/fs/cgroup/pids/pids.max",
    ]);
    assert.equal(pids.stdout, "50\n", pids.stderr);

    const started = await podman(["run", "-d", "--name", "cell-p1", image, "sleep", "1000"]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await podman(["exec", "cell-p1", "echo", "x"])).stdout, "x\n");
    assert.equal((await podman(["exec", "cell-p1", "sh", "-c", "exit 5"])).code, 5);
    const top = await podman(["top", "cell-p1"]);
    assert.match(top.stdout, /sleep 1000/, top.stderr);
    assert.equal((await podman(["pause", "cell-p1"])).code, 0);
    assert.match(
      (await podman(["inspect", "-f", "{{.State.Status}}", "cell-p1"])).stdout,
      /paused/,
    );
    assert.equal((await podman(["unpause", "cell-p1"])).code, 0);
    assert.match(
      (await podman(["inspect", "-f", "{{.State.Status}}", "cell-p1"])).stdout,
      /running/,
    );
    assert.equal((await podman(["stop", "-t", "1", "cell-p1"])).code, 0);
    assert.equal((await podman(["rm", "cell-p1"])).code, 0);
    assert.equal(
      (await podman(["run", "-d", "--name", "cell-p2", image, "sleep", "1000"])).code,
      0,
    );
    assert.equal((await podman(["kill", "cell-p2"])).code, 0);
    assert.equal((await podman(["rm", "-f", "cell-p2"])).code, 0);

    // -t: a terminal through conmon's console socket; util-linux script gives podman one.
    const tty = await sh("script", ["-qec", `podman run --rm -t ${image} tty`, "/dev/null"], env);
    assert.match(tty.stdout, /\/dev\/pts\/0/, tty.stderr);
  } finally {
    await podman(["rm", "-a", "-f", "-t", "0"]);
    await podman(["rmi", "-a", "-f"]);
    unmountBelow(dir);
    removeEmptyCgroups("libpod_parent");
    await Deno.remove(dir, { recursive: true });
  }
  // conmon in a cgroup of its own has made /sys/fs/cgroup/<controller>/libpod_parent/conmon
  // for controllers nothing mounts (plain directories in the tmpfs): it runs without one.
  assert.deepEqual(cgroupTop(), topBefore, "nothing new at the top of /sys/fs/cgroup");
});

Deno.test("containerd (ctr) runs, execs, pauses, kills and measures containers with cell as its runc", async () => {
  requirePrograms(["containerd", "ctr", "containerd-shim-runc-v2", "podman"]);
  const { dir, cell, rootfsTar } = await workspace();
  Deno.writeTextFileSync(
    `${dir}/containerd.toml`,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${dir}/containerd.sock"
`,
  );
  const hierarchies = mountMissingHierarchies();
  const daemon = new Deno.Command("containerd", {
    args: ["--config", `${dir}/containerd.toml`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const env = { CONTAINERD_ADDRESS: `${dir}/containerd.sock` };
  const ctr = (args: string[]) => sh("ctr", ["-n", "cell-test", ...args], env);
  const image = "localhost/cell-busybox:latest";
  const runtime = ["--runc-binary", cell];
  try {
    for (let i = 0; i < 100 && (await sh("ctr", ["version"], env)).code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // An image archive made by podman from the busybox rootfs (no registry here).
    const podmanEnv = { CONTAINERS_STORAGE_CONF: `${dir}/storage.conf` };
    Deno.writeTextFileSync(
      `${dir}/storage.conf`,
      `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/pstorage"\nrunroot = "${dir}/prun"\n`,
    );
    await sh("podman", ["import", "-q", rootfsTar, "localhost/cell-busybox"], podmanEnv);
    const saved = await sh("podman", [
      "save",
      "-q",
      "--format",
      "docker-archive",
      "-o",
      `${dir}/image.tar`,
      "localhost/cell-busybox",
    ], podmanEnv);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal((await ctr(["images", "import", `${dir}/image.tar`])).code, 0);

    const echo = await ctr(["run", "--rm", ...runtime, image, "cell-k1", "echo", "hi"]);
    assert.equal(echo.stdout, "hi\n", echo.stderr);
    assert.equal(
      (await ctr(["run", "--rm", ...runtime, image, "cell-k2", "sh", "-c", "exit 3"])).code,
      3,
    );

    const started = await ctr(["run", "-d", ...runtime, image, "cell-k3", "sleep", "1000"]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(
      (await ctr(["task", "exec", "--exec-id", "e1", "cell-k3", "echo", "x"])).stdout,
      "x\n",
    );
    assert.equal(
      (await ctr(["task", "exec", "--exec-id", "e2", "cell-k3", "sh", "-c", "exit 5"])).code,
      5,
    );
    const ps = await ctr(["task", "ps", "cell-k3"]);
    assert.equal(ps.stdout.trim().split("\n").length, 2, ps.stdout);
    const status = async () =>
      (await ctr(["task", "ls"])).stdout.split("\n").find((l) => l.startsWith("cell-k3"))?.split(
        /\s+/,
      )[2];
    assert.equal((await ctr(["task", "pause", "cell-k3"])).code, 0);
    assert.equal(await status(), "PAUSED");
    assert.equal((await ctr(["task", "resume", "cell-k3"])).code, 0);
    assert.equal(await status(), "RUNNING");
    const metrics = await ctr(["task", "metrics", "cell-k3"]);
    assert.equal(metrics.code, 0, `ctr task metrics: ${metrics.stderr}`);
    assert.match(metrics.stdout, /memory/);
    assert.equal((await ctr(["task", "kill", "-s", "SIGKILL", "cell-k3"])).code, 0);
    for (let i = 0; i < 50 && await status() !== "STOPPED"; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await status(), "STOPPED");
    assert.equal((await ctr(["task", "delete", "cell-k3"])).code, 0);
    assert.equal((await ctr(["containers", "rm", "cell-k3"])).code, 0);
  } finally {
    for (const id of ["cell-k1", "cell-k2", "cell-k3"]) {
      await ctr(["task", "kill", "-a", "-s", "SIGKILL", id]);
      await ctr(["task", "delete", "-f", id]);
      await ctr(["containers", "rm", id]);
    }
    daemon.kill("SIGTERM");
    await daemon.status;
    // The shim keeps runc state under /run/containerd/runc/<namespace> whatever the config.
    for (const id of ["cell-k1", "cell-k2", "cell-k3"]) {
      await sh(cell, ["--root", "/run/containerd/runc/cell-test", "delete", "--force", id]);
    }
    await Deno.remove("/run/containerd/runc/cell-test", { recursive: true }).catch(() => {});
    await sh("podman", ["rmi", "-a", "-f"], { CONTAINERS_STORAGE_CONF: `${dir}/storage.conf` });
    unmountBelow(dir);
    removeEmptyCgroups("cell-test");
    unmountHierarchies(hierarchies);
    await Deno.remove(dir, { recursive: true });
  }
});
