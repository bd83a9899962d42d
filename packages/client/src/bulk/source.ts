/**
 * Input handling: the bulk engine accepts an array, a sync iterable or an async iterable and
 * reads it lazily, one record at a time, through a single async iterator.
 */

/** What `upsertAll` accepts as records: an array, an iterable or an async iterable (a stream). */
export type BulkInput<T> = readonly T[] | Iterable<T> | AsyncIterable<T>;

/** A lazy, pull-based reader over any {@link BulkInput}. */
export interface RecordSource<T> {
  /** Number of records when known up front (arrays only), else `undefined`. */
  readonly knownLength: number | undefined;
  /** Next record, or `done` when the input is exhausted. Never called concurrently. */
  next(): Promise<IteratorResult<T, unknown>>;
  /**
   * For arrays and sync iterables: the next record without a promise (same sequence as
   * `next`; the two are never mixed for one read). Absent for async iterables.
   */
  readonly nextSync?: (() => IteratorResult<T, unknown>) | undefined;
  /** Stop reading early: closes the underlying iterator (`return()`), ignoring its errors. */
  close(): Promise<void>;
}

function isAsyncIterable<T>(input: unknown): input is AsyncIterable<T> {
  return (
    input != null &&
    typeof (input as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

function isIterable<T>(input: unknown): input is Iterable<T> {
  return (
    input != null &&
    typeof (input as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function"
  );
}

/** Opens a lazy reader over `input`. Throws a `TypeError` when `input` is not iterable. */
export function openSource<T>(input: BulkInput<T>): RecordSource<T> {
  if (Array.isArray(input)) {
    const array = input as readonly T[];
    let i = 0;
    const nextSync = (): IteratorResult<T, unknown> =>
      i < array.length ? { done: false, value: array[i++] as T } : { done: true, value: undefined };
    return {
      knownLength: array.length,
      next: async () => nextSync(),
      nextSync,
      close: async () => {
        i = array.length;
      },
    };
  }
  let iterator: Iterator<T> | AsyncIterator<T>;
  let sync = false;
  if (isAsyncIterable<T>(input)) iterator = input[Symbol.asyncIterator]();
  else if (isIterable<T>(input)) {
    iterator = input[Symbol.iterator]();
    sync = true;
  } else
    throw new TypeError("upsertAll: records must be an array, an iterable or an async iterable");
  let finished = false;
  return {
    knownLength: undefined,
    nextSync: sync
      ? () => {
          if (finished) return { done: true, value: undefined };
          const result = (iterator as Iterator<T>).next();
          if (result.done) finished = true;
          return result;
        }
      : undefined,
    async next() {
      if (finished) return { done: true, value: undefined };
      const result = await iterator.next();
      if (result.done) finished = true;
      return result;
    },
    async close() {
      if (finished) return;
      finished = true;
      try {
        await iterator.return?.();
      } catch {
        // The caller asked to stop reading; an error while closing the input changes nothing.
      }
    },
  };
}
