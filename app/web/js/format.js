// How numbers read on the page: times as m:ss (h:mm:ss past an hour), confidence in words.

export function clock(seconds) {
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

// "12:31-12:36, at 12:34"; only the parts the answer has.
export function timeRange(from, at, to) {
  const has = (value) => typeof value === "number";
  const span = has(from) && has(to) ? `${clock(from)}-${clock(to)}` : "";
  const point = has(at) ? `at ${clock(at)}` : "";
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
