// Renders one /identify answer: the verdict, the query beside the matched frame, the preview
// clip, and the other scenes, titles and nearest frames. Fields the server does not send are
// simply left out, so older and newer servers both render.

import { mediaUrl, releaseMedia } from "./api.js";
import { el } from "./dom.js";
import {
  clock,
  confidenceWords,
  describe,
  episodeText,
  percent,
  timeRange,
} from "./format.js";

const REASONS = {
  no_close_frame: "Nothing in the catalog looks close enough to this picture.",
  ambiguous: "Two or more titles are about equally close, so none is named.",
  empty_catalog: "The catalog is empty: add a title first.",
};

// `match.kind`: "frame" (a catalogued frame matched) needs no note; other kinds say what they lack.
const KINDS = {
  title: "Title only: no single frame was close enough to give an episode or a time; "
    + "the per-title model recognised the title.",
};

// `match.view`: which view of the screenshot found the frame; "full" (as sent) needs no note.
const VIEWS = {
  trimmed: "Found once bars or a player window were cut off your screenshot.",
  mirrored: "Found mirrored: your screenshot is flipped left to right.",
  inner: "Found in a window inside your picture.",
  rectified: "Found once a screen photographed at an angle was straightened.",
};

function viewNote(view) {
  if (!view || view === "full") return "";
  return el("p", { className: "view" }, VIEWS[view] || `Matched on: ${describe(view)}`);
}

function kindNote(kind) {
  if (!kind || kind === "frame") return "";
  return el("p", { className: "kind" }, KINDS[kind] || `Kind of answer: ${describe(kind)}`);
}

// Sets a server picture or clip on `element` (through the key when one is in use).
function showMedia(element, url) {
  mediaUrl(url).then((src) => {
    element.src = src;
  });
  return element;
}

const thumbnailOf = (frameId) => `/frames/${frameId}/thumbnail`;

// `isVideo`: a clip or animation query, shown as a video beside the answer.
export function showPending(querySrc, isVideo = false) {
  releaseMedia();
  const section = document.getElementById("answer");
  section.hidden = false;
  section.dataset.state = "pending";
  setStatus("Looking…");
  document.getElementById("verdict").replaceChildren();
  document.getElementById("others").replaceChildren();
  document.getElementById("reference").hidden = true;
  hideClip();
  const image = document.getElementById("query-image");
  const video = document.getElementById("query-video");
  image.hidden = isVideo;
  video.hidden = !isVideo;
  if (isVideo) video.src = querySrc;
  else image.src = querySrc;
  document.getElementById("query-caption").textContent = isVideo ? "Your clip" : "Your screenshot";
}

export function showError(message) {
  const section = document.getElementById("answer");
  section.hidden = false;
  section.dataset.state = "error";
  setStatus(`Could not identify: ${message}`, true);
}

export function showAnswer(answer) {
  const section = document.getElementById("answer");
  const match = answer.match;
  section.dataset.state = match ? "match" : "unknown";
  setStatus(`Answered in ${Math.round(answer.took_ms)} ms.`);
  const verdict = document.getElementById("verdict");
  verdict.replaceChildren(
    match ? matchVerdict(match) : unknownVerdict(answer),
    queryFrameNote(answer.query_frame),
  );
  showReference(match, answer.neighbors || []);
  showClip(match && match.clip_url, match && match.preview_url);
  const others = document.getElementById("others");
  const parts = [
    resultList(answer.results || [], match),
    candidateList(answer.candidates || [], match),
    neighborGallery(answer.neighbors || [], !match),
  ];
  others.replaceChildren(...parts.filter(Boolean));
}

