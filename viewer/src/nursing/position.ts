// Where the nurse is, for check-in, check-out and the alarm (NU-08): the browser's geolocation,
// or — when it is refused or unavailable — the latitude and longitude typed into the card.
export interface Position {
  latitude: number;
  longitude: number;
}

/** The browser's current position; rejects after `timeoutMs` or when geolocation is refused. */
export function browserPosition(timeoutMs = 10_000): Promise<Position> {
  return new Promise((done, fail) => {
    if (!('geolocation' in navigator)) return fail(new Error('geolocation unavailable'));
    navigator.geolocation.getCurrentPosition(
      (p) => done({ latitude: Number(p.coords.latitude.toFixed(6)), longitude: Number(p.coords.longitude.toFixed(6)) }),
      (err) => fail(new Error(err.message || 'geolocation failed')),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    );
  });
}

/** A manually entered position, when both numbers are in range; undefined otherwise. */
export function manualPosition(latitude: string, longitude: string): Position | undefined {
  if (!latitude.trim() || !longitude.trim()) return undefined;
  const lat = Number(latitude);
  const lng = Number(longitude);
  return Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180 ? { latitude: lat, longitude: lng } : undefined;
}

/** The Parameters part the hub takes: position with latitude and longitude (valueDecimal). */
export const positionParameter = (p: Position) => ({ name: 'position', part: [{ name: 'latitude', valueDecimal: p.latitude }, { name: 'longitude', valueDecimal: p.longitude }] });
