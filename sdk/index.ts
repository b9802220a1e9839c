export { EdgePush, type EdgePushOptions } from "./edge-push";
export { EdgePushError, type EdgePushErrorCode } from "./errors";
export type * from "./types";
