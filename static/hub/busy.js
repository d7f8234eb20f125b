// Long-running HTMX actions (Test connection, …): an element with data-clears="#id" empties that
// element the moment its request starts, so an old result is never read as the new one. The
// button itself is disabled by hx-disabled-elt and the progress shown by hx-indicator.
document.addEventListener("htmx:beforeRequest", (event) => {
  const selector = event.detail.elt.getAttribute("data-clears");
  const target = selector && document.querySelector(selector);
  if (target) target.replaceChildren();
});
