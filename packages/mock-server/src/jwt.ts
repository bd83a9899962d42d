// The ID tokens the login issues: JWTs signed with HS256 (HMAC-SHA256) under a secret that
// each server draws at random when it starts, so a token from another server never verifies.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** What the server puts in an ID token. */
export interface IdTokenClaims {
  /** Issuer: `vbapi-mock`. */
  iss: string;
  /** The username. */
  sub: string;
  /** The client id the user logged in with. */
  aud: string;
  /** The database named at login (`vbasoftware-database`). */
  database: string;
  /** The client code the user logged in with. */
  client_code: string;
  token_use: "id";
  /** Issued at, seconds since the epoch (with milliseconds as a fraction); absent when the server is told to leave it out. */
  iat?: number;
  /** Expires at, seconds since the epoch (with milliseconds as a fraction; RFC 7519 NumericDate). */
  exp: number;
  /** A random id, so that two logins in the same millisecond still get different tokens. */
  jti: string;
}

/** Why a token was refused. */
export type TokenVerdict =
  | { ok: true; claims: IdTokenClaims }
  | { ok: false; reason: "expired" | "invalid" };

const ISSUER = "vbapi-mock";
const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

/** Signs and verifies this server's ID tokens. */
export class TokenIssuer {
  private readonly secret = randomBytes(32);

  constructor(
    /** The server's clock (the machine's, or one set apart from it). */
    private readonly now: () => number = Date.now,
    private readonly withIssuedAt = true,
  ) {}

  private sign(input: string): Buffer {
    return createHmac("sha256", this.secret).update(input).digest();
  }

  /** A fresh ID token for a user, valid for `lifetimeMs`. */
  issue(
    user: { username: string; clientId: string; clientCode: string; database: string },
    lifetimeMs: number,
  ): string {
    const now = this.now();
    const claims: IdTokenClaims = {
      iss: ISSUER,
      sub: user.username,
      aud: user.clientId,
      database: user.database,
      client_code: user.clientCode,
      token_use: "id",
      ...(this.withIssuedAt ? { iat: now / 1000 } : {}),
      exp: (now + lifetimeMs) / 1000,
      jti: randomBytes(12).toString("base64url"),
    };
    const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    return `${input}.${this.sign(input).toString("base64url")}`;
  }

  /** Checks the signature (this server's secret, HS256 only), the issuer and the expiry. */
  verify(token: string): TokenVerdict {
    const invalid: TokenVerdict = { ok: false, reason: "invalid" };
    const parts = token.split(".");
    if (parts.length !== 3) return invalid;
    const [header, payload, signature] = parts as [string, string, string];
    if (header !== HEADER) return invalid; // also refuses alg "none" and every other algorithm
    const given = Buffer.from(signature, "base64url");
    const expected = this.sign(`${header}.${payload}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    let claims: IdTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as IdTokenClaims;
    } catch {
      return invalid;
    }
    if (claims?.iss !== ISSUER || typeof claims.exp !== "number") return invalid;
    if (this.now() >= claims.exp * 1000) return { ok: false, reason: "expired" };
    return { ok: true, claims };
  }
}
