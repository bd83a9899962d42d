// RFC 7807 problem details, as VBA's VBAProblemDetails.

/** An RFC 7807 problem details body (VBA's `VBAProblemDetails`), optionally with field errors. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  /** Validation failures (400 only): record index, field pointer and message. Never values. */
  errors?: Array<{ record: number | null; field: string; message: string }>;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const TYPES: Record<number, string> = {
  400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
  401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
  403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
  404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
  405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
  413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
  415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
  429: "https://tools.ietf.org/html/rfc6585#section-4",
  500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
  502: "https://tools.ietf.org/html/rfc9110#section-15.6.3",
  503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
  504: "https://tools.ietf.org/html/rfc9110#section-15.6.5",
};

/** The reason phrase used as problem `title` for a status. */
export function titleFor(status: number): string {
  return (
    TITLES[status] ?? (status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Status")
  );
}

/** Builds a problem details object. */
export function problem(status: number, detail: string, instance: string): ProblemDetails {
  return {
    type: TYPES[status] ?? "about:blank",
    title: titleFor(status),
    status,
    detail,
    instance,
  };
}
