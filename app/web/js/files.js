// Shared by paste and drop: the first image among the files a person handed over.

export function firstImage(files) {
  return Array.from(files || []).find((file) => file.type.startsWith("image/")) || null;
}
