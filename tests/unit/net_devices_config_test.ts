/**
 * `linux.netDevices` validation: names as the kernel takes them, `%d` templates for the name
 * inside only, a network namespace of the container's own, no two devices given one name.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import { defaultConfig, type Spec, validateConfig } from "../../src/config/mod.ts";

type Json = Record<string, unknown>;

/** The default config (it has a new network namespace) with `netDevices` and `namespaces`. */
function config(netDevices: unknown, namespaces?: Json[]): Json {
  const spec = JSON.parse(JSON.stringify(defaultConfig({ rootfs: "rootfs" })));
  spec.linux.netDevices = netDevices;
  if (namespaces) spec.linux.namespaces = namespaces;
  return spec;
}

/** The problem lines of an invalid config. */
function problems(input: unknown): string[] {
  try {
    validateConfig(input);
  } catch (e) {
    assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid", String(e));
    return e.message.split("\n").slice(1);
  }
  assert.fail("the config was accepted");
}

function assertProblem(input: unknown, path: string, fragment: string): void {
  const lines = problems(input);
  const hit = lines.find((line) => line.startsWith(`${path}: `) && line.includes(fragment));
  assert.ok(hit, `no problem "${path}: ...${fragment}..." in:\n${lines.join("\n")}`);
}

Deno.test("linux.netDevices: accepted and kept with their new names and templates", () => {
  const spec: Spec = validateConfig(
    config({ "cellnd-a": { name: "eth0" }, "cellnd-b": { name: "net%d" }, "cellnd-c": {} }),
  );
  assert.deepEqual(spec.linux?.netDevices, {
    "cellnd-a": { name: "eth0" },
    "cellnd-b": { name: "net%d" },
    "cellnd-c": {},
  });
  assert.equal(validateConfig(config({})).linux?.netDevices, undefined, "empty: nothing to do");
});

Deno.test("linux.netDevices: names the kernel refuses, each naming its field", () => {
  assertProblem(config({ "": {} }), 'linux.netDevices[""]', "must not be empty");
  assertProblem(
    config({ "a-very-long-name0": {} }),
    `linux.netDevices["a-very-long-name0"]`,
    "longer than 15 bytes",
  );
  assertProblem(config({ "a/b": {} }), 'linux.netDevices["a/b"]', '"/", ":" or white space');
  assertProblem(config({ "eth%d": {} }), 'linux.netDevices["eth%d"]', "for the name inside only");
  assertProblem(config({ "..": {} }), 'linux.netDevices[".."]', "not a name");
  assertProblem(config({ veth0: { name: "a b" } }), "linux.netDevices.veth0.name", "white space");
  assertProblem(config({ veth0: { name: "e%s" } }), "linux.netDevices.veth0.name", 'as "%d"');
  assertProblem(config({ veth0: { name: "e%d%d" } }), "linux.netDevices.veth0.name", "one");
  assertProblem(config({ veth0: { name: 7 } }), "linux.netDevices.veth0.name", "string");
  assertProblem(config({ veth0: "eth0" }), "linux.netDevices.veth0", "must be an object");
  assertProblem(config(["veth0"]), "linux.netDevices", "must be an object");
});

Deno.test("linux.netDevices: one name inside per device, lo taken; templates may repeat", () => {
  assertProblem(
    config({ veth0: { name: "eth0" }, veth1: { name: "eth0" } }),
    "linux.netDevices.veth1.name",
    'also the name of linux.netDevices["veth0"]',
  );
  assertProblem(config({ veth0: { name: "eth0" }, eth0: {} }), "linux.netDevices.eth0", "also");
  assertProblem(config({ veth0: { name: "lo" } }), "linux.netDevices.veth0.name", "loopback");
  validateConfig(config({ veth0: { name: "eth%d" }, veth1: { name: "eth%d" } }));
});

Deno.test("linux.netDevices: needs a network namespace of the container's own", () => {
  assertProblem(
    config({ veth0: {} }, [{ type: "mount" }]),
    "linux.netDevices",
    "needs a network namespace",
  );
  assertProblem(
    config({ veth0: {} }, [{ type: "mount" }, { type: "network", path: "/run/netns/x" }]),
    "linux.netDevices",
    "not the joined /run/netns/x",
  );
});
