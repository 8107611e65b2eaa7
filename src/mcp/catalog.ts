/**
 * What an MCP server serves. The engine speaks the protocol; a Catalog says which
 * tools, resources and prompts exist and runs them. The management server, hosted
 * servers and `dzx dev` folders are all catalogs.
 */
import type { CancelSignal } from "./cancellation.ts";

/** A tool as tools/list publishes it. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** Content blocks a tool result carries. */
export type ContentBlock = { type: "text"; text: string } | { type: string; [k: string]: unknown };

/** The result of tools/call. */
export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A resource as resources/list publishes it. */
export interface McpResource {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

/** A resource template as resources/templates/list publishes it. */
export interface McpResourceTemplate {
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
}

/** A prompt as prompts/list publishes it. */
export interface McpPrompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
}

/** Per-call facts and hooks the engine hands to the catalog. */
export interface CallContext {
  /** The JSON-RPC id of the request being served. */
  requestId: string;
  sessionId?: string;
  signal: CancelSignal;
  /** Sends notifications/progress when the client asked for it. */
  progress?(progress: number, total?: number, message?: string): void;
  /** Sends notifications/message at or above the session's log level. */
  log?(level: string, data: unknown): void;
  /** The capabilities the client declared (initialize on the 2025 lanes; the request's own declaration on 2026-07-28). Undefined when unknown. */
  clientCapabilities?: Record<string, unknown>;
  /**
   * Sends a server→client JSON-RPC request related to this call (`elicitation/create`,
   * `sampling/createMessage`) and resolves with the client's `result`. Absent when the
   * call has no way to reach the client. Rejects with ClientRequestError (src/mcp/clientRequest.ts)
   * when the client answers with an error, the session ends, the call is cancelled, or the signal aborts.
   */
  ask?(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>>;
}

/** The contents a catalog supplies; optional parts turn the matching capability off. */
export interface Catalog {
  listTools(ctx: CallContext): Promise<McpTool[]>;
  /** Throws RpcError(InvalidParams) for an unknown tool; tool failures are isError results. */
  callTool(ctx: CallContext, name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  listResources?(ctx: CallContext): Promise<McpResource[]>;
  listResourceTemplates?(ctx: CallContext): Promise<McpResourceTemplate[]>;
  readResource?(ctx: CallContext, uri: string): Promise<{ contents: Record<string, unknown>[] }>;
  listPrompts?(ctx: CallContext): Promise<McpPrompt[]>;
  getPrompt?(ctx: CallContext, name: string, args: Record<string, string>): Promise<{ description?: string; messages: unknown[] }>;
  /**
   * Candidate values for an argument, given what the user typed so far and the other
   * arguments already chosen (`context.arguments`, MCP 2025-06-18). Present only when
   * something can complete: it turns the `completions` capability on.
   */
  complete?(ctx: CallContext, ref: CompletionRef, argument: string, value: string, context?: CompletionContext): Promise<string[]>;
}

/** What completion/complete says about the arguments already resolved. */
export interface CompletionContext {
  arguments?: Record<string, string>;
}

/** What completion/complete asks about. */
export type CompletionRef = { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string } | { type: string; [k: string]: unknown };

/** Name, version and instructions sent on initialize. */
export interface ServerInfo {
  name: string;
  version: string;
  title?: string;
  instructions?: string;
}
