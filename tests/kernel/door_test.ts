/**
 * The front door (zig-out/bin/cell, docs/planner.md) against a planner played by this
 * test with the frame calls of src/syscalls.ts: HELLO and its fds, FDS, SPAWN, WAIT with
 * a forwarded signal, EXIT; a planner that ends mid-call; and the in-process paths
 * (FALLBACK, no planner, turned off, closed stdin) through a fake `cell-deno` that
 * records how it was run. Runs as root.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePlan } from "../../ffi/plan_encoder.ts";
import { decodeSpawnResult, SpawnStatus } from "../../ffi/abi.ts";
import {
  acceptPeer,
  close,
  epollAdd,
  epollCreate,
  epollWait,
  listenUnix,
  pipe,
  readFd,
  recvFrame,
  sendFrame,
  shutdownSocket,
} from "../../src/syscalls.ts";
import { Kind } from "../../src/planner/protocol.ts";
import { exists } from "../support/fixture.ts";

const DOOR = fileURLToPath(new URL("../../zig-out/bin/cell", import.meta.url));

/** The fake `cell-deno`: records its arguments, CELL_ARGV0, fd 0 and, as a planner, its session. */
const FAKE_DENO = `#!/bin/sh
if [ "$3" = planner ]; then
  out="$DOOR_TEST_OUT/planner"
  sid=$(cut -d' ' -f6 /proc/$$/stat)
  printf '%s\\n' "args=$*" "fd0=$(readlink /proc/$$/fd/0)" "sid=$sid" > "$out.tmp"
  mv "$out.tmp" "$out"
  exit 0
fi
printf '%s\\n' "args=$*" "argv0=$CELL_ARGV0" "fd0=$(readlink /proc/$$/fd/0)" > "$DOOR_TEST_OUT/in-process"
`;

