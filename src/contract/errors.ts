/** Error codes of the public contract; every error body is `{"error":{code,message}}`. */
export type ErrorCode =
  | "bad_json"
  | "bad_request"
  | "invalid_name"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "unsupported_media_type"
  | "misconfigured"
  | "upgrade_required"
  | "room_full"
  | "server_full"
  | "too_many_connections"
  | "unavailable"
  | "internal";

/**
 * The one error type of edgepush: thrown anywhere, turned into JSON in exactly one place
 * (`app.onError` in worker.ts).
 * @example throw new ApiError(400, "bad_request", "uid: expected a string")
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 415 | 426 | 429 | 500 | 503,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** JSON body for an error; never carries a stack. */
export function errorBody(err: ApiError): { error: { code: ErrorCode; message: string } } {
  return { error: err.toJSON() };
}
