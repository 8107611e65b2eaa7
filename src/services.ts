/**
 * The process's long-lived parts, opened once at start and closed in order on shutdown.
 */
import { Effect, Layer, ManagedRuntime } from "effect";
import { KeyActors, KeyActorsLive, type KeyActorsShape } from "./actors/keyActors.ts";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./database/index.ts";
import { createLogger, type Logger } from "./logger.ts";
import { openSecretBox, type SecretBox } from "./platform/secretBox.ts";
import { SessionStore } from "./mcp/session.ts";
import { SandboxPool } from "./sandbox/pool.ts";
import { ServerActors, serverActorsLayer, type ServerActorsShape } from "./actors/serverActors.ts";
import { callRetentionLayer } from "./actors/callRetention.ts";
import { memoryChangeBus, postgresChangeBus, type ChangeBus } from "./platform/changeBus.ts";
import { CallLog } from "./platform/callLog.ts";
import { Metrics } from "./platform/metrics.ts";
import { Drain } from "./mcp/drain.ts";
import { rateBackendOf, rateStoreLayer } from "./rateStore/index.ts";

/** Everything request handlers need. */
export interface Services {
  config: Config;
  database: Database;
  box: SecretBox;
  logger: Logger;
  keyActors: KeyActorsShape;
  /** The one Effect runtime of the process. */
  runtime: ManagedRuntime.ManagedRuntime<KeyActors | ServerActors, never>;
  managementSessions: SessionStore;
  /** Sessions of hosted servers, grouped by server id. */
  hostedSessions: SessionStore;
  sandbox: SandboxPool;
  changes: ChangeBus;
  servers: ServerActorsShape;
  callLog: CallLog;
  metrics: Metrics;
  /** MCP requests in flight across every endpoint, and whether the process is shutting down. */
  drain: Drain;
  close(): Promise<void>;
}

/** Opens the database, the secret box and the Effect runtime. */
export async function openServices(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Services> {
  const database = await openDatabase(config);
  try {
    const box = openSecretBox(config.secretKey, config.dataDir);
    if (box.generated && config.databaseUrl) {
      logger.warn("DZX_SECRET_KEY is not set: using a key generated in the data dir; set DZX_SECRET_KEY when several processes share the database");
    }
    const onError = (what: string) => (err: unknown) => logger.error(what, { err });
    const managementSessions = new SessionStore({ ttlMs: config.sessionTtlMs });
    const hostedSessions = new SessionStore({ ttlMs: config.sessionTtlMs, maxPerGroup: config.maxSessionsPerServer });
    const metrics = new Metrics();
    const backend = rateBackendOf(config, database);
    const rateStore = rateStoreLayer(config, database, {
      onOutage: (error) => {
        metrics.rateStore.outages++;
        metrics.rateStore.degraded = true;
        // once per outage; the innermost message only (the driver's or Redis's, not drizzle's query echo), never a stack
        let cause: unknown = error.cause;
        while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
        cause = cause instanceof Error ? cause.message : String(cause);
        logger.warn("shared rate store failed: each process limits keys on its own until it answers", { backend: error.backend, cause });
      },
      onRecovery: () => {
        metrics.rateStore.degraded = false;
        logger.info("shared rate store answers again", { backend });
      },
      onFallback: (count) => {
        metrics.rateStore.fallbacks += count;
      },
    });
    logger.debug("rate windows", { backend });
    const runtime = ManagedRuntime.make(
      Layer.mergeAll(
        Layer.provide(KeyActorsLive, rateStore),
        serverActorsLayer({ db: database.db, sessions: hostedSessions, onError: onError("hosted server reload failed"), onWarning: (serverId, message) => logger.warn("hosted server definition", { serverId, message }), idleMs: config.sessionTtlMs }),
        callRetentionLayer(database.db, onError("call log pruning failed")),
      ),
    );
    const sandbox = await SandboxPool.start({
      size: config.workers,
      nice: config.workerNice,
      queueDepth: config.workerQueue,
      memoryBytes: config.toolMemoryMb * 1024 * 1024,
      perOrgQueue: config.sandboxQueuePerOrg,
      totalQueue: config.sandboxQueue,
      defaults: { timeoutMs: config.toolTimeoutMs, jsonDepth: config.maxJsonDepth },
      askTimeoutMs: config.elicitTimeoutMs,
      maxAskingPerOrg: config.elicitMaxWaiting,
      onReplaced: (reason) => logger.warn("sandbox worker replaced", { reason }),
      onStuck: (tid, stuckThreads) =>
        logger.warn("a terminated sandbox worker is still running native code it cannot be interrupted in; it now runs at the lowest priority until that code ends", { tid, stuckThreads }),
    });
    const [keyActors, servers] = await runtime.runPromise(
      Effect.gen(function* () {
        return [yield* KeyActors, yield* ServerActors] as const;
      }),
    );
    const changes = config.databaseUrl ? await postgresChangeBus(config.databaseUrl, onError("change bus failed")) : memoryChangeBus();
    changes.subscribe((orgId) => servers.orgChanged(orgId));
    // new contents of one resource (a trigger's events): its subscribers on this process are told
    changes.subscribeResources((serverId, uri) => {
      for (const s of hostedSessions.inGroup(serverId)) {
        if (s.subscriptions.has(uri)) s.outbox.send({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } });
      }
    });
    const callLog = new CallLog(database, {
      maxJsonDepth: config.maxJsonDepth,
      onError: (err, detail) =>
        detail.outcome === "retried"
          ? logger.warn("call log batch write failed; writing its rows one by one", { rows: detail.rows, err })
          : logger.error(detail.outcome === "reduced" ? "call log row stored in a reduced form: its values could not be written" : "call log row could not be written", { err }),
    });
    const sweeper = setInterval(() => {
      managementSessions.sweep();
      hostedSessions.sweep();
    }, Math.max(250, Math.min(60_000, Math.floor(config.sessionTtlMs / 4))));
    (sweeper as { unref?: () => void }).unref?.();
    return {
      config,
      database,
      box,
      logger,
      keyActors,
      runtime,
      managementSessions,
      hostedSessions,
      sandbox,
      changes,
      servers,
      callLog,
      metrics,
      drain: new Drain(),
      close: async () => {
        clearInterval(sweeper);
        managementSessions.closeAll();
        hostedSessions.closeAll();
        await sandbox.close();
        await callLog.flush();
        await changes.close();
        await runtime.dispose();
        await database.close();
      },
    };
  } catch (e) {
    await database.close();
    throw e;
  }
}

/** Runs an Effect on the process runtime. */
export function run<A>(services: Services, effect: Effect.Effect<A, never, KeyActors | ServerActors>): Promise<A> {
  return services.runtime.runPromise(effect);
}
