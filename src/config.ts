/**
 * Environment → one typed Config, validated at start so a bad setting fails
 * with a message naming the variable rather than somewhere deep at run time.
 */
import { Type, type Static } from "@sinclair/typebox";
import { accessSync, constants, mkdirSync } from "node:fs";
import { isIP } from "node:net";
import { DEFAULT_JSON_DEPTH } from "./jsonDepth.ts";
import { parseKey } from "./platform/secretBox.ts";
import { Value } from "@sinclair/typebox/value";

const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  databaseUrl: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
  /** Where rate-limit windows are shared between processes; absent → PostgreSQL (DATABASE_URL) or in process. */
  redisUrl: Type.Optional(Type.String({ pattern: "^rediss?://[^\\s/?#]+" })),
  dataDir: Type.String({ minLength: 1 }),
  secretKey: Type.Optional(Type.String({ minLength: 1 })),
  adminKey: Type.Optional(Type.String({ pattern: "^dwz_live_[A-Za-z0-9_-]{16,}$" })),
  managementMcp: Type.Boolean(),
  maxBodyBytes: Type.Integer({ minimum: 1024 }),
  /** How deeply any JSON body, stored value or tool result may nest. */
  maxJsonDepth: Type.Integer({ minimum: 16, maximum: 1000 }),
  publicUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
  logLevel: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")]),
  workers: Type.Integer({ minimum: 1, maximum: 256 }),
  /** Scheduling niceness of the sandbox worker threads (Linux), 0 = as the main thread. */
  workerNice: Type.Integer({ minimum: 0, maximum: 19 }),
  /** Calls a busy sandbox worker of short calls may hold queued behind its running one. */
  workerQueue: Type.Integer({ minimum: 0, maximum: 64 }),
  toolTimeoutMs: Type.Integer({ minimum: 1 }),
  toolTimeoutMaxMs: Type.Integer({ minimum: 1 }),
  toolMemoryMb: Type.Integer({ minimum: 8, maximum: 2048 }),
  sandboxQueue: Type.Integer({ minimum: 1 }),
  sandboxQueuePerOrg: Type.Integer({ minimum: 1 }),
  sessionTtlMs: Type.Integer({ minimum: 1000 }),
  /** How long an end-user setup link (the missing-secret error's URL) stays valid. */
  setupLinkTtlMs: Type.Integer({ minimum: 1 }),
  maxSessionsPerServer: Type.Integer({ minimum: 1 }),
  /** How long a shutdown waits for calls in flight before it stops them. */
  drainMs: Type.Integer({ minimum: 0 }),
  /** How long a tool's question to its client (context.elicit / context.sample) may wait for the answer. */
  elicitTimeoutMs: Type.Integer({ minimum: 1 }),
  /** Calls one org may have waiting on their clients at once. */
  elicitMaxWaiting: Type.Integer({ minimum: 1 }),
  /** Host header values accepted on MCP endpoints (DNS-rebinding guard); empty → derived from DZX_HOST. */
  allowedHosts: Type.Array(Type.String({ minLength: 1 })),
  /** Origin header values accepted on MCP endpoints; empty → same-host and loopback origins only. */
  allowedOrigins: Type.Array(Type.String({ minLength: 1 })),
  /** `dzx dev`: the Unix socket to serve on when the TCP listen fails; absent → /tmp/dzx-<name>.sock. */
  socket: Type.Optional(Type.String({ minLength: 1 })),
});

/** The validated process configuration. */
export type Config = Static<typeof ConfigSchema>;

/** Raised when the environment holds an invalid setting; the message names it. */
export class ConfigError extends Error {}

const ENV_NAMES: Record<keyof Config, string> = {
  port: "PORT",
  host: "DZX_HOST",
  databaseUrl: "DATABASE_URL",
  redisUrl: "REDIS_URL",
  dataDir: "DZX_DATA_DIR",
  secretKey: "DZX_SECRET_KEY",
  adminKey: "DZX_ADMIN_KEY",
  managementMcp: "DZX_MANAGEMENT_MCP",
  maxBodyBytes: "DZX_MAX_BODY_BYTES",
  maxJsonDepth: "DZX_MAX_JSON_DEPTH",
  publicUrl: "DZX_PUBLIC_URL",
  logLevel: "DZX_LOG_LEVEL",
  workers: "DZX_WORKERS",
  workerNice: "DZX_WORKER_NICE",
  workerQueue: "DZX_WORKER_QUEUE",
  toolTimeoutMs: "DZX_TOOL_TIMEOUT_MS",
  toolTimeoutMaxMs: "DZX_TOOL_TIMEOUT_MAX_MS",
  toolMemoryMb: "DZX_TOOL_MEMORY_MB",
  sandboxQueue: "DZX_SANDBOX_QUEUE",
  sandboxQueuePerOrg: "DZX_SANDBOX_QUEUE_PER_ORG",
  sessionTtlMs: "DZX_SESSION_TTL_MS",
  setupLinkTtlMs: "DZX_SETUP_LINK_TTL_MS",
  maxSessionsPerServer: "DZX_MAX_SESSIONS_PER_SERVER",
  drainMs: "DZX_DRAIN_MS",
  elicitTimeoutMs: "DZX_ELICIT_TIMEOUT_MS",
  elicitMaxWaiting: "DZX_ELICIT_MAX_WAITING",
  allowedHosts: "DZX_ALLOWED_HOSTS",
  allowedOrigins: "DZX_ALLOWED_ORIGINS",
  socket: "DZX_SOCKET",
};

