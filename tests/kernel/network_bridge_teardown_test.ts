/**
 * The teardown of a bridge a start made but had not marked yet: removed only when the link of
 * that name has the ifindex recorded right after its RTM_NEWLINK; with another index (a bridge
 * someone else made under that name) or none recorded, it stays.
 */

import assert from "node:assert/strict";
import { ownNetns, teardownNetwork } from "../../src/network/teardown.ts";
import { hostHasLink, ip } from "../support/host_links.ts";

Deno.test("an unmarked bridge is removed only when its name and recorded ifindex both match", () => {
  const name = `cnb${Deno.pid % 1000000}u`;
  ip("link", "add", name, "type", "bridge");
  try {
    const index = Number(ip("-o", "link", "show", "dev", name).split(":")[0]);
    const record = (indexes?: Record<string, number>) => ({
      veths: [],
      bridges: [name],
      unmarkedBridges: [name],
      unmarkedBridgeIndexes: indexes,
      hostNetns: ownNetns(),
    });
    teardownNetwork(record());
    assert.ok(hostHasLink(name), "no index recorded: left (it may be someone else's)");
    teardownNetwork(record({ [name]: index + 1000 }));
    assert.ok(hostHasLink(name), "another index: someone else's bridge, left");
    teardownNetwork(record({ [name]: index }));
    assert.ok(!hostHasLink(name), "name and index match: removed");
  } finally {
    if (hostHasLink(name)) ip("link", "del", name);
  }
});
