/**
 * What a caller says about a process to start in a container.
 *
 * @module
 */

import type { Capabilities, ConsoleSize, Rlimit } from "../config/types.ts";

/** How one stdio stream of the process is connected. */
export type StdioMode = "inherit" | "null" | "piped";

/** The user a process runs as. */
export interface ProcessUser {
  /** uid inside the container. */
  uid: number;
  /** gid inside the container. */
  gid: number;
  /** Supplementary gids. */
  additionalGids?: number[];
}

/**
 * A process to start. Fields left out come from the container config's `process`.
 */
export interface ProcessOptions {
  /** argv; args[0] is looked up in the container's PATH when it has no "/". */
  args?: string[];
  /** Environment as "KEY=value" strings. */
  env?: string[];
  /** Working directory inside the container (absolute). */
  cwd?: string;
  /** The user. */
  user?: ProcessUser;
  /** File mode creation mask (default 0o022). */
  umask?: number;
  /** Capability sets by name. */
  capabilities?: Capabilities;
  /** Set no_new_privs. */
  noNewPrivileges?: boolean;
  /** Resource limits. */
  rlimits?: Rlimit[];
  /** AppArmor profile (the host must have AppArmor; default: the config's). */
  apparmorProfile?: string;
  /** SELinux label (the host must have SELinux; default: the config's). */
  selinuxLabel?: string;
  /** stdin: "inherit" (default), "null" or "piped". */
  stdin?: StdioMode;
  /** stdout: "inherit" (default), "null" or "piped". */
  stdout?: StdioMode;
  /** stderr: "inherit" (default), "null" or "piped". */
  stderr?: StdioMode;
  /**
   * Do not wait for the process: its exit status is left for whoever inherits it when
   * this program exits (an engine's subreaper, such as conmon or containerd's shim, as
   * with `runc exec -d`). The handle's `status` then never settles.
   */
  detached?: boolean;
  /** Extra fds of this process to pass; they become fds 3, 4, ... inside. */
  extraFds?: number[];
  /**
   * For a process joining a running container (as runc's `exec --cgroup`): existing
   * sub-cgroups of the container's cgroup to place it in, as paths relative to that cgroup
   * by controller name (`{ memory: "sub" }`), or `{ "": "sub" }` for every hierarchy.
   * Controllers left out keep the container's cgroup. Refused for the init.
   */
  subCgroups?: Record<string, string>;
  /**
   * Give the process a terminal (default: the config's `process.terminal`). It needs
   * {@linkcode ProcessOptions.consoleSocket}; stdin, stdout and stderr are then the
   * terminal and must be left out.
   */
  terminal?: boolean;
  /**
   * An fd of a connected `AF_UNIX` stream socket, as runc's `--console-socket`: for a
   * process with a terminal, a new pseudo-terminal is made inside the container, its
   * master is sent to this socket (SCM_RIGHTS, with the name `/dev/pts/N` as the
   * message), and its slave becomes the process's stdin, stdout, stderr and controlling
   * terminal. The fd stays the caller's to close after `start` returns.
   *
   * @example
   * ```ts ignore
   * const [ours, theirs] = socketpair(); // e.g. from a console-socket listener
   * await container.start({ terminal: true, consoleSocket: theirs });
   * ```
   */
  consoleSocket?: number;
  /** The terminal's size (rows, columns); default: the config's `process.consoleSize`. */
  consoleSize?: ConsoleSize;
}
