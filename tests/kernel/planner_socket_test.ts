/**
 * The socket calls the planner serves with (src/syscalls.ts over libcell): a 0600
 * listener, accept with the peer's uid, frames with fds both ways, EOF, a body over the
 * limit, and shutdown waking a blocked accept.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acceptPeer,
  close,
  listenUnix,
  pipe,
  readFd,
  recvFrame,
  sendFrame,
  shutdownSocket,
  unixConnect,
  writeFd,
} from "../../src/syscalls.ts";
import { ContainerError } from "../../src/errors.ts";

/** A listener in a fresh 0700 directory, removed afterwards. */
async function withListener(
  fn: (path: string, listener: number) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cell-planner-socket-" });
  const path = join(dir, "planner.sock");
  const listener = listenUnix(path);
  try {
    await fn(path, listener);
  } finally {
    close(listener);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fails the test instead of hanging when a promise does not settle in time. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

Deno.test("listenUnix makes a 0600 socket; acceptPeer gives the peer's uid", async () => {
  await withListener(async (path, listener) => {
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    const accepted = acceptPeer(listener);
    const client = unixConnect(path);
    const peer = await within(5000, "accept", accepted);
    assert.ok(peer);
    assert.equal(peer.uid, Deno.uid());
    close(peer.fd);
    close(client);
  });
});

Deno.test("a frame with a body and fds goes both ways; EOF before a header is null", async () => {
  await withListener(async (path, listener) => {
    const accepted = acceptPeer(listener);
    const client = unixConnect(path);
    const peer = (await within(5000, "accept", accepted))!;
    const [r, w] = pipe();
    try {
      sendFrame(client, 1, new TextEncoder().encode("hello"), [w]);
      const got = (await within(5000, "recvFrame", recvFrame(peer.fd)))!;
      assert.equal(got.kind, 1);
      assert.equal(new TextDecoder().decode(got.body), "hello");
      assert.equal(got.fds.length, 1);
      assert.notEqual(got.fds[0], w);
      writeFd(got.fds[0], "x"); // the received fd is the same pipe
      close(got.fds[0]);
      assert.equal(new TextDecoder().decode(readFd(r, 8)!), "x");

      sendFrame(peer.fd, 10, new Uint8Array());
      const empty = (await within(5000, "recvFrame", recvFrame(client)))!;
      assert.deepEqual([empty.kind, empty.body.length, empty.fds.length], [10, 0, 0]);

      close(client);
      assert.equal(await within(5000, "recvFrame at EOF", recvFrame(peer.fd)), null);
    } finally {
      close(r);
      close(w);
      close(peer.fd);
    }
  });
});

Deno.test("a body over maxBody throws EMSGSIZE", async () => {
  await withListener(async (path, listener) => {
    const accepted = acceptPeer(listener);
    const client = unixConnect(path);
    const peer = (await within(5000, "accept", accepted))!;
    try {
      sendFrame(client, 2, new Uint8Array(100));
      await assert.rejects(
        within(5000, "recvFrame", recvFrame(peer.fd, 10)),
        (e) => e instanceof ContainerError && e.errnoName === "EMSGSIZE",
      );
    } finally {
      close(client);
      close(peer.fd);
    }
  });
});

Deno.test("shutdownSocket wakes a blocked acceptPeer, which gives null", async () => {
  await withListener(async (_path, listener) => {
    const accepted = acceptPeer(listener);
    await new Promise((resolve) => setTimeout(resolve, 50));
    shutdownSocket(listener);
    assert.equal(await within(5000, "accept after shutdown", accepted), null);
  });
});
