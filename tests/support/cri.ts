/**
 * A private containerd with its CRI plugin, cell as a RuntimeClass handler, and crictl to
 * drive it: own root, state, socket, config, CNI config and image store in a temporary
 * directory; a pause and a busybox image made here from Debian's busybox-static (there is
 * no registry); and a teardown that puts the host back even after a failure.
 *
 * @module
 */

import { installedCell } from "./cli.ts";
import { join } from "node:path";
import {
  mountMissingHierarchies,
  removeEmptyCgroups,
  type Run,
  sh,
  unmountBelow,
  unmountHierarchies,
  workspace,
} from "./engines.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** The cgroup parent of the test's pod: every container's cgroup is below it. */
export const CGROUP_PARENT = "cell-engines-cri";
/** The CNI bridge on the host (removed after). */
const BRIDGE = "cellcri0";
/** The images, as crictl names them. */
export const BUSYBOX_IMAGE = "localhost/cell-busybox:latest";
const PAUSE_IMAGE = "localhost/cell-pause:latest";
/** Host directories the CRI plugin and CNI make when missing; removed after if empty. */
const HOST_DIRS = ["/var/lib/cni/results", "/var/lib/cni", "/run/netns"];

/** A running private containerd and how to reach it. */
export interface Cri {
  /** The temporary directory holding everything. */
  dir: string;
  /** The installed cell script containerd's shim calls. */
  cell: string;
  /** cell's state root for the shim (`--root`), one directory per containerd namespace. */
  cellRoot: string;
  /** Runs crictl on this containerd. */
  crictl(args: string[], stdin?: string): Promise<Run>;
  /** Writes a JSON file in the workspace and returns its path. */
  file(name: string, value: unknown): string;
  /** Stops everything and puts the host back; never throws. */
  teardown(): Promise<void>;
}

/** Where crictl is: on PATH, or where `tools/setup.sh --with-engines` links it. */
export function crictlPath(): string {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/local/bin"]) {
    try {
      if (Deno.statSync(join(dir, "crictl")).isFile) return join(dir, "crictl");
    } catch { /* not here */ }
  }
  throw new Error("crictl missing: install it with sudo tools/setup.sh --with-engines");
}

/**
 * Starts containerd with the CRI plugin and cell as the runtime, and imports the images.
 * `handlers` adds runtime handlers (name → runc-compatible binary, or "door" / "in-process"
 * for this install's forms of cell; the bench adds them and runc and crun), picked with
 * `crictl runp --runtime NAME`; each keeps its state in `<dir>/<name>-root`.
 */
