// An image address typed into the form; the server fetches it (http/https only).

export function listenUrl(onQuery) {
  const form = document.getElementById("url-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onQuery(document.getElementById("url").value.trim());
  });
}
