// Pick a file: a real button (keyboard reachable) opens the hidden file input.

export function listenPick(onQuery) {
  const input = document.getElementById("pick");
  document.getElementById("pick-button").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    if (input.files.length) onQuery(input.files[0]);
    input.value = ""; // picking the same file again still fires `change`
  });
}
