// "Välj alla på sidan" in the print queue: ticks (or clears) every letter's box on the page
// without reloading it. Without JavaScript the same link reloads the page with every box
// ticked by the server (?alla=1), so the page works either way. Loaded as a file of this
// origin: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var controls = Array.prototype.slice.call(document.querySelectorAll("[data-select-all]"));
  function formOf(control) {
    return document.getElementById(control.getAttribute("data-select-all"));
  }
  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="brev"]'));
  }
  function allTicked(form) {
    var all = boxes(form);
    return all.length > 0 && all.every(function (box) { return box.checked; });
  }
  function show() {
    controls.forEach(function (control) {
      var form = formOf(control);
      var ticked = form !== null && allTicked(form);
      control.textContent = ticked ? control.getAttribute("data-clear-label") : control.getAttribute("data-label");
    });
  }
  controls.forEach(function (control) {
    var form = formOf(control);
    if (form === null) {
      return;
    }
    control.setAttribute("data-label", control.textContent);
    control.setAttribute("role", "button");
    control.addEventListener("click", function (event) {
      event.preventDefault();
      var tick = !allTicked(form);
      boxes(form).forEach(function (box) { box.checked = tick; });
      show();
    });
    form.addEventListener("change", show);
  });
  show();
})();
