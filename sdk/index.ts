export { EdgePush, type EdgePushOptions } from "./edge-push";
export { EdgePushError, type EdgePushErrorCode } from "./errors";
export type * from "./types";
export {
  verifyWebhook, WebhookVerificationError,
  type VerifyWebhookOptions, type WebhookDelivery, type WebhookErrorReason, type WebhookEvent, type WebhookEventName,
} from "./webhook";
