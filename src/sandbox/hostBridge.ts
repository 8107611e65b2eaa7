/**
 * The host side of one call's bridge: timers, fetch, progress, `tools.*`, base64 for
 * `mcp.*` and questions to the client, each a host promise settled into the call's
 * context when the host work ends. Counts (timers, fetches) are capped here.
 */
import type { Lifetime, QuickJSContext, QuickJSDeferredPromise, QuickJSHandle } from "quickjs-emscripten-core";
import { askParams, AskRequestError } from "./askRequest.ts";
import { EgressError, policedFetch, type FetchInit } from "./bridgeFetch.ts";
import { isHostStackOverflow } from "./callError.ts";
import { textTooDeep, tooDeepMessage } from "../jsonDepth.ts";
import type { CallBridge } from "./residentContext.ts";
import type { RunMessage } from "./protocol.ts";
import type { CallHooks } from "./quickjsHost.ts";
import { outputText } from "./toolOutput.ts";

/** What one call's bridge needs from its runner. */
export interface HostBridgeOptions {
  ctx: QuickJSContext;
  msg: RunMessage;
  hooks: CallHooks;
  /** The call's deadline (Date.now() ms); it moves on while the call is parked. */
  deadline(): number;
  log(level: string, text: () => string): void;
  /** The host stack ran out inside a host function: the module cannot be trusted. */
  overflowed(): void;
}

/** Host work of one call. */
export class HostBridge {
  /** Host operations not yet ended. */
  pending = 0;
  /** Promises handed to the code whose host work has not ended. */
  private readonly unsettled = new Set<QuickJSDeferredPromise>();
  private timers = 0;
  private fetches = 0;
  private wake: (() => void) | null = null;
  /** Made on the first fetch: most calls never fetch, and each controller costs. */
  private fetchAbort?: AbortController;

  constructor(private readonly o: HostBridgeOptions) {}

  /** A host function body that notices the host stack running out inside it. */
  guarded<A extends unknown[], R>(impl: (...a: A) => R): (...a: A) => R {
    return (...a: A): R => {
      try {
        return impl(...a);
      } catch (err) {
        if (isHostStackOverflow(err)) this.o.overflowed();
        throw err;
      }
    };
  }

  /** What the context's host functions delegate to during this call. */
  bridge(): CallBridge {
    const { ctx, msg, hooks } = this.o;
    const { limits } = msg;
    return {
      log: this.guarded((level: string, text: () => string) => this.o.log(level, text)),
      sleep: this.guarded((ms: QuickJSHandle) => {
        if (this.timers >= limits.maxTimers) throw new Error(`Timer limit exceeded: at most ${limits.maxTimers} pending timers`);
        this.timers++;
        // a sleep past the deadline wakes just after it, never at it: woken at the deadline, the code could run on and return
        const wait = Math.max(0, Math.min(ctx.getNumber(ms), this.o.deadline() - Date.now() + 2));
        return this.hostAsync(
          () =>
            new Promise<undefined>((resolve) =>
              setTimeout(() => {
                this.timers--;
                resolve(undefined);
              }, wait),
            ),
        );
      }),
      fetch: this.guarded((url: QuickJSHandle, init: QuickJSHandle) => {
        if (this.fetches >= limits.maxFetches) throw new Error(`fetch limit exceeded: at most ${limits.maxFetches} requests per call`);
        this.fetches++;
        const u = ctx.getString(url);
        const i = JSON.parse(ctx.getString(init)) as FetchInit;
        return this.hostAsync(async () => {
          try {
            return JSON.stringify(await policedFetch(u, i, msg.egress, limits.fetchBodyBytes, (this.fetchAbort ??= new AbortController()).signal));
          } catch (e) {
            throw new TypeError(e instanceof EgressError ? e.message : "fetch failed");
          }
        });
      }),
      // the code may omit the optional arguments; a host function only receives those passed
      progress: this.guarded((p?: QuickJSHandle, t?: QuickJSHandle, m?: QuickJSHandle) =>
        hooks.progress(
          p && ctx.typeof(p) === "number" ? ctx.getNumber(p) : 0,
          t && ctx.typeof(t) === "number" ? ctx.getNumber(t) : undefined,
          m && ctx.typeof(m) === "string" ? ctx.getString(m) : undefined,
        ),
      ),
      call: this.guarded((name: QuickJSHandle, input: QuickJSHandle) => {
        const n = ctx.getString(name);
        const payload = ctx.getString(input);
        if (!msg.toolNames.includes(n)) throw new Error(`tools.${n} is not a tool of this server`);
        // what a script passes reaches the tool and the call log: held to the same bound as any body
        if (textTooDeep(payload, limits.jsonDepth)) throw new Error(`tools.${n}: ${tooDeepMessage("the input", limits.jsonDepth)}`);
        return this.hostAsync(async () => {
          const answer = await hooks.bridge(n, JSON.parse(payload));
          return outputText(answer.value, answer.rich);
        });
      }),
      base64: this.guarded((buffer: QuickJSHandle) => {
        let bytes: Lifetime<Uint8Array>;
        try {
          bytes = ctx.getArrayBuffer(buffer);
        } catch {
          throw new TypeError("mcp.*: binary data must be a Uint8Array (or another typed array), a DataView, an ArrayBuffer or base64 text");
        }
        try {
          const b = bytes.value;
          return ctx.newString(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64"));
        } finally {
          bytes.dispose();
        }
      }),
      ask: this.guarded((method: QuickJSHandle, request: QuickJSHandle) => {
        const m = ctx.getString(method);
        let params: Record<string, unknown>;
        try {
          params = askParams(m, ctx.getString(request), limits);
        } catch (e) {
          throw e instanceof AskRequestError ? e : new Error(`The request to the client cannot be sent: ${(e as Error).message}`);
        }
        return this.hostAsync(async () => JSON.stringify((await hooks.ask(m, params)) ?? null));
      }),
    };
  }

  /** Resolves when a host operation ends, or after `ms`. */
  waitForHost(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, ms);
    }).finally(() => {
      this.wake = null;
    });
  }

  /**
   * Ends the call's host work. Promises still waiting are dropped, not freed:
   * the heap restore after the call undoes them (see HeapSnapshot).
   */
  close(): void {
    this.fetchAbort?.abort();
    this.unsettled.clear();
  }

  /** Starts a host promise and settles the QuickJS one when it ends. */
  private hostAsync(work: () => Promise<string | undefined>): QuickJSHandle {
    const { ctx } = this.o;
    const d = ctx.newPromise();
    this.unsettled.add(d);
    this.pending++;
    const settle = (apply: () => void) => {
      this.pending--;
      if (!this.unsettled.delete(d)) return; // the call has ended
      apply();
      d.dispose();
      const w = this.wake;
      this.wake = null;
      w?.();
    };
    work().then(
      (value) =>
        settle(() => {
          if (value === undefined) return d.resolve(ctx.undefined);
          const v = ctx.newString(value);
          d.resolve(v);
          v.dispose();
        }),
      (err) =>
        settle(() => {
          const e = ctx.newError((err as Error)?.message ?? String(err));
          d.reject(e);
          e.dispose();
        }),
    );
    return d.handle;
  }
}
