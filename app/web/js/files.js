// Shared by paste and drop: the first picture or clip among the files a person handed over
// (a video or GIF query is answered from its frames).

export function firstQuery(files) {
  const usable = (file) => file.type.startsWith("image/") || file.type.startsWith("video/");
  return Array.from(files || []).find(usable) || null;
}
