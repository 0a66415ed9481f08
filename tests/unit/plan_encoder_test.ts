/**
 * The plan encoder writes the bytes docs/abi.md describes: the header, each op's code and
 * size, little-endian integers, strings with their NUL padded to 4, opflags by their bits.
 */

import assert from "node:assert/strict";
import { ABI_VERSION, Op } from "../../ffi/abi.ts";
import { encodePlan } from "../../ffi/plan_encoder.ts";
import type { MountOpFlag, PlanOp } from "../../src/plan/ops.ts";

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function mount(opFlags: MountOpFlag[]): PlanOp {
  return {
    op: "mount",
    what: "mount",
    opFlags,
    msFlags: 0x1000,
    magic: 0x9fa0,
    source: "abc",
    target: "/proc",
    fstype: "",
    data: "",
  };
}

Deno.test({
  name: "encodePlan: header, op framing, integers and padded strings",
  permissions: "none",
  fn: () => {
    const bytes = encodePlan([
      mount(["inRoot", "mkdir"]),
      {
        op: "caps",
        what: "c",
        lastCap: 40,
        bounding: 1n << 63n,
        effective: 0n,
        permitted: 0n,
        inheritable: 0n,
        ambient: 5n,
      },
      { op: "pivotRoot", what: "p" },
    ]);
    const v = view(bytes);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "CELL");
    assert.equal(v.getUint32(4, true), ABI_VERSION);
    assert.equal(v.getUint32(8, true), bytes.length);
    assert.equal(v.getUint32(12, true), 3);
    // mount: code, size, opflags, msflags, u64 magic, then four strings.
    assert.equal(v.getUint32(16, true), Op.mount);
    const mountSize = v.getUint32(20, true);
    assert.equal(v.getUint32(24, true), 1 | 2);
    assert.equal(v.getUint32(28, true), 0x1000);
    assert.equal(v.getBigUint64(32, true), 0x9fa0n);
    assert.equal(v.getUint32(40, true), 3); // "abc", its NUL: 4 bytes
    assert.deepEqual([...bytes.subarray(44, 48)], [0x61, 0x62, 0x63, 0]);
    assert.equal(v.getUint32(48, true), 5); // "/proc", NUL, padding: 8 bytes
    assert.deepEqual([...bytes.subarray(52, 60)], [0x2f, 0x70, 0x72, 0x6f, 0x63, 0, 0, 0]);
    assert.equal(v.getUint32(60, true), 0); // "", its NUL padded: 4 bytes each
    assert.equal(v.getUint32(68, true), 0);
    assert.equal(mountSize, 76 - 16);
    // caps: u32 last cap, five u64 masks.
    assert.equal(v.getUint32(76, true), Op.caps);
    assert.equal(v.getUint32(80, true), 8 + 4 + 5 * 8);
    assert.equal(v.getUint32(84, true), 40);
    assert.equal(v.getBigUint64(88, true), 1n << 63n);
    assert.equal(v.getBigUint64(120, true), 5n);
    // An op without a payload is its code and size only.
    assert.equal(v.getUint32(128, true), Op.pivotRoot);
    assert.equal(v.getUint32(132, true), 8);
    assert.equal(bytes.length, 136);
  },
});

Deno.test({
  name: "encodePlan: each mount opflag is the bit docs/abi.md gives it",
  permissions: "none",
  fn: () => {
    // docs/abi.md lists them from bit 0 up: 1, 2, 4, ... 256.
    const documented: MountOpFlag[] = [
      "inRoot",
      "mkdir",
      "mkfile",
      "noSymlinks",
      "sourceInRoot",
      "keepLocked",
      "sourceFd",
      "replaceLink",
      "moveTree",
    ];
    documented.forEach((flag, bit) => {
      assert.equal(view(encodePlan([mount([flag])])).getUint32(24, true), 1 << bit, flag);
    });
    assert.equal(view(encodePlan([mount(documented)])).getUint32(24, true), 511);
  },
});

Deno.test({
  name: "encodePlan: names of the ABI's kinds become their numbers",
  permissions: "none",
  fn: () => {
    const bytes = encodePlan([
      { op: "execLabel", what: "a", lsm: "apparmor", content: "exec p" },
      { op: "execLabel", what: "s", lsm: "selinux", content: "l" },
      { op: "rootReadonly", what: "r", recursive: true },
      {
        op: "hook",
        what: "h",
        kind: "startContainer",
        index: 3,
        timeout: 0,
        path: "/h",
        args: [],
        env: [],
        pieces: [],
      },
    ]);
    const v = view(bytes);
    assert.equal(v.getUint32(16 + 8, true), 1); // AppArmor
    const second = 16 + v.getUint32(20, true);
    assert.equal(v.getUint32(second + 8, true), 2); // SELinux
    const third = second + v.getUint32(second + 4, true);
    assert.equal(v.getUint32(third + 8, true), 1); // recursive
    const fourth = third + v.getUint32(third + 4, true);
    assert.equal(v.getUint32(fourth, true), Op.hook);
    assert.equal(v.getUint32(fourth + 8, true), 2); // startContainer
    assert.equal(v.getUint32(fourth + 12, true), 3);
  },
});
