"""JavaScript shared by the scripts other sites embed (related.js and embed.js).

Both are single self-contained files run in a closure on a foreign page; what they
have in common is pasted into each closure.  ``ENTRY_JS``: ``element`` (textContent
only, never innerHTML), ``safeHref`` (http(s) links only) and ``entryItem`` (one list
entry).  ``BOX_JS``, for a closure that has ``script`` (its tag) and ``CSS``: ``attr``
(the tag's data-* attributes), ``mountBox`` (where it renders, with its styles),
``failed`` (the box's error state) and ``whenReady`` (start once the target exists).
"""

from __future__ import annotations

import json
import re

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

  // One entry of a list: its linked title, an optional lead, then "source, dot, date".
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

BOX_JS = """\
  function attr(name) {
    var value = script.getAttribute("data-" + name);
    return value === null ? "" : value;
  }

  // The box to render into: data-target's element, else a new one right after the tag;
  // the styles go in once per page (as <style id=cssId>) unless data-css="none".
  function mountBox(cssId) {
    var box = null;
    if (attr("target")) {
      box = document.querySelector(attr("target"));
    }
    if (!box) {
      box = document.createElement("div");
      script.parentNode.insertBefore(box, script.nextSibling);
    }
    if (attr("css") !== "none" && !document.getElementById(cssId)) {
      var style = document.createElement("style");
      style.id = cssId;
      style.textContent = CSS;
      (document.head || document.documentElement).appendChild(style);
    }
    return box;
  }

  // A failure: the box's state attribute says "error", the console says why.
  function failed(box, state, name, error) {
    box.setAttribute(state, "error");
    if (window.console) {
      console.warn(name + ": " + (error && error.message ? error.message : error));
    }
  }

  // A data-target further down the page exists only once the page is parsed.
  function whenReady(start) {
    if (attr("target") && document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  }
"""


def embeddable_script(comment: str, css: str, body: str) -> str:
    """A whole embeddable script: ``comment``, then one closure that gives up quietly in
    a browser without fetch and URL, with ``script`` (its own tag), ``CSS``, ``BOX_JS``,
    ``ENTRY_JS`` and ``body``, which defines ``start()``; ``whenReady`` runs it.

    In ASCII (see :func:`ascii_js`): a script tag's file is decoded in its page's
    encoding where its server names no charset (most servers name none for .js), and
    many of the region's sites are windows-1251 pages."""
    return ascii_js(
        f"{comment}(function () {{\n"
        '  "use strict";\n'
        "  var script = document.currentScript;\n"
        "  if (!script || !script.src || !window.fetch || !window.URL) {\n"
        "    return;\n"
        "  }\n"
        f"  var CSS = {json.dumps(css)};\n\n"
        f"{BOX_JS}\n{ENTRY_JS}\n{body}\n"
        "  whenReady(start);\n"
        "})();\n"
    )


def ascii_js(text: str) -> str:
    """JavaScript ``text`` with every character beyond ASCII written as its escape
    (``\\u0427``; two, a surrogate pair, beyond the BMP): the same program in whatever
    encoding a browser decodes it.  For text in strings and comments (our scripts have
    no other), where an escape means the character (in a comment it is only text).
    JSON's ASCII escapes are JavaScript's: a run of such characters, as a JSON string
    without its quotes."""
    return _BEYOND_ASCII.sub(lambda run: json.dumps(run.group())[1:-1], text)


_BEYOND_ASCII = re.compile("[^\\x00-\\x7f]+")
