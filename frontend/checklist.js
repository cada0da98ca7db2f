// A task's checklist ticks without reloading the page, so what the responder has typed in the
// step's form (a severity chosen, notes) stays as it is. Each item is a form of its own
// (POST /tasks/<id>/checklist/<n>, its CSRF token inside): without this script it is posted
// and answered with the task page. With it, the same form is sent with fetch asking for JSON;
// the box changes at once, then takes the server's answer (who ticked it, when, and the
// "n of m ticked" line); a refused or failed tick puts the box back as it was and says why
// beside it. The history records the tick the same way either way.
const section = document.getElementById("checklist");
let latest = 0;

function fresh(html) {
  const holder = document.createElement("template");
  holder.innerHTML = html;
  return holder.content.querySelector("#checklist");
}

function focusBox(item) {
  const button = item && item.querySelector("button.checkbox");
  if (button) button.focus();
}

function showAsTicked(item, ticked) {
  item.classList.toggle("ticked", ticked);
  item.classList.toggle("unticked", !ticked);
  const button = item.querySelector("button.checkbox");
  const box = item.querySelector(".box");
  if (button) button.setAttribute("aria-pressed", ticked ? "true" : "false");
  if (box) box.textContent = ticked ? "\u2611" : "\u2610";
}

function refuse(item, before, message) {
  item.replaceWith(before);  // the box as it was, with what the server last said
  const error = document.createElement("p");
  error.className = "field-error";
  error.setAttribute("role", "alert");
  error.textContent = message;
  before.appendChild(error);
  focusBox(before);
}

async function send(form) {
  const item = form.closest("li");
  if (!item || item.getAttribute("aria-busy") === "true") return;
  item.querySelectorAll(".field-error").forEach((el) => el.remove());
  const before = item.cloneNode(true);
  const ticked = form.querySelector('input[name="ticked"]').value === "1";
  const token = form.querySelector('input[name="csrf_token"]');
  const asked = ++latest;
  item.setAttribute("aria-busy", "true");
  showAsTicked(item, ticked);
  let answer = null;
  let ok = false;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
    });
    ok = response.ok;
    answer = await response.json().catch(() => null);
  } catch (error) {
    answer = null;  // offline, or the server is away
  }
  if (!ok || !answer || typeof answer.html !== "string") {
    refuse(item, before, (answer && answer.error) || section.dataset.failed);
    return;
  }
  const now = fresh(answer.html);
  const newItem = now && now.querySelector(`#${item.id}`);
  if (!newItem) {
    refuse(item, before, section.dataset.failed);
    return;
  }
  const hadFocus = item.contains(document.activeElement);
  item.replaceWith(newItem);
  if (hadFocus) focusBox(newItem);
  if (asked === latest) {  // a later tick's answer brings a later count
    const progress = section.querySelector(".checklist-progress");
    const newProgress = now.querySelector(".checklist-progress");
    if (progress && newProgress) progress.innerHTML = newProgress.innerHTML;
  }
}

if (section && window.fetch) {
  section.addEventListener("submit", (event) => {
    const form = event.target.closest("form.tick");
    if (!form) return;
    event.preventDefault();
    send(form);
  });
}
