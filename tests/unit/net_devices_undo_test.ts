/**
 * The undo of `linux.netDevices`, the pure parts: which link inside is a moved device (never
 * the namespace's own link that has a device's host ifindex), and the hex the record keeps
 * addresses in.
 */

import assert from "node:assert/strict";
import { decodeHex, encodeHex } from "../../src/network/hex.ts";
import { findMovedLink } from "../../src/network/net_devices_undo.ts";
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

Deno.test("addresses are kept as hex and read back byte for byte", () => {
  const bytes = new Uint8Array([0, 1, 0x7f, 0x80, 0xff, 10, 215]);
  assert.equal(encodeHex(bytes), "00017f80ff0ad7");
  assert.deepEqual(decodeHex(encodeHex(bytes)), bytes);
  assert.throws(() => decodeHex("abc"), RangeError);
  assert.throws(() => decodeHex("zz"), RangeError);
});
