/**
 * Runs as the unprivileged test user (see tests/kernel/rootless_test.ts): creates a container
 * with the library as that user and prints one JSON line of what it saw. Argument:
 * `{"scenario": ..., "rootfs": ..., ...}`.
 *
 * @module
 */

import { ContainerError, createFactory, defaultConfig, type Spec } from "../../mod.ts";
import { runIn } from "./fixture.ts";

interface Request {
  scenario: "run" | "subids" | "limits" | "no-cgroup" | "no-userns" | "no-xdg";
  rootfs: string;
  cgroupsPath?: string;
}

const request = JSON.parse(Deno.args[0]) as Request;
const factory = request.scenario === "no-xdg" ? null! : createFactory();
const id = `rootless-${Deno.pid}`;

function config(args: string[], edit?: (spec: Spec) => void): Spec {
  const spec = defaultConfig({ rootfs: request.rootfs, args, rootless: true });
  spec.root.readonly = false;
  edit?.(spec);
  return spec;
}

function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof ContainerError) return { code: e.code, message: e.message };
  return { code: "other", message: String(e) };
}

async function scenario(): Promise<Record<string, unknown>> {
  switch (request.scenario) {
    case "run": {
      await using box = await factory.create(id, config(["sh", "-c", "sleep 30"]));
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      const exec = await runIn(box, {
        args: ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map; hostname; ls /proc/1/exe"],
      });
      const stateFile = `${factory.root}/${id}/state.json`;
      const stateMode = Deno.statSync(`${factory.root}/${id}`).mode;
      const processes = await box.processes();
      const status = await box.status();
      let pause: unknown = null;
      try {
        await box.pause();
      } catch (e) {
        pause = errorOf(e);
      }
      await box.destroy();
      await init.status;
      return {
        root: factory.root,
        exec,
        stateExisted: stateFile,
        stateMode,
        processes: processes.length,
        initPid: init.pid,
        status,
        pause,
        leftover: await factory.list(),
      };
    }
    case "subids": {
      const spec = config(["sh", "-c", "true"], (s) => {
        s.linux!.uidMappings = [
          { containerID: 0, hostID: Deno.uid()!, size: 1 },
          { containerID: 1, hostID: 300000, size: 65536 },
        ];
        s.linux!.gidMappings = [
          { containerID: 0, hostID: Deno.gid()!, size: 1 },
          { containerID: 1, hostID: 300000, size: 65536 },
        ];
        s.process!.user = { uid: 0, gid: 0, additionalGids: [100] };
        s.process!.capabilities!.effective!.push("CAP_CHOWN");
        s.process!.capabilities!.permitted!.push("CAP_CHOWN");
        s.process!.capabilities!.bounding!.push("CAP_CHOWN");
      });
      await using box = await factory.create(id, spec);
      const init = await runIn(box, {
        args: [
          "sh",
          "-c",
          "cat /proc/self/uid_map /proc/self/gid_map; id -G; touch /tmp/f; chown 1000:1000 /tmp/f" +
          " && stat -c '%u %g' /tmp/f; rm -f /tmp/f",
        ],
      });
      // A range outside /etc/subuid: newuidmap refuses, the start fails and nothing runs.
      const bad = structuredClone(spec);
      bad.linux!.uidMappings![1].hostID = 400000;
      await using refused = await factory.create(`${id}-bad`, bad);
      let badStart: unknown = null;
      try {
        await refused.start({ args: ["true"] });
      } catch (e) {
        badStart = { ...errorOf(e), syscall: (e as ContainerError).syscall };
      }
      const afterBad = await refused.status();
      return { init, badStart, afterBad };
    }
    case "limits": {
      const spec = config(
        ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 30"],
        (s) => {
          s.linux!.cgroupsPath = request.cgroupsPath;
          s.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
        },
      );
      await using box = await factory.create(id, spec);
      const init = await box.start({ stdin: "null", stdout: "null", stderr: "null" });
      const stats = await box.stats();
      const processes = await box.processes();
      await box.pause();
      const paused = await box.status();
      await box.resume();
      await box.destroy();
      await init.status;
      return { limit: stats.memory.limitBytes, processes, initPid: init.pid, paused };
    }
    case "no-userns": {
      const spec = config(["true"], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "user");
        delete s.linux!.uidMappings;
        delete s.linux!.gidMappings;
      });
      try {
        await factory.create(id, spec);
        return { created: true };
      } catch (e) {
        return { error: errorOf(e), leftover: await factory.list() };
      }
    }
    case "no-xdg": {
      try {
        createFactory();
        return { created: true };
      } catch (e) {
        return { error: errorOf(e) };
      }
    }
    case "no-cgroup": {
      const spec = config(["true"], (s) => {
        s.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
      });
      try {
        await factory.create(id, spec);
        return { created: true };
      } catch (e) {
        return { error: errorOf(e), leftover: await factory.list() };
      }
    }
  }
}

try {
  console.log(JSON.stringify(await scenario()));
} catch (e) {
  console.log(JSON.stringify({ thrown: errorOf(e), stack: e instanceof Error ? e.stack : "" }));
}
