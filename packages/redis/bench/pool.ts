// Forking limiter workers and checking grant times: shared by the benchmark and the tests.

import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
// A relative import: lib/ is below packages/, and test-bin is TypeScript source.
import { bundleCli } from "../../../lib/test-bin/src/index.ts";
import type { WorkerConfig, WorkerMessage } from "./limiter-worker.ts";
import type { LoadWorkerConfig, LoadWorkerDone, LoadWorkerMessage } from "./load-worker.ts";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));
export const wallClock = () => performance.timeOrigin + performance.now();

const bundles = new Map<string, string>();

/**
 * Runs a TypeScript file of this package as a child process, with IPC. The file is bundled once
 * per process (esbuild, lib/test-bin) and each child runs the bundle with plain node: a start
 * costs about 0.1 s of CPU where `node --import tsx` cost about 0.5 s (and 1.5-2.5 s of wall
 * time on a loaded 2-core machine), for each of the dozens of workers the tests start.
 */
export function forkTs(file: string, args: string[]): ChildProcess {
  const source = fileURLToPath(new URL(file, new URL("../", import.meta.url)));
  let bundle = bundles.get(source);
  if (bundle === undefined) {
    bundle = bundleCli(source);
    bundles.set(source, bundle);
  }
  return fork(bundle, args, {
    cwd: packageDir,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

export interface Worker {
  child: ChildProcess;
  grants: number[];
  ready: Promise<void>;
  done: Promise<{ grants: number } | undefined>;
  go(): void;
}

/** Forks bench/limiter-worker.ts; `done` resolves with its final report (undefined if it died). */
export function startWorker(config: WorkerConfig): Worker {
  const child = forkTs("bench/limiter-worker.ts", [JSON.stringify(config)]);
  const grants: number[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let report: { grants: number } | undefined;
  child.on("message", (m: WorkerMessage) => {
    if (m.type === "ready") onReady();
    else if (m.type === "grant") grants.push(m.t);
    else if (m.type === "done") report = { grants: m.grants };
  });
  const done = new Promise<{ grants: number } | undefined>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", () => resolve(report));
  });
  return { child, grants, ready, done, go: () => child.send({ type: "go" }) };
}

/**
 * The largest excess of permits over what a bucket allows in any window: for sorted grant times,
 * max over i <= j of (j - i + 1) - (burst + rate * (t_j - t_i) / 1000). Never > 0 for a correct
 * bucket (the caller adds a small tolerance for timer jitter).
 */
export function maxExcess(times: number[], rate: number, burst: number): number {
  // (j - i + 1) - burst - rate*(t_j - t_i)/1000 = a(j) - b(i) - burst with
  // a(j) = j + 1 - rate*t_j/1000 and b(i) = i - rate*t_i/1000: one pass keeping the least b(i).
  const t = [...times].sort((x, y) => x - y);
  let worst = Number.NEGATIVE_INFINITY;
  let leastB = Number.POSITIVE_INFINITY;
  for (let j = 0; j < t.length; j++) {
    const scaled = (rate * (t[j] as number)) / 1000;
    leastB = Math.min(leastB, j - scaled);
    worst = Math.max(worst, j + 1 - scaled - leastB - burst);
  }
  return worst;
}

export interface LoadWorker {
  child: ChildProcess;
  /** Every batch answer the worker received: wall-clock time and HTTP status. */
  answers: { t: number; status: number }[];
  /** Warnings and info lines from its limiter, token cache and client. */
  logs: { level: string; message: string }[];
  ready: Promise<void>;
  /** Resolves with its final report when it exits (undefined if it died without one). */
  done: Promise<LoadWorkerDone | undefined>;
  go(): void;
}

/** Forks bench/load-worker.ts (a client loading events through the shared limiter and login). */
export function startLoadWorker(config: LoadWorkerConfig): LoadWorker {
  const child = forkTs("bench/load-worker.ts", [JSON.stringify(config)]);
  const answers: LoadWorker["answers"] = [];
  const logs: LoadWorker["logs"] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once("exit", (code, signal) =>
      reject(new Error(`load worker exited before it was ready (${code ?? signal})`)),
    );
  });
  ready.catch(() => {}); // a worker killed later must not leave an unhandled rejection
  let report: LoadWorkerDone | undefined;
  child.on("message", (m: LoadWorkerMessage) => {
    if (m.type === "ready") onReady();
    else if (m.type === "answer") answers.push({ t: m.t, status: m.status });
    else if (m.type === "log") logs.push({ level: m.level, message: m.message });
    else if (m.type === "done") report = m;
  });
  const done = new Promise<LoadWorkerDone | undefined>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", () => resolve(report));
  });
  return { child, answers, logs, ready, done, go: () => child.send({ type: "go" }) };
}
