/**
 * A plan being built, with a human description for each op so a native failure
 * (which names the op by index) becomes a message such as
 * `mount proc on /proc: EPERM`.
 *
 * @module
 */

import { Op, type OpCode, PlanWriter } from "../../ffi/abi.ts";

/** A plan under construction. */
export class PlanBuilder {
  /** Description of op i, for error messages. */
  readonly descriptions: string[] = [];
  #writer = new PlanWriter();

  /** Adds an op with a description; `build` writes the payload. */
  op(code: OpCode, description: string, build?: (w: PlanWriter) => void): this {
    this.descriptions.push(description);
    this.#writer.op(code, build);
    return this;
  }

  /** The encoded plan. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#writer.finish();
  }
}

/** clone/unshare/setns flags by OCI namespace type. */
export const NS_FLAGS = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
} as const;

/** The /proc/<pid>/ns/<name> file of each namespace type. */
export const NS_FILES = {
  mount: "mnt",
  cgroup: "cgroup",
  uts: "uts",
  ipc: "ipc",
  user: "user",
  pid: "pid",
  network: "net",
  time: "time",
} as const;

export { Op };
