// Wires each way of asking (paste, drop, pick, address) to one query, and starts the catalog.

import { identify } from "./api.js";
import { startCatalog } from "./catalog.js";
import { listenDrop } from "./drop.js";
import { listenPaste } from "./paste.js";
import { listenPick } from "./pick.js";
import { showAnswer, showError, showPending } from "./show.js";
import { listenUrl } from "./url.js";

let shownObjectUrl = null;
let latest = 0; // a slow answer must not replace the answer to a newer query

async function ask(query) {
  const asked = ++latest;
  if (shownObjectUrl) URL.revokeObjectURL(shownObjectUrl);
  shownObjectUrl = typeof query === "string" ? null : URL.createObjectURL(query);
  const isVideo = typeof query !== "string" && query.type.startsWith("video/");
  showPending(shownObjectUrl || query, isVideo);
  try {
    const answer = await identify(query, {
      titleId: document.getElementById("scope").value,
      keepBorders: document.getElementById("keep-borders").checked,
    });
    if (asked === latest) showAnswer(answer);
  } catch (error) {
    if (asked === latest) showError(error.message);
  }
}

listenPaste(ask);
listenDrop(ask, showError);
listenPick(ask);
listenUrl(ask);
startCatalog();
document.documentElement.dataset.ready = "true"; // scripts loaded and listening