function integer(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return Number(raw.trim());
}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (["on", "true", "1", "yes"].includes(v)) return true;
  if (["off", "false", "0", "no"].includes(v)) return false;
  throw new ConfigError(`${name} must be "on" or "off", got "${raw}"`);
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

function optional(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
}

/** Reads and validates the configuration from an environment (default: process.env). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const config: Config = {
    port: integer("PORT", env.PORT, 3333),
    host: optional(env.DZX_HOST) ?? "127.0.0.1",
    databaseUrl: optional(env.DATABASE_URL),
    redisUrl: optional(env.REDIS_URL),
    dataDir: optional(env.DZX_DATA_DIR) ?? "./data",
    secretKey: optional(env.DZX_SECRET_KEY),
    adminKey: optional(env.DZX_ADMIN_KEY),
    managementMcp: flag("DZX_MANAGEMENT_MCP", env.DZX_MANAGEMENT_MCP, true),
    maxBodyBytes: integer("DZX_MAX_BODY_BYTES", env.DZX_MAX_BODY_BYTES, 1024 * 1024),
    maxJsonDepth: integer("DZX_MAX_JSON_DEPTH", env.DZX_MAX_JSON_DEPTH, DEFAULT_JSON_DEPTH),
    publicUrl: optional(env.DZX_PUBLIC_URL)?.replace(/\/+$/, ""),
    logLevel: (optional(env.DZX_LOG_LEVEL) ?? "info") as Config["logLevel"],
    workers: integer("DZX_WORKERS", env.DZX_WORKERS, Math.max(1, navigator.hardwareConcurrency || 1)),
    workerNice: integer("DZX_WORKER_NICE", env.DZX_WORKER_NICE, 0),
    workerQueue: integer("DZX_WORKER_QUEUE", env.DZX_WORKER_QUEUE, 8),
    toolTimeoutMs: integer("DZX_TOOL_TIMEOUT_MS", env.DZX_TOOL_TIMEOUT_MS, 30_000),
    toolTimeoutMaxMs: integer("DZX_TOOL_TIMEOUT_MAX_MS", env.DZX_TOOL_TIMEOUT_MAX_MS, 300_000),
    toolMemoryMb: integer("DZX_TOOL_MEMORY_MB", env.DZX_TOOL_MEMORY_MB, 64),
    sandboxQueue: integer("DZX_SANDBOX_QUEUE", env.DZX_SANDBOX_QUEUE, 1024),
    sandboxQueuePerOrg: integer("DZX_SANDBOX_QUEUE_PER_ORG", env.DZX_SANDBOX_QUEUE_PER_ORG, 128),
    sessionTtlMs: integer("DZX_SESSION_TTL_MS", env.DZX_SESSION_TTL_MS, 30 * 60_000),
    setupLinkTtlMs: integer("DZX_SETUP_LINK_TTL_MS", env.DZX_SETUP_LINK_TTL_MS, 24 * 60 * 60_000),
    maxSessionsPerServer: integer("DZX_MAX_SESSIONS_PER_SERVER", env.DZX_MAX_SESSIONS_PER_SERVER, 1000),
    drainMs: integer("DZX_DRAIN_MS", env.DZX_DRAIN_MS, 10_000),
    elicitTimeoutMs: integer("DZX_ELICIT_TIMEOUT_MS", env.DZX_ELICIT_TIMEOUT_MS, 600_000),
    elicitMaxWaiting: integer("DZX_ELICIT_MAX_WAITING", env.DZX_ELICIT_MAX_WAITING, 64),
    allowedHosts: list(env.DZX_ALLOWED_HOSTS),
    allowedOrigins: list(env.DZX_ALLOWED_ORIGINS),
    socket: optional(env.DZX_SOCKET),
  };
  for (const k of Object.keys(config) as (keyof Config)[]) if (config[k] === undefined) delete config[k];
  const first = Value.Errors(ConfigSchema, config).First();
  if (first) {
    const key = first.path.replace(/^\//, "") as keyof Config;
    const name = ENV_NAMES[key] ?? key;
    const hint =
      key === "adminKey"
        ? "it must look like dwz_live_ followed by at least 16 letters, digits, - or _"
        : key === "databaseUrl"
          ? "it must be a postgres:// or postgresql:// URL"
          : key === "redisUrl"
            ? "it must be a redis:// or rediss:// URL with a host"
            : first.message;
    throw new ConfigError(`Invalid ${name}: ${hint}`);
  }
  if (!isIP(config.host) && (/^[\d.]+$/.test(config.host) || !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(config.host))) {
    throw new ConfigError(`Invalid DZX_HOST: "${config.host}" is neither an IP address nor a host name`);
  }
  if (config.redisUrl && !URL.canParse(config.redisUrl)) throw new ConfigError("Invalid REDIS_URL: it must be a redis:// or rediss:// URL with a host");
  if (config.secretKey) {
    try {
      parseKey(config.secretKey);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  return config;
}

/** Creates DZX_DATA_DIR if needed and checks it is writable, naming the variable when not. */
export function ensureDataDir(config: Pick<Config, "dataDir">): void {
  try {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, constants.W_OK);
  } catch (e) {
    throw new ConfigError(`Invalid DZX_DATA_DIR: cannot create or write ${config.dataDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
