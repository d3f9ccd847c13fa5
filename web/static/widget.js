// newsdesk related-stories widget. Paste into any page:
//   <script src="https://SEARCHD/widget.js" data-event="EVENT-ID" data-size="5" async></script>
// It renders the event's Related list after the script tag. searchd must
// list the page's origin in -cors-origins.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/widget\.js(\?.*)?$/, "");
  var id = script.getAttribute("data-event");
  var size = script.getAttribute("data-size") || "5";
  var box = document.createElement("section");
  box.className = "newsdesk-related";
  box.setAttribute("aria-label", "Related stories");
  script.parentNode.insertBefore(box, script.nextSibling);
  if (!id) { box.textContent = "newsdesk widget: data-event is missing."; return; }
  // An id is a date and a slug: each part escaped, the slash kept.
  var path = function (id) { return id.split("/").map(encodeURIComponent).join("/"); };
  fetch(base + "/v1/events/" + path(id) + "/related?size=" + encodeURIComponent(size))
    .then(function (r) { return r.json().then(function (d) { if (!r.ok) throw new Error(d.error ? d.error.message : r.statusText); return d; }); })
    .then(function (d) {
      var h = document.createElement("h3");
      h.textContent = "Related";
      box.appendChild(h);
      var ol = document.createElement("ol");
      d.related.forEach(function (it) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = base + "/events/" + path(it.id);
        a.textContent = it.text;
        // As the event page and the site's own Related lists: the date,
        // the context tags, why it is related.
        var meta = document.createElement("small");
        meta.textContent = " " + it.date + (it.context && it.context.length ? " · Context: " + it.context.join(", ") : "") + " · " + it.reason;
        li.appendChild(a);
        li.appendChild(meta);
        ol.appendChild(li);
      });
      box.appendChild(ol);
    })
    .catch(function (err) { box.textContent = "Related stories are unavailable (" + err.message + ")."; });
})();
