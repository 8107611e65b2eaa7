/**
 * Operations on the org's library: tools, resources and prompts.
 */
import * as prompt from "../../platform/prompt.ts";
import * as resource from "../../platform/resource.ts";
import * as tool from "../../platform/tool.ts";
import { assetOperations } from "./asset.ts";

/** dwizi.tools.* */
export const toolOperations = assetOperations({
  singular: "tool",
  plural: "tools",
  readScope: "tools:read",
  writeScope: "tools:write",
  input: tool.ToolInput,
  patch: tool.ToolPatch,
  view: tool.toolView,
  list: tool.listTools,
  get: tool.getTool,
  create: tool.createTool,
  update: tool.updateTool,
  remove: tool.deleteTool,
});

/** dwizi.resources.* */
export const resourceOperations = assetOperations({
  singular: "resource",
  plural: "resources",
  readScope: "resources:read",
  writeScope: "resources:write",
  input: resource.ResourceInput,
  patch: resource.ResourcePatch,
  view: resource.resourceView,
  list: resource.listResources,
  get: resource.getResource,
  create: resource.createResource,
  update: resource.updateResource,
  remove: resource.deleteResource,
});

/** dwizi.prompts.* */
export const promptOperations = assetOperations({
  singular: "prompt",
  plural: "prompts",
  readScope: "prompts:read",
  writeScope: "prompts:write",
  input: prompt.PromptInput,
  patch: prompt.PromptPatch,
  view: prompt.promptView,
  list: prompt.listPrompts,
  get: prompt.getPrompt,
  create: prompt.createPrompt,
  update: prompt.updatePrompt,
  remove: prompt.deletePrompt,
});
