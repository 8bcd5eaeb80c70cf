// Client errors raised anywhere on the ingestion path; the edge turns them into protocol-shaped
// 4xx responses (Raygun: plain text; Sentry: {"detail","causes"}). Never a 5xx for bad input.

export type ClientErrorReason =
  | "invalid"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "unsupported_encoding"
  | "not_found"
  | "conflict";

export class ClientError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415,
    message: string,
    readonly reason: ClientErrorReason,
    readonly causes: string[] = [],
  ) {
    super(message);
    this.name = "ClientError";
  }
}

export const badRequest = (message: string, causes: string[] = []) =>
  new ClientError(400, message, "invalid", causes);
export const tooLarge = (message: string) => new ClientError(413, message, "too_large");
