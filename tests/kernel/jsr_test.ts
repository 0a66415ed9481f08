/**
 * The package as a JSR user gets it: `deno task package` builds the shipped libraries, the
 * publish set (what `deno publish --dry-run` lists) is served over http on 127.0.0.1, and a
 * fresh Deno process (empty DENO_DIR and cache, no config file, another cwd, no zig on PATH,
 * no CELL_LIB) imports it by URL and runs a container. Then: the cache is used, a corrupted
 * cached file and corrupted served bytes are refused, parallel first imports agree, the
 * environment overrides hold, and the aarch64 library is a valid aarch64 shared object with
 * every export (the cross-build check).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SYMBOLS } from "../../ffi/symbols.ts";
import type { LibraryManifest } from "../../ffi/manifest.ts";
import { EM_AARCH64, EM_X86_64, ET_DYN, readElf } from "../support/elf.ts";
import {
  copyFiles,
  type PackageServer,
  publishSet,
  servePackage,
} from "../support/package_server.ts";
import { rootfs } from "../support/fixture.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RUN_TIMEOUT_MS = 120_000;
const PACKAGE_TIMEOUT_MS = 900_000;

/** The user's program: imports cell by URL, runs `echo hello`, prints what happened. */
function userProgram(base: string): string {
  return `import { createFactory, defaultConfig } from "${base}mod.ts";
import { libraryPath } from "${base}ffi/library.ts";
const [rootfs, root, id] = Deno.args;
const factory = createFactory({ root });
await using box = await factory.create(id, defaultConfig({ rootfs, args: ["echo", "hello"] }));
const proc = await box.start({ stdin: "null", stdout: "piped" });
const { stdout, code } = await proc.output();
console.log(JSON.stringify({ stdout: new TextDecoder().decode(stdout), code, lib: libraryPath() }));
`;
}

