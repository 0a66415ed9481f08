/**
 * `linux.netDevices` (runtime-spec 1.3) on the real kernel: veth ends made on the host (this
 * kernel has no `dummy`) are moved into the container, renamed (a plain name and a `%d`
 * template), with their permanent global addresses and up; a link-scope address stays
 * behind; the devices are not moved back, and the veth pairs die with the namespace. A missing
 * device fails the launch naming it, before anything moves.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
  until,
} from "../support/fixture.ts";
import { freeTestSubnet, hostHasLink, ip, TestVeths } from "../support/host_links.ts";

Deno.test("netDevices: host veth ends moved in, renamed (also by %d), addresses kept, up; gone after", async () => {
  using veths = new TestVeths();
  const [first, firstPeer] = veths.pair();
  const [second, secondPeer] = veths.pair();
  const octet = freeTestSubnet();
  ip("addr", "add", `10.214.${octet}.2/24`, "brd", "+", "dev", first);
  ip("addr", "add", `fd00:214:${octet}::2/64`, "dev", first, "nodad");
  // Link scope: not a global address, so not kept (the spec keeps universe scope only).
  ip("addr", "add", `10.214.${octet}.9/32`, "scope", "link", "dev", first);
  ip("addr", "add", `10.214.${octet}.66/24`, "dev", second);
  ip("addr", "add", `10.214.${octet}.70`, "peer", `10.214.${octet}.71/32`, "dev", second);

  const factory = await testFactory();
  const id = uniqueId("netdev");
  const box = await factory.create(
    id,
    await busyboxConfig(["sleep", "60"], (s) => {
      s.linux!.netDevices = { [first]: { name: "eth0" }, [second]: { name: "nd%d" } };
    }),
  );
  try {
    // The library's create records the container; its init (and the move) comes with start.
    await box.start({ stdin: "null" });
    assert.ok(!hostHasLink(first) && !hostHasLink(second), "both ends left the host");
    assert.ok(hostHasLink(firstPeer) && hostHasLink(secondPeer), "their peers stay");
    const out = await runIn(box, { args: ["sh", "-c", "ip -o link; ip -o addr"] });
    assert.equal(out.code, 0, out.stderr);
    const line = (re: RegExp) => out.stdout.split("\n").filter((l) => re.test(l)).join("\n");
    assert.match(line(/: eth0[@:]/), /<[^>]*\bUP\b[^>]*>/, `eth0 is up:\n${out.stdout}`);
    assert.match(line(/: nd0[@:]/), /<[^>]*\bUP\b[^>]*>/, `nd%d became nd0, up:\n${out.stdout}`);
    // Kept as they were: the broadcast, the peer.
    assert.match(
      line(/ eth0 +inet /),
      new RegExp(`inet 10\\.214\\.${octet}\\.2/24 brd 10\\.214\\.${octet}\\.255 `),
    );
    assert.match(line(/ eth0 +inet6 /), new RegExp(`inet6 fd00:214:${octet}::2/64 `));
    assert.doesNotMatch(out.stdout, new RegExp(`10\\.214\\.${octet}\\.9/`), "link scope: left");
    assert.match(line(/ nd0 +inet /), new RegExp(`inet 10\\.214\\.${octet}\\.66/24 `));
    assert.match(
      line(/ nd0 +inet /),
      new RegExp(`inet 10\\.214\\.${octet}\\.70 peer 10\\.214\\.${octet}\\.71/32 `),
    );
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
  // Not moved back: the namespace took the veth ends, and their peers die with them.
  await until(
    "the veth pairs to die with the container's namespace",
    () => ![first, second, firstPeer, secondPeer].some(hostHasLink),
  );
});

Deno.test("netDevices: a missing host device fails the launch naming it, and nothing moves", async () => {
  using veths = new TestVeths();
  const [present] = veths.pair();
  const octet = freeTestSubnet();
  ip("addr", "add", `10.214.${octet}.3/24`, "dev", present);
  const missing = `cnd${Deno.pid % 1000000}zz`;
  const factory = await testFactory();
  const id = uniqueId("netdev-missing");
  const box = await factory.create(
    id,
    await busyboxConfig(["true"], (s) => {
      s.linux!.netDevices = { [present]: { name: "eth0" }, [missing]: {} };
    }),
  );
  await assert.rejects(
    () => box.start({ stdin: "null" }),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      e.message.includes(`linux.netDevices["${missing}"]: no network device "${missing}"`),
  );
  await box.destroy();
  assertNothingLeft(factory, id);
  assert.ok(hostHasLink(present), "the device that exists stayed on the host");
  assert.match(ip("-o", "addr", "show", "dev", present), new RegExp(`10\\.214\\.${octet}\\.3/24`));
});

Deno.test("netDevices: a move the kernel refuses fails the launch naming the device and its words", async () => {
  using veths = new TestVeths();
  const [end, peer] = veths.pair();
  const factory = await testFactory();
  const id = uniqueId("netdev-refused");
  // The host's lo cannot leave its namespace; it comes after a device that can.
  const box = await factory.create(
    id,
    await busyboxConfig(["true"], (s) => {
      s.linux!.netDevices = { [end]: { name: "eth0" }, lo: { name: "hostlo" } };
    }),
  );
  await assert.rejects(
    () => box.start({ stdin: "null" }),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "SystemError" &&
      e.message.includes('linux.netDevices: cannot move "lo" into the container as "hostlo"') &&
      e.errnoName === "EINVAL" && /: EINVAL \(.+\)$/.test(e.message),
  );
  await box.destroy();
  assertNothingLeft(factory, id);
  assert.ok(hostHasLink("lo"), "the host keeps its loopback");
  // The veth end moved before the refusal is moved back (a failed start leaves the host as
  // it was), and its peer lives.
  assert.ok(hostHasLink(end) && hostHasLink(peer), "the moved end is back on the host");
});

/**
 * Starts a container that moves a host veth end (up, with an address) in and fails after the
 * move as `failing` makes it; the end must be back on the host under its name, with its
 * address and up, its peer alive.
 */
