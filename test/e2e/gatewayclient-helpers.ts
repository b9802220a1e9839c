/** Runs GatewayClient drop-in calls in php-cli (test/php/gatewayclient-calls.php) and reads back what each returned. */
import { resolve } from "node:path";
import { run } from "./php-helpers";

const DRIVER = resolve("test/php/gatewayclient-calls.php");

/** What one `Gateway::…` call did: its PHP return value and type, or the exception it threw. */
export type CallOutcome =
  | { result: { type: string; value: unknown; list?: boolean } }
  | { exception: { class: string; message: string; status?: number; code?: string; getCode?: number } };

/** A call: the static method's name, then its arguments (`{serialize: v}` passes `serialize(v)`). */
export type GatewayCall = [method: string, ...args: unknown[]];

/** `Gateway::$name = value` before the calls: edgepushUrl, secretKey, timeout, registerAddress … */
export type GatewaySettings = Record<string, unknown>;

/** Runs `calls` in order in one PHP process (one kept-alive connection); fails unless PHP ran them all. */
export async function phpGateway(settings: GatewaySettings, calls: GatewayCall[]): Promise<CallOutcome[]> {
  const php = await run("php", [DRIVER, JSON.stringify({ settings, calls })]);
  const lines = php.stdout.split("\n").filter(Boolean);
  if (php.code !== 0 || lines.length !== calls.length) {
    throw new Error(`php exited ${php.code} after ${lines.length}/${calls.length} calls\nstdout: ${php.stdout}\nstderr: ${php.stderr}`);
  }
  return lines.map((line) => JSON.parse(line) as CallOutcome);
}

/** The return value of a call that must not have thrown. */
export function returned(outcome: CallOutcome): { type: string; value: unknown; list?: boolean } {
  if ("exception" in outcome) throw new Error(`expected a return value, got ${JSON.stringify(outcome.exception)}`);
  return outcome.result;
}
