/**
 * Run as a separate Deno process by container_test.ts: loads a container another
 * process created and acts on it. Prints one JSON line with what it saw.
 *
 * usage: deno run -A second_process.ts ROOT ID
 *
 * @module
 */

import { createFactory } from "../../mod.ts";

const [root, id] = Deno.args;
const factory = createFactory({ root });
const container = await factory.load(id);
const before = await container.status();
const pids = await container.processes();
const exec = await container.start({
  args: ["cat", "/proc/self/cgroup"],
  stdin: "null",
  stdout: "piped",
});
const out = await exec.output();
await container.signal("SIGUSR1");
await container.destroy();
console.log(JSON.stringify({
  before,
  pids,
  execCode: out.code,
  execOut: new TextDecoder().decode(out.stdout),
  after: await container.status(),
  ids: await factory.list(),
}));
