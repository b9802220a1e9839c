import type { ErrorCode } from "../src/contract/errors";

/** Error codes of the contract (README: "Errors"), plus three the SDK raises itself. */
export type EdgePushErrorCode =
  | ErrorCode
  /** The server could not be reached (refused, reset, DNS …); status 0. */
  | "network_error"
  /** No answer within `timeoutMs`; status 0. */
  | "timeout"
  /** The answer was not edgepush's JSON (a proxy's HTML page, a truncated body …). */
  | "bad_response"
  // Codes added by later servers still type-check.
  | (string & {});

/**
 * The one error the SDK throws: the contract's error `code`, the HTTP `status` (0 when no answer
 * arrived) and how many `attempts` were made.
 * @example
 * try { await push.toUid("u1", { hi: 1 }) }
 * catch (err) { if (err instanceof EdgePushError && err.code === "invalid_name") … }
 */
export class EdgePushError extends Error {
  override readonly name = "EdgePushError";

  constructor(
    readonly status: number,
    readonly code: EdgePushErrorCode,
    message: string,
    readonly attempts = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True for errors a retry may cure: no answer, or a 5xx other than `misconfigured`. */
  get retryable(): boolean {
    if (this.status === 0) return true;
    return this.status >= 500 && this.code !== "misconfigured";
  }
}
