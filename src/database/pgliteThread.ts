/**
 * The Worker that owns the embedded database. PGlite runs Postgres as
 * WebAssembly on the thread that calls it: on the main thread every query —
 * the call log's batches above all — stalled every request in flight
 * (bench/RESULTS.md: tools/call's p99 with and without call-log writes). Here it
 * runs beside the event loop that serves HTTP.
 *
 * Transactions keep PGlite's own semantics: `begin` enters pg.transaction(),
 * which holds PGlite's lock — other queries wait, as they did in-process — until
 * the main thread sends `end`.
 */
import { PGlite, types, type Transaction } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import * as schema from "../../db/schema.ts";
import { pgliteFiles } from "../assets.ts";
import { toFault, type FromPglite, type ToPglite } from "./pgliteProtocol.ts";

declare const self: Worker;

// The parsers drizzle's PGlite driver passes on every query: date and time types stay text.
const keepText = (value: string) => value;
const PARSERS = Object.fromEntries([types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, keepText]));

let pg: PGlite | undefined;
let nextTx = 1;
/** Open transactions: their handle, how to finish them, and the outcome of finishing. */
const open = new Map<number, { tx: Transaction; finish(commit: boolean): void; outcome: Promise<unknown> }>();

/** The rejection that makes pg.transaction() roll back when the main thread asks for it. */
class RolledBack extends Error {}

/**
 * PGlite's WebAssembly and file-system bundle, read from the paths in assets.ts:
 * left to itself, PGlite looks for them beside its own JavaScript, which the
 * compiled binary does not have.
 */
async function pgliteModules() {
  const compile = async (path: string) => WebAssembly.compile(await Bun.file(path).arrayBuffer());
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([compile(pgliteFiles.wasm), compile(pgliteFiles.initdbWasm)]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(pgliteFiles.data) };
}

function db(): PGlite {
  if (!pg) throw new Error("the embedded database is not open");
  return pg;
}

async function handle(msg: ToPglite): Promise<unknown> {
  switch (msg.op) {
    case "open": {
      pg = await PGlite.create({ dataDir: msg.dataDir, ...(await pgliteModules()) });
      await migrate(drizzle({ client: pg, schema }) as never, { migrationsFolder: msg.migrationsFolder });
      return null;
    }
    case "query": {
      const target = msg.tx === undefined ? db() : open.get(msg.tx)?.tx;
      if (!target) throw new Error(`transaction ${msg.tx} is not open`);
      const r = await target.query(msg.sql, msg.params, { rowMode: msg.rowMode, parsers: PARSERS });
      return { rows: r.rows, affectedRows: r.affectedRows, fields: r.fields };
    }
    case "begin":
      return new Promise<number>((started, failed) => {
        const id = nextTx++;
        let finish!: (commit: boolean) => void;
        const outcome = db().transaction(
          (tx) =>
            new Promise<void>((done, abort) => {
              finish = (commit) => (commit ? done() : abort(new RolledBack()));
              open.set(id, { tx, finish, outcome });
              started(id);
            }),
        );
        outcome.catch((e) => {
          if (!open.has(id)) failed(e); // it never began
        }).finally(() => open.delete(id));
      });
    case "end": {
      const t = open.get(msg.tx);
      if (!t) throw new Error(`transaction ${msg.tx} is not open`);
      t.finish(msg.commit);
      // answer once PGlite has committed (or failed to) or rolled back, so the next query sees the outcome
      if (msg.commit) await t.outcome;
      else await t.outcome.catch((e) => { if (!(e instanceof RolledBack)) throw e; });
      return null;
    }
    case "copy":
      await db().query(msg.sql, [], { blob: new Blob([msg.text]) });
      return null;
    case "close":
      await pg?.close();
      pg = undefined;
      return null;
  }
}

self.onmessage = (event: MessageEvent<ToPglite>) => {
  const msg = event.data;
  handle(msg).then(
    (value) => self.postMessage({ id: msg.id, ok: true, value } satisfies FromPglite),
    (err) => self.postMessage({ id: msg.id, ok: false, fault: toFault(err) } satisfies FromPglite),
  );
};
