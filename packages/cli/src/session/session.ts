// One session of a run: read the file, skip rows an earlier session finished, convert and
// validate the rest, hand them to the SDK's bulk engine (streaming report mode), and commit
// every settled row to the run folder as it settles. The counting is in accounting.ts, the
// ending in summary.ts; this file does the I/O: input, client, run folder, signals, display.
import {
  BulkCallbackError,
  BulkInputError,
  type BulkItem,
  type BulkProgress,
  type BulkReport,
  defaults,
  gatewayGaveUp,
  keyIdentity,
  type Limiter,
  upsertAll,
  type VbapiClient,
} from "@vbapi-sdk/client";
import type { Credentials } from "../auth.ts";
import { Converter } from "../convert.ts";
import { count } from "../count.ts";
import type { Display } from "../display.ts";
import { openInput } from "../input/open.ts";
import type { OpenedInput } from "../input/types.ts";
import { io } from "../io.ts";
import { setLogContext } from "../log-format.ts";
import { unreachableMessage } from "../net/describe.ts";
import { reachability } from "../net/reach.ts";
import { elapsedMs, type Stamp, stampNow } from "../run-dir/clock.ts";
import type { RunConfig } from "../run-dir/config.ts";
import type { JournalState } from "../run-dir/journal.ts";
import type { RunFiles } from "../run-dir/run-files.ts";
import type { CliEntity } from "../schema.ts";
import { tagRun } from "../telemetry/run.ts";
import { Tally } from "./accounting.ts";
import { sessionClient } from "./client.ts";
import { Feed } from "./feed.ts";
import { rowConverter, rowsToSend } from "./rows.ts";
import { type RunStatus, summarize } from "./summary.ts";

export interface SessionOptions {
  files: RunFiles;
  config: RunConfig;
  entity: CliEntity;
  /** The journal of earlier sessions (resume). */
  journal: JournalState | undefined;
  display: Display;
  credentials: Credentials;
  /** A limiter shared with other processes (`--redis`); default the client's own bucket. */
  limiter?: Limiter | undefined;
  /** The input, when the caller already opened it (stdin can be opened only once). */
  input?: OpenedInput;
  /** Called once, at the session's first HTTP answer (the base URL reaches a server). */
  onFirstAnswer?: () => void;
}

export interface SessionResult {
  status: RunStatus;
  exitCode: number;
  summary: Record<string, unknown>;
}

/** Ctrl-C and SIGTERM go to `onSignal` until the returned function is called. */
function listenForSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/**
 * Runs the SDK's bulk engine over the feed. A broken input or a throwing callback ends it early
 * with the report so far; what went wrong comes back beside it.
 */
async function drive(
  client: VbapiClient,
  entity: CliEntity,
  feed: Feed,
  options: Record<string, unknown>,
): Promise<{ report: BulkReport | undefined; inputError: unknown; callbackError: unknown }> {
  try {
    // The entity is chosen at run time: its typed records and options cannot be checked here.
    const report = await upsertAll(
      client,
      entity.entity,
      feed.records() as never,
      options as never,
    );
    return { report, inputError: undefined, callbackError: undefined };
  } catch (error) {
    if (error instanceof BulkInputError)
      return { report: error.report, inputError: error.cause, callbackError: undefined };
    if (error instanceof BulkCallbackError)
      return { report: error.report, inputError: undefined, callbackError: error.cause };
    throw error;
  }
}