async function assertMovedBackAfter(
  name: string,
  failing: (spec: Parameters<Parameters<typeof busyboxConfig>[1] & object>[0]) => void,
  args: string[],
): Promise<void> {
  using veths = new TestVeths();
  const [end, peer] = veths.pair();
  const octet = freeTestSubnet("10.215");
  ip("addr", "add", `10.215.${octet}.2/24`, "dev", end);
  ip("link", "set", end, "up");
  const factory = await testFactory();
  const id = uniqueId(name);
  const box = await factory.create(
    id,
    await busyboxConfig(args, (s) => {
      s.linux!.netDevices = { [end]: { name: "eth0" } };
      failing(s);
    }),
  );
  await assert.rejects(() => box.start({ stdin: "null" }));
  try {
    assert.ok(hostHasLink(end), `"${end}" is back on the host under its name`);
    assert.ok(hostHasLink(peer), "its peer lives");
    const shown = ip("-o", "addr", "show", "dev", end);
    assert.match(shown, new RegExp(`inet 10\\.215\\.${octet}\\.2/24 `), "with its address");
    assert.match(ip("-o", "link", "show", "dev", end), /<[^>]*\bUP\b[^>]*>/, "and up again");
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
}

Deno.test("netDevices: a start failing at a prestart hook moves the device back, named, addressed, up", async () => {
  await assertMovedBackAfter("netdev-hookfail", (s) => {
    s.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "exit 1"] }] };
  }, ["true"]);
});

Deno.test("netDevices: a start failing at the exec moves the device back", async () => {
  await assertMovedBackAfter("netdev-execfail", () => {}, ["/no/such/program-cell"]);
});
