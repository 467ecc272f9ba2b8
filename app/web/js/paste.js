// Paste anywhere: an image from the clipboard, or an image address pasted outside a text field.

import { firstQuery } from "./files.js";

export function listenPaste(onQuery) {
  document.addEventListener("paste", (event) => {
    const data = event.clipboardData;
    if (!data) return;
    const image = firstQuery(data.files);
    if (image) {
      event.preventDefault();
      onQuery(image);
      return;
    }
    const typing = event.target.closest && event.target.closest("input, textarea");
    const text = data.getData("text/plain").trim();
    if (!typing && /^https?:\/\/\S+$/i.test(text)) {
      event.preventDefault();
      onQuery(text);
    }
  });
}
