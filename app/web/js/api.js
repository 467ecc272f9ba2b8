// Calls to the service's own HTTP API (same origin); every error becomes one readable line.

const KEY = "shazam-api-key";

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// The API answers 4xx with {"detail": text} (422: a list of field errors).
export function errorText(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((item) => item.msg).join("; ");
  return `the server answered ${status}`;
}

// The key goes with every call: a server may ask for one on reads too.
async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: authHeaders() });
  } catch {
    throw new Error("the server cannot be reached");
  }
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(errorText(response.status, body));
  return body;
}

// `query` is a File/Blob (multipart field `image`) or an http(s) address (form field `url`);
// `titleId` restricts the search to one title, `keepBorders` turns trimming off.
export function identify(query, { titleId = "", keepBorders = false } = {}) {
  const form = new FormData();
  if (typeof query === "string") form.append("url", query);
  else form.append("image", query, query.name || "pasted.png");
  const options = new URLSearchParams(); // query parameters, beside any input
  if (titleId) options.set("title_id", titleId);
  if (keepBorders) options.set("cut_borders", "false");
  const path = options.size ? `/identify?${options}` : "/identify";
  return call(path, { method: "POST", body: form });
}

export const listTitles = () => call("/titles");
export const jobStatus = (jobId) => call(`/jobs/${encodeURIComponent(jobId)}`);
export const deleteTitle = (titleId) => call(`/titles/${titleId}`, { method: "DELETE" });

// XMLHttpRequest rather than fetch: only it reports upload progress. Resolves with
// {status, body}: 201 (images, already searchable) or 202 (a video job to follow).
export function addTitle(form, onUpload) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/titles");
    for (const [name, value] of Object.entries(authHeaders())) {
      request.setRequestHeader(name, value);
    }
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onUpload(event.loaded / event.total);
    };
    request.onerror = () => reject(new Error("the server cannot be reached"));
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        resolve({ status: request.status, body: request.response });
      } else {
        reject(new Error(errorText(request.status, request.response)));
      }
    };
    request.send(form);
  });
}

// <img> and <video> cannot send a header: with a key in use (a server may guard thumbnails and
// clips too), media come through fetch as blob URLs, released on the next answer.
const mediaBlobs = [];

export async function mediaUrl(url) {
  if (!apiKey()) return url;
  try {
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) return url; // the element then shows its own failure
    const blobUrl = URL.createObjectURL(await response.blob());
    mediaBlobs.push(blobUrl);
    return blobUrl;
  } catch {
    return url;
  }
}

export function releaseMedia() {
  mediaBlobs.splice(0).forEach((blobUrl) => URL.revokeObjectURL(blobUrl));
}
