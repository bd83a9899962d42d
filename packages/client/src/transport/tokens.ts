// The bearer token of a client: a fixed string, or a provider function whose result is cached
// until a 401 says it is stale. A provider that throws, hangs or returns something unusable never
// sends a request; it becomes a TokenProviderError.
import { ApiError, NoResponseError, TokenProviderError, VbapiError } from "../base/errors.ts";
import { isHeaderSafe } from "../base/headers.ts";

/** The bearer JWT (VBA's idToken), or a function returning it. */
export type TokenProvider = string | (() => string | Promise<string>);

interface Entry {
  promise: Promise<string>;
  /** Set once the provider's promise has resolved (and this entry is still current). */
  value: string | undefined;
}

export class TokenSource {
  private current: Entry | undefined;

  constructor(
    private readonly provider: TokenProvider,
    /** Told of every token the provider returns, so it can be redacted. */
    private readonly onToken: (token: string) => void,
  ) {}

  get refreshable(): boolean {
    return typeof this.provider === "function";
  }

  /**
   * A provider that keeps its own token and renews it ahead of expiry (passwordLogin: it has an
   * `invalidate` method) is asked on every attempt; any other function's token is kept until a 401.
   */
  private get selfCaching(): boolean {
    return (
      typeof this.provider === "function" &&
      typeof (this.provider as { invalidate?: unknown }).invalidate === "function"
    );
  }

  /** The token when it is known without waiting, else undefined (then call get()). */
  peek(): string | undefined {
    if (typeof this.provider === "string") return this.provider;
    if (this.selfCaching) return undefined;
    return this.current?.value;
  }

  /**
   * The token, asking the provider once for any number of concurrent callers. Rejects with a
   * TokenProviderError when the provider fails, returns an unusable value, or `signal` aborts
   * first (then the pending call is dropped, so the next attempt asks again).
   */
  get(signal?: AbortSignal): Promise<string> {
    const provider = this.provider;
    if (typeof provider === "string") return Promise.resolve(provider);
    if (!this.current) {
      const pending = Promise.resolve()
        .then(provider)
        .then(
          (token) => {
            if (typeof token !== "string" || token === "" || !isHeaderSafe(token)) {
              throw new TokenProviderError(
                "the token provider returned a value that is not a usable bearer token (empty, not a string, or holding characters a header cannot carry)",
              );
            }
            this.onToken(token);
            return token;
          },
          (error: unknown) => {
            // A login that VBA answered with an error (401, 403...) is VBA's word: passed on.
            if (error instanceof ApiError) throw error;
            // The SDK's own errors say what failed without secrets: their words are repeated.
            // A connection failure of the SDK's login was retried there already.
            throw new TokenProviderError(
              error instanceof VbapiError
                ? `the token provider failed: ${error.message}`
                : `the token provider failed (${error instanceof Error ? error.name : typeof error})`,
              { cause: error, retried: error instanceof NoResponseError },
            );
          },
        );
      const entry: Entry = { promise: pending, value: undefined };
      this.current = entry;
      pending.then(
        (value) => {
          entry.value = value;
        },
        // A failed provider call is not cached.
        () => this.drop(entry),
      );
    }
    const entry = this.current;
    // A self-caching provider answers from its own cache next time: nothing is kept here.
    if (this.selfCaching) this.drop(entry);
    if (signal === undefined) return entry.promise;
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) {
        this.drop(entry);
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        // A provider that does not settle in time is asked again next attempt.
        this.drop(entry);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      entry.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  private drop(entry: Entry): void {
    if (this.current === entry) this.current = undefined;
  }

  /** Drops `used` so the next get() asks the provider again (once, however many callers saw a 401). */
  async invalidate(used: string): Promise<void> {
    // A provider that caches (passwordLogin) is told too, so it does not hand the stale token back.
    const invalidate = (this.provider as { invalidate?: (token: string) => unknown }).invalidate;
    if (typeof invalidate === "function") {
      await Promise.resolve(invalidate.call(this.provider, used)).catch(() => undefined);
    }
    const current = this.current;
    if (
      current &&
      (await current.promise.catch(() => undefined)) === used &&
      this.current === current
    ) {
      this.current = undefined;
    }
  }
}
