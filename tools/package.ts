/**
 * `deno task package [--check-reproducible]`: builds the libraries the package ships into
 * `lib/`: `libcell-x86_64.so` and `libcell-aarch64.so` (ReleaseSafe, the baseline CPU of each
 * architecture, stripped) and `manifest.json` (the package version, the ABI version and each
 * file's size and sha256). A remote import of the package checks a downloaded library against
 * that manifest before it loads it (ffi/library.ts).
 *
 * Every library is compiled afresh in a private cache, so `lib/` never holds a stale cache hit.
 * With `--check-reproducible` each one is compiled twice, in two caches, and the bytes must be
 * equal. `lib/` is not in git (.gitignore) but is in the publish set (deno.json).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "../ffi/abi.ts";
import { type LibraryManifest, MANIFEST_FILE, TARGETS } from "../ffi/manifest.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIB_DIR = join(ROOT, "lib");

/** Hex sha256 of some bytes. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("zig", { args, cwd: ROOT, env, stderr: "inherit" }).output();
  } catch (e) {
    throw new Error(`cannot run zig (install it with: sudo tools/setup.sh): ${e}`);
  }
  if (!out.success) throw new Error(`zig ${args.join(" ")} failed (exit ${out.code})`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Compiles libcell for one architecture in a fresh local cache and returns its bytes. */
async function buildFor(arch: string): Promise<Uint8Array<ArrayBuffer>> {
  const work = await Deno.makeTempDir({ prefix: `cell-package-${arch}-` });
  try {
    await run([
      "build",
      `-Dtarget=${arch}-linux`,
      "-Dcpu=baseline",
      "-Doptimize=safe",
      "-Dstrip=true",
      "--prefix",
      join(work, "out"),
      "--cache-dir",
      join(work, "cache"),
    ]);
    return await Deno.readFile(join(work, "out/lib/libcell.so"));
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Whether two byte arrays are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Builds every target into `lib/` and writes the manifest; returns the manifest. */
export async function buildPackage(
  options: { checkReproducible?: boolean } = {},
): Promise<LibraryManifest> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const manifest: LibraryManifest = {
    package: config.name,
    version: config.version,
    abiVersion: ABI_VERSION,
    zig: await run(["version"]),
    libraries: {},
  };
  const built: [string, Uint8Array][] = [];
  for (const [arch, target] of Object.entries(TARGETS)) {
    const bytes = await buildFor(arch);
    const hash = await sha256(bytes);
    if (options.checkReproducible) {
      const second = await buildFor(arch);
      if (!sameBytes(bytes, second)) {
        throw new Error(
          `${target.file} is not reproducible: sha256 ${hash} then ${await sha256(second)}`,
        );
      }
      console.log(`package: ${target.file} reproducible (two builds, sha256 ${hash})`);
    }
    built.push([target.file, bytes]);
    manifest.libraries[arch] = {
      file: target.file,
      cpu: target.cpu,
      size: bytes.length,
      sha256: hash,
    };
  }
  // Replace lib/ as a whole so no file of an older build is left to be published.
  await Deno.remove(LIB_DIR, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(LIB_DIR);
  for (const [file, bytes] of built) await Deno.writeFile(join(LIB_DIR, file), bytes);
  await Deno.writeTextFile(
    join(LIB_DIR, MANIFEST_FILE),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  return manifest;
}

if (import.meta.main) {
  const manifest = await buildPackage({
    checkReproducible: Deno.args.includes("--check-reproducible"),
  });
  for (const lib of Object.values(manifest.libraries)) {
    console.log(`lib/${lib.file}  ${lib.size} bytes  sha256 ${lib.sha256}  (${lib.cpu})`);
  }
}
