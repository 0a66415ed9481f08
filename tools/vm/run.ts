/**
 * `deno task test:vm`: runs Deno test files as root inside a pure cgroup v2 guest, Debian's
 * kernel booted under QEMU with TCG, and exits with the guest run's status.
 *
 * Usage: `deno task test:vm [--timeout=SECONDS] [--memory=MIB] [deno test flags] [paths...]`
 *
 * Paths are files or directories in the repository (default `tests/v2/`). Other `--flags`
 * go to `deno test` in the guest, which always gets `-A --no-check` (type checking is the
 * host's job and is slow under emulation); give flag values with `=` (`--filter=cgroup`).
 * Builds libcell when stale, downloads the kernel and builds the initramfs base layer
 * when missing or stale (see tools/vm/kernel.ts, tools/vm/initramfs.ts), and ends with a
 * plain `vm: N passed, M failed` line.
 *
 * @module
 */

import { isAbsolute, join, relative, resolve } from "node:path";
import { ensureBuilt } from "../build.ts";
import { CACHE_DIR, REPO_ROOT, which } from "./host.ts";
import { ensureAssets } from "./assets.ts";
import { buildInitrd } from "./initramfs.ts";
import { boot } from "./qemu.ts";
import { type GuestResult, parseGuestOutput, passed } from "./results.ts";

/** The tests run when no path is given. */
const DEFAULT_PATHS = ["tests/v2/"];

/** Default deadline for the whole boot, tests included. */
const DEFAULT_TIMEOUT_S = 720;

/** Parsed command line of the runner. */
interface Options {
  timeoutS: number;
  memoryMiB: number;
  denoFlags: string[];
  paths: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    timeoutS: DEFAULT_TIMEOUT_S,
    memoryMiB: 4096,
    denoFlags: [],
    paths: [],
  };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s, 2);
    if (flag === "--timeout") options.timeoutS = positive(flag, value);
    else if (flag === "--memory") options.memoryMiB = positive(flag, value);
    else if (arg.startsWith("-")) options.denoFlags.push(arg);
    else options.paths.push(arg);
  }
  return options;
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
  return n;
}

/** The paths as the guest sees them (relative to the repo), checked to exist and hold tests. */
function guestPaths(paths: readonly string[]): string[] {
  const base = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const out: string[] = [];
  for (const path of paths.length > 0 ? paths : DEFAULT_PATHS) {
    const abs = resolve(paths.length > 0 ? base : REPO_ROOT, path);
    const rel = relative(REPO_ROOT, abs);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new Error(`${path} is outside the repository (${REPO_ROOT})`);
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(abs);
    } catch {
      throw new Error(`${path} does not exist`);
    }
    if (info.isDirectory && !hasTests(abs)) throw new Error(`${path} holds no *_test.ts file`);
    out.push(rel === "" ? "." : rel);
  }
  return out;
}

function hasTests(dir: string): boolean {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && /[._]test\.(ts|tsx|js|mjs)$/.test(entry.name)) return true;
    if (entry.isDirectory && hasTests(join(dir, entry.name))) return true;
  }
  return false;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function report(result: GuestResult, timedOut: boolean, timeoutS: number): string {
  if (timedOut) return `the VM did not finish within ${timeoutS} s (raise it with --timeout=)`;
  if (result.setupError) return `the guest's /init failed: ${result.setupError}`;
  if (result.beganAt === undefined) return "the guest never started the tests (see above)";
  if (!result.finished) return "the guest stopped before the tests ended (crash or panic?)";
  if (!result.summary) return `deno exited ${result.exit} without a test summary`;
  return `deno test exited ${result.exit}`;
}

async function main(): Promise<number> {
  const options = parseArgs(Deno.args);
  const paths = guestPaths(options.paths);
  which("qemu-system-x86_64");

  let t = performance.now();
  await ensureBuilt();
  const buildMs = performance.now() - t;
  t = performance.now();
  const { kernel, baseLayer } = await ensureAssets();
  const assetsMs = performance.now() - t;

  await Deno.mkdir(CACHE_DIR, { recursive: true });
  const initrd = await Deno.makeTempFile({ dir: CACHE_DIR, prefix: "initrd-", suffix: ".img" });
  try {
    const denoArgs = ["test", "-A", "--no-check", ...options.denoFlags, ...paths];
    t = performance.now();
    // The guest says what every process waits on 30 s before the host gives up on it.
    await buildInitrd(initrd, baseLayer, denoArgs, Math.max(10, options.timeoutS - 30));
    console.error(
      `vm: kernel ${kernel.release}; libcell build ${seconds(buildMs)}, ` +
        `assets ${seconds(assetsMs)}, initrd ${seconds(performance.now() - t)}`,
    );
    console.error(`vm: booting (TCG, ${options.memoryMiB} MiB): deno ${denoArgs.join(" ")}`);
    t = performance.now();
    const run = await boot({
      kernel: kernel.image,
      initrd,
      memoryMiB: options.memoryMiB,
      timeoutMs: options.timeoutS * 1000,
      onLine: (line) => console.log(line),
    });
    const result = parseGuestOutput(run.output);
    const ok = passed(result) && !run.timedOut;
    const timing = result.beganAt !== undefined
      ? `guest boot to tests ${result.beganAt.toFixed(1)} s` +
        (result.endedAt !== undefined
          ? `, tests ${(result.endedAt - result.beganAt).toFixed(1)} s`
          : "")
      : "";
    console.error(`vm: VM ran ${seconds(run.ms)}${timing ? ` (${timing})` : ""}`);
    if (!ok) console.error(`vm: FAILED: ${report(result, run.timedOut, options.timeoutS)}`);
    const passedCount = result.summary?.passed ?? 0;
    const failedCount = result.summary?.failed ?? 0;
    // A run that died before its summary counts as one failure, not as zero tests.
    console.log(`vm: ${passedCount} passed, ${ok ? failedCount : Math.max(failedCount, 1)} failed`);
    return ok ? 0 : 1;
  } finally {
    await Deno.remove(initrd).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`vm: ${e instanceof Error ? e.message : e}`);
    if (e instanceof Deno.errors.PermissionDenied) {
      console.error(`vm: run as root, or set CELL_VM_CACHE to a writable directory`);
    }
    Deno.exit(1);
  }
}
