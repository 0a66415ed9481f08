/**
 * Boots a kernel and initrd under `qemu-system-x86_64` with TCG (software emulation; KVM
 * is not used), streams the serial console line by line, and kills the VM at a deadline.
 *
 * @module
 */

import { plain } from "./results.ts";
import { which } from "./host.ts";

/** Kernel arguments every boot gets: serial console, pure cgroup v2, no reboot loop. */
export const KERNEL_ARGS: readonly string[] = [
  "console=ttyS0",
  "quiet",
  "panic=-1",
  "rdinit=/init",
  "cgroup_no_v1=all",
  "systemd.unified_cgroup_hierarchy=1",
];

/** Options of {@linkcode boot}. */
export interface BootOptions {
  /** The bzImage. */
  kernel: string;
  /** The initramfs. */
  initrd: string;
  /** Guest memory in MiB (default 4096). */
  memoryMiB?: number;
  /** Guest CPUs (default 2). */
  cpus?: number;
  /** Kill the VM after this many milliseconds. */
  timeoutMs: number;
  /** Extra kernel arguments. */
  append?: readonly string[];
  /** Called with each console line (escape sequences removed), as it arrives. */
  onLine?: (line: string) => void;
}

/** What a boot produced. */
export interface BootResult {
  /** Everything the guest printed on its console, escape sequences removed. */
  output: string;
  /** Whether the deadline killed the VM. */
  timedOut: boolean;
  /** QEMU's exit status (0 after a guest poweroff). */
  code: number;
  /** Wall time from spawning QEMU to its exit, in milliseconds. */
  ms: number;
}

/**
 * Boots the VM and resolves when QEMU exits: the guest powered off, panicked (with
 * `panic=-1` and `-no-reboot` QEMU then exits) or the deadline passed.
 *
 * @throws {Error} If qemu-system-x86_64 is not installed (saying how to install it).
 */
export async function boot(options: BootOptions): Promise<BootResult> {
  const qemu = which("qemu-system-x86_64");
  const args = [
    "-accel",
    "tcg,thread=multi",
    "-cpu",
    "max",
    "-m",
    String(options.memoryMiB ?? 4096),
    "-smp",
    String(options.cpus ?? 2),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-kernel",
    options.kernel,
    "-initrd",
    options.initrd,
    "-append",
    [...KERNEL_ARGS, ...options.append ?? []].join(" "),
  ];
  const started = performance.now();
  const child = new Deno.Command(qemu, { args, stdin: "null", stdout: "piped", stderr: "inherit" })
    .spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const onSignal = () => child.kill("SIGKILL");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const lines: string[] = [];
  let pending = "";
  const emit = (raw: string) => {
    const line = plain(raw);
    lines.push(line);
    options.onLine?.(line);
  };
  try {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        emit(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
    if (pending !== "") emit(pending);
    const status = await child.status;
    return {
      output: lines.join("\n") + "\n",
      timedOut,
      code: status.code,
      ms: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}
