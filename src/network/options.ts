/**
 * The `network` option of {@linkcode Factory.create}: cell's own (OCI leaves networking to
 * engines), in the spirit of libcontainer's network strategies. Interfaces are set up while
 * the init is stopped before its root change, before any prestart or createRuntime hook, and
 * undone on destroy or a failed start.
 *
 * @module
 */

/** Interfaces of the container's network namespace, set up at the init's start. */
export interface NetworkOptions {
  /** The interfaces, set up in this order. */
  interfaces: NetworkInterface[];
}

/** One interface: the loopback, or a veth pair. */
export type NetworkInterface = LoopbackInterface | VethInterface;

/**
 * `lo` brought up. A network namespace the init makes has its loopback up already; this is
 * for one it joins (`linux.namespaces` with a `path`).
 */
export interface LoopbackInterface {
  /** The kind of interface. */
  type: "loopback";
}

/**
 * A veth pair: one end on the host (`hostName`, attached to `bridge` when given), the other
 * made directly inside the container's network namespace as `name`, with its MTU, MAC,
 * addresses and routes. Deleting the host end deletes both; cell does so on destroy.
 *
 * @example Two addresses and a default route, the host end on a bridge cell makes
 * ```ts ignore
 * const network = {
 *   interfaces: [{
 *     type: "veth",
 *     hostName: "vcell-web",
 *     name: "eth0",
 *     mtu: 1400,
 *     addresses: ["10.213.1.2/24", "fd00:213::2/64"],
 *     routes: [{ gateway: "10.213.1.1" }],
 *     bridge: { name: "cellbr0", create: true, addresses: ["10.213.1.1/24"] },
 *   }],
 * } satisfies NetworkOptions;
 * ```
 */
export interface VethInterface {
  /** The kind of interface. */
  type: "veth";
  /** The host end's name (1 to 15 bytes; must not exist on the host). */
  hostName: string;
  /** The name inside the container (default `eth0`). */
  name?: string;
  /** The MTU of both ends (68 to 65535; default the kernel's, 1500). */
  mtu?: number;
  /** The container end's MAC address, `aa:bb:cc:dd:ee:ff` (unicast; default random). */
  mac?: string;
  /** Addresses of the container end, as CIDRs (`10.213.1.2/24`, `fd00::2/64`). */
  addresses?: string[];
  /**
   * Routes through the container end. `{ gateway }` alone is the default route of the
   * gateway's family; `{ destination }` alone a route to a directly attached network.
   */
  routes?: VethRoute[];
  /** The bridge the host end joins. */
  bridge?: VethBridge;
}

/** A route inside the container. */
export interface VethRoute {
  /** Where to, as a CIDR (default: the default route, `0.0.0.0/0` or `::/0`). */
  destination?: string;
  /** The next hop, of the destination's family. */
  gateway?: string;
}

/**
 * The host bridge a veth's host end joins. With `create`, cell makes it when it is missing
 * (up, with `addresses`, marked as cell's by its alias) and removes a bridge it made once
 * the last port has left it (when a container using it is destroyed); a bridge cell did not
 * make is never removed. Without `create`, a missing bridge is an error.
 */
export interface VethBridge {
  /** The bridge's name (1 to 15 bytes). */
  name: string;
  /** Make the bridge when it is missing (default false). */
  create?: boolean;
  /** Addresses given to a bridge cell makes (e.g. the containers' gateway), as CIDRs. */
  addresses?: string[];
}

/** What cell made on the host for a container's network, kept in its state. */
export interface NetworkRecord {
  /** Veths cell made: deleting the host end (checked by its ifindex) deletes the pair. */
  veths: MadeVeth[];
  /**
   * Bridges this container may have made or joined with `create`: each is removed when it
   * bears cell's mark and no port is left.
   */
  bridges: string[];
  /**
   * Bridges this start is creating and has not marked yet (recorded before the RTM_NEWLINK,
   * dropped once the alias is set). Without the mark, one is removed only when it has the
   * ifindex in `unmarkedBridgeIndexes` and no port: a bridge of that name someone else made
   * is never taken for it.
   */
  unmarkedBridges?: string[];
  /**
   * The ifindex of each unmarked bridge, recorded right after its RTM_NEWLINK. A runtime
   * killed before this record leaves that bridge behind (a leak rather than deleting a
   * bridge that may not be cell's).
   */
  unmarkedBridgeIndexes?: Record<string, number>;
  /**
   * `linux.netDevices` moved into the paused init's network namespace, recorded before the
   * moves and dropped once the start succeeded: until then a failed (or interrupted) start
   * moves them back while that namespace lives (runtime-spec: a failed operation leaves the
   * host as it was).
   */
  movedDevices?: MovedDevices;
  /**
   * The network namespace the host side was made in (the nsfs device and inode of the
   * runtime's): ifindexes are per namespace, so teardown refuses to run from another one.
   */
  hostNetns?: NetnsIdentity;
}

/** A network namespace, as `stat` of its `/proc/<pid>/ns/net` shows it. */
export interface NetnsIdentity {
  /** `st_dev` (the nsfs). */
  dev: number;
  /** `st_ino` (the namespace). */
  ino: number;
}

/** Host devices on their way into a starting container (`linux.netDevices`). */
export interface MovedDevices {
  /** The paused init whose network namespace they go into. */
  init: { pid: number; startTime: number };
  /** Each device as it was on the host. */
  devices: MovedDevice[];
}

/** A host device as it was before its move, to put it back so. */
export interface MovedDevice {
  /** Its name on the host. */
  host: string;
  /** Its ifindex on the host (inside it may get another one). */
  index: number;
  /** Its name asked inside (a `%d` template is numbered by the kernel). */
  target: string;
  /** The unique name it is moved under, before its rename inside (found inside by it). */
  temp?: string;
  /** Its ifindex inside, recorded once it is found there under `temp` (before the rename). */
  insideIndex?: number;
  /** Its name inside after the rename, as the kernel numbered it. */
  final?: string;
  /** Whether it was up on the host. */
  up: boolean;
  /** Its kept addresses: the RTM_NEWADDR payloads the host listed, as hex. */
  addresses: string[];
}

/** A veth pair cell made. */
export interface MadeVeth {
  /** The host end's name. */
  hostName: string;
  /** The host end's ifindex, so that only that link is ever deleted by the name. */
  index: number;
  /** The container end's name. */
  name: string;
}
