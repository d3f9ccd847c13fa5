// newsdesk search page. The URL holds the whole state (q, from, to, sort,
// page, topic, category, context), so a search can be shared and the back
// button works. Only the server's highlight fragments are inserted as
// HTML; they are escaped by the server with matches in <mark>.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var FILTERS = ["topic", "category", "context"];
  var form = $("search"), q = $("q"), from = $("from"), to = $("to"), sort = $("sort");

  function state() { return new URLSearchParams(location.search); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  // path is the page of an event: its id's date and slug, each escaped.
  function path(id) { return "/events/" + id.split("/").map(encodeURIComponent).join("/"); }

  // focusKey names the control the reader acted on (its data-key), so that
  // the same control has the focus once the page is drawn again: every
  // control is rebuilt, and a keyboard user was sent back to the top.
  var focusKey = null;

  // go replaces the state with params and searches.
  function go(params, replace) {
    params.delete("page");
    navigate(params, replace);
  }
  function navigate(params, replace) {
    var a = document.activeElement;
    focusKey = a && a.getAttribute && a.getAttribute("data-key");
    var url = "/?" + params.toString();
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    run();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var p = state();
    [["q", q.value.trim()], ["from", from.value], ["to", to.value], ["sort", sort.value === "relevance" ? "" : sort.value]]
      .forEach(function (kv) { if (kv[1]) p.set(kv[0], kv[1]); else p.delete(kv[0]); });
    go(p);
  });
  sort.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });

  // As-you-type suggestions of topic and context names.
  var suggestTimer;
  q.addEventListener("input", function () {
    clearTimeout(suggestTimer);
    var words = q.value.trim();
    if (words.length < 2) return;
    suggestTimer = setTimeout(function () {
      fetch("/v1/suggest?q=" + encodeURIComponent(words) + "&size=8").then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (d) {
          var list = $("suggestions");
          list.textContent = "";
          d.suggestions.forEach(function (s) { list.appendChild(el("option", { value: s.value }, s.kind + " · " + s.count + " events")); });
        }).catch(function () {});
    }, 120);
  });

  // Filter values match in any case, as the API matches them: a chip is
  // on, and toggles off, whatever case the URL spells its value in.
  function same(a, b) { return a.toLowerCase() === b.toLowerCase(); }
  function has(vals, value) { return vals.some(function (v) { return same(v, value); }); }

  function toggle(kind, value) {
    var p = state(), vals = p.getAll(kind);
    p.delete(kind);
    var on = has(vals, value);
    vals.filter(function (v) { return !same(v, value); }).forEach(function (v) { p.append(kind, v); });
    if (!on) p.append(kind, value);
    go(p);
  }

  function chip(kind, value, count, on) {
    var b = el("button", { type: "button", "class": "chip" + (on ? " on" : ""), "data-kind": kind, "data-value": value,
      "aria-pressed": on ? "true" : "false", title: (on ? "Remove filter " : "Filter by ") + kind + ": " + value,
      "data-key": "chip " + kind + " " + value.toLowerCase() });
    b.appendChild(document.createTextNode(value));
    if (count != null) b.appendChild(el("span", { "class": "n" }, String(count)));
    if (on) b.appendChild(el("span", { "aria-hidden": "true" }, "×"));
    b.addEventListener("click", function () { toggle(kind, value); });
    return b;
  }

  function bucketRange(start, unit) {
    var y = +start.slice(0, 4);
    if (unit === "year") return [y + "-01-01", y + "-12-31"];
    if (unit === "month") {
      var m = +start.slice(5, 7), last = new Date(Date.UTC(y, m, 0)).getUTCDate();
      return [start + "-01", start + "-" + (last < 10 ? "0" : "") + last];
    }
    return [start, start];
  }

  function renderFacets(f, p) {
    var box = $("facets");
    box.textContent = "";
    if (!f) return;
    // A histogram of nothing (no event matched) is no chart: its bars
    // would be invisible buttons that take the focus.
    if (f.date && f.date.some(function (b) { return b.count; })) {
      box.appendChild(el("h4", null, "Dates (by " + f.date_unit + ")"));
      var h = el("div", { "class": "histogram", role: "group", "aria-label": "Events by " + f.date_unit });
      var max = Math.max.apply(null, f.date.map(function (b) { return b.count; })) || 1;
      f.date.forEach(function (b) {
        var bar = el("button", { type: "button", title: b.start + ": " + b.count + " events", "aria-label": b.start + ": " + b.count + " events",
          "data-key": "bar" });
        bar.style.height = Math.max(b.count ? 4 : 0, Math.round(100 * b.count / max)) + "%";
        bar.addEventListener("click", function () {
          // The bucket within the range asked for: a bar narrows it.
          var r = bucketRange(b.start, f.date_unit), np = state();
          var from = np.get("from"), to = np.get("to");
          np.set("from", from && from > r[0] ? from : r[0]);
          np.set("to", to && to < r[1] ? to : r[1]);
          go(np);
        });
        h.appendChild(bar);
      });
      box.appendChild(h);
      var axis = el("div", { "class": "histo-axis" });
      axis.appendChild(el("span", null, f.date[0].start));
      axis.appendChild(el("span", null, f.date[f.date.length - 1].start));
      box.appendChild(axis);
    }
    FILTERS.forEach(function (kind) {
      var vals = f[kind] || [];
      if (!vals.length) return;
      box.appendChild(el("h4", null, kind[0].toUpperCase() + kind.slice(1)));
      var active = p.getAll(kind);
      vals.forEach(function (v) { box.appendChild(chip(kind, v.value, v.count, has(active, v.value))); });
    });
  }

  function renderHits(d) {
    var box = $("results");
    box.textContent = "";
    d.hits.forEach(function (h) {
      var art = el("article", { "class": "hit" });
      var meta = el("div", { "class": "meta" }, h.date + (h.category ? " · " + h.category : "") + (h.topic ? " · " + h.topic : ""));
      var title = el("h3");
      var a = el("a", { href: path(h.id) });
      var frag = h.highlights && h.highlights.text;
      if (frag && frag.length) a.innerHTML = frag.join(" "); else a.textContent = h.text;
      title.appendChild(a);
      art.appendChild(meta);
      art.appendChild(title);
      if (h.context && h.context.length) art.appendChild(el("div", { "class": "meta" }, "Context: " + h.context.join(", ")));
      box.appendChild(art);
    });
  }

  // MAX_HITS is the deepest the pages go (the API's page × size bound);
  // beyond, the reader narrows the search.
  var MAX_HITS = 1000;

  // pages is how many pages of size the answer d has, within MAX_HITS.
  function pages(d, size) { return Math.min(Math.ceil(d.total / size), Math.floor(MAX_HITS / size)); }

  function renderPager(d, p, size) {
    var nav = $("pager"), page = +(p.get("page") || 1), last = pages(d, size);
    nav.textContent = "";
    function link(label, n, key) {
      var b = el("button", { type: "button", "data-key": key }, label);
      b.addEventListener("click", function () { var np = state(); np.set("page", n); navigate(np); window.scrollTo(0, 0); });
      nav.appendChild(b);
    }
    if (page > last && last > 0) {
      // A page past the end (a link edited or shared before updates): one
      // step back to the last, not one page a click.
      link("← Last page", last, "prev");
      return;
    }
    if (page > 1) link("← Previous", page - 1, "prev");
    if (last > 1) nav.appendChild(el("span", null, "Page " + page + " of " + last));
    if (page < last) link("Next →", page + 1, "next");
    if (page === last && d.total > MAX_HITS) nav.appendChild(el("span", { "class": "notice" }, "The first " + MAX_HITS.toLocaleString("en") + " are shown: add a word, a filter or dates to see others."));
  }

  // clear empties what an answer draws, so that a failed search shows no
  // older one's results, facets or pages.
  function clear() {
    $("results").textContent = ""; $("facets").textContent = ""; $("pager").textContent = "";
    refine.hidden = true;
  }

  // refocus gives the focus back to the control named focusKey, drawn
  // again; a pager button, or one no longer drawn, gives it to the status
  // line, where the new results begin.
  function refocus() {
    var key = focusKey;
    focusKey = null;
    if (!key) return;
    var e = key === "prev" || key === "next" || key === "bar" ? null : document.querySelector('[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]');
    (e || $("status")).focus();
  }

  // On a phone the facets wait behind the Refine button (see style.css).
  var refine = $("refine");
  refine.addEventListener("click", function () {
    var open = $("facets").classList.toggle("open");
    refine.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // fetchSearch fetches url; a 429 (the server answers as many requests as
  // it can) is retried once, after the wait its Retry-After asks (1 to 10
  // seconds), and the status line says so meanwhile.
  function fetchSearch(url, seq) {
    return fetch(url).then(function (r) {
      if (r.status !== 429) return r;
      var wait = Math.min(Math.max(parseInt(r.headers.get("Retry-After"), 10) || 1, 1), 10);
      if (seq === current) $("status").textContent = "The server is busy; retrying in " + wait + " s…";
      return new Promise(function (done) { setTimeout(done, wait * 1000); }).then(function () { return fetch(url); });
    });
  }

  // current numbers the latest search: the answer of an older one, come
  // late, is not shown over it.
  var current = 0;

  // intro is the empty page's line, with the served index's own figures
  // (GET /v1/info, asked once), not those of the corpus of the day the
  // page was written ("114,000 events since 2002" over any index).
  var intro = null;
  function showIntro(seq) {
    if (intro === null) {
      intro = fetch("/v1/info").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; }).then(function (d) {
        var n = d && d.events, year = d && d.first_date ? d.first_date.slice(0, 4) : "";
        if (!n) {
          intro = null; // asked again next time: a server starting has none yet
          return "Search the news: a story, a place, a person.";
        }
        return "Search " + n.toLocaleString("en-US") + " news event" + (n === 1 ? "" : "s") + (year ? " since " + year : "") + ": a story, a place, a person.";
      });
    }
    intro.then(function (line) { if (seq === current) $("status").textContent = line; });
  }

  function run() {
    var seq = ++current;
    var p = state(), size = 10;
    q.value = p.get("q") || ""; from.value = p.get("from") || ""; to.value = p.get("to") || ""; sort.value = p.get("sort") || "relevance";
    var fbox = $("filters");
    fbox.textContent = "";
    FILTERS.forEach(function (kind) { p.getAll(kind).forEach(function (v) { fbox.appendChild(chip(kind, v, null, true)); }); });
    var any = q.value || p.get("from") || p.get("to") || FILTERS.some(function (k) { return p.getAll(k).length; });
    if (!any) {
      showIntro(seq);
      clear();
      refocus();
      return;
    }
    // Only the page's own parameters: a shared link often carries others
    // (fbclid, utm_source), which the API refuses as unknown.
    var api = new URLSearchParams();
    ["q", "from", "to", "sort", "page"].concat(FILTERS).forEach(function (k) {
      p.getAll(k).forEach(function (v) { api.append(k, v); });
    });
    api.set("size", size); api.set("facets", "10"); api.set("highlight", "true");
    // A page beyond the deepest (an edited link) is past the last whatever
    // the total: the API refuses it, so page 1 is asked for its count.
    var beyond = +(p.get("page") || 1) > Math.floor(MAX_HITS / size);
    if (beyond) api.set("page", "1");
    $("status").textContent = "Searching…";
    fetchSearch("/v1/search?" + api.toString(), seq).then(function (r) {
      return r.json().then(function (d) { if (!r.ok) throw new Error(d.error ? d.error.message : r.statusText); return d; });
    }).then(function (d) {
      if (seq !== current) return;
      if (beyond) d.hits = [];
      var st = $("status");
      st.textContent = "";
      var total = el("strong", { id: "total" }, d.total.toLocaleString("en"));
      st.appendChild(total);
      st.appendChild(document.createTextNode(d.total === 1 ? " event" : " events"));
      if (d.corrections.length) {
        st.appendChild(el("span", { "class": "notice" }, " Showing results for " +
          d.corrections.map(function (c) { return "“" + c.to + "” (you typed “" + c.from + "”)"; }).join(", ")));
      }
      if (d.relaxed) st.appendChild(el("span", { "class": "notice" }, " Few events have every word; events with some of them follow."));
      // Words too common to be indexed are not searched for: said when
      // nothing else was, or when one was written as a name (WHO), not
      // for the of in "battle of mosul".
      var ignored = (d.ignored || []).filter(function (w) { return !d.total || (w.length > 1 && w === w.toUpperCase() && w !== w.toLowerCase()); });
      if (ignored.length) {
        st.appendChild(el("span", { "class": "notice", id: "ignored" }, " Not searched, too common a word to be indexed: " +
          ignored.map(function (w) { return "“" + w + "”"; }).join(", ") + "."));
      }
      renderHits(d);
      renderFacets(d.facets, p);
      renderPager(d, p, size);
      refine.hidden = !d.total;
      if (!d.total) {
        var empty = el("div", { "class": "empty" });
        empty.appendChild(el("p", null, "No event matches " + (q.value ? "“" + q.value + "”" : "these filters") + "."));
        empty.appendChild(el("p", null, "Try fewer words, another spelling, or remove a filter or the date range."));
        $("results").appendChild(empty);
      } else if (!d.hits.length) {
        var past = el("div", { "class": "empty" });
        past.appendChild(el("p", null, "Page " + (p.get("page") || 1) + " is past the last, page " + pages(d, size) + "."));
        $("results").appendChild(past);
      }
      refocus();
    }).catch(function (err) {
      if (seq !== current) return;
      clear();
      $("status").textContent = "The search failed: " + err.message;
      refocus();
    });
  }

  window.addEventListener("popstate", run);
  run();
})();
