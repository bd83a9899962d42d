// What an HTTP header can carry: credentials and tokens are checked before they are sent.

/**
 * True when `value` can be sent as an HTTP header value as it is: Latin-1, no control character
 * but tab (RFC 9110 field-value), no surrounding whitespace.
 */
export function isHeaderSafe(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) return false;
  }
  return value.trim() === value;
}
