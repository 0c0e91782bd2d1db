"""The embeddable news box: ``output/embed.js`` and one small JSON per output.

Another site shows the latest entries of one of our outputs with one tag::

    <script src="https://feeds.example.kz/embed.js" data-output="kk" data-count="5" async></script>

The script fetches ``embed/<output>.json`` from beside itself (publish writes one per
output: its title, home page, language and newest entries with title, link, source,
published time and lead) and renders a list right after the tag, or into
``data-target``.  It follows the rules of the related widget
(:mod:`aggregator.related.widget`): every text goes in through ``textContent``, only
http(s) URLs become links, the styles are zero-specificity (``:where()``), and
``data-css="none"`` leaves styling to the page.  Dates are shown in the reader's own
time zone, in the box's language (``data-lang``, else the page's ``lang``, else the
output's); its strings come in Russian, Kazakh and English.
"""

from __future__ import annotations

import json

from aggregator.publish.feeds import FeedView
from aggregator.scripts import embeddable_script
from aggregator.text.xml import iso

__all__ = ["EMBED_CSS", "EMBED_ENTRIES", "EMBED_JS", "embed_json"]

EMBED_ENTRIES = 20  # entries per output in embed/<name>.json; data-count picks fewer

EMBED_CSS = """\
:where(.agg-news){margin:1.5em 0;font:inherit;color:inherit}
:where(.agg-news__heading){font-size:1.15em;font-weight:700;margin:0 0 .6em}
:where(.agg-news__list){list-style:none;margin:0;padding:0}
:where(.agg-news__item){margin:0 0 .8em;padding:0}
:where(.agg-news__link){font-weight:700;text-decoration:none;color:inherit}
:where(a.agg-news__link:hover){text-decoration:underline}
:where(.agg-news__lead){margin:.3em 0 0;font-size:.95em}
:where(.agg-news__meta){margin:.2em 0 0;font-size:.8em;opacity:.7}
:where(.agg-news__more){display:inline-block;margin-top:.3em;font-size:.9em}
"""


def embed_json(view: FeedView, count: int = EMBED_ENTRIES) -> bytes:
    """``embed/<name>.json``: what the news box shows of one output."""
    document = {
        "title": view.title,
        "home_page_url": view.home_url,
        "language": view.language,
        "entries": [
            {
                "title": entry.title,
                "url": entry.link,
                "source": entry.source.name if entry.source is not None else "",
                "published": iso(entry.published),
                "lead": entry.lead,
            }
            for entry in view.entries[:count]
        ],
    }
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


_COMMENT = """\
/* aggregator: the news box. No dependencies. In ASCII: any page may load it.
 * <script src="https://FEEDS/embed.js" data-output="all" async
 *         data-count="5" data-lead="true" data-target="#css-selector"
 *         data-heading="News" data-lang="en" data-css="none"></script>
 * The container gets data-agg-news="loading|ready|empty|error".
 */
"""

_BODY = """\
  var STRINGS = {
    ru: { more: "Все новости", empty: "Пока нет новостей" },
    kk: { more: "Барлық жаңалықтар", empty: "Әзірге жаңалық жоқ" },
    en: { more: "All news", empty: "No news yet" }
  };

  var base = new URL(attr("base") || "./", script.src);
  var output = attr("output") || "all";
  var limit = parseInt(attr("count"), 10) || 5;
  var withLead = attr("lead") === "true";

  function language(data) {
    var lang = attr("lang") || document.documentElement.lang || (data && data.language) || "ru";
    lang = String(lang).slice(0, 2).toLowerCase();
    return STRINGS[lang] ? lang : "en";
  }

  function render(box, data) {
    var lang = language(data);
    var strings = STRINGS[lang];
    var entries = data && Array.isArray(data.entries) ? data.entries.slice(0, limit) : [];
    var section = element("section", "agg-news");
    section.setAttribute("lang", lang);
    var heading = script.hasAttribute("data-heading") ? attr("heading") : String(data.title || "");
    if (heading) {
      section.appendChild(element("h2", "agg-news__heading", heading));
    }
    if (!entries.length) {
      section.appendChild(element("p", "agg-news__empty", strings.empty));
      box.appendChild(section);
      return false;
    }
    var list = element("ul", "agg-news__list");
    entries.forEach(function (entry) {
      var li = entryItem(entry, "agg-news", lang, withLead);
      list.appendChild(li);
    });
    section.appendChild(list);
    var home = safeHref(data.home_page_url);
    if (home) {
      var more = element("a", "agg-news__more", strings.more);
      more.setAttribute("href", home);
      section.appendChild(more);
    }
    box.appendChild(section);
    return true;
  }

  function start() {
    var box = mountBox("agg-news-css");
    box.setAttribute("data-agg-news", "loading");
    if (!/^[A-Za-z0-9._-]+$/.test(output)) {
      box.setAttribute("data-agg-news", "error");
      return;
    }
    fetch(new URL("embed/" + output + ".json", base), { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("embed/" + output + ".json: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        box.setAttribute("data-agg-news", render(box, data) ? "ready" : "empty");
      })
      .catch(function (error) {
        failed(box, "data-agg-news", "embed.js", error);
      });
  }
"""

EMBED_JS = embeddable_script(_COMMENT, EMBED_CSS, _BODY)