/** Fails the test instead of hanging when a promise does not settle in time. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function u32(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => view.setInt32(4 * i, v, true));
  return new Uint8Array(view.buffer);
}

function words(body: Uint8Array): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return Array.from({ length: body.length / 4 }, (_, i) => view.getInt32(4 * i, true));
}

/** Reads strlists from a HELLO body. */
function strlists(body: Uint8Array, count: number): string[][] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const lists: string[][] = [];
  let at = 0;
  for (let l = 0; l < count; l++) {
    const n = view.getUint32(at, true);
    at += 4;
    const list: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = view.getUint32(at, true);
      list.push(new TextDecoder().decode(body.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    lists.push(list);
  }
  assert.equal(at, body.length, "HELLO has exactly four strlists");
  return lists;
}

/** An install prefix: bin/cell (a copy of the door), lib/cell/cell-deno (fake), cell.hash. */
interface Fixture {
  dir: string;
  root: string;
  door: string;
  out: string;
}

async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  try {
    Deno.statSync(DOOR);
  } catch {
    throw new Error(`${DOOR} is missing: run deno task build`);
  }
  const dir = await Deno.makeTempDir({ prefix: "cell-door-test-" });
  try {
    const f = { dir, root: join(dir, "root"), door: join(dir, "bin/cell"), out: join(dir, "out") };
    for (const d of ["bin", "lib/cell", "root", "out"]) {
      await Deno.mkdir(join(dir, d), { recursive: true });
    }
    await Deno.chmod(f.root, 0o700);
    await Deno.copyFile(DOOR, f.door);
    await Deno.writeTextFile(join(dir, "lib/cell/cell-deno"), FAKE_DENO, { mode: 0o755 });
    await Deno.writeTextFile(join(dir, "lib/cell/cell.hash"), "c0ffee\n");
    await fn(f);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the door through sh (for fd games), stdout and stderr piped. */
function runDoor(
  f: Fixture,
  shellPrefix: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const quoted = args.map((a) => `'${a}'`).join(" ");
  return new Deno.Command("/bin/sh", {
    args: ["-c", `${shellPrefix} exec '${f.door}' ${quoted}`],
    env: { DOOR_TEST_OUT: f.out, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A file the fake cell-deno writes, as key=value lines; waits for it (a planner starts detached). */
async function record(f: Fixture, name: string): Promise<Record<string, string>> {
  const path = join(f.out, name);
  for (let i = 0; i < 100; i++) {
    try {
      const text = await Deno.readTextFile(path);
      return Object.fromEntries(text.trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name}: cell-deno did not run within 5 s`);
}

/** A listening planner socket, then the door started; the conversation gets its connection. */
async function withPlanner(
  f: Fixture,
  start: () => void,
  fn: (conn: number) => Promise<void>,
): Promise<void> {
  const listener = listenUnix(join(f.root, "planner.sock"));
  const accepted = acceptPeer(listener);
  start();
  try {
    const peer = await within(10_000, "the door's connection", accepted);
    assert.ok(peer);
    assert.equal(peer.uid, 0);
    try {
      await fn(peer.fd);
    } finally {
      close(peer.fd);
    }
  } finally {
    shutdownSocket(listener);
    await accepted.catch(() => null);
    close(listener);
  }
}

async function frame(conn: number, kind: number) {
  const got = await within(10_000, `frame ${kind}`, recvFrame(conn));
  assert.ok(got, `the door closed instead of sending frame ${kind}`);
  assert.equal(got.kind, kind);
  return got;
}

/** ACCEPTED, FDS with a pipe's write end, SPAWN of `script` with it as stdout: [pid, read end]. */
async function spawnShell(conn: number, script: string): Promise<[number, number]> {
  sendFrame(conn, Kind.accepted, new Uint8Array());
  const [r, w] = pipe();
  sendFrame(conn, Kind.fds, u32([1]), [w]);
  close(w);
  const [count, number] = words((await frame(conn, Kind.fdNumbers)).body);
  assert.equal(count, 1);
  const plan = encodePlan([
    { op: "args", what: "the process", args: ["/bin/sh", "-c", script] },
    { op: "env", what: "the process", env: ["PATH=/usr/bin:/bin"] },
    { op: "stdio", what: "the process", fds: [-1, number, -1] },
  ]);
  sendFrame(conn, Kind.spawn, plan);
  const spawned = await frame(conn, Kind.spawned);
  const result = decodeSpawnResult(spawned.body);
  assert.equal(result.status, SpawnStatus.ok, JSON.stringify(result.failure));
  assert.ok(result.pid > 0);
  assert.equal(spawned.fds.length, 1, "the child's pidfd comes with SPAWNED");
  spawned.fds.forEach(close);
  return [result.pid, r];
}

Deno.test("through a planner: HELLO, FDS, SPAWN, WAIT, EXIT; the door exits with EXIT's code", async () => {
  await withFixture(async (f) => {
    const preservedFile = join(f.dir, "preserved");
    await Deno.writeTextFile(preservedFile, "the preserved fd 3\n");
    let door!: Deno.ChildProcess;
    await withPlanner(f, () =>
      door = runDoor(f, `exec 3<'${preservedFile}';`, [
        "--root",
        f.root,
        "run",
        "--preserve-fds",
        "1",
        "box",
      ]), async (conn) => {
      const hello = await frame(conn, Kind.hello);
      const [head, args, env, argv0] = strlists(hello.body, 4);
      assert.deepEqual(head, ["cell-planner/1", "c0ffee", Deno.cwd()]);
      assert.deepEqual(args, ["--root", f.root, "run", "--preserve-fds", "1", "box"]);
      assert.ok(env.includes(`DOOR_TEST_OUT=${f.out}`));
      assert.deepEqual(argv0, [f.door]);
      assert.equal(hello.fds.length, 4, "fds 0, 1, 2 and one preserved fd");
      const preserved = new TextDecoder().decode(readFd(hello.fds[3], 256)!);
      assert.equal(preserved, "the preserved fd 3\n");
      hello.fds.forEach(close);

      const [pid, r] = await spawnShell(conn, "echo hi from $$; exit 3");
      try {
        sendFrame(conn, Kind.wait, u32([pid]));
        assert.deepEqual(words((await frame(conn, Kind.exited)).body), [3, 0]);
        assert.equal(new TextDecoder().decode(readFd(r, 64)!), `hi from ${pid}\n`);
      } finally {
        close(r);
      }
      sendFrame(conn, Kind.exit, u32([7]));
    });
    const status = await within(10_000, "the door's exit", door.output());
    assert.equal(status.code, 7, new TextDecoder().decode(status.stderr));
  });
});

Deno.test("a signal to the door during WAIT reaches the process it waits for", async () => {
  await withFixture(async (f) => {
    let door!: Deno.ChildProcess;
    await withPlanner(
      f,
      () => door = runDoor(f, "", ["--root", f.root, "run", "box"]),
      async (conn) => {
        (await frame(conn, Kind.hello)).fds.forEach(close);
        const [pid, r] = await spawnShell(conn, "exec sleep 30");
        close(r);
        sendFrame(conn, Kind.wait, u32([pid]));
        await new Promise((resolve) => setTimeout(resolve, 200));
        door.kill("SIGTERM");
        assert.deepEqual(words((await frame(conn, Kind.exited)).body), [0, 15]);
        sendFrame(conn, Kind.exit, u32([143]));
      },
    );
    assert.equal((await within(10_000, "the door's exit", door.output())).code, 143);
  });
});

Deno.test("a planner that ends after ACCEPTED: the spawned process is killed, the call fails", async () => {
  await withFixture(async (f) => {
    let door!: Deno.ChildProcess;
    let pidfd = -1;
    await withPlanner(
      f,
      () => door = runDoor(f, "", ["--root", f.root, "run", "box"]),
      async (conn) => {
        (await frame(conn, Kind.hello)).fds.forEach(close);
        sendFrame(conn, Kind.accepted, new Uint8Array());
        const plan = encodePlan([{ op: "args", what: "the process", args: ["/bin/sleep", "30"] }]);
        sendFrame(conn, Kind.spawn, plan);
        const spawned = await frame(conn, Kind.spawned);
        pidfd = spawned.fds[0];
      },
    );
    const status = await within(10_000, "the door's exit", door.output());
    assert.equal(status.code, 1);
    assert.match(
      new TextDecoder().decode(status.stderr),
      /^cell: the planner ended during this call \(the socket closed\); nothing more was done\n$/,
    );
    // The pidfd turns readable when the process has ended.
    const ep = epollCreate();
    try {
      epollAdd(ep, pidfd);
      assert.deepEqual(await within(10_000, "epoll", epollWait(ep, 5000)), [pidfd]);
    } finally {
      close(ep);
      close(pidfd);
    }
  });
});

Deno.test("WAIT for a pid the door did not spawn is a protocol error", async () => {
  await withFixture(async (f) => {
    let door!: Deno.ChildProcess;
    await withPlanner(
      f,
      () => door = runDoor(f, "", ["--root", f.root, "state", "box"]),
      async (conn) => {
        (await frame(conn, Kind.hello)).fds.forEach(close);
        sendFrame(conn, Kind.accepted, new Uint8Array());
        sendFrame(conn, Kind.wait, u32([1]));
        assert.equal(await within(10_000, "EOF", recvFrame(conn)), null);
      },
    );
    const status = await within(10_000, "the door's exit", door.output());
    assert.equal(status.code, 1);
    assert.match(new TextDecoder().decode(status.stderr), /did not spawn/);
  });
});

Deno.test("FALLBACK 'stale': a new planner is started and the call runs in-process", async () => {
  await withFixture(async (f) => {
    let door!: Deno.ChildProcess;
    await withPlanner(
      f,
      () => door = runDoor(f, "", ["--root", f.root, "state", "box"]),
      async (conn) => {
        (await frame(conn, Kind.hello)).fds.forEach(close);
        sendFrame(conn, Kind.fallback, new TextEncoder().encode("stale code hash"));
      },
    );
    assert.equal((await within(10_000, "the door's exit", door.output())).code, 0);
    const run = await record(f, "in-process");
    assert.equal(run.args, `--root ${f.root} state box`);
    assert.equal(run.argv0, f.door);
    const planner = await record(f, "planner");
    assert.equal(planner.args, `--root ${f.root} planner`);
    assert.equal(planner.fd0, "/dev/null");
  });
});

Deno.test("no planner: the call runs in-process and a planner starts in a session of its own", async () => {
  await withFixture(async (f) => {
    const door = runDoor(f, "exec 0<&-;", ["--root", f.root, "list"]);
    assert.equal((await within(10_000, "the door's exit", door.output())).code, 0);
    const run = await record(f, "in-process");
    assert.equal(run.args, `--root ${f.root} list`);
    assert.equal(run.fd0, "/dev/null", "a closed stdin becomes /dev/null");
    const planner = await record(f, "planner");
    assert.equal(planner.args, `--root ${f.root} planner`);
    const ourSid = (await Deno.readTextFile("/proc/self/stat")).split(" ")[5];
    assert.notEqual(planner.sid, ourSid);
  });
});

Deno.test("CELL_PLANNER=off and <root>/planner.off: in-process, no planner started", async () => {
  await withFixture(async (f) => {
    const off = runDoor(f, "", ["--root", f.root, "list"], { CELL_PLANNER: "off" });
    assert.equal((await within(10_000, "the door's exit", off.output())).code, 0);
    assert.equal((await record(f, "in-process")).args, `--root ${f.root} list`);
    await Deno.remove(join(f.out, "in-process"));
    await Deno.writeTextFile(join(f.root, "planner.off"), "");
    const file = runDoor(f, "", [`--root=${f.root}`, "state", "x"]);
    assert.equal((await within(10_000, "the door's exit", file.output())).code, 0);
    assert.equal((await record(f, "in-process")).args, `--root=${f.root} state x`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!exists(join(f.out, "planner")), "no planner was started");
  });
});

Deno.test("a SPAWN that fails still gets SPAWNED, with the failure and no pidfd", async () => {
  await withFixture(async (f) => {
    let door!: Deno.ChildProcess;
    await withPlanner(
      f,
      () => door = runDoor(f, "", ["--root", f.root, "run", "box"]),
      async (conn) => {
        (await frame(conn, Kind.hello)).fds.forEach(close);
        sendFrame(conn, Kind.accepted, new Uint8Array());
        const missing = encodePlan([
          { op: "args", what: "the process", args: ["/nonexistent/cell-door-test"] },
        ]);
        sendFrame(conn, Kind.spawn, missing);
        const failed = await frame(conn, Kind.spawned);
        assert.equal(failed.fds.length, 0);
        const result = decodeSpawnResult(failed.body);
        assert.equal(result.status, SpawnStatus.childError);
        assert.equal(result.failure?.syscall, "exec");
        assert.equal(result.failure?.errno, 2);
        sendFrame(conn, Kind.spawn, new TextEncoder().encode("not a plan"));
        const refused = decodeSpawnResult((await frame(conn, Kind.spawned)).body);
        assert.equal(refused.status, SpawnStatus.parentError);
        assert.equal(refused.pid, -1);
        sendFrame(conn, Kind.exit, u32([2]));
      },
    );
    assert.equal((await within(10_000, "the door's exit", door.output())).code, 2);
  });
});
