// Decoding GTFS-Realtime in batches gives exactly what the bindings' one-piece decode gives, and
// refuses what is not a usable feed with one clear reason.
import { describe, expect, it } from "vitest";
import { decodeFeed } from "../../src/modules/realtime/feed-message";
import { encodeFeed, rt } from "./helpers";

const trips = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `e${i}`,
    tripUpdate: {
      trip: { tripId: `t${i}`, startDate: "20240612" },
      stopTimeUpdate: [{ stopSequence: 1, departure: { delay: i } }],
    },
  }));

describe("decodeFeed", () => {
  it("decodes entity by entity, as the bindings decode the whole message", async () => {
    const bytes = encodeFeed(1_718_193_900, trips(1201));
    const ours = await decodeFeed(bytes);
    expect(ours.entity).toHaveLength(1201);
    expect(ours.toJSON()).toEqual(rt.FeedMessage.decode(bytes).toJSON());
  });

  it("refuses bytes that are not protobuf, a message without header, and DIFFERENTIAL feeds", async () => {
    const bytes = encodeFeed(1_718_193_900, trips(3));
    await expect(decodeFeed(bytes.subarray(0, bytes.length - 5))).rejects.toThrow(/^malformed protobuf: /);
    await expect(decodeFeed(new TextEncoder().encode("<html>oops</html>"))).rejects.toThrow(/^malformed protobuf: /);
    // Field 2 (entity, length-delimited: tag 0x12) and no field 1: the bindings cannot even encode that.
    const entity = rt.FeedEntity.encode(rt.FeedEntity.fromObject({ id: "x" })).finish();
    const headless = Uint8Array.of(0x12, entity.length, ...entity);
    await expect(decodeFeed(headless)).rejects.toThrow("malformed protobuf: missing required 'header'");
    const differential = rt.FeedMessage.encode(
      rt.FeedMessage.fromObject({ header: { gtfsRealtimeVersion: "2.0", incrementality: "DIFFERENTIAL" }, entity: [] }),
    ).finish();
    await expect(decodeFeed(differential)).rejects.toThrow(/^DIFFERENTIAL feeds are not supported/);
  });
});
