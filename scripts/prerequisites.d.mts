/** Types of prerequisites.mjs for the TypeScript tests. */
export type ToolName = "php" | "chromium";
export interface ToolInfo {
  what: string;
  install: string;
  present(): boolean;
}
export const TOOLS: Record<ToolName, ToolInfo>;
export function chromiumPath(env?: NodeJS.ProcessEnv): string | undefined;
export function toolsRequired(env?: NodeJS.ProcessEnv): boolean;
export function missingTools(names?: ToolName[]): ToolName[];
export function missingLine(name: ToolName, env?: NodeJS.ProcessEnv): string;
