/**
 * The operation table: every management operation, in catalog order.
 */
import type { Operation } from "./operation.ts";
import { accountOperations, orgOperations } from "./operations/account.ts";
import { callOperations } from "./operations/calls.ts";
import { connectionOperations } from "./operations/connections.ts";
import { partialOperations, promptOperations, resourceOperations, toolOperations, toolTestOperation } from "./operations/library.ts";
import { serverOperations } from "./operations/servers.ts";
import { serverToolOperations } from "./operations/serverTools.ts";
import { workspaceOperations } from "./operations/workspaces.ts";

/** All operations, in the order tools/list shows them. */
export const operations: Operation[] = [
  ...orgOperations,
  ...toolOperations,
  toolTestOperation,
  ...resourceOperations,
  ...promptOperations,
  ...serverOperations,
  ...serverToolOperations,
  ...workspaceOperations,
  ...partialOperations,
  ...accountOperations,
  ...connectionOperations,
  ...callOperations,
];

/** Operations by name. */
export const operationsByName = new Map(operations.map((op) => [op.name, op]));
