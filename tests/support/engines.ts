/**
 * Real engines driving cell: podman (with conmon) and containerd (with its runc shim),
 * each with private configuration and state in a temporary directory, and torn down
 * after. They call cell through the script `deno task install` writes, as they would call runc.
 *
 * @module
 */

import { installedCell } from "./cli.ts";
import { busyboxRootfs } from "./rootfs.ts";

const INSTALL = new URL("../../tools/install.ts", import.meta.url).pathname;

/** What one command printed and returned. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; never throws for a non-zero exit. */
export async function sh(
  program: string,
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<Run> {
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  // Bounded: a hung engine fails the test, naming the command, instead of hanging it.
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  const stderr = text.decode(out.stderr) +
    (out.signal === "SIGKILL" ? `\n${program} ${args.join(" ")}: killed after 120 s` : "");
  return { code: out.code, stdout: text.decode(out.stdout), stderr };
}

/** Fails with what to install when an engine's programs are missing. */
export function requirePrograms(names: string[]): void {
  const path = (Deno.env.get("PATH") ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin";
  const missing = names.filter((name) =>
    !path.split(":").some((dir) => {
      try {
        return Deno.statSync(`${dir}/${name}`).isFile;
      } catch {
        return false;
      }
    })
  );
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(", ")} missing: install the engines with sudo tools/setup.sh --with-engines`,
    );
  }
}

/**
 * A temp dir with the `cell` engines call (installed there by `deno task install --prefix`:
 * the bundled CLI behind a script that needs no PATH or HOME), and a busybox rootfs tarball.
 */
export async function workspace(): Promise<{ dir: string; cell: string; rootfsTar: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cell-engines-" });
  const install = await sh(Deno.execPath(), ["run", "-A", INSTALL, "--prefix", `${dir}/prefix`]);
  if (install.code !== 0) throw new Error(`deno task install: ${install.stderr}`);
  const cell = installedCell(`${dir}/prefix`);
  const rootfs = await busyboxRootfs(`${dir}/rootfs`);
  const rootfsTar = `${dir}/rootfs.tar`;
  const tar = await sh("tar", ["-C", rootfs, "-cf", rootfsTar, "."]);
  if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
  return { dir, cell, rootfsTar };
}

/** Unmounts whatever is left mounted below `dir` (overlays, shm), deepest first. */
export function unmountBelow(dir: string): void {
  const targets = Deno.readTextFileSync("/proc/self/mounts").split("\n")
    .map((l) => l.split(" ")[1]).filter((m) => m?.startsWith(`${dir}/`)).sort().reverse();
  for (const target of targets) {
    new Deno.Command("umount", { args: ["-l", target], stderr: "null" }).outputSync();
  }
}

/** Removes empty cgroup directories an engine left below each hierarchy's `name`. */
export function removeEmptyCgroups(name: string): void {
  for (const entry of Deno.readDirSync("/sys/fs/cgroup")) {
    const base = `/sys/fs/cgroup/${entry.name}/${name}`;
    new Deno.Command("find", {
      args: [base, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"],
      stderr: "null",
    }).outputSync();
  }
}

/** Soft and hard RLIMIT_NOFILE/NPROC this process may give (root here may lack CAP_SYS_RESOURCE). */
export function hardLimits(): { nofile: number; nproc: number } {
  const limits = Deno.readTextFileSync("/proc/self/limits").split("\n");
  const hard = (name: string) => {
    const line = limits.find((l) => l.startsWith(name)) ?? "";
    const value = line.slice(26).trim().split(/\s+/)[1];
    return value === "unlimited" ? 1048576 : Number(value);
  };
  // podman's defaults (1048576) are above what root may set here; these are what runc and
  // crun were run with too.
  return {
    nofile: Math.min(hard("Max open files"), 20000),
    nproc: Math.min(hard("Max processes"), 32768),
  };
}

/**
 * Mounts, at /sys/fs/cgroup/<controllers>, every v1 hierarchy this process belongs to that
 * is mounted nowhere (it happens after a hierarchy is mounted and unmounted again):
 * containerd's cgroup reader fails on one (`ctr task metrics`: "no metrics received").
 * Returns the mount points made, for {@linkcode unmountHierarchies}.
 */
export function mountMissingHierarchies(): string[] {
  const mounted = new Set(
    Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
      .map((l) => l.split(" - ")[1]?.split(" "))
      .filter((f) => f?.[0] === "cgroup")
      .map((f) => f[2].split(",").filter((o) => o !== "rw" && o !== "ro").sort().join(",")),
  );
  const made: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").split("\n")) {
    const controllers = line.split(":")[1];
    if (!controllers || controllers.startsWith("name=")) continue;
    const key = controllers.split(",").sort().join(",");
    if ([...mounted].some((m) => m.split(",").filter((o) => !o.includes("=")).join(",") === key)) {
      continue;
    }
    const target = `/sys/fs/cgroup/${controllers}`;
    Deno.mkdirSync(target, { recursive: true });
    const out = new Deno.Command("mount", {
      args: ["-t", "cgroup", "-o", controllers, "cgroup", target],
    }).outputSync();
    if (out.success) made.push(target);
  }
  return made;
}

/** Undoes {@linkcode mountMissingHierarchies}. */
export function unmountHierarchies(targets: string[]): void {
  for (const target of targets) {
    new Deno.Command("umount", { args: [target] }).outputSync();
    try {
      Deno.removeSync(target);
    } catch { /* busy or gone */ }
  }
}

/** podman's networks for one private run: netavark, its configs kept in the run's directory. */
export interface PodmanNetworkOptions {
  /** The network `--network bridge` means (podman's `default_network`). */
  defaultNetwork: string;
}

/**
 * Writes podman's `containers.conf` and `storage.conf` in `dir` for private runs: no network
 * unless asked (then netavark, network configs in `dir/networks`), cgroupfs, file events, the
 * hard rlimits this process may give, the runtimes named (name → binary; each passed
 * `--log-format json`), the first the default. Returns podman's env.
 */
export function writePodmanConfig(
  dir: string,
  runtimes: Record<string, string>,
  network?: PodmanNetworkOptions,
): Record<string, string> {
  const limits = hardLimits();
  const names = Object.keys(runtimes);
  Deno.writeTextFileSync(
    `${dir}/containers.conf`,
    `[containers]
netns = "none"
cgroups = "no-conmon"
default_ulimits = ["nofile=${limits.nofile}:${limits.nofile}", "nproc=${limits.nproc}:${limits.nproc}"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
runtime = "${names[0]}"
runtime_supports_json = [${names.map((n) => `"${n}"`).join(", ")}]
[engine.runtimes]
${Object.entries(runtimes).map(([n, bin]) => `${n} = ["${bin}"]`).join("\n")}
${
      network
        ? `[network]
network_backend = "netavark"
network_config_dir = "${dir}/networks"
default_network = "${network.defaultNetwork}"
`
        : ""
    }`,
  );
  Deno.writeTextFileSync(
    `${dir}/storage.conf`,
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`,
  );
  return {
    CONTAINERS_CONF: `${dir}/containers.conf`,
    CONTAINERS_STORAGE_CONF: `${dir}/storage.conf`,
  };
}
