/**
 * resources/read on a hosted server: the resource serving the URI (a plain one, or
 * the first matching template), its stored content, or its tool run with the URI's
 * variables as input. A tool that fails is a JSON-RPC error saying so, never a crash.
 */
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import type { RunBacking } from "./completion.ts";
import { ContentsError, storedContents, textOf, toolContents, type ResourceContents } from "./resourceContents.ts";
import type { ResourceIndex } from "./resourceIndex.ts";

/** The contents of `uri`, or InvalidParams when no resource of the server serves it. */
export async function readResource(index: ResourceIndex, run: RunBacking, uri: string): Promise<{ contents: ResourceContents[] }> {
  const hit = index.resolve(uri);
  if (!hit) throw new RpcError(RpcCode.InvalidParams, `Resource not found: "${uri}"; resources/list and resources/templates/list show this server's resources`, { uri });
  const { resource: r, variables } = hit;
  if (r.toolId === null) return { contents: [storedContents(r, uri, variables)] };
  const { result, output, rich } = await run(r.toolId, variables, `resource:${r.slug}`);
  if (result.isError) {
    throw new RpcError(RpcCode.InternalError, `Reading "${uri}" failed: its tool reported an error: ${textOf(result)}`, { uri });
  }
  try {
    return { contents: toolContents(r, uri, result, output, rich) };
  } catch (err) {
    if (err instanceof ContentsError) throw new RpcError(RpcCode.InternalError, `Reading "${uri}" failed: its tool's result is not resource contents: ${err.message}`, { uri });
    throw err;
  }
}
