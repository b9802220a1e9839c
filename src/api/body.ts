/** Reading a request body within a size limit, as UTF-8 text. */
import { ApiError } from "../contract/errors";

// Like the shim's line splitter: a body that is not UTF-8 is refused, never patched with U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Past the limit, up to this many times it is read and dropped before the 413 goes out: a client
 * that writes its whole body before reading (PHP streams, many HTTP libraries) then gets the answer
 * instead of a reset. Beyond it, or after DRAIN_MS, the upload is cut off.
 */
const DRAIN_FACTOR = 16;
const DRAIN_MS = 10_000;

/**
 * The body as text: 413 `too_large` over `maxBytes` (declared or counted), 400 `bad_json` when
 * it is not UTF-8.
 * @example const text = await readBodyText(request, 1 << 20)
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = new ApiError(413, "too_large", `body is over MAX_BODY_BYTES (${maxBytes} bytes)`);
  const length = request.headers.get("Content-Length");
  const declared = length !== null && /^\d+$/.test(length) ? Number(length) : null;
  if (!request.body) return "";
  if (declared !== null && declared > maxBytes) {
    if (declared <= DRAIN_FACTOR * maxBytes) await drain(request.body.getReader(), declared);
    throw tooLarge;
  }
  let bytes: Uint8Array;
  if (declared !== null) {
    // A declared length bounds what HTTP framing delivers: read it in one native call, and still
    // check the size (a request built in-process may carry any header).
    bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge;
  } else {
    bytes = await readChunks(request.body.getReader(), maxBytes, tooLarge);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ApiError(400, "bad_json", "body is not valid UTF-8");
  }
}

// A body without a length (chunked): read until it ends or passes `maxBytes`.
async function readChunks(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number, tooLarge: ApiError): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await drain(reader, DRAIN_FACTOR * maxBytes - total);
      throw tooLarge;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// Reads and drops up to `budget` more bytes within DRAIN_MS; whatever is left is cancelled.
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), DRAIN_MS)));
  try {
    for (let left = budget; left > 0;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late" || next.done) break;
      left -= next.value.byteLength;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