function setStatus(text, isError = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function matchVerdict(match) {
  const at = match.at ?? match.timestamp;
  const where = [episodeText(match.episode), timeRange(match.from, at, match.to)]
    .filter(Boolean)
    .join(" · ");
  const aliases = Array.isArray(match.aliases) && match.aliases.length
    ? `also known as ${match.aliases.join(", ")}`
    : "";
  const facts = [match.year, aliases].filter(Boolean).join(" · ");
  return el(
    "div",
    { className: "verdict known", "data-title-id": match.title_id },
    el("p", { className: "answer-title" }, match.title),
    facts && el("p", { className: "facts" }, facts),
    where && el("p", { className: "where" }, where),
    el(
      "p",
      { className: "confidence" },
      el("strong", {}, capitalise(confidenceWords(match.confidence))),
      ` · confidence ${percent(match.confidence)} (${match.confidence.toFixed(2)})`,
      ` · similarity ${match.similarity.toFixed(3)}`,
    ),
    kindNote(match.kind),
    viewNote(match.view),
    match.source_name && el("p", { className: "source" }, sourceText(match)),
    titleLinks(match),
  );
}

// A video or GIF query is answered from one of its frames: say which.
function queryFrameNote(frame) {
  if (!frame) return "";
  const when = typeof frame.time === "number" ? ` (${frame.time.toFixed(1)} s in)` : "";
  const what = frame.kind === "animation" ? "animation" : "video";
  return el(
    "p",
    { className: "query-frame" },
    `Answered from frame ${frame.index}${when} of your ${what}`,
    `; ${frame.frames_tried} frames tried.`,
  );
}

// Links out to the title's pages where its ids are known (links only: nothing is fetched).
const CATALOGUE_SITES = [
  ["anilist_id", "AniList", "https://anilist.co/anime/"],
  ["mal_id", "MyAnimeList", "https://myanimelist.net/anime/"],
];

function titleLinks(match) {
  const links = CATALOGUE_SITES.filter(([field]) => match[field]).map(([field, name, base]) =>
    el("a", { href: `${base}${match[field]}`, rel: "noreferrer" }, name),
  );
  if (!links.length) return "";
  const joined = links.flatMap((link, index) => (index ? [" · ", link] : [link]));
  return el("p", { className: "links" }, ...joined);
}

function unknownVerdict(answer) {
  const code = answer.reason_code || "";
  const why = REASONS[code] || answer.reason || "Nothing in the catalog is close enough.";
  return el(
    "div",
    { className: "verdict unknown", "data-reason": code || null },
    el("p", { className: "answer-title" }, "Unknown"),
    el("p", { className: "why" }, why),
    answer.reason && answer.reason !== why && el("p", { className: "detail" }, answer.reason),
    el("p", { className: "hint" }, "The nearest frames in the catalog are shown below."),
  );
}

// The matched frame: its own preview, else its thumbnail by id, else the best neighbour of the
// matched title (older servers name the frame only among the neighbours).
function showReference(match, neighbors) {
  const figure = document.getElementById("reference");
  if (!match) {
    figure.hidden = true;
    return;
  }
  const best = neighbors.find((hit) => hit.title_id === match.title_id);
  const frameId = match.frame_id ?? (best && best.frame_id);
  const src = match.preview_url || (frameId !== undefined ? thumbnailOf(frameId) : null);
  figure.hidden = !src;
  if (!src) return;
  showMedia(document.getElementById("reference-image"), src);
  const at = match.at ?? match.timestamp;
  const frameMatched = !match.kind || match.kind === "frame";
  document.getElementById("reference-caption").textContent = [
    frameMatched ? "Matched frame" : "Nearest frame of this title",
    episodeText(match.episode),
    timeRange(undefined, at, undefined),
  ].filter(Boolean).join(" · ");
}

// The poster is the matched frame, so the player shows the scene before it plays.
function showClip(url, poster) {
  const video = document.getElementById("clip");
  if (!url) {
    hideClip();
    return;
  }
  if (poster) mediaUrl(poster).then((src) => video.setAttribute("poster", src));
  showMedia(video, url);
  video.hidden = false;
}

function hideClip() {
  const video = document.getElementById("clip");
  video.removeAttribute("src");
  video.removeAttribute("poster");
  video.hidden = true;
}

// trace.moe-style scene list, less the matched scene itself (shown above).
function resultList(results, match) {
  const rest = results.filter((result) => !match || result.frame_id !== match.frame_id);
  if (!rest.length) return null;
  const items = rest.map((result) =>
    el(
      "li",
      { className: "result" },
      result.preview_url && showMedia(el("img", { alt: "" }), result.preview_url),
      el(
        "span",
        {},
        el("strong", {}, result.title),
        " ",
        [episodeText(result.episode), timeRange(result.from, result.at, result.to)]
          .filter(Boolean)
          .join(" · "),
        ` · similarity ${result.similarity.toFixed(3)}`,
      ),
    ),
  );
  return rankedList("results", match ? "Other scenes" : "Closest scenes", items);
}

function candidateList(candidates, match) {
  const rest = candidates.filter((candidate) => !match || candidate.title_id !== match.title_id);
  if (!rest.length) return null;
  const items = rest.map((candidate) =>
    el("li", {}, `${candidate.title} · ${percent(candidate.confidence)}`),
  );
  return rankedList("candidates", match ? "Other titles" : "Titles in the vote", items);
}

const rankedList = (id, heading, items) =>
  el("div", { id }, el("h3", {}, heading), el("ol", {}, items));

function neighborGallery(neighbors, open) {
  if (!neighbors.length) return null;
  const figures = neighbors.map((hit) =>
    el(
      "figure",
      { className: "neighbor" },
      showMedia(el("img", { alt: hit.title }), thumbnailOf(hit.frame_id)),
      el(
        "figcaption",
        {},
        [hit.title, episodeText(hit.episode), timeRange(undefined, hit.timestamp, undefined)]
          .filter(Boolean)
          .join(" · "),
        ` · ${hit.similarity.toFixed(3)}`,
      ),
    ),
  );
  return el(
    "details",
    { id: "neighbors", open },
    el("summary", {}, "Nearest frames"),
    el("div", { className: "gallery" }, figures),
  );
}

function sourceText(match) {
  const length = typeof match.duration === "number" ? ` (${clock(match.duration)} long)` : "";
  return `From ${match.source_name}${length}`;
}

const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);