interface Outcome {
  success: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A --no-config` in `cwd` with exactly `env` (plus NO_COLOR), bounded. */
async function runDeno(cwd: string, args: string[], env: Record<string, string>): Promise<Outcome> {
  const signal = AbortSignal.timeout(RUN_TIMEOUT_MS);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-config", ...args],
    cwd,
    clearEnv: true,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  if (signal.aborted) throw new Error(`deno run ${args.join(" ")} took over ${RUN_TIMEOUT_MS} ms`);
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { success: out.success, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file under `dir`, relative to it. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function libraryRequests(server: PackageServer): number {
  return server.requests.filter((r) => r === `GET /lib/libcell-${Deno.build.arch}.so`).length;
}

Deno.test("a package served like JSR: built, published, imported by URL, cached, checked", async (t) => {
  await t.step("deno task package builds both libraries, reproducibly", async () => {
    const signal = AbortSignal.timeout(PACKAGE_TIMEOUT_MS);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "package", "--check-reproducible"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(!signal.aborted, `deno task package took over ${PACKAGE_TIMEOUT_MS} ms:\n${text}`);
    assert.ok(out.success, `deno task package failed:\n${text}`);
    for (const arch of ["x86_64", "aarch64"]) {
      assert.match(text, new RegExp(`libcell-${arch}\\.so reproducible \\(two builds`));
    }
  });

  const manifest: LibraryManifest = JSON.parse(
    await Deno.readTextFile(join(ROOT, "lib/manifest.json")),
  );
  const version = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).version;

  await t.step("lib/manifest.json gives the version and each library's sha256", async () => {
    assert.equal(manifest.version, version);
    assert.deepEqual(Object.keys(manifest.libraries).sort(), ["aarch64", "x86_64"]);
    for (const entry of Object.values(manifest.libraries)) {
      const path = join(ROOT, "lib", entry.file);
      assert.equal(await sha256(path), entry.sha256, path);
      assert.equal((await Deno.stat(path)).size, entry.size, path);
    }
  });

  await t.step(
    "both libraries are stripped shared objects of their architecture with every export",
    async () => {
      const expected = Object.entries(SYMBOLS)
        .map(([key, def]) => ("name" in def ? def.name : key) as string);
      for (const [arch, machine] of [["x86_64", EM_X86_64], ["aarch64", EM_AARCH64]] as const) {
        const elf = readElf(await Deno.readFile(join(ROOT, "lib", `libcell-${arch}.so`)));
        assert.equal(elf.type, ET_DYN, `${arch}: not a shared object`);
        assert.equal(elf.machine, machine, `${arch}: e_machine ${elf.machine}`);
        assert.equal(elf.hasSymtab, false, `${arch}: not stripped (.symtab present)`);
        assert.deepEqual(elf.sections.filter((s) => s.startsWith(".debug")), [], arch);
        const missing = expected.filter((name) => !elf.exportedFunctions.includes(name));
        assert.deepEqual(missing, [], `${arch}: exports missing`);
      }
    },
  );

  const files = await publishSet();
  await t.step("the publish set has both libraries, the manifest and the license", () => {
    for (const file of ["lib/libcell-x86_64.so", "lib/libcell-aarch64.so", "lib/manifest.json"]) {
      assert.ok(files.includes(file), `${file} is not in the publish set: ${files.join(" ")}`);
    }
    assert.ok(files.includes("LICENSE") && files.includes("mod.ts"), files.join(" "));
    assert.ok(!files.some((f) => f.startsWith("tests/") || f.startsWith("zig-out/")));
  });

  const work = await Deno.makeTempDir({ prefix: "cell-jsr-" });
  const served = join(work, "served");
  await copyFiles(files, served);
  const server = servePackage(served);
  try {
    const user = join(work, "user"); // another cwd, with no deno.json above it
    const emptyPath = join(work, "path"); // a PATH without zig (nor anything else)
    await Deno.mkdir(user);
    await Deno.mkdir(emptyPath);
    await Deno.writeTextFile(join(user, "main.ts"), userProgram(server.url));
    const state = join(work, "state");
    const fs = await rootfs();
    const expectedSha = manifest.libraries[Deno.build.arch].sha256;
    const libFile = `libcell-${Deno.build.arch}.so`;
    let runs = 0;
    const run = (env: Record<string, string>) =>
      runDeno(user, ["main.ts", fs, state, `jsr-${Deno.pid}-${++runs}`], {
        PATH: emptyPath,
        DENO_DIR: join(work, `deno-dir-${runs}`),
        ...env,
      });
    const home = join(work, "home");
    const cached = join(home, ".cache/cell", version, expectedSha, libFile);

    await t.step(
      "a fresh process imports it by URL, downloads its library and runs a container",
      async () => {
        const out = await run({ HOME: home });
        assert.ok(out.success, out.stderr);
        const result = JSON.parse(out.stdout);
        assert.equal(result.stdout, "hello\n");
        assert.equal(result.code, 0);
        assert.equal(
          result.lib,
          cached,
          "the library is loaded from ~/.cache/cell/<version>/<sha256>",
        );
        assert.equal(await sha256(cached), expectedSha);
        assert.deepEqual(await listFiles(join(home, ".cache/cell")), [
          join(version, expectedSha, libFile),
        ]);
        assert.equal(libraryRequests(server), 1);
        assert.ok(server.requests.includes("GET /lib/manifest.json"), server.requests.join("\n"));
      },
    );

    await t.step("a second import (new DENO_DIR) uses the cache: no second download", async () => {
      const modulesBefore = server.requests.filter((r) => r === "GET /mod.ts").length;
      const out = await run({ HOME: home });
      assert.ok(out.success, out.stderr);
      assert.equal(JSON.parse(out.stdout).lib, cached);
      assert.equal(server.requests.filter((r) => r === "GET /mod.ts").length, modulesBefore + 1);
      assert.equal(libraryRequests(server), 1, "the library was downloaded again");
    });

    await t.step("a corrupted cached library is refused before dlopen and removed", async () => {
      const bytes = await Deno.readFile(cached);
      bytes[1000] ^= 0xff;
      await Deno.writeFile(cached, bytes);
      const out = await run({ HOME: home });
      assert.equal(out.success, false, out.stdout);
      assert.match(out.stderr, /cannot load libcell; tried:/);
      assert.match(out.stderr, /`deno task build`.*CELL_LIB/s, "the error says how to build");
      assert.ok(out.stderr.includes(`the cached ${cached} has sha256 `), out.stderr);
      assert.ok(out.stderr.includes(`manifest expects ${expectedSha}: refused`), out.stderr);
      await assert.rejects(Deno.stat(cached), Deno.errors.NotFound);
      assert.equal(libraryRequests(server), 1);
      // The next import downloads a good copy again.
      const again = await run({ HOME: home });
      assert.ok(again.success, again.stderr);
      assert.equal(JSON.parse(again.stdout).lib, cached);
      assert.equal(libraryRequests(server), 2);
    });

    await t.step("wrong bytes from the server are refused and not kept", async () => {
      const cache = join(work, "cache-corrupt");
      server.corruptLibraries = true;
      let out: Outcome;
      try {
        out = await run({ HOME: home, CELL_CACHE: cache });
      } finally {
        server.corruptLibraries = false;
      }
      assert.equal(out.success, false, out.stdout);
      const url = `${server.url}lib/${libFile}`;
      assert.ok(out.stderr.includes(`${url} (downloaded `), out.stderr);
      assert.ok(
        out.stderr.includes(
          `manifest expects ${manifest.libraries[Deno.build.arch].size} bytes ` +
            `with sha256 ${expectedSha}: refused, not kept`,
        ),
        out.stderr,
      );
      const left = await listFiles(cache).catch(() => []);
      assert.deepEqual(left.filter((f) => f.includes("libcell")), [], "a bad file was kept");
    });

    await t.step("two first imports in parallel both load the one cached file", async () => {
      const cache = join(work, "cache-parallel");
      const before = libraryRequests(server);
      const outs = await Promise.all([
        run({ HOME: home, CELL_CACHE: cache }),
        run({ HOME: home, CELL_CACHE: cache }),
      ]);
      for (const out of outs) {
        assert.ok(out.success, out.stderr);
        assert.equal(JSON.parse(out.stdout).lib, join(cache, version, expectedSha, libFile));
      }
      assert.ok(libraryRequests(server) - before >= 1);
      assert.deepEqual(await listFiles(cache), [join(version, expectedSha, libFile)]);
    });

    await t.step("XDG_CACHE_HOME and CELL_LIB are honoured", async () => {
      const xdg = join(work, "xdg");
      const out = await run({ HOME: home, XDG_CACHE_HOME: xdg });
      assert.ok(out.success, out.stderr);
      assert.equal(JSON.parse(out.stdout).lib, join(xdg, "cell", version, expectedSha, libFile));
      const before = libraryRequests(server);
      const explicit = join(ROOT, "lib", libFile);
      const local = await run({ HOME: join(work, "home-unused"), CELL_LIB: explicit });
      assert.ok(local.success, local.stderr);
      assert.equal(JSON.parse(local.stdout).lib, explicit);
      assert.equal(libraryRequests(server), before, "CELL_LIB set, yet the library was fetched");
      await assert.rejects(Deno.stat(join(work, "home-unused")), Deno.errors.NotFound);
    });
  } finally {
    await server.close();
    await Deno.remove(work, { recursive: true });
  }
});
