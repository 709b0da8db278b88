// VehiclePositions, kept per trip: where the vehicle serving a trip was last seen. Optional; shown
// on /v1/trips/{id} when the feed carries it.
import { type FeedMessage, has, optionalSeconds } from "./feed-message";

export interface VehicleFix {
  vehicle_id: string | null;
  label: string | null;
  latitude: number;
  longitude: number;
  bearing: number | null;
  speed: number | null;
  stop_id: string | null;
  current_stop_sequence: number | null;
  /** Epoch seconds of the fix. */
  timestamp: number;
  start_date: string | null;
}

export interface VehicleIndex {
  timestamp: number;
  byTrip: Map<string, VehicleFix[]>;
}

export function buildVehicleIndex(message: FeedMessage, fetchedAtSecs: number): VehicleIndex {
  const timestamp = optionalSeconds(message.header, "timestamp") || fetchedAtSecs;
  const byTrip = new Map<string, VehicleFix[]>();
  for (const entity of message.entity) {
    const v = entity.vehicle;
    if (!v || entity.isDeleted || !v.position || !v.trip || !has(v.trip, "tripId")) continue;
    const fix: VehicleFix = {
      vehicle_id: v.vehicle && has(v.vehicle, "id") ? v.vehicle.id! : null,
      label: v.vehicle && has(v.vehicle, "label") ? v.vehicle.label! : null,
      latitude: v.position.latitude,
      longitude: v.position.longitude,
      bearing: has(v.position, "bearing") ? v.position.bearing! : null,
      speed: has(v.position, "speed") ? v.position.speed! : null,
      stop_id: has(v, "stopId") ? v.stopId! : null,
      current_stop_sequence: has(v, "currentStopSequence") ? v.currentStopSequence! : null,
      timestamp: optionalSeconds(v, "timestamp") || timestamp,
      start_date: has(v.trip, "startDate") ? v.trip.startDate! : null,
    };
    const list = byTrip.get(v.trip.tripId!);
    if (list) list.push(fix);
    else byTrip.set(v.trip.tripId!, [fix]);
  }
  return { timestamp, byTrip };
}
