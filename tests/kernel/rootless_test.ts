/**
 * Rootless: the library used by an unprivileged host user (`cell-rootless`, made by
 * tools/setup.sh with subordinate ids 300000-365535). Each test runs
 * tests/support/rootless_child.ts as that user and checks what it saw and what it left.
 */

import assert from "node:assert/strict";
import { busyboxRootfs } from "../support/rootfs.ts";
import { exists } from "../support/fixture.ts";

const USER = "cell-rootless";
const SUBID_START = 300000;

interface Account {
  uid: number;
  gid: number;
}

function account(): Account {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith(`${USER}:`)
  );
  if (!line) {
    throw new Error(`the user ${USER} is missing: run sudo tools/setup.sh, which adds it`);
  }
  const [, , uid, gid] = line.split(":");
  const subuid = Deno.readTextFileSync("/etc/subuid");
  if (!subuid.includes(`${USER}:${SUBID_START}:`)) {
    throw new Error(`${USER} has no /etc/subuid range: run sudo tools/setup.sh`);
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** A private directory owned by the user: its rootfs, XDG_RUNTIME_DIR and HOME. */
async function userSpace(who: Account): Promise<{ dir: string; rootfs: string; xdg: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cell-rootless-" });
  const rootfs = await busyboxRootfs(`${dir}/rootfs`);
  for (const sub of ["xdg", "home"]) await Deno.mkdir(`${dir}/${sub}`, { mode: 0o700 });
  await new Deno.Command("chown", { args: ["-R", `${who.uid}:${who.gid}`, dir] }).output();
  await Deno.chmod(dir, 0o755);
  return { dir, rootfs, xdg: `${dir}/xdg` };
}

/** Runs one scenario as the user; the parsed JSON line it printed. */
async function asUser(
  who: Account,
  space: { dir: string; rootfs: string; xdg: string },
  request: Record<string, unknown>,
  options: { xdg?: boolean } = {},
): Promise<Record<string, unknown>> {
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: `${space.dir}/home`,
    DENO_DIR: `${space.dir}/home/deno`,
    NO_COLOR: "1",
  };
  if (options.xdg !== false) env.XDG_RUNTIME_DIR = space.xdg;
  const child = new URL("../support/rootless_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${who.uid}`,
      `--regid=${who.gid}`,
      "--clear-groups",
      Deno.execPath(),
      "run",
      "-A",
      "--no-lock",
      child,
      JSON.stringify({ rootfs: space.rootfs, ...request }),
    ],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `rootless child failed:\n${stdout}\n${stderr}`);
  const result = JSON.parse(stdout.split("\n").at(-1) ?? "{}");
  assert.equal(result.thrown, undefined, `the child threw: ${JSON.stringify(result)}`);
  return result;
}

async function withUser(
  fn: (who: Account, space: { dir: string; rootfs: string; xdg: string }) => Promise<void>,
): Promise<void> {
  const who = account();
  const space = await userSpace(who);
  try {
    await fn(who, space);
  } finally {
    await Deno.remove(space.dir, { recursive: true });
  }
}

function alive(pid: number): boolean {
  return exists(`/proc/${pid}`);
}

Deno.test("rootless: a non-root user runs and execs in a container, state under XDG_RUNTIME_DIR", async () => {
  await withUser(async (who, space) => {
    const r = await asUser(who, space, { scenario: "run" });
    assert.equal(r.root, `${space.xdg}/cell`);
    const exec = r.exec as { stdout: string; code: number };
    assert.equal(exec.code, 0);
    const [uid, gid, map, hostname] = exec.stdout.split("\n");
    assert.equal(uid, "0", "root inside");
    assert.equal(gid, "0");
    assert.deepEqual(map.trim().split(/\s+/), ["0", String(who.uid), "1"]);
    assert.equal(hostname, "cell");
    assert.equal(r.status, "running");
    assert.equal(r.processes, 1, "the init, found through its pid namespace");
    assert.equal((r.stateMode as number) & 0o777, 0o700, "the state directory is private");
    const pause = r.pause as { code: string; message: string };
    assert.equal(pause.code, "SystemError");
    assert.match(pause.message, /no cgroup/);
    assert.deepEqual(r.leftover, []);
    assert.ok(!alive(r.initPid as number), "the init is gone after destroy");
    assert.deepEqual([...Deno.readDirSync(`${space.xdg}/cell`)], [], "no state left");
    for (const hierarchy of ["memory", "pids", "cpu"]) {
      assert.ok(!exists(`/sys/fs/cgroup/${hierarchy}/cell/rootless-`), "no cgroup written");
    }
  });
});