export async function startCri(handlers: Record<string, string> = {}): Promise<Cri> {
  const crictlBin = crictlPath();
  const { dir, rootfsTar } = await workspace();
  const hostDirsBefore = HOST_DIRS.filter(exists);
  const netnsBefore = listDir("/run/netns");
  const hierarchies = mountMissingHierarchies();
  const cellRoot = `${dir}/cell-root`;
  const socket = `${dir}/containerd.sock`;
  const env = { CONTAINERD_ADDRESS: socket };
  let daemon: Deno.ChildProcess | null = null;

  const teardown = async () => {
    const crictl = (args: string[]) => sh(crictlBin, ["--config", `${dir}/crictl.yaml`, ...args]);
    // Pods first (their containers go with them), bounded by sh's own timeout.
    if (daemon) {
      await crictl(["rmp", "--all", "--force"]).catch(() => {});
      daemon.kill("SIGTERM");
      const timer = setTimeout(() => daemon?.kill("SIGKILL"), 10_000);
      await daemon.status;
      clearTimeout(timer);
    }
    killShims(socket);
    // Anything the shim left in cell's state.
    for (const ns of listDir(cellRoot)) {
      for (const id of listDir(`${cellRoot}/${ns}`)) {
        await sh(installedCell(`${dir}/prefix`), [
          "--root",
          `${cellRoot}/${ns}`,
          "delete",
          "--force",
          id,
        ]);
      }
    }
    unmountBelow(dir);
    removeEmptyCgroups(CGROUP_PARENT);
    unmountHierarchies(hierarchies);
    await sh("ip", ["link", "del", BRIDGE]);
    for (const ns of listDir("/run/netns")) {
      if (!netnsBefore.includes(ns) && ns.startsWith("cni-")) {
        await sh("umount", [`/run/netns/${ns}`]);
        await Deno.remove(`/run/netns/${ns}`).catch(() => {});
      }
    }
    for (const path of HOST_DIRS) {
      if (!hostDirsBefore.includes(path)) await Deno.remove(path).catch(() => {}); // if empty
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  try {
    const install = await sh(Deno.execPath(), [
      "run",
      "-A",
      join(REPO, "tools/install.ts"),
      "--prefix",
      `${dir}/prefix`,
    ]);
    if (install.code !== 0) throw new Error(`deno task install: ${install.stderr}`);
    const cell = installedCell(`${dir}/prefix`);
    const forms: Record<string, string> = {
      door: `${dir}/prefix/bin/cell`,
      "in-process": `${dir}/prefix/lib/cell/cell-deno`,
    };
    const extra = Object.entries(handlers).map(([name, bin]) => [name, forms[bin] ?? bin]);
    writeConfig(dir, { cell, ...Object.fromEntries(extra) }, cellRoot);
    daemon = new Deno.Command("containerd", {
      args: ["--config", `${dir}/containerd.toml`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    logTo(daemon, `${dir}/containerd.log`);
    await waitFor(
      "containerd to answer",
      async () => (await sh("ctr", ["version"], env)).code === 0,
    );
    await importImages(dir, rootfsTar, env);
    const cri: Cri = {
      dir,
      cell,
      cellRoot,
      crictl: (args, stdin) =>
        sh(crictlBin, ["--config", `${dir}/crictl.yaml`, ...args], {}, stdin),
      file: (name, value) => {
        const path = `${dir}/${name}`;
        Deno.writeTextFileSync(path, JSON.stringify(value));
        return path;
      },
      teardown,
    };
    await waitFor(
      "the CRI plugin to list the images",
      async () => (await cri.crictl(["images", "-q"])).stdout.trim().split("\n").length >= 2,
    );
    return cri;
  } catch (e) {
    await teardown();
    throw e;
  }
}

/** containerd's config (CRI plugin, cell as the default handler), CNI's and crictl's. */
function writeConfig(dir: string, handlers: Record<string, string>, cellRoot: string): void {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  const runtimes = Object.entries(handlers).map(([name, binary]) =>
    `    [${cri}.containerd.runtimes.${name}]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.${name}.options]
        BinaryName = "${binary}"
        Root = "${name === "cell" ? cellRoot : `${dir}/${name}-root`}"
`
  ).join("");
  Deno.writeTextFileSync(
    `${dir}/containerd.toml`,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/containerd.sock"
[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # root here cannot set a negative oom_score_adj (no CAP_SYS_RESOURCE)
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [${cri}.containerd]
    default_runtime_name = "cell"
${runtimes}  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
`,
  );
  // A bridge without a gateway address or masquerading: the pod gets an eth0, and no
  // packet can leave the machine.
  Deno.mkdirSync(`${dir}/cni`);
  Deno.writeTextFileSync(
    `${dir}/cni/10-cell.conflist`,
    JSON.stringify({
      cniVersion: "0.4.0",
      name: "cell-cri",
      plugins: [{
        type: "bridge",
        bridge: BRIDGE,
        isGateway: false,
        ipMasq: false,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: "10.213.0.0/24" }]],
          dataDir: `${dir}/ipam`,
        },
      }],
    }),
  );
  Deno.writeTextFileSync(
    `${dir}/crictl.yaml`,
    `runtime-endpoint: unix://${dir}/containerd.sock\nimage-endpoint: unix://${dir}/containerd.sock\ntimeout: 60\n`,
  );
}

/** The pause and busybox images, made by podman from the busybox rootfs, into containerd. */
async function importImages(dir: string, rootfsTar: string, env: Record<string, string>) {
  const storage = `${dir}/storage.conf`;
  Deno.writeTextFileSync(
    storage,
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/pstorage"\nrunroot = "${dir}/prun"\n`,
  );
  const podman = (args: string[]) => sh("podman", args, { CONTAINERS_STORAGE_CONF: storage });
  const made = [
    await podman([
      "import",
      "-q",
      "--change",
      'CMD ["/bin/sleep","2147483647"]',
      rootfsTar,
      PAUSE_IMAGE,
    ]),
    await podman(["import", "-q", "--change", 'CMD ["/bin/sh"]', rootfsTar, BUSYBOX_IMAGE]),
    await podman([
      "save",
      "-q",
      "--multi-image-archive",
      "--format",
      "docker-archive",
      "-o",
      `${dir}/images.tar`,
      PAUSE_IMAGE,
      BUSYBOX_IMAGE,
    ]),
  ];
  for (const run of made) if (run.code !== 0) throw new Error(`podman: ${run.stderr}`);
  await podman(["rmi", "-a", "-f"]);
  const imported = await sh("ctr", ["-n", "k8s.io", "images", "import", `${dir}/images.tar`], env);
  if (imported.code !== 0) throw new Error(`ctr images import: ${imported.stderr}`);
}

/** Polls `check` every 100 ms for up to `seconds`; fails naming what never happened. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  seconds = 30,
): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** SIGKILL to every containerd shim serving this socket (left when a test failed). */
function killShims(socket: string): void {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let cmdline = "";
    try {
      cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
    } catch {
      continue;
    }
    const argv = cmdline.split("\0");
    if (argv[0].endsWith("containerd-shim-runc-v2") && argv.includes(socket)) {
      try {
        Deno.kill(Number(entry.name), "SIGKILL");
      } catch { /* gone */ }
    }
  }
}

/** Copies a child's stderr into a file as it comes (for a failure's post mortem). */
function logTo(child: Deno.ChildProcess, path: string): void {
  const file = Deno.openSync(path, { write: true, create: true, append: true });
  child.stderr.pipeTo(file.writable).catch(() => {});
}

function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
