/**
 * Runs once per `bun test` process: raises the default timeout for the first file
 * (bun's setDefaultTimeout reaches one file only, so every test file also calls it
 * itself: integration tests start real dzx processes on a 2-core machine) and prepares a migrated
 * embedded-database template so each test server starts from a copy instead of
 * paying initdb (~4 s) again.
 */
import { setDefaultTimeout } from "bun:test";
import { prepareTemplate } from "../support/database.ts";

setDefaultTimeout(60_000);
await prepareTemplate();
