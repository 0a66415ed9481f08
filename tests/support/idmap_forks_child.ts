/**
 * Run as a process of its own (under strace) by idmap_mounts_test.ts: creates and runs a
 * container with four id-mapped binds of `SOURCE`, three of one mapping and one of
 * another, and prints the container's stdout (the owner each mount shows of `owned`).
 *
 * usage: deno run -A idmap_forks_child.ts SOURCE ID
 *
 * @module
 */

import { busyboxConfig, runIn, testFactory } from "./fixture.ts";

const [source, id] = Deno.args;
const mapped = (destination: string, containerID: number) => ({
  destination,
  type: "bind",
  source,
  options: ["bind", "idmap"],
  uidMappings: [{ containerID, hostID: 0, size: 1 }],
  gidMappings: [{ containerID, hostID: 0, size: 1 }],
});
const factory = await testFactory();
const config = await busyboxConfig([
  "stat",
  "-c",
  "%u",
  "/a/owned",
  "/b/owned",
  "/c/owned",
  "/d/owned",
], (s) => {
  s.mounts!.push(mapped("/a", 1000), mapped("/b", 1000), mapped("/c", 1000), mapped("/d", 2000));
});
const container = await factory.create(id, config);
try {
  const out = await runIn(container);
  if (out.code !== 0) throw new Error(`the container failed: ${out.stderr}`);
  console.log(out.stdout.trim().split("\n").join(" "));
} finally {
  await container.destroy();
}
