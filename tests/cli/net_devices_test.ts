/**
 * `linux.netDevices` through the CLI: `features` says it is enabled, a bundle that moves a
 * host veth end into the container runs with it there (renamed, its address kept, up), a
 * missing device fails `create` naming it. Runs in-process and through the door.
 */

import assert from "node:assert/strict";
import { bundle, cell, stateRoot, uid } from "../support/cli.ts";
import { freeTestSubnet, hostHasLink, ip, TestVeths } from "../support/host_links.ts";
import { until } from "../support/fixture.ts";

Deno.test("cli: features has netDevices enabled; run moves a host device in, renamed, with its address", async () => {
  const root = await stateRoot();
  const features = JSON.parse((await cell(root, ["features"])).stdout);
  assert.deepEqual(features.linux.netDevices, { enabled: true });

  using veths = new TestVeths();
  const [end, peer] = veths.pair();
  const octet = freeTestSubnet();
  ip("addr", "add", `10.214.${octet}.5/24`, "dev", end);
  const dir = await bundle(
    ["sh", "-c", "ip -o addr show dev net1; ip -o link show dev net1"],
    (s) => {
      s.linux!.netDevices = { [end]: { name: "net1" } };
    },
  );
  const run = await cell(root, ["run", "--bundle", dir, uid("netdev")]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`net1 +inet 10\\.214\\.${octet}\\.5/24 `), run.stdout);
  assert.match(run.stdout, /: net1@[^:]+: <[^>]*\bUP\b/, run.stdout);
  await until("the veth pair to die with the container", () => !hostHasLink(peer));
  assert.ok(!hostHasLink(end), "not moved back (a veth dies with the namespace)");
});

Deno.test("cli: create with a missing netDevices device fails naming it, nothing left", async () => {
  const root = await stateRoot();
  const missing = `cnd${Deno.pid % 1000000}zz`;
  const dir = await bundle(["true"], (s) => {
    s.linux!.netDevices = { [missing]: {} };
  });
  const id = uid("netdev-missing");
  const created = await cell(root, ["create", "--bundle", dir, id]);
  assert.notEqual(created.code, 0);
  // The error is logged as runc logs it (logfmt: inner quotes escaped).
  assert.match(created.stderr, new RegExp(`no network device \\\\?"${missing}\\\\?" on the host`));
  assert.equal((await cell(root, ["list", "-q"])).stdout, "", "no container left");
});
