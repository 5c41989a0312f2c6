// Live updates, a progressive enhancement: without JavaScript every page reads the same.
// Sections marked data-live="K1,K2" are fetched again and swapped in when the node's event
// stream (/events) reports an entry of one of those kinds ("trust." matches every trust.*
// kind, "entry" any entry) or an action item ("action").
(function () {
  "use strict";
  var live = document.querySelectorAll("[data-live]");
  if (!live.length || !window.EventSource) { return; }
  var pending = null;
  var state = document.getElementById("live-state");
  function wants(section, name, kind) {
    return section.getAttribute("data-live").split(",").some(function (k) {
      k = k.trim();
      if (name === "action") { return k === "action"; }
      return k === "entry" || k === kind || (k.slice(-1) === "." && kind.indexOf(k) === 0);
    });
  }
  function refresh(ids) {
    fetch(location.href, {credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var old = document.getElementById(id), now = fresh.getElementById(id);
          if (old && now && old.innerHTML !== now.innerHTML) { old.replaceWith(now); }
        });
        document.documentElement.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  function note(name, kind) {
    var ids = [];
    document.querySelectorAll("[data-live]").forEach(function (s) {
      if (s.id && wants(s, name, kind)) { ids.push(s.id); }
    });
    if (!ids.length) { return; }
    if (pending) { pending.ids = pending.ids.concat(ids); return; }
    pending = {ids: ids};
    setTimeout(function () { var p = pending; pending = null; refresh(p.ids); }, 250);
  }
  var source = new EventSource("/events");
  source.addEventListener("entry", function (e) {
    try { note("entry", JSON.parse(e.data).kind || ""); } catch (err) { /* ignore */ }
  });
  source.addEventListener("action", function () { note("action", ""); });
  source.onopen = function () {
    if (state) { state.textContent = state.getAttribute("data-on"); }
    document.documentElement.setAttribute("data-live-open", "1");
  };
  source.onerror = function () { if (state) { state.textContent = state.getAttribute("data-off"); } };
})();
