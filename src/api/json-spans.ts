/**
 * Where values sit in JSON text that JSON.parse already accepted, so a payload can be passed on
 * exactly as the backend wrote it (key order, number spelling, escapes). Pure: no runtime APIs.
 */

export type Span = [start: number, end: number];

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

function skipString(text: string, i: number): number {
  // i is at the opening quote
  for (i++; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return i;
}

/** The end (exclusive) of the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first !== "{" && first !== "[") {
    while (i < text.length && !WHITESPACE.has(text[i]) && text[i] !== "," && text[i] !== "}" && text[i] !== "]") i++;
    return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = skipString(text, i) - 1;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return i + 1;
  }
  return i;
}

/** The span of the whole value in `text`, without surrounding whitespace. */
export function valueSpan(text: string): Span {
  const start = skipWhitespace(text, 0);
  return [start, skipValue(text, start)];
}

/** Spans of an array's elements; `text` must hold a JSON array. */
export function elementSpans(text: string): Span[] {
  const spans: Span[] = [];
  let i = skipWhitespace(text, skipWhitespace(text, 0) + 1);
  while (i < text.length && text[i] !== "]") {
    const end = skipValue(text, i);
    spans.push([i, end]);
    i = skipWhitespace(text, end);
    if (text[i] === ",") i = skipWhitespace(text, i + 1);
  }
  return spans;
}

/** The span of member `key` of the object in `text` (the last one, as JSON.parse keeps), or null. */
export function memberSpan(text: string, key: string): Span | null {
  let found: Span | null = null;
  let i = skipWhitespace(text, skipWhitespace(text, 0) + 1);
  while (i < text.length && text[i] === '"') {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1);
    const valueEnd = skipValue(text, valueStart);
    if (name === key) found = [valueStart, valueEnd];
    i = skipWhitespace(text, valueEnd);
    if (text[i] === ",") i = skipWhitespace(text, i + 1);
  }
  return found;
}
