// How numbers read on the page: times as m:ss (h:mm:ss past an hour), with tenths of a second
// where whole seconds would blur the answer (a scene shorter than SHORT_SCENE_S, or a moment in
// the first minute of a clip); confidence in words.

const SHORT_SCENE_S = 5;
const two = (value) => String(value).padStart(2, "0");

export function clock(seconds, tenths = false) {
  // Truncated, as a player's clock counts; the epsilon keeps 2.3 from reading 2.2 (binary floats).
  const scaled = tenths ? Math.floor(seconds * 10 + 1e-6) / 10 : Math.floor(seconds + 1e-9);
  const whole = Math.floor(scaled);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = tenths ? (scaled % 60).toFixed(1).padStart(4, "0") : two(whole % 60);
  return hours ? `${hours}:${two(minutes)}:${secs}` : `${minutes}:${secs}`;
}

// "12:31-12:36, at 12:34" (or "0:01.0-0:02.5, at 0:01.5"); only the parts the answer has.
export function timeRange(from, at, to) {
  const has = (value) => typeof value === "number";
  const spanned = has(from) && has(to);
  const tenths = spanned ? to - from < SHORT_SCENE_S : has(at) && at < 60;
  const span = spanned ? `${clock(from, tenths)}-${clock(to, tenths)}` : "";
  const point = has(at) ? `at ${clock(at, tenths)}` : "";
  return [span, point].filter(Boolean).join(", ");
}

// Bands over the 0..1 confidence (vote share times best similarity).
export function confidenceWords(confidence) {
  if (confidence >= 0.8) return "very likely";
  if (confidence >= 0.6) return "likely";
  if (confidence >= 0.4) return "possible";
  return "a weak guess";
}

export const percent = (value) => `${Math.round(value * 100)}%`;

export function episodeText(episode) {
  return episode ? `episode ${episode}` : "";
}

// `match.view` / `match.kind` may be a word or a small object; show either briefly.
export function describe(value) {
  if (value === null || value === undefined || value === "") return "";
  if (typeof value !== "object") return String(value);
  return Object.entries(value)
    .filter(([, item]) => item !== null && typeof item !== "object")
    .map(([key, item]) => `${key} ${item}`)
    .join(", ");
}
