export { EdgePushClient } from "./edgepush-client";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
export type { CloseInfo, EdgePushEvents, EdgePushOptions, ErrorInfo, Group, OpenEvent, PushMessage, ReconnectingInfo } from "./types";
