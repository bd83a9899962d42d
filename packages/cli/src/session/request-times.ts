// When each HTTP request of a session settled, for the journal (and the HTML report's
// timeline): a fetch wrapper that times every request the client makes (its own retries
// included) and counts the records in its body. It sees the status, never reads the answer.
import type { SettledRequest } from "../run-dir/journal.ts";

/**
 * The number of elements of a JSON array text, or undefined when `text` is not an array. A scan
 * (depth and strings), not a parse: a 1 MiB body costs no allocation. Assumes valid JSON, which
 * the client's own serializer writes.
 */
export function countJsonArray(text: string): number | undefined {
  let i = 0;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  if (text[i] !== "[") return undefined;
  let depth = 0;
  let inString = false;
  let commas = 0;
  let empty = true;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    // Anything but white space and the closing bracket inside the outer array is an element.
    if (depth === 1 && c !== 93 && c !== 32 && c !== 10 && c !== 13 && c !== 9) empty = false;
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) depth++;
    else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
      if (depth === 0) break;
    } else if (c === 44 /* , */ && depth === 1) commas++;
  }
  return empty ? 0 : commas + 1;
}

/** `fetchImpl`, calling `onSettled` once per request when it is answered or fails. */
export function timedFetch(
  fetchImpl: typeof fetch,
  onSettled: (request: SettledRequest) => void,
): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    const records = typeof init?.body === "string" ? countJsonArray(init.body) : undefined;
    const settle = (status: number) =>
      onSettled({ at: Date.now(), ms: performance.now() - started, status, records });
    let response: Response;
    try {
      response = await fetchImpl(input, init);
    } catch (error) {
      settle(0);
      throw error;
    }
    settle(response.status);
    return response;
  };
}
