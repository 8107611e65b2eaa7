/**
 * Resumable streams (issue 14, point 7): every SSE event of a session carries an id;
 * a GET with Last-Event-ID replays what the session sent after it, from a buffer
 * bounded at 256 events or 1 MiB (older: the stream starts fresh and says so);
 * priming events carry a retry hint; several streams of one session run at once.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { REPLAY_EVENTS } from "../../src/mcp/replayBuffer.ts";
import { messages, SseReader, type SseBlock } from "../support/sseReader.ts";
import { call, openGet, postStreaming, setLevel, gatedStackPerFile } from "./gatedServer.ts";
import { post, rawSession } from "./support.ts";

setDefaultTimeout(60_000);

const stackOf = gatedStackPerFile();

/** A JSON-only call of `chatty`: its lines go on the session's own stream, whether or not a GET is open. */
async function chatter(sid: string, lines: number, id: number | string, pad = 0): Promise<void> {
  const r = await post(stackOf().server.endpoint, stackOf().server.token, call(id, "chatty", { lines, pad }), { "mcp-session-id": sid, accept: "application/json" });
  expect(r.json.result.content[0].text).toBe(`said ${lines}`);
}

/** Opens the GET stream and reads up to its priming event (its id is where a later GET resumes). */
async function openUntilPrimed(sid: string, lastEventId?: string): Promise<{ stream: SseReader; before: SseBlock[]; primed: string }> {
  const res = await openGet(stackOf().server, sid, lastEventId);
  expect(res.status).toBe(200);
  const stream = new SseReader(res.body);
  const before = await stream.until((b) => b.data === "" && b.id !== undefined, "the priming event");
  return { stream, before, primed: before.at(-1)!.id! };
}

const lines = (blocks: SseBlock[]) => messages(blocks).map((m) => m.params?.data?.message);

describe("the session's GET stream", () => {
  test("a GET with Last-Event-ID after a dropped stream replays what the session sent meanwhile, then goes on live", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    const first = await openUntilPrimed(sid);
    expect(first.before[0]).toMatchObject({ retry: 1000 });
    await chatter(sid, 1, 1);
    const live = await first.stream.until((b) => b.json !== undefined, "the first line");
    const lastSeen = live.at(-1)!.id!;
    expect(lastSeen).toMatch(/^0-\d+$/);
    await first.stream.cancel();
    // sent while no GET is open (or while the dropped one is not yet noticed): kept for the client
    await chatter(sid, 2, 2);
    const resumed = await openUntilPrimed(sid, lastSeen);
    expect(lines(resumed.before)).toEqual(["line 0", "line 1"]);
    const ids = resumed.before.filter((b) => b.json).map((b) => b.id!);
    expect(new Set([lastSeen, ...ids, resumed.primed]).size).toBe(4);
    await chatter(sid, 1, 3);
    const next = await resumed.stream.until((b) => b.json !== undefined, "a live line");
    expect(lines(next)).toEqual(["line 0"]);
    await resumed.stream.cancel();
  });

  test("a GET without Last-Event-ID gets what the session sent while no GET was open", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    await chatter(sid, 2, 1);
    const opened = await openUntilPrimed(sid);
    expect(lines(opened.before)).toEqual(["line 0", "line 1"]);
    await opened.stream.cancel();
  });

  test(`past ${REPLAY_EVENTS} events the buffer keeps the newest; an older Last-Event-ID starts the stream fresh and says so`, async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    const first = await openUntilPrimed(sid);
    await first.stream.cancel();
    await chatter(sid, REPLAY_EVENTS + 10, 1);
    const resumed = await openUntilPrimed(sid, first.primed);
    expect(messages(resumed.before)).toEqual([]);
    expect(resumed.before[0].comments.join(" ")).toContain(`the events after ${first.primed} are no longer kept`);
    expect(resumed.before[0].comments.join(" ")).toContain("this stream starts fresh");
    // the newest ones are kept: resuming from one of them still works
    await resumed.stream.cancel();
    await chatter(sid, 2, 2);
    const again = await openUntilPrimed(sid, resumed.primed);
    expect(lines(again.before)).toEqual(["line 0", "line 1"]);
    await again.stream.cancel();
  });

  test("the buffer keeps 1 MiB at most: big events push older ones out", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    const first = await openUntilPrimed(sid);
    await first.stream.cancel();
    // 20 calls of 3 lines of ~20 KiB: ~1.2 MiB in 60 events, far fewer than the event bound
    for (let i = 0; i < 20; i++) await chatter(sid, 3, i, 20_000);
    const resumed = await openUntilPrimed(sid, first.primed);
    expect(messages(resumed.before)).toEqual([]);
    expect(resumed.before[0].comments.join(" ")).toContain("no longer kept");
    await resumed.stream.cancel();
  });

  test("a Last-Event-ID this session never gave starts the stream fresh and says so", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    for (const bogus of ["nonsense", "0-999999", "77-1"]) {
      const opened = await openUntilPrimed(sid, bogus);
      expect(opened.before[0].comments.join(" ")).toContain(`Last-Event-ID "${bogus}" names no event of this session`);
      await opened.stream.cancel();
    }
  });

  test("a newer GET takes the session's stream over; the older one ends saying so", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    const older = await openUntilPrimed(sid);
    const newer = await openUntilPrimed(sid);
    const rest = await older.stream.rest();
    expect(rest.flatMap((b) => b.comments).join(" ")).toContain("a newer GET took over");
    await chatter(sid, 1, 1);
    expect(lines(await newer.stream.until((b) => b.json !== undefined))).toEqual(["line 0"]);
    await newer.stream.cancel();
  });

  test("a session of an older protocol gets ids and the retry hint, but no priming event (its clients cannot parse empty data)", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-06-18");
    const res = await openGet(stackOf().server, sid);
    const stream = new SseReader(res.body);
    const opening = await stream.next();
    expect(opening).toMatchObject({ retry: 1000, comments: ["stream open"] });
    await chatter(sid, 1, 1);
    const first = await stream.next();
    expect(first!.id).toMatch(/^0-\d+$/);
    expect(first!.json.params.data.message).toBe("line 0");
    expect(stream.seen.some((b) => b.data === "")).toBe(false);
    await stream.cancel();
  });
});

