/**
 * Id-mapped bind mounts (runtime-spec 1.3 `uidMappings`/`gidMappings`, `idmap`, `ridmap`):
 * ids seen through the mount and written through it, with and without a user namespace
 * of the container, the container's mappings taken by a bare `idmap`, `ridmap` against
 * `idmap` on a submount, and a source whose filesystem cannot be id-mapped.
 *
 * A mapping `containerID C, hostID H` shows a file the source has as owned by C as owned
 * by H (in the host's ids, which a user namespace of the container maps again), as runc
 * and crun apply it.
 */

import assert from "node:assert/strict";
import { ContainerError, type Spec } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
} from "../support/fixture.ts";

type Mapping = { containerID: number; hostID: number; size: number };
const map = (containerID: number, hostID: number, size = 1): Mapping[] => [
  { containerID, hostID, size },
];

async function host(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * A tmpfs volume on a fresh directory of /tmp (tmpfs takes id-mapped mounts since Linux
 * 6.3), with `sub` a second tmpfs mounted inside it; unmounted and removed after `body`,
 * even when it throws.
 */
async function withVolume(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cell-idmap-" });
  try {
    await host("mount", "-t", "tmpfs", "-o", "mode=755", "cell-idmap", dir);
    try {
      Deno.mkdirSync(`${dir}/sub`);
      await host("mount", "-t", "tmpfs", "-o", "mode=777", "cell-idmap-sub", `${dir}/sub`);
      await body(dir);
    } finally {
      await host("umount", "-R", dir);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Runs `script` in a fresh container of `edit`'s config; its stdout, or the failure. */
async function run(script: string, edit: (spec: Spec) => void): Promise<string> {
  const factory = await testFactory();
  const id = uniqueId("idmap");
  const c = await factory.create(id, await busyboxConfig(["sh", "-c", script], edit));
  try {
    const out = await runIn(c);
    assert.equal(out.code, 0, `stdout: ${out.stdout}\nstderr: ${out.stderr}`);
    return out.stdout;
  } finally {
    await c.destroy();
    assertNothingLeft(factory, id);
  }
}

const owner = (path: string) => {
  const st = Deno.statSync(path);
  return `${st.uid}:${st.gid}`;
};

function overflowId(): string {
  return Deno.readTextFileSync("/proc/sys/kernel/overflowuid").trim();
}

Deno.test("idmap: a file of uid 1000 is seen as root's through the mount, and root's writes land as 1000", async () => {
  await withVolume(async (dir) => {
    Deno.writeTextFileSync(`${dir}/owned`, "x");
    Deno.chownSync(`${dir}/owned`, 1000, 1000);
    Deno.writeTextFileSync(`${dir}/root-owned`, "x");
    Deno.chownSync(dir, 1000, 1000);
    const script = "stat -c %u:%g /idm/owned /plain/owned /idm/root-owned; " +
      "touch /idm/made-inside && stat -c %u:%g /idm/made-inside";
    const out = await run(script, (s) => {
      s.mounts!.push(
        {
          destination: "/idm",
          type: "bind",
          source: dir,
          options: ["bind", "idmap"],
          uidMappings: map(1000, 0),
          gidMappings: map(1000, 0),
        },
        { destination: "/plain", type: "bind", source: dir, options: ["bind"] },
      );
    });
    const nobody = overflowId();
    assert.deepEqual(out.trim().split("\n"), ["0:0", "1000:1000", `${nobody}:${nobody}`, "0:0"]);
    assert.equal(owner(`${dir}/made-inside`), "1000:1000", "written through the mount as uid 1000");
  });
});

Deno.test("idmap: mappings without an idmap option are an idmap (as runc and crun take them)", async () => {
  await withVolume(async (dir) => {
    Deno.writeTextFileSync(`${dir}/owned`, "x");
    Deno.chownSync(`${dir}/owned`, 2000, 3000);
    const out = await run("stat -c %u:%g /idm/owned", (s) => {
      s.mounts!.push({
        destination: "/idm",
        type: "bind",
        source: dir,
        options: ["rbind", "ro"],
        uidMappings: map(2000, 5, 10),
        gidMappings: map(3000, 7, 10),
      });
    });
    assert.equal(out.trim(), "5:7");
  });
});

Deno.test("idmap in a user namespace: a bare idmap takes the container's mappings", async () => {
  await withVolume(async (dir) => {
    // Owned by the host's root: unmapped in the container's user namespace unless the
    // mount maps it to the container's root (host 100000).
    Deno.writeTextFileSync(`${dir}/owned`, "x");
    const script = "stat -c %u:%g /idm/owned /plain/owned; " +
      "touch /idm/made-inside && stat -c %u:%g /idm/made-inside";
    const out = await run(script, (s) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = map(0, 100000, 65536);
      s.linux!.gidMappings = map(0, 100000, 65536);
      s.mounts!.push(
        { destination: "/idm", type: "bind", source: dir, options: ["bind", "idmap"] },
        // rbind: a user namespace may not bind a mount without its (locked) submounts.
        { destination: "/plain", type: "bind", source: dir, options: ["rbind"] },
      );
    });
    const nobody = overflowId();
    assert.deepEqual(out.trim().split("\n"), ["0:0", `${nobody}:${nobody}`, "0:0"]);
    assert.equal(
      owner(`${dir}/made-inside`),
      "0:0",
      "the container's root writes as the source's root",
    );
  });
});

Deno.test("ridmap maps a submount of an rbind; idmap maps only the top mount", async () => {
  await withVolume(async (dir) => {
    for (const path of [`${dir}/top`, `${dir}/sub/inner`]) {
      Deno.writeTextFileSync(path, "x");
      Deno.chownSync(path, 1000, 1000);
    }
    const mount = (destination: string, option: string) => ({
      destination,
      type: "bind",
      source: dir,
      options: ["rbind", option],
      uidMappings: map(1000, 0),
      gidMappings: map(1000, 0),
    });
    const script = "stat -c %u /r/top /r/sub/inner /i/top /i/sub/inner";
    const out = await run(script, (s) => {
      s.mounts!.push(mount("/r", "ridmap"), mount("/i", "idmap"));
    });
    assert.deepEqual(out.trim().split("\n"), ["0", "0", "0", "1000"]);
  });
});

Deno.test("idmap: twenty mapped trees and a mapped file leave no fd in the container", async () => {
  await withVolume(async (dir) => {
    Deno.writeTextFileSync(`${dir}/file`, "x");
    Deno.chownSync(`${dir}/file`, 1000, 1000);
    const mapped = (destination: string, source: string) => ({
      destination,
      type: "bind",
      source,
      options: ["bind", "idmap"],
      uidMappings: map(1000, 0),
      gidMappings: map(1000, 0),
    });
    const script = "stat -c %u /file; ls /proc/self/fd | tr '\\n' ' '";
    const bare = await run(script, (s) => s.mounts!.push(mapped("/file", `${dir}/file`)));
    const many = await run(script, (s) => {
      s.mounts!.push(mapped("/file", `${dir}/file`));
      for (let i = 0; i < 20; i++) s.mounts!.push(mapped(`/m${i}`, dir));
    });
    const [uid, fds] = many.split("\n");
    assert.equal(uid, "0", "the file is seen through its mapping");
    // stdio, and the directory ls reads.
    assert.equal(fds, "0 1 2 3 ");
    assert.equal(many, bare, "the same fds with one mapped mount or twenty-one");
  });
});

/** The host's mountinfo lines whose mount point is `path`. */
function hostMountsAt(path: string): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((line) =>
    line.split(" ")[4] === path
  );
}

/**
 * Waits (at most `ms`) for `path` to exist; throws naming it when it does not. False when
 * `stopped` said to give up first.
 */
async function waitForFile(path: string, ms: number, stopped: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (stopped()) return false;
    try {
      Deno.statSync(path);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${path} did not appear within ${ms} ms`);
}

Deno.test("idmap: mounts sharing a mapping (one user namespace for them) and one of its own each see their own ids", async () => {
  await withVolume(async (dir) => {
    Deno.writeTextFileSync(`${dir}/owned`, "x");
    Deno.chownSync(`${dir}/owned`, 1000, 2000);
    const mapped = (destination: string, uid: number, gid: number, option: string) => ({
      destination,
      type: "bind",
      source: dir,
      options: ["rbind", option],
      uidMappings: map(uid, 0),
      gidMappings: map(gid, 0),
    });
    const script = "stat -c %u:%g /a/owned /b/owned /c/owned /d/owned /e/owned";
    const out = await run(script, (s) => {
      s.mounts!.push(
        mapped("/a", 1000, 2000, "idmap"),
        mapped("/b", 1000, 2000, "ridmap"),
        mapped("/c", 1000, 1000, "idmap"), // same uid map, another gid map
        mapped("/d", 1000, 2000, "idmap"),
        mapped("/e", 2000, 2000, "idmap"), // another uid map, the same gid map
      );
    });
    const nobody = overflowId();
    assert.deepEqual(out.trim().split("\n"), [
      "0:0",
      "0:0",
      `0:${nobody}`,
      "0:0",
      `${nobody}:0`,
    ]);
  });
});

const FORKS_CHILD = new URL("../support/idmap_forks_child.ts", import.meta.url).pathname;

Deno.test("idmap: one user namespace (one helper fork) per distinct mapping, not per mount", async () => {
  await withVolume(async (dir) => {
    Deno.writeTextFileSync(`${dir}/owned`, "x");
    Deno.chownSync(`${dir}/owned`, 1000, 1000);
    const trace = await Deno.makeTempFile({ prefix: "cell-idmap-strace-" });
    try {
      // Four mounts, three of one mapping: strace counts the clones into a new user
      // namespace (the container itself has none) of the process that makes them.
      const args = ["-f", "-qq", "--seccomp-bpf", "-e", "trace=clone", "-e", "signal=none"];
      const cmd = new Deno.Command("strace", {
        args: [
          ...args,
          "-o",
          trace,
          Deno.execPath(),
          "run",
          "-A",
          FORKS_CHILD,
          dir,
          uniqueId("idmap-forks"),
        ],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      });
      const out = await cmd.output().catch((e: unknown) => {
        throw new Error(
          `cannot run strace (tools/setup.sh installs it: apt-get install strace): ${e}`,
        );
      });
      const text = new TextDecoder();
      assert.ok(out.success, `the child failed: ${text.decode(out.stderr)}`);
      const nobody = overflowId();
      assert.equal(
        text.decode(out.stdout).trim(),
        `0 0 0 ${nobody}`,
        "each mount shows its mapping",
      );
      const clones = Deno.readTextFileSync(trace).split("\n").filter((l) =>
        l.includes("CLONE_NEWUSER")
      );
      assert.equal(clones.length, 2, `one helper per mapping:\n${clones.join("\n")}`);
    } finally {
      Deno.removeSync(trace);
    }
  });
});

Deno.test("idmap: the copy of a shared source is private: no mount propagates in or out", async () => {
  await withVolume(async (dir) => {
    // As on a systemd host, whose "/" is shared: the source is in a peer group.
    await host("mount", "--make-shared", dir);
    Deno.chownSync(dir, 1000, 1000);
    for (const sub of ["inside", "hostsub"]) Deno.mkdirSync(`${dir}/${sub}`);
    // The container mounts under the copy, says so, waits (bounded) for the host to mount
    // under the source, then lists what it sees.
    const script = "grep ' /idm ' /proc/self/mountinfo; " +
      "mount -t tmpfs cell-idmap-inside /idm/inside || exit 3; touch /idm/ready; " +
      "i=0; while [ ! -e /idm/mounted ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; " +
      "[ -e /idm/mounted ] || { echo 'the host never mounted' >&2; exit 4; }; " +
      "echo hostsub: $(grep -c ' /idm/hostsub ' /proc/self/mountinfo)";
    // Stopped once the container is done, so no mount is made after the volume is gone.
    let containerDone = false;
    const hostSide = (async () => {
      if (!await waitForFile(`${dir}/ready`, 20_000, () => containerDone)) return;
      await host("mount", "-t", "tmpfs", "cell-idmap-hostsub", `${dir}/hostsub`);
      Deno.writeTextFileSync(`${dir}/mounted`, "");
    })();
    let hostFailure: unknown;
    let out: string;
    try {
      out = await run(script, (s) => {
        for (const set of ["bounding", "effective", "permitted"] as const) {
          s.process!.capabilities![set]!.push("CAP_SYS_ADMIN");
        }
        s.mounts!.push({
          destination: "/idm",
          type: "bind",
          source: dir,
          options: ["bind", "idmap"],
          uidMappings: map(1000, 0),
          gidMappings: map(1000, 0),
        });
      });
    } finally {
      // The host's side is over before the volume is unmounted (withVolume).
      containerDone = true;
      hostFailure = await hostSide.then(() => undefined, (e: unknown) => e);
    }
    if (hostFailure !== undefined) throw hostFailure;
    const [idmLine, seen] = out.trim().split("\n");
    assert.match(idmLine, / \/idm /, `the /idm mount: ${out}`);
    // Neither a peer (shared:) nor a slave (master:) of the host's source mount.
    assert.doesNotMatch(idmLine, /shared:|master:/, `the copy is private: ${idmLine}`);
    assert.equal(seen, "hostsub: 0", "the host's mount under the source did not propagate in");
    assert.deepEqual(
      hostMountsAt(`${dir}/inside`),
      [],
      "the container's mount did not propagate out",
    );
  });
});

Deno.test("idmap: a source whose filesystem cannot be id-mapped fails naming the mount, and nothing is left", async () => {
  const factory = await testFactory();
  const id = uniqueId("idmap-bad");
  const config = await busyboxConfig(["true"], (s) => {
    s.mounts!.push({
      destination: "/kernel",
      type: "bind",
      source: "/sys/kernel", // sysfs takes no id mapping
      options: ["bind", "idmap"],
      uidMappings: map(0, 1000),
      gidMappings: map(0, 1000),
    });
  });
  const c = await factory.create(id, config);
  const failure = await runIn(c).then(() => undefined, (e: unknown) => e);
  await c.destroy();
  assert.ok(failure instanceof ContainerError, `the start must fail: ${failure}`);
  assert.equal(failure.syscall, "mount_setattr");
  assert.equal(failure.errnoName, "EINVAL");
  assert.match(failure.message, /id-mapped copy of \/sys\/kernel for \/kernel: mount_setattr/);
  assert.match(failure.message, /may not take id-mapped mounts/);
  assertNothingLeft(factory, id);
});

Deno.test("idmap: bad mappings and options are refused before anything is made", async () => {
  const factory = await testFactory();
  const cases: [Spec["mounts"], RegExp][] = [
    [
      [{ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["idmap"] }],
      /mounts\[\d+\]\.options\[0\]: "idmap" is only for bind mounts/,
    ],
    [
      [{
        destination: "/b",
        type: "bind",
        source: "/tmp",
        options: ["bind"],
        uidMappings: map(0, 1),
      }],
      /mounts\[\d+\]\.gidMappings: required with uidMappings/,
    ],
    [
      [{ destination: "/b", type: "bind", source: "/tmp", options: ["bind", "ridmap"] }],
      /mounts\[\d+\]\.options\[1\]: "ridmap" without uidMappings and gidMappings .* no user namespace/,
    ],
    [
      [{
        destination: "/b",
        type: "bind",
        source: "/tmp",
        options: ["bind"],
        uidMappings: [...map(0, 1000, 10), ...map(5, 2000, 10)],
        gidMappings: map(0, 1000),
      }],
      /mounts\[\d+\]\.uidMappings\[1\]: overlaps mounts\[\d+\]\.uidMappings\[0\]/,
    ],
  ];
  for (const [mounts, message] of cases) {
    const id = uniqueId("idmap-refused");
    const config = await busyboxConfig(["true"], (s) => s.mounts!.push(...mounts!));
    await assert.rejects(
      () => factory.create(id, config),
      (e: unknown) =>
        e instanceof ContainerError && e.code === "ConfigInvalid" && message.test(e.message),
    );
    assertNothingLeft(factory, id);
  }
});
