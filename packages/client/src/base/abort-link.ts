// A caller's AbortSignal, followed with one listener however many requests and runs use it.
// Each request (and each bulk run) takes a link: its own signal, aborted with the caller's
// reason. The links of one caller signal share a single "abort" listener on it, added with the
// first link and removed with the last, so a run of thousands of requests over hours leaves the
// caller's signal as it found it and never trips Node's MaxListenersExceededWarning.

export interface SignalLink {
  /** Aborts when the caller's signal does; undefined when there is no caller signal. */
  readonly signal: AbortSignal | undefined;
  /** Detaches this link (idempotent). Call when the request or run has settled. */
  release(): void;
}

interface Hub {
  readonly links: Set<AbortController>;
  readonly onAbort: () => void;
}

const hubs = new WeakMap<AbortSignal, Hub>();
const NO_LINK: SignalLink = { signal: undefined, release() {} };

export function linkSignal(caller: AbortSignal | undefined): SignalLink {
  if (caller === undefined) return NO_LINK;
  const controller = new AbortController();
  if (caller.aborted) {
    controller.abort(caller.reason);
    return { signal: controller.signal, release() {} };
  }
  let hub = hubs.get(caller);
  if (hub === undefined) {
    const links = new Set<AbortController>();
    const created: Hub = {
      links,
      onAbort() {
        hubs.delete(caller);
        const all = [...links];
        links.clear();
        for (const link of all) link.abort(caller.reason);
      },
    };
    hub = created;
    hubs.set(caller, created);
    caller.addEventListener("abort", created.onAbort, { once: true });
  }
  const owner = hub;
  owner.links.add(controller);
  return {
    signal: controller.signal,
    release() {
      if (!owner.links.delete(controller) || owner.links.size > 0) return;
      if (hubs.get(caller) === owner) hubs.delete(caller);
      caller.removeEventListener("abort", owner.onAbort);
    },
  };
}
