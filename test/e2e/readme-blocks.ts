/** The README's fenced code blocks, with what the doc test needs to know about each. Pure: text in, data out. */

export interface CodeBlock {
  /** 1-based position among the README's blocks. */
  index: number;
  /** Line of the opening fence. */
  line: number;
  /** The fence's language tag, lower case; "" when it has none. */
  lang: string;
  code: string;
  /** `<!-- not-run: why -->` right before the fence. */
  notRun?: string;
  /**
   * Lines the block promises on stdout: `# → …` / `// → …` lines in it and `<!-- expect: … -->`
   * before it. Each is a whole line of output; `…` stands for any text.
   */
  expects: string[];
  /** Lines it promises on stderr: `<!-- expect-stderr: … -->` before it. */
  stderrExpects: string[];
}

const FENCE = /^```([\w-]*)\s*$/;
const DIRECTIVE = /^<!--\s*(not-run|expect|expect-stderr):\s*(.*?)\s*-->$/;
const ARROW = /(?:^|\s)(?:#|\/\/) → (.+)$/;

/** Every fenced block of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end < 0) throw new Error(`README line ${i + 1}: a code fence is never closed`);
    const code = lines.slice(i + 1, end).join("\n");
    const block: CodeBlock = {
      index: blocks.length + 1, line: i + 1, lang: open[1].toLowerCase(), code, expects: [], stderrExpects: [],
    };
    // Directives are the HTML comments on the lines just above the fence.
    for (let j = i - 1; j >= 0; j--) {
      const directive = DIRECTIVE.exec(lines[j].trim());
      if (!directive) break;
      if (directive[1] === "not-run") block.notRun = directive[2];
      else if (directive[1] === "expect") block.expects.unshift(directive[2]);
      else block.stderrExpects.unshift(directive[2]);
    }
    for (const line of code.split("\n")) {
      const arrow = ARROW.exec(line);
      if (arrow) block.expects.push(arrow[1].trim());
    }
    blocks.push(block);
    i = end;
  }
  return blocks;
}

/** A promised line as a pattern for one whole line: `…` stands for any text, everything else is literal. */
export function expectation(text: string): RegExp {
  const parts = text.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/**
 * The promised lines that `output` does not have, each needing a whole line of its own (in any
 * order: a background client prints between the script's lines).
 */
export function unmet(promised: string[], output: string): string[] {
  const lines = output.split("\n").map((line) => line.replace(/\r$/, ""));
  const used = new Set<number>();
  return promised.filter((text) => {
    const pattern = expectation(text);
    const at = lines.findIndex((line, i) => !used.has(i) && pattern.test(line));
    if (at >= 0) used.add(at);
    return at < 0;
  });
}

/**
 * The block as it runs in the test's session: the README's local ports and example hosts point at
 * the session's `npm start` instead.
 */
export function localize(code: string, port: number, shimPort: number): string {
  return code
    .replace(/(127\.0\.0\.1|localhost):8787/g, `127.0.0.1:${port}`)
    .replace(/(127\.0\.0\.1|localhost):5678/g, `127.0.0.1:${shimPort}`)
    .replace(/https:\/\/(edgepush\.example\.workers\.dev|push\.example\.com)/g, `http://127.0.0.1:${port}`)
    .replace(/wss:\/\/(edgepush\.example\.workers\.dev|push\.example\.com)/g, `ws://127.0.0.1:${port}`);
}

/** The optional tools (scripts/prerequisites.mjs) a block needs: PHP for PHP code and shell lines running `php`. */
export function toolsFor(block: CodeBlock): ("php" | "chromium")[] {
  const shell = ["sh", "bash", "shell"].includes(block.lang);
  const tools: ("php" | "chromium")[] = [];
  if (block.lang === "php" || (shell && /(^|[\s;&|(])php\s/m.test(block.code))) tools.push("php");
  if (shell && /(^|[\s;&|(])chromium\s/m.test(block.code)) tools.push("chromium");
  return tools;
}
