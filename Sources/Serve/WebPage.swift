import Foundation

/// `GET /`: one self-contained page (no external scripts, styles or fonts) that searches the
/// index through `/v1/search`: a search box, retriever and k, hits with rank, score, id and the
/// passage with the query's words highlighted, and the index's facts (`/v1/index`) below. The
/// address keeps the search (`/?q=...&k=...&retriever=...`), so a link reruns it.
public enum WebPage {
    public static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>densekit search</title>
    <style>
      body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 52rem; padding: 1.5rem; color: #1d1d1f; }
      h1 { font-size: 1.3rem; margin: 0 0 1rem; }
      form { display: flex; gap: .5rem; flex-wrap: wrap; margin-bottom: 1rem; }
      input[type=search] { flex: 1 1 20rem; font: inherit; padding: .45rem .6rem; border: 1px solid #888; border-radius: 4px; }
      select, button { font: inherit; padding: .4rem .6rem; }
      button { background: #1d1d1f; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
      ol { list-style: none; padding: 0; margin: 0; }
      li { border-top: 1px solid #ddd; padding: .7rem 0; }
      .meta { font-size: .85rem; color: #555; font-variant-numeric: tabular-nums; }
      .meta b { color: #1d1d1f; }
      mark { background: #ffe08a; color: inherit; padding: 0 .1em; }
      #status { color: #555; min-height: 1.4em; }
      .error { color: #a00000; }
      footer { margin-top: 1.5rem; border-top: 1px solid #ddd; padding-top: .6rem; font-size: .8rem; color: #555; }
    </style>
    </head>
    <body>
    <h1>densekit search</h1>
    <form id="search">
      <input type="search" id="query" name="query" placeholder="Search the index" autofocus required>
      <select id="retriever" name="retriever" aria-label="retriever"><option value="dense">dense</option></select>
      <select id="k" name="k" aria-label="results">
        <option>5</option><option selected>10</option><option>20</option><option>50</option><option>100</option>
      </select>
      <label id="rerank-box" hidden><input type="checkbox" id="rerank"> rerank</label>
      <button type="submit">Search</button>
    </form>
    <div id="status"></div>
    <ol id="hits"></ol>
    <footer id="facts">…</footer>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    function escapeHTML(text) {
      return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    }
    // The passage, escaped, with every word of the query (two letters or more) marked where it
    // stands as a whole word (or with a plural s), not inside other words.
    function highlight(text, query) {
      const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) || [])];
      if (words.length === 0) return escapeHTML(text);
      const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
      const pattern = new RegExp("(?<![\\p{L}\\p{N}])((?:" + alternatives + ")(?:e?s)?)(?![\\p{L}\\p{N}])", "giu");
      return text.split(pattern).map((part, i) => (i % 2 === 1 ? "<mark>" + escapeHTML(part) + "</mark>" : escapeHTML(part))).join("");
    }
    async function loadFacts() {
      try {
        const info = await (await fetch("/v1/index")).json();
        $("retriever").innerHTML = info.retrievers.map((r) => `<option value="${r}">${r}</option>`).join("");
        $("rerank-box").hidden = !info.rerank;
        $("facts").textContent = `${info.count.toLocaleString()} passages · ${info.dimension}-d ${info.metric.replace("_", " ")} · FAISS ${info.factory} · model ${info.model}`;
      } catch (e) {
        $("facts").textContent = "index facts unavailable: " + e;
      }
    }
    async function search() {
      const query = $("query").value.trim();
      if (!query) return;
      const body = { query, k: Number($("k").value), retriever: $("retriever").value };
      if ($("rerank").checked) body.rerank = true;
      $("status").className = "";
      $("status").textContent = "searching…";
      const started = performance.now();
      try {
        const response = await fetch("/v1/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        const answer = await response.json();
        if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
        $("status").textContent = `${answer.hits.length} results in ${Math.round(performance.now() - started)} ms`;
        $("hits").innerHTML = answer.hits.map((hit) => `<li><div class="meta"><b>${hit.rank}.</b> id ${escapeHTML(hit.id)} · score ${hit.score.toFixed(4)}</div><div>${highlight(hit.text, query)}</div></li>`).join("");
      } catch (e) {
        $("status").className = "error";
        $("status").textContent = "error: " + e.message;
        $("hits").innerHTML = "";
      }
    }
    $("search").addEventListener("submit", (event) => {
      event.preventDefault();
      history.replaceState(null, "", "?q=" + encodeURIComponent($("query").value.trim()) + "&k=" + $("k").value + "&retriever=" + $("retriever").value);
      search();
    });
    // A link with ?q=...&k=...&retriever=... runs its search when the page opens.
    (async () => {
      await loadFacts();
      const params = new URLSearchParams(location.search);
      // Only values the menus offer (a hand-edited address must not leave one empty).
      for (const name of ["k", "retriever"]) {
        const value = params.get(name);
        if (value && [...$(name).options].some((o) => o.value === value)) $(name).value = value;
      }
      if (params.get("q")) { $("query").value = params.get("q"); search(); }
    })();
    </script>
    </body>
    </html>
    """#
}
