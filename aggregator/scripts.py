"""JavaScript shared by the scripts other sites embed (related.js and embed.js).

Both are single self-contained files run in a closure on a foreign page; what they
have in common is pasted into each closure: ``element`` (textContent only, never
innerHTML), ``safeHref`` (http(s) links only) and ``entryItem`` (one list entry).
"""

from __future__ import annotations

ENTRY_JS = """\
  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) {
      node.textContent = text; // never innerHTML: titles are data, not markup
    }
    return node;
  }

  function safeHref(url) {
    try {
      var parsed = new URL(String(url));
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // One entry of a list: its linked title, an optional lead, then "source · date".
  function entryItem(entry, block, lang, showLead) {
    var li = element("li", block + "__item");
    var href = safeHref(entry.url);
    var link = element(href ? "a" : "span", block + "__link", String(entry.title || ""));
    if (href) {
      link.setAttribute("href", href);
    }
    li.appendChild(link);
    if (showLead && entry.lead) {
      li.appendChild(element("p", block + "__lead", String(entry.lead)));
    }
    var meta = element("p", block + "__meta");
    if (entry.source) {
      meta.appendChild(element("span", block + "__source", String(entry.source)));
    }
    var date = new Date(entry.published);
    if (!isNaN(date.getTime())) {
      if (meta.firstChild) {
        meta.appendChild(document.createTextNode(" · "));
      }
      var time = element("time", block + "__date", date.toLocaleDateString(lang));
      time.setAttribute("datetime", date.toISOString());
      meta.appendChild(time);
    }
    if (meta.firstChild) {
      li.appendChild(meta);
    }
    return li;
  }
"""
