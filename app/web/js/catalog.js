// The catalog panel: titles with their counts; with the API key, add a title from files (the
// bar follows the upload, then the server's job) and delete a title.

import { addTitle, apiKey, deleteTitle, jobStatus, listTitles, setApiKey } from "./api.js";
import { el } from "./dom.js";

const POLL_MS = 400;

export function startCatalog() {
  const keyInput = document.getElementById("api-key");
  keyInput.value = apiKey();
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(keyInput.value.trim());
    say(apiKey() ? "Key kept for this tab." : "No key in use.");
    refresh(); // a server that wants keys for reads lists its titles only now
  });
  document.getElementById("forget-key").addEventListener("click", () => {
    keyInput.value = "";
    setApiKey("");
    say("Key forgotten.");
  });
  document.getElementById("add-form").addEventListener("submit", onAdd);
  refresh();
}

function say(text, isError = false) {
  const status = document.getElementById("catalog-status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

export async function refresh() {
  const list = document.getElementById("titles");
  const summary = document.getElementById("catalog-summary");
  let titles;
  try {
    titles = await listTitles();
  } catch (error) {
    summary.textContent = `The catalog cannot be read: ${error.message}`;
    return;
  }
  const frames = titles.reduce((sum, title) => sum + title.frames, 0);
  summary.textContent = titles.length
    ? `${titles.length} title${titles.length === 1 ? "" : "s"}, ${frames} frames.`
    : "The catalog is empty.";
  list.replaceChildren(...titles.map(titleItem));
  fillScope(titles);
}

// "Search in": every title, or one of them (kept across refreshes while it exists).
function fillScope(titles) {
  const scope = document.getElementById("scope");
  const chosen = scope.value;
  const options = titles.map((title) => el("option", { value: title.id }, title.name));
  scope.replaceChildren(el("option", { value: "" }, "every title"), ...options);
  scope.value = titles.some((title) => String(title.id) === chosen) ? chosen : "";
}

function titleItem(title) {
  const remove = el(
    "button",
    { type: "button", className: "delete", "aria-label": `Delete ${title.name}` },
    "Delete",
  );
  remove.addEventListener("click", () => onDelete(title));
  const counts = [
    plural(title.frames, "frame"),
    // A film, or sources without episode numbers: "0 episodes" would read as empty.
    title.episodes ? plural(title.episodes, "episode") : null,
    plural(title.sources, "source"),
  ]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { "data-title-id": title.id },
    el("span", { className: "name" }, title.name, title.year ? ` (${title.year})` : ""),
    el("span", { className: "counts" }, counts),
    remove,
  );
}

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

async function onDelete(title) {
  if (!window.confirm(`Delete "${title.name}" and its ${title.frames} frames?`)) return;
  try {
    await deleteTitle(title.id);
    say(`Deleted ${title.name}.`);
  } catch (error) {
    say(`Could not delete ${title.name}: ${error.message}`, true);
  }
  await refresh();
}

async function onAdd(event) {
  event.preventDefault();
  const form = event.target;
  const submit = form.querySelector("button[type=submit]");
  const bar = document.getElementById("add-progress");
  const data = new FormData(form);
  if (!String(data.get("episode") || "").trim()) data.delete("episode");
  const name = String(data.get("name")).trim();
  submit.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  try {
    say(`Uploading ${name}…`);
    // Two phases on one bar, each named in the status line: the upload, then the server's job.
    const answer = await addTitle(data, (fraction) => {
      bar.value = fraction;
    });
    if (answer.status === 202) await follow(answer.body.job_id, name, bar);
    else say(`Added ${answer.body.frames_added} frames to ${name}.`);
    bar.value = 1;
    form.reset();
  } catch (error) {
    say(`Could not add ${name}: ${error.message}`, true);
  } finally {
    submit.disabled = false;
    await refresh();
  }
}

async function follow(jobId, name, bar) {
  for (;;) {
    const job = await jobStatus(jobId);
    bar.value = job.progress;
    if (job.status === "done") {
      say(`Added ${job.frames_added} frames to ${name}.`);
      return;
    }
    if (job.status === "failed") throw new Error(job.error || "the job failed");
    const done = Math.round(job.progress * 100);
    say(`Indexing ${name}: ${done}% (${job.frames_added} frames read)…`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
