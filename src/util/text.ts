/** Text measures. Pure: no Workers or Node APIs. */

const encoder = new TextEncoder();

/** Byte length of `text` as UTF-8. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
