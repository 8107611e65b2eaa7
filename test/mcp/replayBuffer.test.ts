/**
 * The per-session replay buffer on its own: numbering, the two bounds (events and
 * bytes), and the refusal to replay from a point some of whose successors are gone.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { REPLAY_BYTES, REPLAY_EVENTS, ReplayBuffer } from "../../src/mcp/replayBuffer.ts";

setDefaultTimeout(60_000);

describe("ReplayBuffer", () => {
  test("numbers every message across streams and replays one stream's messages after a number", () => {
    const b = new ReplayBuffer();
    const a1 = b.record(0, '"a1"');
    const x1 = b.record(1, '"x1"');
    const a2 = b.record(0, '"a2"');
    const primed = b.mark();
    const a3 = b.record(0, '"a3"');
    expect([a1, x1, a2, primed, a3]).toEqual([1, 2, 3, 4, 5]);
    expect(b.after(0, a1)!.map((k) => k.data)).toEqual(['"a2"', '"a3"']);
    expect(b.after(0, primed)!.map((k) => k.data)).toEqual(['"a3"']);
    expect(b.after(1, 0)!.map((k) => k.data)).toEqual(['"x1"']);
    expect(b.after(0, a3)).toEqual([]);
    // a number never given cannot be resumed from
    expect(b.after(0, 99)).toBeUndefined();
  });

  test(`keeps the last ${REPLAY_EVENTS} events; resuming from before them is refused`, () => {
    const b = new ReplayBuffer();
    for (let i = 1; i <= REPLAY_EVENTS + 5; i++) b.record(0, String(i));
    expect(b.after(0, 4)).toBeUndefined();
    expect(b.after(0, 5)!.length).toBe(REPLAY_EVENTS);
    expect(b.after(0, 5)![0].data).toBe("6");
  });

  test("keeps 1 MiB of message text at most, counted in UTF-8 bytes", () => {
    const b = new ReplayBuffer();
    // 200 KB in UTF-8 but 100 K UTF-16 units: six are 1.2 MB, or 0.6 M units
    const big = JSON.stringify("é".repeat(100_000));
    for (let i = 0; i < 6; i++) b.record(0, big);
    const kept = b.after(0, 1);
    expect(kept!.length).toBe(5);
    expect(kept!.reduce((n, k) => n + k.bytes, 0)).toBeLessThanOrEqual(REPLAY_BYTES);
    expect(b.after(0, 0)).toBeUndefined();
  });

  test("an event larger than the byte bound is not kept at all", () => {
    const b = new ReplayBuffer(256, 1000);
    const before = b.record(0, "1");
    b.record(0, JSON.stringify("x".repeat(2000)));
    expect(b.after(0, before)).toBeUndefined();
  });

  test("events dropped from request streams do not stop the session's own stream from resuming", () => {
    const b = new ReplayBuffer(4, REPLAY_BYTES);
    const own = b.record(0, "own");
    b.record(0, "own2");
    for (let i = 0; i < 3; i++) b.record(1, `x${i}`);
    // "own" was dropped (the oldest), so resuming after it is whole only from "own" on: own2 is kept
    expect(b.after(0, own)!.map((k) => k.data)).toEqual(["own2"]);
    expect(b.after(1, 0)).toBeDefined();
  });
});
