/**
 * The Factory creates containers from a config and loads existing ones by id from
 * its state root.
 *
 * @module
 */

import { cgroupManager } from "../cgroups/mod.ts";
import type { Spec } from "../config/types.ts";
import { validateConfig } from "../config/validate.ts";
import { ContainerError } from "../errors.ts";
import { checkId, type ContainerState, StateStore } from "../state/store.ts";
import { checkRootless, defaultStateRoot } from "../userns/rootless.ts";
import { Container } from "./container.ts";
import { defaultCgroupPath, destroyUnloadable } from "./leftovers.ts";
import { isUnloadable } from "../state/parse.ts";
import type { NetworkOptions } from "../network/options.ts";
import { checkNetworkHost } from "../network/setup.ts";
import { validateNetwork } from "../network/validate.ts";

/** Options of {@linkcode createFactory}. */
export interface FactoryOptions {
  /**
   * Where container state lives. Default `/run/cell` for root, `$XDG_RUNTIME_DIR/cell`
   * for any other user.
   */
  root?: string;
}

/** Options of {@linkcode Factory.create}. */
export interface CreateOptions {
  /** The bundle directory; a relative `root.path` is resolved against it. */
  bundle?: string;
  /**
   * Enter the rootfs with MS_MOVE and chroot instead of pivot_root, for a rootfs on
   * ramfs where pivot_root fails (runc's `--no-pivot`). Less isolated: prefer the
   * default.
   */
  noPivotRoot?: boolean;
  /**
   * Network interfaces cell sets up in the container's network namespace when its init
   * starts (cell's own option; OCI leaves networking to engines): veth pairs, their host
   * ends on a bridge cell can make, with MTU, MAC, addresses and routes, and the loopback.
   * Checked here (ConfigInvalid naming the field: a bad CIDR, MAC or MTU, a name too long or
   * already in use on the host, a missing bridge) before anything is made; undone on destroy
   * and when the start fails. Needs a network namespace in `linux.namespaces`.
   *
   * @example A veth on a bridge cell makes
   * ```ts ignore
   * await factory.create("web", config, {
   *   network: {
   *     interfaces: [{
   *       type: "veth",
   *       hostName: "vweb0",
   *       addresses: ["10.213.1.2/24"],
   *       routes: [{ gateway: "10.213.1.1" }],
   *       bridge: { name: "cellbr0", create: true, addresses: ["10.213.1.1/24"] },
   *     }],
   *   },
   * });
   * ```
   */
  network?: NetworkOptions;
}

/** The store the next Factory takes (set only inside {@linkcode factoryOnStore}). */
let nextStore: StateStore | undefined;

/**
 * A factory on a store made elsewhere: the resident planner's, whose processes the calling
 * `cell` clones. Internal: not exported by the package.
 */
export function factoryOnStore(store: StateStore): Factory {
  nextStore = store;
  try {
    return new Factory({ root: store.root });
  } finally {
    nextStore = undefined;
  }
}

/** Makes and finds containers under one state root. */
export class Factory {
  /** The state root. */
  readonly root: string;
  #store: StateStore;

  /** Use {@linkcode createFactory}. */
  constructor(options: FactoryOptions = {}) {
    this.root = options.root ?? defaultStateRoot();
    this.#store = nextStore ?? new StateStore(this.root);
  }

  /**
   * Creates a container: validates the config, claims the id and writes its state.
   * Nothing runs, and its cgroup is made, at the first `start`. A failure leaves nothing
   * behind. A directory of the id without a state file (a create or destroy that died
   * half-way) is taken over.
   */
  async create(
    id: string,
    config: Spec | unknown,
    options: CreateOptions = {},
  ): Promise<Container> {
    checkId(id);
    const spec = validateConfig(config, { bundle: options.bundle });
    checkRootfs(spec.root.path);
    checkRootless(spec);
    const network = options.network === undefined
      ? undefined
      : validateNetwork(options.network, spec);
    checkNetworkHost(network);
    const cgroup = cgroupManager({
      path: cgroupPath(spec, id),
      resources: spec.linux?.resources,
      rootlessUid: Deno.uid() ?? 0,
    });
    const state: ContainerState = {
      version: 1,
      id,
      config: spec,
      bundle: options.bundle,
      noPivotRoot: options.noPivotRoot,
      network,
      created: new Date().toISOString(),
      init: null,
      cgroup: cgroup.state(),
    };
    await this.#store.claim(state);
    return new Container(this.#store, state);
  }

  /**
   * Loads a container another process (or this one) created. ContainerNotFound when there
   * is none; a SystemError naming the file when its state file is unreadable (then
   * {@linkcode Factory.destroy} still removes it).
   */
  // deno-lint-ignore require-await
  async load(id: string): Promise<Container> {
    checkId(id);
    return new Container(this.#store, this.#store.read(id));
  }

  /**
   * Destroys the container `id` whatever state it is in, as `delete --force` does: a
   * loadable one as {@linkcode Container.destroy}; one whose state file is unreadable or
   * missing through what can still be found: the init and cgroups the damaged file still
   * shows, else the cgroups at the id's default path (`/cell/<id>` in every hierarchy), then
   * its directory. Nothing there is no error. A custom `linux.cgroupsPath` cannot be found
   * from the id alone once the state is gone.
   */
  async destroy(id: string): Promise<void> {
    checkId(id);
    // Bounded: a round ends in a destroy, or sees the state appear (a racing create).
    for (let round = 0; round < 3; round++) {
      let container: Container;
      try {
        container = await this.load(id);
      } catch (e) {
        if (!isUnloadable(e)) throw e;
        if (await destroyUnloadable(this.#store, id)) return;
        continue;
      }
      await container.destroy();
      return;
    }
  }

  /** The ids of every container under this root (a damaged one too: its load fails). */
  // deno-lint-ignore require-await
  async list(): Promise<string[]> {
    return this.#store.list();
  }
}

/**
 * A factory for containers whose state lives under `root` (default `/run/cell`, or
 * `$XDG_RUNTIME_DIR/cell` for a non-root user).
 *
 * @example
 * ```ts ignore
 * import { createFactory, defaultConfig } from "@cell/cell";
 * const factory = createFactory();
 * await using box = await factory.create("demo", defaultConfig({ rootfs: "/srv/rootfs", args: ["true"] }));
 * const proc = await box.start();
 * console.log(await proc.status);
 * ```
 */
export function createFactory(options: FactoryOptions = {}): Factory {
  return new Factory(options);
}

function checkRootfs(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new ContainerError("ConfigInvalid", `root.path: rootfs "${path}" does not exist`);
  }
  if (!info.isDirectory) {
    throw new ContainerError("ConfigInvalid", `root.path: rootfs "${path}" is not a directory`);
  }
}

/** The OCI cgroupsPath made absolute; default /cell/<id>. */
function cgroupPath(spec: Spec, id: string): string {
  const path = spec.linux?.cgroupsPath;
  if (!path) return defaultCgroupPath(id);
  return path.startsWith("/") ? path : `/${path}`;
}
