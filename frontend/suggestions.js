// The filing page's learned suggestion (app/suggestions/templates/suggestions/_filing.html):
// as the title and description are typed (debounced), asks the server for a category and a
// priority and shows them with their confidence; one click applies them to the form. Without
// this script nothing is proposed and the form works as always.
const WAIT_MS = 500;
const MAX_DESCRIPTION = 1500; // the beginning is enough, and keeps the URL short

function setSelect(id, value) {
  const select = document.getElementById(id);
  if (!select || value === null || value === undefined) {
    return;
  }
  select.value = String(value);
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("suggestion");
  const title = document.getElementById("title");
  const description = document.getElementById("description");
  if (!box || !title || !description) {
    return;
  }
  const text = box.querySelector(".suggestion-text");
  const apply = box.querySelector(".suggestion-apply");
  let timer = null;
  let latest = 0;
  let current = null;

  async function ask() {
    const asked = ++latest;
    const params = new URLSearchParams({
      title: title.value.slice(0, 200),
      description: description.value.slice(0, MAX_DESCRIPTION),
    });
    try {
      const response = await fetch(`${box.dataset.url}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (asked !== latest) {
        return; // a newer question is on its way
      }
      const data = response.ok ? await response.json() : null;
      current = data && data.text ? data : null;
    } catch {
      current = null;
    }
    box.hidden = current === null;
    text.textContent = current ? current.text : "";
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  }

  title.addEventListener("input", later);
  description.addEventListener("input", later);
  apply.addEventListener("click", () => {
    if (!current) {
      return;
    }
    if (current.category) {
      setSelect("category_id", current.category.id);
    }
    if (current.priority) {
      setSelect("priority", current.priority.value);
    }
    box.hidden = true;
  });
  if (title.value || description.value) {
    later();
  }
});
