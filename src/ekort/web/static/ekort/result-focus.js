// After an action the page opens with its result (or the rule that refused it) at the top of
// <main>, in #resultat: focus goes there, so that it is in view and a screen reader reads it
// first. Loaded as a file of this origin: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var result = document.getElementById("resultat");
  if (result !== null) {
    result.focus();
  }
})();