/** Why the SDK found VBA unreachable mid-run: the last failure, else the target alone. */
function unreachableNow(config: RunConfig): string {
  const failure = reachability.failure;
  return failure
    ? unreachableMessage(failure.url, failure.error)
    : `cannot reach VBA at ${config.client.baseUrl}`;
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { files, config, entity, journal, display } = options;
  const startedAt = new Date();
  const started = startedAt.getTime();
  setLogContext({ runDir: files.dir });
  tagRun({ "vbapi.entity": entity.entity, "vbapi.session": files.sessionNumber });
  const converter = new Converter(entity, {
    map: config.convert.map,
    ignoreColumns: config.convert.ignoreColumns,
    ignoreUnknownColumns: config.convert.ignoreUnknownColumns,
    emptyAs: config.convert.emptyAs as never,
    timezoneOffset: config.convert.timezoneOffset,
    pathParams: config.pathParams,
  });
  const input =
    options.input ??
    (await openInput({
      path: config.input.path,
      format: config.input.format,
      delimiter: config.input.delimiter,
    }));
  const convert = rowConverter(converter, input);
  const tally = new Tally(input.size);
  const { counters } = tally;
  const client = sessionClient({
    ...options,
    limiter: options.limiter,
    tally,
    onSettled: (request) => {
      // An attempt with no answer (a timeout, a connection lost: maybe after sending) or one a
      // gateway gave up on (502, 504, 520, 524) may still be applied.
      if (request.status === 0 || gatewayGaveUp(request.status)) gaveUpAt ??= stampNow();
      files.requestSettled(request);
    },
  });
  const abort = new AbortController();
  let writeError: unknown;
  /** When this session first saw a request it gave up on (see onSettled above). */
  let gaveUpAt: Stamp | undefined;

  // Results are committed in batches: at most one commit per turn of the event loop.
  let commitScheduled = false;
  const commitNow = () => {
    commitScheduled = false;
    if (writeError !== undefined) return;
    try {
      files.commit({
        requests: counters.requests,
        retries: counters.retries,
        rateLimited: tally.rateLimited,
        elapsedMs: Date.now() - started,
        resent: tally.resent,
      });
    } catch (error) {
      writeError = error;
      stop("write-error");
      abort.abort();
    }
  };
  const scheduleCommit = () => {
    if (commitScheduled) return;
    commitScheduled = true;
    setImmediate(commitNow);
  };

  const ahead = config.client.chunkSize ?? defaults.bulk.chunkSize;
  // A killed session's requests may reach VBA late until they are older than the client's
  // timeout: as long as a request this process gave up on. Until then, its rows re-sent since
  // hold back the later rows with their keys (see HoldBehind); after it, nothing of an earlier
  // session is on its way any more (only killed sessions leave requests on their way).
  const killed = journal?.killed;
  const sinceKill = killed === undefined ? undefined : elapsedMs(killed.since, stampNow());
  const windowOpen = sinceKill !== undefined && sinceKill < defaults.timeoutMs;
  /** When an earlier session's requests stop counting as on their way (this machine's clock). */
  const windowEnd = windowOpen
    ? Date.now() + defaults.timeoutMs - (sinceKill as number)
    : undefined;
  const holdUntil = killed !== undefined && killed.resent.size > 0 ? windowEnd : undefined;
  // Rows that may still be on their way from an earlier session (see JournalState).
  const onItsWayMark = killed !== undefined && !windowOpen ? 0 : (journal?.onItsWayMark ?? 0);
  /** Rows that may be on their way from an earlier session and are still not final here. */
  let owedRowsLeft = 0;
  const feed = new Feed(
    rowsToSend({
      input,
      convert,
      skip: journal?.final,
      readMark: journal?.readMark ?? 0,
      onItsWayMark,
      counters,
      onInvalid: (row, original, message) => {
        tally.invalid(row, message);
        files.addFailed(row, original, 0, message, "", false, true);
        scheduleCommit();
      },
      holdBehind:
        holdUntil === undefined
          ? undefined
          : {
              resent: (killed as NonNullable<typeof killed>).resent,
              keyId: (record) => keyIdentity(entity.keys.map((field) => record[field])),
              onHeld: (row) => {
                tally.heldHere();
                // Not sent, so still owed: the end line keeps the mark for it.
                if (row <= onItsWayMark) owedRowsLeft++;
              },
            },
    }),
    (item) => files.markRead(item.row, ahead), // before the engine can send it
  );
  function stop(reason: string): void {
    if (feed.stop()) display.event("stopping", { reason, inFlight: counters.inFlight });
  }

  const onRecord = (item: BulkItem) => {
    const info = feed.take(item.index);
    if (info === undefined) return;
    const settled = tally.settle(item, info.row, info.resent, abort.signal.aborted);
    // A row held back behind an owed row of its key re-sent here is not itself on its way (a run
    // never has two rows of one key in flight): only the others stay owed.
    if (settled.final === false && info.mayBeOnItsWay && item.heldBack !== true) owedRowsLeft++;
    const activityId = item.activityId ?? "";
    if (settled.final === "succeeded") {
      const key = item.key as Record<string, unknown>;
      files.addSucceeded(info.row, key, settled.outcome, activityId, info.resent);
    } else if (settled.final === "failed") {
      const { status, mayHaveBeenApplied } = item;
      files.addFailed(
        info.row,
        info.original,
        status,
        settled.message,
        activityId,
        mayHaveBeenApplied,
        false,
      );
    }
    scheduleCommit();
  };

  const refresh = (force = false) => {
    counters.bytesRead = input.bytesRead();
    counters.elapsedMs = Date.now() - started;
    counters.sent = counters.succeeded + counters.failed + counters.inFlight;
    display.update(counters, force);
  };
  const onProgress = (p: BulkProgress) => {
    counters.inFlight = p.inFlight;
    counters.retries = p.retries;
    refresh();
  };

  // VBA cannot be reached before it ever answered (a mistyped host, a proxy, a certificate):
  // stop at once, every row left for resume, rather than retry for a minute and blame rows.
  let unreachable: string | undefined;
  const stopWatching = reachability.beforeFirstAnswer((failure) => {
    if (unreachable !== undefined) return;
    unreachable = unreachableMessage(failure.url, failure.error);
    stop("unreachable");
    abort.abort();
  });
  const stopListening = listenForSignals((signal) => {
    if (!feed.stopped) {
      stop(signal);
      display.log("");
      display.log(
        `${signal}: no more rows are read; waiting for ${count(counters.inFlight, "row")} in flight. Press Ctrl-C again to abort them.`,
      );
    } else if (!abort.signal.aborted) {
      display.log(`${signal}: aborting the requests in flight`);
      abort.abort();
    }
  });
  // The signal main was given: both steps of Ctrl-C at once (a program has no second press).
  const runSignal = io().signal;
  const onAbort = () => {
    if (!feed.stopped) {
      stop("aborted");
      display.log("");
      display.log(
        `aborted: no more rows are read; aborting the ${count(counters.inFlight, "row")} in flight`,
      );
    }
    if (!abort.signal.aborted) abort.abort();
  };
  runSignal?.addEventListener("abort", onAbort, { once: true });
  const stopAborting = () => runSignal?.removeEventListener("abort", onAbort);
  const ticker = setInterval(() => refresh(), 250);
  ticker.unref();

  let ended: Awaited<ReturnType<typeof drive>>;
  try {
    if (runSignal?.aborted) onAbort();
    // Inside the try: an output that throws still takes the listeners and the ticker with it.
    display.event("start", {
      runDir: files.dir,
      entity: entity.name,
      input: config.input.path,
      bytes: input.size ?? null,
      session: files.sessionNumber,
      alreadyDone: journal?.final.size ?? 0,
    });
    display.start(entity.name, counters);
    ended = await drive(client, entity, feed, {
      chunkSize: config.client.chunkSize,
      concurrency: config.client.concurrency,
      signal: abort.signal,
      onProgress,
      onRecord,
      report: "totals",
      pathParams: config.pathParams,
      // A request of the interrupted session may still be applied after anything sent now.
      sentBefore: (index: number) => feed.sentBefore(index),
    });
  } finally {
    stopWatching();
    stopListening();
    stopAborting();
    clearInterval(ticker);
    input.close();
  }
  const { report, callbackError } = ended;
  if (report?.stopped?.reason === "unreachable") tally.unreachable = true;
  const inputError = ended.inputError ?? feed.readError;
  // Rows handed to the engine that it never reported (cannot happen; kept resumable if it did).
  tally.pending += feed.unreported;
  counters.inFlight = 0;
  counters.retries = report?.retries ?? counters.retries;
  commitNow();
  refresh(true);
  display.stop(counters);

  // Rows left not done wait until the latest request that may land is older than the client's
  // timeout: an earlier session's (held here, by this CLI or by the SDK), or one this session gave
  // up on, from its end line (none when it aborted requests: the next resume's start times it).
  const endStamp = stampNow();
  const endLine = !abort.signal.aborted && writeError === undefined;
  const rowsLeft = tally.pending > 0 || feed.stopped;
  const own = gaveUpAt && endLine && rowsLeft ? endStamp.wall + defaults.timeoutMs : undefined;
  const earlier = tally.heldBack > 0 ? windowEnd : undefined;
  const heldUntil =
    own === undefined || earlier === undefined ? (own ?? earlier) : Math.max(own, earlier);
  const end = summarize(
    {
      config,
      entity,
      input,
      journal,
      tally,
      runDir: files.dir,
      session: files.sessionNumber,
      startedAt,
      heldUntil,
    },
    {
      problem: writeError ?? callbackError,
      stopRequested: feed.stopped,
      inputError,
      unreachable: unreachable ?? (tally.unreachable ? unreachableNow(config) : undefined),
    },
  );
  // Every request of this session was answered or given up on, none aborted in flight: an end
  // line. It still owes the earlier session's rows unless it read every row and re-sent each of
  // those (none left not final).
  if (endLine) {
    // A request this session gave up on (a timeout, a gateway's 504) may still land, after what
    // the next resume sends: timed from this end, as after a kill (see journal.ts).
    files.endSettled(
      end.status === "complete" && owedRowsLeft === 0 ? 0 : onItsWayMark,
      gaveUpAt && endStamp,
    );
  }
  files.writeSummary(end.summary);
  return { ...end, summary: { ...end.summary, firstFailures: tally.firstFailures } };
}
