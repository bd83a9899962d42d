// Reading an answer's body whole under a size cap: a declared length over the cap is refused
// unread, a streamed body is cut off as soon as it passes the cap. A compressed answer's
// Content-Length is its packed size while fetch hands over the unpacked bytes, so it is always
// counted as it streams (a gzip bomb stops at the cap).
import { ResponseParseError } from "../base/errors.ts";

/** Reads a body whole, refusing more than `max` bytes (the rest is not read). */
export async function readCapped(
  response: Response,
  max: number,
  what: string,
): Promise<Uint8Array> {
  const encoding = response.headers.get("content-encoding")?.trim().toLowerCase();
  // The declared length is the length read only for an answer that is not compressed.
  const plain = !encoding || encoding === "identity";
  const declared = plain ? Number(response.headers.get("content-length")) : Number.NaN;
  const tooLarge = () =>
    new ResponseParseError(
      `${what}: the HTTP ${response.status} answer is larger than ${max} bytes (maxResponseBytes); it was not read`,
      { status: response.status },
    );
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  // A declared length within the cap: read it in one go (undici stops at the declared length).
  if (plain && response.headers.has("content-length") && declared >= 0) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
