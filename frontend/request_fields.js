// The filing page's category fields (app/request_fields/templates/request_fields/_filing.html):
// only the chosen category's group shows; the others are hidden and disabled, so they are
// neither read nor sent. Without this script every group shows and the server reads only the
// chosen category's.
function showChosen(select, groups) {
  for (const group of groups) {
    const chosen = group.dataset.category === select.value;
    group.hidden = !chosen;
    group.disabled = !chosen;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("category_id");
  const groups = document.querySelectorAll("fieldset.category-fields[data-category]");
  if (!select || groups.length === 0) {
    return;
  }
  showChosen(select, groups);
  select.addEventListener("change", () => showChosen(select, groups));
});
