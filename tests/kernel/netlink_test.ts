/**
 * The native netlink primitive (`cell_netlink_open` / `cell_netlink_call`): a socket made in a
 * network namespace the test made answers for that namespace, and a refusal comes back as a
 * value with its errno and the kernel's extended-ack message.
 */

import assert from "node:assert/strict";
import { encodeMessage, parseMessages } from "../../src/network/netlink_message.ts";
import { NetlinkSocket } from "../../src/network/netlink_socket.ts";
import {
  dumpLinksRequest,
  getLinkRequest,
  newLinkRequest,
  newVethRequest,
  parseLink,
  RTM,
} from "../../src/network/rtnetlink.ts";
import { netlinkCall } from "../../src/syscalls.ts";

/** A process alone in a new network namespace, killed at the end. */
async function privateNetns(): Promise<{ pid: number; [Symbol.asyncDispose](): Promise<void> }> {
  const child = new Deno.Command("unshare", {
    args: ["-n", "sleep", "60"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = Date.now() + 10_000;
  // unshare execs sleep once the namespace is made: wait until the pid's netns differs.
  const own = Deno.readLinkSync("/proc/self/ns/net");
  while (Date.now() < deadline) {
    try {
      if (Deno.readLinkSync(`/proc/${child.pid}/ns/net`) !== own) break;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.notEqual(
    Deno.readLinkSync(`/proc/${child.pid}/ns/net`),
    own,
    "`unshare -n` (util-linux) made no network namespace within 10 s",
  );
  return {
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await child.stderr.cancel();
    },
  };
}

Deno.test("a netlink socket made in another netns lists that namespace's links only", async () => {
  await using ns = await privateNetns();
  const before = Deno.readLinkSync("/proc/thread-self/ns/net");
  using socket = NetlinkSocket.openIn(`/proc/${ns.pid}/ns/net`);
  assert.equal(Deno.readLinkSync("/proc/thread-self/ns/net"), before, "this thread stayed home");
  const { ack, messages } = socket.request(dumpLinksRequest());
  assert.equal(ack.errno, 0);
  const links = messages.filter((m) => m.type === RTM.NEWLINK).map(parseLink);
  assert.deepEqual(links.map((l) => l.name), ["lo"], "a new namespace has only lo");
  assert.equal(links[0].index, 1);

  // The host's own socket sees the host's links, which are more than lo.
  using home = NetlinkSocket.open();
  const hostLinks = home.mustRequest(dumpLinksRequest(), "dump links").map(parseLink);
  assert.ok(hostLinks.length > 1, `host links: ${hostLinks.map((l) => l.name)}`);
});

Deno.test("a refused netlink request returns its errno and the kernel's message", async () => {
  await using ns = await privateNetns();
  using socket = NetlinkSocket.openIn(`/proc/${ns.pid}/ns/net`);
  const { ack, messages } = socket.request(
    newLinkRequest("cell-no-such-kind", { name: "cellbad0" }),
  );
  assert.equal(messages.length, 0);
  assert.equal(ack.errno, 95, `EOPNOTSUPP, got ${ack.errno}`);
  assert.equal(ack.message, "Unknown device type");
  const after = socket.mustRequest(dumpLinksRequest(), "dump links").map(parseLink);
  assert.deepEqual(after.map((l) => l.name), ["lo"], "nothing was made");
});

Deno.test("a netlink socket cannot be opened in a namespace fd that is not one", () => {
  assert.throws(
    () => NetlinkSocket.openIn("/proc/self/cmdline"),
    (e: unknown) => e instanceof Error && "errno" in e && e.errno === 22,
  );
});

Deno.test("replies too big for the buffer: ENOBUFS, and the socket stays usable", async () => {
  await using ns = await privateNetns();
  using socket = NetlinkSocket.openIn(`/proc/${ns.pid}/ns/net`);
  for (let i = 0; i < 40; i++) {
    socket.mustRequest(newVethRequest({ name: `va${i}` }, { name: `vb${i}` }), `veth ${i}`);
  }
  // 81 links with their counters are well over 40 KB (and a kernel datagram is at most 32 KiB).
  assert.throws(
    () => netlinkCall(socket.fd, encodeMessage(dumpLinksRequest(), 4242), 40_000),
    (e: unknown) => e instanceof Error && "errnoName" in e && e.errnoName === "ENOBUFS",
  );
  // The rest of that dump was read to its end: a new dump is not refused (EBUSY).
  const all = socket.mustRequest(dumpLinksRequest(), "dump links").map(parseLink);
  assert.equal(all.length, 81);
  const one = parseMessages(
    netlinkCall(socket.fd, encodeMessage(getLinkRequest("va7"), 4243), 65536),
  );
  assert.equal(parseLink(one[0]).name, "va7");
});

Deno.test("a datagram larger than the whole buffer: ENOBUFS at once, and the socket stays usable", async () => {
  await using ns = await privateNetns();
  using socket = NetlinkSocket.openIn(`/proc/${ns.pid}/ns/net`);
  for (let i = 0; i < 40; i++) {
    socket.mustRequest(newVethRequest({ name: `vc${i}` }, { name: `vd${i}` }), `veth ${i}`);
  }
  // One link with its counters is over 1 KB: every datagram of the dump is larger than the
  // buffer, so none can be read whole (nor its NLMSG_DONE seen).
  const started = Date.now();
  assert.throws(
    () => netlinkCall(socket.fd, encodeMessage(dumpLinksRequest(), 4244), 512),
    (e: unknown) => e instanceof Error && "errnoName" in e && e.errnoName === "ENOBUFS",
  );
  const took = Date.now() - started;
  assert.ok(took < 3000, `ENOBUFS came at once, not after the receive timeout (${took} ms)`);
  const all = socket.mustRequest(dumpLinksRequest(), "dump links").map(parseLink);
  assert.equal(all.length, 81, "the cut dump was drained: a new one is not refused");
});
