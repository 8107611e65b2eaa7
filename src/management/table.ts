/**
 * The operation table: every management operation, in catalog order.
 */
import type { Operation } from "./operation.ts";
import { accountOperations, orgOperations } from "./operations/account.ts";
import { callOperations } from "./operations/calls.ts";
import { partialOperations, promptOperations, resourceOperations, toolOperations, toolTestOperation } from "./operations/library.ts";
import { serverOperations } from "./operations/servers.ts";
import { workspaceOperations } from "./operations/workspaces.ts";

/** All operations, in the order tools/list shows them. */
export const operations: Operation[] = [
  ...orgOperations,
  ...toolOperations,
  toolTestOperation,
  ...resourceOperations,
  ...promptOperations,
  ...serverOperations,
  ...workspaceOperations,
  ...partialOperations,
  ...accountOperations,
  ...callOperations,
];

/** Operations by name. */
export const operationsByName = new Map(operations.map((op) => [op.name, op]));
