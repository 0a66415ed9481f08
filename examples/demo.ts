/**
 * `sudo deno task demo`: runs a shell in cell's built-in sandbox (the host's files
 * read-only, its own /proc, /dev, /tmp, hostname, pid, ipc, uts, mount, cgroup and an
 * empty network namespace) and shows what it sees. Needs no image or download.
 *
 * @module
 */

import { createFactory, sandboxConfig } from "../mod.ts";
import { libraryPath } from "../ffi/library.ts";

const script = [
  'echo "hostname:   $(hostname)"',
  'echo "my pid:     $$"',
  'echo "processes:  $(ls /proc | grep -c "^[0-9]")"',
  'echo "network:    $(ls /sys/class/net | tr "\\n" " ")"',
  'echo "uid:        $(id -u)"',
  'if touch /etc/cell-demo 2>/dev/null; then echo "/etc:       writable (unexpected)"; else echo "/etc:       read-only"; fi',
  'echo hello > /tmp/demo && echo "/tmp:       writable, private: $(cat /tmp/demo)"',
  'echo "deno here:  $(stat -c %F "$DENO_PATH")"',
].join("; ");

if (Deno.uid() !== 0) {
  console.error("the demo makes a real container: run it as root (sudo deno task demo)");
  Deno.exit(1);
}

const factory = createFactory({ root: "/run/cell-demo" });
const hide = [Deno.execPath(), libraryPath() ?? ""].filter((p) => p !== "");
const config = sandboxConfig({
  args: ["/bin/sh", "-c", script],
  env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", `DENO_PATH=${Deno.execPath()}`],
  hide,
});
const started = performance.now();
await using box = await factory.create(`demo-${Deno.pid}`, config);
const proc = await box.start({ stdin: "null" });
const status = await proc.status;
console.log(
  `\nexit code ${status.code}; create + run + exit took ${
    (performance.now() - started).toFixed(1)
  } ms`,
);
