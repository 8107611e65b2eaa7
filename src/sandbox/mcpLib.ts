/**
 * The `mcp` global: helpers that build MCP content blocks and tool results (issue 14).
 * JavaScript source, evaluated once in the sandbox's resident context and, for trusted
 * native tools, in the worker itself — one implementation for both.
 *
 * A value is a rich result only when these helpers made it: they remember their objects
 * in a WeakMap no tool code can reach (its methods taken before any tool runs), and the
 * encoder they leave on the private host object (`host.encode`, used in place of
 * JSON.stringify for what a call returns) marks exactly those (RICH_MARK). A plain
 * `{content: "hi"}` stays structured output. `host.decode` turns an answer of
 * `tools.<name>()` back into remembered objects, so a script can inspect a nested tool's
 * rich result and return it as one. Bytes become base64 through `host.base64(buffer)`.
 * Blocks are checked on the host (src/mcp/contentBlock.ts), not here.
 */
import { RICH_MARK } from "./toolOutput.ts";

/** `(host) => ({ mcp })`; sets `host.encode` and `host.decode`. */
export const MCP_LIB = String.raw`(function (host) {
  "use strict";
  const MARK = ${JSON.stringify(RICH_MARK)};
  const apply = Reflect.apply, stringify = JSON.stringify, parse = JSON.parse, isArray = Array.isArray, isView = ArrayBuffer.isView;
  const made = new WeakMap(), wmGet = WeakMap.prototype.get, wmSet = WeakMap.prototype.set;
  const abLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get, abSlice = ArrayBuffer.prototype.slice;
  const strSlice = String.prototype.slice, base64 = host.base64;
  const kindOf = (v) => (typeof v === "object" && v !== null ? apply(wmGet, made, [v]) : undefined);
  const remember = (v, kind) => (typeof v === "object" && v !== null && apply(wmSet, made, [v, kind]), v);
  const lengthOf = (buffer) => { try { return apply(abLength, buffer, []); } catch { return -1; } };
  // bytes in any form become base64 text; anything else is left as given, for the host to name
  const bytes = (data) => {
    const n = lengthOf(data);
    if (n >= 0) return n === 0 ? "" : base64(data);
    if (isView(data)) return data.byteLength === 0 ? "" : base64(apply(abSlice, data.buffer, [data.byteOffset, data.byteOffset + data.byteLength]));
    return data;
  };
  const embedded = (r) => {
    if (typeof r !== "object" || r === null) return r;
    const copy = { ...r };
    if (copy.blob !== undefined) copy.blob = bytes(copy.blob);
    return copy;
  };
  // a block written as a plain object inside mcp.result: its bytes encoded too
  const asBlock = (b) => {
    if (kindOf(b) === "block" || typeof b !== "object" || b === null) return b;
    const copy = { ...b };
    if (copy.data !== undefined) copy.data = bytes(copy.data);
    if (copy.resource !== undefined) copy.resource = embedded(copy.resource);
    return copy;
  };
  const block = (fields, extra) => remember({ ...fields, ...extra }, "block");
  const mcp = Object.freeze({
    text: (text, extra) => block({ type: "text", text }, extra),
    image: (data, mimeType, extra) => block({ type: "image", data: bytes(data), mimeType }, extra),
    audio: (data, mimeType, extra) => block({ type: "audio", data: bytes(data), mimeType }, extra),
    resource: (resource, extra) => block({ type: "resource", resource: embedded(resource) }, extra),
    resourceLink: (link, extra) => block({ type: "resource_link", ...link }, extra),
    result: (r) => {
      const out = { ...r };
      if (isArray(out.content)) {
        const content = [];
        for (let i = 0; i < out.content.length; i++) content[i] = asBlock(out.content[i]);
        out.content = content;
      }
      return remember(out, "result");
    },
  });
  const marked = (v) => {
    const text = stringify(v);
    return text === undefined ? text : MARK + text;
  };
  host.encode = (v) => {
    const kind = kindOf(v);
    if (kind === "result") return marked(v);
    if (kind === "block") return marked({ content: [v] });
    if (isArray(v) && v.length > 0) {
      let all = true;
      for (let i = 0; all && i < v.length; i++) all = kindOf(v[i]) === "block";
      if (all) return marked({ content: v });
    }
    return stringify(v);
  };
  host.decode = (text) => {
    if (text[0] !== MARK) return parse(text);
    const r = parse(apply(strSlice, text, [1]));
    if (isArray(r.content)) for (let i = 0; i < r.content.length; i++) remember(r.content[i], "block");
    return remember(r, "result");
  };
  return { mcp };
})`;
