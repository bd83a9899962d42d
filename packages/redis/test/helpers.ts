export {
  forkTs,
  type LoadWorker,
  maxExcess,
  packageDir,
  startLoadWorker,
  startWorker,
  type Worker,
  wallClock,
} from "../bench/pool.ts";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