Deno.test("rootless: multi-range maps go through newuidmap/newgidmap, and groups can be set", async () => {
  await withUser(async (who, space) => {
    const r = await asUser(who, space, { scenario: "subids" });
    const init = r.init as { stdout: string; stderr: string; code: number };
    assert.equal(init.code, 0, init.stderr);
    const lines = init.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    const own = `0 ${who.uid} 1`;
    const own_g = `0 ${who.gid} 1`;
    const sub = `1 ${SUBID_START} 65536`;
    assert.deepEqual(lines.slice(0, 4), [own, sub, own_g, sub]);
    assert.equal(lines[4], "0 100", "supplementary group 100 set (setgroups allowed)");
    assert.equal(lines[5], "1000 1000", "uid 1000 is mapped: chown to it works");
    const bad = r.badStart as { code: string; message: string; syscall: string };
    assert.equal(bad.code, "SystemError");
    assert.equal(bad.syscall, "newuidmap");
    assert.match(bad.message, /uid_map with \/usr\/bin\/newuidmap/);
    assert.equal(r.afterBad, "created", "the failed start left no init");
  });
});

Deno.test("rootless: limits without a delegated cgroup are refused, with nothing left", async () => {
  await withUser(async (who, space) => {
    const r = await asUser(who, space, { scenario: "no-cgroup" });
    const error = r.error as { code: string; message: string };
    assert.equal(error.code, "ConfigInvalid");
    assert.match(error.message, /linux\.resources.*not delegated to uid/);
    assert.deepEqual(r.leftover, []);
  });
});

Deno.test("rootless: a delegated v1 cgroup subtree is used for limits and pause", async () => {
  await withUser(async (who, space) => {
    const name = `cell-rootless-${Deno.pid}`;
    const mounts = Deno.readTextFileSync("/proc/self/mounts").split("\n")
      .map((l) => l.split(" ")).filter((f) => f[2] === "cgroup").map((f) => f[1]);
    const delegated = mounts.map((m) => `${m}/${name}`);
    try {
      for (const dir of delegated) {
        Deno.mkdirSync(dir);
        const parent = dir.slice(0, dir.lastIndexOf("/"));
        for (const file of ["cpuset.cpus", "cpuset.mems"]) {
          if (exists(`${parent}/${file}`)) {
            Deno.writeTextFileSync(`${dir}/${file}`, Deno.readTextFileSync(`${parent}/${file}`));
          }
        }
        Deno.chownSync(dir, who.uid, who.gid);
        for (const entry of Deno.readDirSync(dir)) {
          Deno.chownSync(`${dir}/${entry.name}`, who.uid, who.gid);
        }
      }
      const r = await asUser(who, space, { scenario: "limits", cgroupsPath: `/${name}/c1` });
      assert.equal(r.limit, 64 * 1024 * 1024);
      assert.deepEqual(r.processes, [r.initPid]);
      assert.equal(r.paused, "paused");
      for (const dir of delegated) assert.ok(!exists(`${dir}/c1`), `${dir}/c1 removed`);
    } finally {
      for (const dir of delegated) {
        try {
          Deno.removeSync(dir);
        } catch { /* not made */ }
      }
    }
  });
});

Deno.test("rootless: a config without a user namespace, or no XDG_RUNTIME_DIR, is refused clearly", async () => {
  await withUser(async (who, space) => {
    const r = await asUser(who, space, { scenario: "no-userns" });
    const error = r.error as { code: string; message: string };
    assert.equal(error.code, "ConfigInvalid");
    assert.match(error.message, /linux\.namespaces: uid \d+ is not root/);
    assert.deepEqual(r.leftover, []);
    const noXdg = await asUser(who, space, { scenario: "no-xdg" }, { xdg: false });
    const e2 = noXdg.error as { code: string; message: string };
    assert.match(e2.message, /XDG_RUNTIME_DIR is not set/);
  });
});
