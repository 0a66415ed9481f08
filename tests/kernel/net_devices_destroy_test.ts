/**
 * `linux.netDevices` moved back by destroy after a start cut short by a SIGKILL of the runtime:
 * the state records the moves and no init. The paused init dies with a runtime, so the test
 * holds the namespace itself (`unshare -n sleep`, its own process) and records that process
 * as the init; destroy (and destroy of a damaged state's remnants) must move the device back
 * under its host name, with its address, up, before its kill.
 */

import assert from "node:assert/strict";
import { encodeHex } from "../../src/network/hex.ts";
import { NetlinkSocket } from "../../src/network/netlink_socket.ts";
import { dumpAddressesRequest, parseAddress } from "../../src/network/rtnetlink.ts";
import { ownNetns } from "../../src/network/teardown.ts";
import { identify } from "../../src/state/identity.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  testFactory,
  uniqueId,
  until,
} from "../support/fixture.ts";
import { freeTestSubnet, hostHasLink, ip, TestVeths } from "../support/host_links.ts";

async function assertDestroyMovesBack(name: string, damage: boolean): Promise<void> {
  using veths = new TestVeths();
  const [end, peer] = veths.pair();
  const octet = freeTestSubnet("10.216");
  ip("addr", "add", `10.216.${octet}.2/24`, "dev", end);
  ip("link", "set", end, "up");
  const index = Number(ip("-o", "link", "show", "dev", end).split(":")[0]);
  const addresses = (() => {
    using host = NetlinkSocket.open();
    return host.mustRequest(dumpAddressesRequest(), "list addresses")
      .filter((m) => parseAddress(m).index === index).map((m) => encodeHex(m.payload));
  })();
  assert.equal(addresses.length, 1, "the end has its one address");

  const holder = new Deno.Command("unshare", { args: ["-n", "sleep", "30"], stdin: "null" })
    .spawn();
  try {
    const host = Deno.statSync("/proc/self/ns/net").ino;
    await until(
      "the holder to be in its own network namespace",
      () => {
        try {
          return Deno.statSync(`/proc/${holder.pid}/ns/net`).ino !== host;
        } catch {
          return false;
        }
      },
    );
    const init = identify(holder.pid);
    assert.ok(init, "the holder lives");
    ip("link", "set", end, "netns", String(holder.pid));
    assert.ok(!hostHasLink(end), "the end left the host");

    const factory = await testFactory();
    const id = uniqueId(name);
    await factory.create(id, await busyboxConfig(["true"]));
    const file = `${factory.root}/${id}/state.json`;
    const state = JSON.parse(Deno.readTextFileSync(file));
    assert.equal(state.init ?? null, null, "created, no init");
    // As a start killed after the move (its rename inside not yet recorded) leaves it.
    state.networkMade = {
      veths: [],
      bridges: [],
      hostNetns: ownNetns(),
      movedDevices: {
        init,
        devices: [{ host: end, index, target: "eth0", temp: end, up: true, addresses }],
      },
    };
    if (damage) delete state.config;
    Deno.writeTextFileSync(file, JSON.stringify(state));

    const box = await factory.load(id).catch(() => undefined);
    assert.equal(box === undefined, damage, "a damaged state does not load");
    if (box) await box.destroy();
    else await factory.destroy(id);

    assert.ok(hostHasLink(end), `"${end}" is back on the host under its name`);
    assert.match(
      ip("-o", "addr", "show", "dev", end),
      new RegExp(`inet 10\\.216\\.${octet}\\.2/24 `),
      "with its address",
    );
    assert.match(ip("-o", "link", "show", "dev", end), /<[^>]*\bUP\b[^>]*>/, "and up");
    assert.ok(hostHasLink(peer), "its peer lives");
    assertNothingLeft(factory, id);
  } finally {
    try {
      holder.kill("SIGKILL");
    } catch {
      // already gone
    }
    await holder.status;
  }
}

Deno.test("netDevices: destroy after a SIGKILLed start moves the device back from the paused init's namespace", async () => {
  await assertDestroyMovesBack("netdev-killed", false);
});

Deno.test("netDevices: destroy of a damaged state's remnants moves the device back too", async () => {
  await assertDestroyMovesBack("netdev-damaged", true);
});