describe("a call's own SSE stream", () => {
  test("its events carry ids after a priming event; a GET with one of them replays the rest of that call's stream, then ends", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-11-25");
    await setLevel(stackOf().server, sid, "debug");
    const res = await postStreaming(stackOf().server, sid, call(1, "chatty", { lines: 2 }));
    const blocks = await new SseReader(res.body).rest();
    expect(blocks[0]).toMatchObject({ data: "", retry: 1000 });
    const ids = blocks.map((b) => b.id);
    expect(ids.every((id) => /^[1-9]\d*-\d+$/.test(id ?? ""))).toBe(true);
    expect(new Set(ids.map((id) => id!.split("-")[0])).size).toBe(1);
    const replay = await new SseReader((await openGet(stackOf().server, sid, blocks[1].id)).body).rest();
    expect(messages(replay).map((m) => m.params?.data?.message ?? m.result?.content[0].text)).toEqual(["line 1", "said 2"]);
  });

  test("an older protocol's call stream carries the retry hint on its first event instead of a priming event", async () => {
    const sid = await rawSession(stackOf().server.endpoint, stackOf().server.token, "2025-03-26");
    const res = await postStreaming(stackOf().server, sid, call(1, "chatty", { lines: 1 }));
    const blocks = await new SseReader(res.body).rest();
    expect(blocks.map((b) => [b.retry, b.json?.method ?? "result"])).toEqual([
      [1000, "notifications/message"],
      [undefined, "result"],
    ]);
  });

  test("three calls of one session stream at once, each on its own stream with its own ids and result", async () => {
    const { server, gates } = stackOf();
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const names = ["m1", "m2", "m3"];
    const readers = await Promise.all(names.map(async (n, i) => new SseReader((await postStreaming(server, sid, call(i + 1, "gated", { name: n, gate: gates.url(n) }))).body)));
    await Promise.all(readers.map((r) => r.until((b) => b.json?.method === "notifications/message")));
    await Promise.all(names.map((n) => gates.reached(n)));
    // opened in reverse order: each result goes to its own stream
    for (const n of [...names].reverse()) gates.open(n);
    const streams = await Promise.all(readers.map(async (r) => [...r.seen, ...(await r.rest())]));
    streams.forEach((blocks, i) => {
      expect(messages(blocks).at(-1)).toMatchObject({ id: i + 1, result: { content: [{ type: "text", text: `done ${names[i]}` }] } });
    });
    const streamNumbers = streams.map((blocks) => new Set(blocks.map((b) => b.id!.split("-")[0])));
    expect(streamNumbers.every((s) => s.size === 1)).toBe(true);
    expect(new Set(streamNumbers.map((s) => [...s][0])).size).toBe(3);
    const allIds = streams.flat().map((b) => b.id);
    expect(new Set(allIds).size).toBe(allIds.length);
  });
});
