export {
  forkTs,
  maxExcess,
  packageDir,
  startWorker,
  type Worker,
  wallClock,
} from "../bench/pool.ts";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
