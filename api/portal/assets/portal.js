// Rastro portal: the only script. It shows times in the visitor's own zone
// and keeps an open order page current: the server's event stream says
// "changed", and the page fetches its changing part again (no reload).
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (!isNaN(at)) {
      el.textContent = at.toLocaleString(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });
    }
  }
}

function live(box) {
  let fetching = false, again = false;
  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const answer = await fetch(box.dataset.live, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.redirected || answer.status === 401) {
        // The session ended or wants something first (a new password): the
        // page itself shows what.
        location.reload();
      } else if (answer.ok) {
        const html = await answer.text();
        const doc = new DOMParser().parseFromString(html, "text/html");
        box.replaceChildren(...doc.body.childNodes);
        localTimes(box);
        box.dataset.updated = String(Number(box.dataset.updated || 0) + 1);
      }
    } finally {
      fetching = false;
      if (again) { again = false; refresh(); }
    }
  }
  const source = new EventSource(box.dataset.events);
  source.addEventListener("changed", refresh);
  // After a dropped connection the browser reconnects by itself; what moved
  // meanwhile is fetched once it is back.
  source.addEventListener("open", () => { if (box.dataset.opened) refresh(); box.dataset.opened = "1"; });
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  const box = document.getElementById("live");
  if (box && box.dataset.events) live(box);
});
