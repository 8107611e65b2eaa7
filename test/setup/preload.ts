/**
 * Runs once per `bun test` process: prepares a migrated embedded-database template
 * so each test server starts from a copy instead of paying initdb (~4 s) again.
 */
import { prepareTemplate } from "../support/database.ts";

await prepareTemplate();
