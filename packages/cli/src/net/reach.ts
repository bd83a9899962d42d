// Has VBA answered yet? Every request the CLI sends to VBA (the login and the batch calls) goes
// through `watch`, which notes the first HTTP answer and each failure to reach the server. Until
// the first answer, such a failure is almost surely the setup (a mistyped host, a proxy, a CA):
// listeners stop the run at once instead of letting retries run for a minute.
import { describeNetworkFailure } from "@vbapi-sdk/client";
import { io } from "../io.ts";
import { isUnreachable } from "./describe.ts";
import { proxyFor } from "./proxy.ts";

export interface Unreachable {
  /** The URL the request went to (for the message: its host and proxy). */
  url: string;
  /** The rejected fetch's error (its cause holds the code). */
  error: unknown;
}

export class Reachability {
  /** Any HTTP answer at all has come from VBA (any status). */
  answered = false;
  /** The last failure to reach VBA since its last answer, if any. */
  failure: Unreachable | undefined;
  private readonly listeners = new Set<(failure: Unreachable) => void>();

  /** `env`: the proxy variables (an attempt timeout counts only through a proxy). */
  constructor(private readonly env: NodeJS.ProcessEnv = io().env) {}

  /** `fetchFn`, noting answers and failures to reach the server. */
  watch(fetchFn: typeof fetch): typeof fetch {
    return async (input, init) => {
      try {
        const response = await fetchFn(input, init);
        this.answered = true;
        this.failure = undefined;
        return response;
      } catch (error) {
        const url = input instanceof Request ? input.url : String(input);
        if (this.unreachable(url, init?.signal, error)) {
          this.failure = { url, error };
          if (!this.answered) for (const listener of [...this.listeners]) listener(this.failure);
        }
        throw error;
      }
    };
  }

  /**
   * A failure to reach VBA: a network failure, or the SDK's attempt timeout (its signal's reason
   * a TimeoutError) through a proxy, which then never relayed an answer. Any other abort (Ctrl-C,
   * the session's own stop) is not the network's doing; a timeout going direct may be a slow VBA.
   */
  private unreachable(
    url: string,
    signal: AbortSignal | null | undefined,
    error: unknown,
  ): boolean {
    if (!signal?.aborted) return isUnreachable(describeNetworkFailure(error));
    const reason = (signal.reason as { name?: unknown } | undefined)?.name;
    return reason === "TimeoutError" && proxyFor(url, this.env) !== undefined;
  }

  /** Calls `listener` on a failure to reach VBA before its first answer; returns the unsubscribe. */
  beforeFirstAnswer(listener: (failure: Unreachable) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * The current run's (a run of `main` is one command against one VBA): made afresh by
 * {@link newRun} as each run starts, so an answer a previous run in the same process got
 * never hides this run's first failure to reach VBA.
 */
export let reachability: Reachability = new Reachability();

/** For `main`, as a run starts: nothing is known yet of this run's VBA (and its env is read). */
export function newRun(): void {
  reachability = new Reachability();
}
