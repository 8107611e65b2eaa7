/**
 * The graceful stop on SIGTERM/SIGINT (SPEC "Operations"): refuse new work with
 * 503 while the calls in flight finish and deliver their results (up to
 * DZX_DRAIN_MS), stop the rest with an error that says why, then close the
 * sessions' streams, the listener and the services (which flushes the call log).
 */
import type { Services } from "./services.ts";

/** After the deadline, how long stopped calls get to send their error before streams and connections close. */
const STOP_GRACE_MS = 2_000;
/** How long closed streams and last answers get to reach the wire before the listener drops connections. */
const FLUSH_MS = 1_000;
/** How often the drain looks again (only while shutting down). */
const POLL_MS = 10;

/** What the shutdown needs of the listener (Bun's Server). */
export interface Listener {
  /** HTTP requests whose response has not ended, open streams included. */
  readonly pendingRequests: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether nothing but the sessions' own streams is left: no engine request running and no other
 * HTTP response pending (REST, a request still being read or admitted, an SSE answer being written).
 */
function quiet(listener: Listener, services: Services): boolean {
  const streams = services.hostedSessions.openStreams + services.managementSessions.openStreams;
  return services.drain.size === 0 && listener.pendingRequests <= streams;
}

/** Resolves true once quiet (twice, a turn apart, so a batch's next request or a queued send is seen), false at the deadline. */
async function settled(listener: Listener, services: Services, deadline: number): Promise<boolean> {
  for (;;) {
    if (quiet(listener, services)) {
      await sleep(0);
      if (quiet(listener, services)) return true;
    }
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(POLL_MS, left));
  }
}

/** Drains, then closes streams, sessions, the listener and the services; resolves when all are closed. */
export async function shutDown(listener: Listener, services: Services): Promise<void> {
  const { drain, logger, config } = services;
  drain.begin();
  const started = performance.now();
  if (drain.size > 0) logger.info("draining", { inFlight: drain.size, drainMs: config.drainMs });
  if (!(await settled(listener, services, started + config.drainMs))) {
    const stopped = drain.stopAll();
    logger.warn("drain deadline reached: stopping the calls still running", { stopped, drainMs: config.drainMs });
    if (!(await settled(listener, services, performance.now() + STOP_GRACE_MS))) {
      logger.warn("some requests did not answer after being stopped; their connections are closed", { inFlight: drain.size });
    }
  }
  // sessions end only now: ending one aborts its calls, and its streams carry legacy answers and notifications
  services.hostedSessions.closeAll();
  services.managementSessions.closeAll();
  // a graceful stop lets the last frames out; idle keep-alive connections do not hold it
  await Promise.race([listener.stop(false), sleep(FLUSH_MS)]);
  await listener.stop(true);
  await services.close();
}
