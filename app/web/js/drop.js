// Drag and drop anywhere on the page: an image (or clip) file, or an image dragged from a page
// (its address). The drop zone lights up while something is dragged over the page.

import { firstQuery } from "./files.js";

export function listenDrop(onQuery, onRefused) {
  const zone = document.getElementById("drop-zone");
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  const lit = (on) => zone.classList.toggle("dragging", on);

  document.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth += 1;
    lit(true);
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) lit(false);
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    if (event.target.closest && event.target.closest("#add-form")) return; // catalog files
    event.preventDefault();
    depth = 0;
    lit(false);
    const data = event.dataTransfer;
    const image = firstQuery(data && data.files);
    const address = data && (data.getData("text/uri-list") || "").split("\n")[0].trim();
    if (image) onQuery(image);
    else if (/^https?:\/\//i.test(address || "")) onQuery(address);
    else onRefused("That was not an image or a video: drop a screenshot file.");
  });
}
