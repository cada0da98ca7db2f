// The evaluation page's viability panel follows the estimate as the director types it: the
// panel is fetched again (GET /tasks/<id>/viability?estimated_cost=&estimated_hours=) and
// swapped in, and the "staff available" answer follows the computed fact until the director
// changes it by hand (then it stays as they chose, and a justification is asked for).
const holder = document.getElementById("viability-panel");
const form = document.getElementById("form-evaluate");

if (holder && form) {
  const cost = form.querySelector('[name="estimated_cost"]');
  const hours = form.querySelector('[name="estimated_hours"]');
  const staff = form.querySelectorAll('input[name="staff_available"]');
  let touched = false;
  let timer = null;
  let latest = 0;

  staff.forEach((input) => input.addEventListener("change", () => { touched = true; }));

  const followComputed = () => {
    const panel = holder.querySelector("#viability");
    if (!panel || touched) return;
    const computed = panel.dataset.staffAvailable;
    staff.forEach((input) => { input.checked = input.value === computed; });
  };

  const refresh = async () => {
    const asked = ++latest;
    const params = new URLSearchParams();
    if (cost && cost.value.trim()) params.set("estimated_cost", cost.value.trim());
    if (hours && hours.value.trim()) params.set("estimated_hours", hours.value.trim());
    try {
      const response = await fetch(`${holder.dataset.url}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (!response.ok || asked !== latest) return;  // a later answer is on its way
      holder.innerHTML = await response.text();
      followComputed();
    } catch (error) {
      // Offline or the server is away: the panel keeps its last figures; the server checks
      // everything again when the form is sent.
    }
  };

  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  };
  [cost, hours].forEach((input) => input && input.addEventListener("input", later));
}
