// Staff screens: keyboard shortcuts and the unsaved-change warning
// (progressive enhancement; every page works without it).
(function () {
  "use strict";
  // "/" focuses the search box; Ctrl+Enter saves the form being edited.
  document.addEventListener("keydown", function (e) {
    var t = e.target, typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
    if (e.key === "/" && !typing) {
      var s = document.querySelector("[data-shortcut='/']");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t && t.form) {
      e.preventDefault();
      t.form.requestSubmit();
    }
  });
  // Warn before leaving a form with changes not yet saved (the phone rings,
  // a link is clicked).
  var dirty = new Set();
  document.querySelectorAll("form[data-warn-unsaved]").forEach(function (f) {
    f.addEventListener("input", function () { dirty.add(f); });
    f.addEventListener("change", function () { dirty.add(f); });
    f.addEventListener("submit", function () { dirty.clear(); });
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty.size > 0) { e.preventDefault(); e.returnValue = ""; }
  });
  var p = document.getElementById("problem");
  if (p) { p.focus(); }
})();
