/**
 * Run as a separate Deno process by network_test.ts: creates and starts a container with a
 * `network` option, prints one JSON line with its init's pid, then waits to be killed.
 *
 * usage: deno run -A network_child.ts ROOT ID CONFIG_JSON NETWORK_JSON
 *
 * @module
 */

import { createFactory } from "../../mod.ts";

const [root, id, config, network] = Deno.args;
const factory = createFactory({ root });
const box = await factory.create(id, JSON.parse(config), { network: JSON.parse(network) });
const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
console.log(JSON.stringify({ pid: init.pid }));
await new Promise(() => {}); // until SIGKILL
