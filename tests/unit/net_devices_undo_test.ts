/**
 * The undo of `linux.netDevices`, the pure parts: which link inside is a moved device (never
 * the namespace's own link that has a device's host ifindex), and the hex the record keeps
 * addresses in.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/mod.ts";
import { decodeHex, encodeHex } from "../../src/network/hex.ts";
import { parseState, serializeState } from "../../src/state/parse.ts";
import {
  findMovedLink,
  moveBackBeforeKill,
  moveNetDevicesBack,
} from "../../src/network/net_devices_undo.ts";
import { ownNetns } from "../../src/network/teardown.ts";
import { ContainerError } from "../../mod.ts";
import type { MovedDevice } from "../../src/network/options.ts";
import type { LinkInfo } from "../../src/network/rtnetlink.ts";

const link = (index: number, name: string): LinkInfo => ({ index, name, flags: 0, attributes: [] });
const device = (index: number, target: string): MovedDevice => ({
  host: "hostdev",
  index,
  target,
  up: true,
  addresses: [],
});

Deno.test("a moved device is found by its ifindex and new name, a plain name by name alone", () => {
  const inside = [link(1, "lo"), link(7, "eth0"), link(9, "nd12"), link(12, "other")];
  assert.equal(findMovedLink(inside, device(7, "eth0"))?.index, 7);
  assert.equal(findMovedLink(inside, device(9, "nd%d"))?.name, "nd12", "a template, numbered");
  // The kernel gave it another ifindex (its own was taken inside): a plain name still finds it.
  assert.equal(findMovedLink(inside, device(30, "eth0"))?.index, 7);
});

Deno.test("the namespace's own link with a device's host ifindex is not taken for it", () => {
  const inside = [link(1, "lo"), link(12, "other")];
  // The host's lo (index 1) was refused; the container's lo has index 1 too.
  assert.equal(findMovedLink(inside, device(1, "hostlo")), undefined);
  assert.equal(findMovedLink(inside, device(12, "nd%d")), undefined, "not a name of the template");
  assert.equal(findMovedLink(inside, device(12, "x.y")), undefined);
  assert.equal(findMovedLink([link(12, "xzy")], device(12, "x.y")), undefined, "dots are literal");
});

Deno.test("a device moved under a temporary name is found by what was recorded, never the network option's veth", () => {
  const base = { ...device(2, "eth1"), temp: "cmvab122" };
  // The network option's veth eth0 was born inside with index 2, the device's host index.
  const veth = link(2, "eth0");
  assert.equal(findMovedLink([link(1, "lo"), veth, link(3, "cmvab122")], base)?.index, 3);
  // Moved, found (its inside index recorded), renamed, final name not yet recorded.
  const found = { ...base, insideIndex: 3 };
  assert.equal(findMovedLink([link(1, "lo"), veth, link(3, "eth1")], found)?.index, 3);
  // A rename that clashed: the asked name is the veth's; the device is still under its temp.
  const clash = { ...base, target: "eth0" };
  assert.equal(findMovedLink([link(1, "lo"), veth, link(3, "cmvab122")], clash)?.index, 3);
  assert.equal(findMovedLink([link(1, "lo"), veth], clash), undefined, "never the veth");
  const template = { ...base, target: "nd%d", insideIndex: 3, final: "nd4" };
  assert.equal(findMovedLink([veth, link(3, "nd4")], template)?.name, "nd4");
  assert.equal(findMovedLink([veth, link(3, "zz")], template), undefined, "index reused");
});

Deno.test("addresses are kept as hex and read back byte for byte", () => {
  const bytes = new Uint8Array([0, 1, 0x7f, 0x80, 0xff, 10, 215]);
  assert.equal(encodeHex(bytes), "00017f80ff0ad7");
  assert.deepEqual(decodeHex(encodeHex(bytes)), bytes);
  assert.throws(() => decodeHex("abc"), RangeError);
  assert.throws(() => decodeHex("zz"), RangeError);
});

Deno.test("state: a network record with moves, the host netns and unmarked bridges round-trips; bad ones are refused", () => {
  const networkMade = {
    veths: [{ hostName: "vh0", index: 40, name: "eth1" }],
    bridges: ["br0"],
    unmarkedBridges: ["br0"],
    hostNetns: { dev: 4, ino: 4026531840 },
    movedDevices: {
      init: { pid: 123, startTime: 456 },
      devices: [{ host: "hostdev", index: 9, target: "nd%d", up: false, addresses: ["0a18"] }],
    },
  };
  const state = {
    version: 1 as const,
    id: "web",
    config: defaultConfig({ rootfs: "/r" }),
    created: "2026-12-05T00:00:00Z",
    init: null,
    cgroup: { mode: "v2" as const, paths: {}, roots: {}, created: [] },
    networkMade,
  };
  const text = serializeState(state);
  assert.deepEqual(parseState(text, "web", "state.json").networkMade, networkMade);
  for (
    const [from, to] of [['"0a18"', '"0a1"'], ['"up":false', '"up":0'], [
      '"ino":',
      '"ino":"x","i":',
    ]]
  ) {
    assert.throws(
      () => parseState(text.replace(from, to), "web", "state.json"),
      /the field "networkMade" is invalid/,
      `${from} -> ${to}`,
    );
  }
});

Deno.test("devices are not moved back into another network namespace than the one they came from", () => {
  const here = ownNetns();
  const elsewhere = { dev: here.dev, ino: here.ino + 1 };
  const refused = (e: unknown) =>
    e instanceof ContainerError && e.code === "SystemError" &&
    e.message.includes("made in another network namespace") &&
    e.message.includes("netDevices are not moved back");
  // Refused before the namespace fd (here none) is used.
  assert.throws(() => moveNetDevicesBack([device(9, "eth1")], -1, elsewhere), refused);
  const record = {
    veths: [],
    bridges: [],
    hostNetns: elsewhere,
    movedDevices: { init: { pid: 1, startTime: 0 }, devices: [device(9, "eth1")] },
  };
  // destroy's step before the kill throws, so the state is kept for a destroy from there.
  assert.throws(() => moveBackBeforeKill(record, null), refused);
  moveBackBeforeKill(record, { pid: 1, startTime: 0 }); // an init recorded: nothing to do
});
