"""The embeddable "Читать далее / Related" widget: ``output/related.js`` and ``related.css``.

A page includes it with one tag (see the README)::

    <script src="https://feeds.example.kz/related.js" async></script>

It finds the article by ``data-article`` (an article URL, an entry id or a store
key), else by the page's ``<link rel="canonical">``, else by ``location.href``;
fetches ``related/<key>.json`` from beside the script (an article URL is first
looked up in ``related/urls/<xx>.json``, see ``related.url_key``); and renders the
list into ``data-target`` (a CSS selector) or a new element right after the tag.

Safety: every text goes in through ``textContent`` (never ``innerHTML``), and only
http(s) URLs become links.  No dependencies; the styles use ``:where()`` so that
any rule of the host page wins; ``data-css="none"`` leaves styling to the page.
"""

from __future__ import annotations

import json

from aggregator.scripts import embeddable_script
from aggregator.text.urls import (
    PATH_SESSION,
    SESSION_PARAMS,
    SESSION_PREFIX,
    SESSION_TOKEN,
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
)

WIDGET_CSS = """\
:where(.agg-related){margin:1.5em 0;font:inherit;color:inherit}
:where(.agg-related__heading){font-size:1.15em;font-weight:700;margin:0 0 .6em}
:where(.agg-related__list){list-style:none;margin:0;padding:0;display:grid;gap:1em;\
grid-template-columns:repeat(auto-fill,minmax(14em,1fr))}
:where(.agg-related__item){margin:0;padding:0}
:where(.agg-related__link){font-weight:700;text-decoration:none;color:inherit}
:where(a.agg-related__link:hover){text-decoration:underline}
:where(.agg-related__lead){margin:.3em 0 0;font-size:.95em}
:where(.agg-related__meta){margin:.3em 0 0;font-size:.8em;opacity:.7}
:where(.agg-related__also){margin:.2em 0 0;font-size:.8em;opacity:.7}
"""

_COMMENT = """\
/* aggregator: the "Related" (read more) widget. No dependencies. In ASCII: any page may load it.
 * <script src="https://FEEDS/related.js" async
 *         data-article="ARTICLE URL or entry id (optional: canonical link / page URL)"
 *         data-target="#css-selector (optional: right after this tag)"
 *         data-count="4" data-heading="Related" data-lang="en" data-css="none"></script>
 * The container gets data-agg-related="loading|ready|empty|error".
 */
"""

_BODY = """\
  var HEADINGS = { ru: "Читать далее", kk: "Тағы оқыңыз", en: "Related" };
  // Query parameters that say how a reader arrived, or whose visit it was (a session),
  // and a session in the path (aggregator.text.urls): not in a key.
  var TRACKING = __TRACKING__;
  var TRACKING_PREFIXES = __TRACKING_PREFIXES__;
  var SESSION_PARAMS = __SESSION_PARAMS__;
  var SESSION_PREFIX = __SESSION_PREFIX__;
  var SESSION_TOKEN = new RegExp("^(?:" + __SESSION_TOKEN__ + ")$");
  var PATH_SESSION = new RegExp(__PATH_SESSION__, "gi");
  var ALSO = { ru: "также: ", kk: "сондай-ақ: ", en: "also: " };

  var base = new URL(attr("base") || "./", script.src);
  var limit = parseInt(attr("count"), 10) || 0;
  var lang = (attr("lang") || document.documentElement.lang || "ru").slice(0, 2).toLowerCase();
  var heading = script.hasAttribute("data-heading")
    ? attr("heading")
    : HEADINGS[lang] || HEADINGS.ru;

  function article() {
    if (attr("article")) {
      return attr("article");
    }
    var canonical = document.querySelector('link[rel="canonical"][href]');
    return canonical ? canonical.href : location.href;
  }

  // The same spelling as aggregator.related.url_key (Python): keep them in step.
  function urlKey(text) {
    var url;
    try {
      url = new URL(text, location.href);
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return null;
    }
    var path = url.pathname.replace(PATH_SESSION, "");
    var query = url.search.slice(1).split("&").filter(function (pair) {
      var name = pair.split("=")[0];
      var value = pair.slice(name.length + 1);
      try {
        name = decodeURIComponent(name);
      } catch (e) {}
      name = name.toLowerCase();
      var session = name === "sid"
        ? SESSION_TOKEN.test(value)
        : SESSION_PARAMS.indexOf(name) >= 0 || name.indexOf(SESSION_PREFIX) === 0;
      return !session && TRACKING.indexOf(name) < 0 && !TRACKING_PREFIXES.some(function (prefix) {
        return name.indexOf(prefix) === 0;
      });
    }).join("&");
    try {
      path = decodeURIComponent(path);
    } catch (e) {}
    try {
      query = decodeURIComponent(query);
    } catch (e) {}
    var host = url.hostname.toLowerCase().replace(/^www\\./, "");
    return host + (url.port ? ":" + url.port : "") + path.replace(/\\/+$/, "") +
      (query ? "?" + query : "");
  }

  // FNV-1a over the UTF-8 bytes; the low byte names the shard (aggregator.related.url_shard).
  function shard(key) {
    var bytes = new TextEncoder().encode(key);
    var hash = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
    }
    return ("0" + (hash & 0xff).toString(16)).slice(-2);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "omit" }).then(function (response) {
      if (response.status === 404) {
        return null;
      }
      if (!response.ok) {
        throw new Error(url + ": HTTP " + response.status);
      }
      return response.json();
    });
  }

  function keyOf(wanted) {
    if (/^[0-9a-f]{20}$/.test(wanted)) {
      return Promise.resolve(wanted);
    }
    var tag = /^tag:[^:]*:item\\/([^/]+)$/.exec(wanted);
    if (tag) {
      return Promise.resolve(decodeURIComponent(tag[1]));
    }
    var key = urlKey(wanted);
    if (!key) {
      return Promise.resolve(null);
    }
    return getJSON(new URL("related/urls/" + shard(key) + ".json", base)).then(function (map) {
      return map && Object.prototype.hasOwnProperty.call(map, key) ? map[key] : null;
    });
  }

  // A lead that only repeats the title is not shown (some feeds give no other).
  function same(a, b) {
    function fold(text) {
      return String(text || "").toLowerCase().replace(/\\s+/g, " ").replace(/[\\s.…]+$/, "").trim();
    }
    return fold(a) === fold(b);
  }

  function render(box, data) {
    var items = data && Array.isArray(data.related) ? data.related : [];
    if (limit > 0) {
      items = items.slice(0, limit);
    }
    if (!items.length) {
      return;
    }
    var section = element("section", "agg-related");
    if (heading) {
      section.appendChild(element("h2", "agg-related__heading", heading));
    }
    var list = element("ul", "agg-related__list");
    items.forEach(function (item) {
      var li = entryItem(item, "agg-related", lang, !same(item.lead, item.title));
      var also = Array.isArray(item.also) ? item.also : [];
      if (also.length) {
        // The same text reprinted by other outlets: one entry, their names after it.
        var others = element("p", "agg-related__also", ALSO[lang] || ALSO.en);
        also.forEach(function (other, n) {
          if (n) {
            others.appendChild(document.createTextNode(", "));
          }
          var otherHref = safeHref(other.url);
          var name = element(otherHref ? "a" : "span", "agg-related__also-link",
            String(other.source || other.url || ""));
          if (otherHref) {
            name.setAttribute("href", otherHref);
          }
          others.appendChild(name);
        });
        li.appendChild(others);
      }
      list.appendChild(li);
    });
    section.appendChild(list);
    box.appendChild(section);
  }

  function start() {
    var box = mountBox("agg-related-css");
    box.setAttribute("data-agg-related", "loading");
    keyOf(article())
      .then(function (key) {
        return key ? getJSON(new URL("related/" + encodeURIComponent(key) + ".json", base)) : null;
      })
      .then(function (data) {
        render(box, data);
        box.setAttribute("data-agg-related", box.querySelector(".agg-related") ? "ready" : "empty");
      })
      .catch(function (error) {
        failed(box, "data-agg-related", "related.js", error);
      });
  }
"""

for _name, _value in {
    "__TRACKING__": list(TRACKING_PARAMS),
    "__TRACKING_PREFIXES__": list(TRACKING_PREFIXES),
    "__SESSION_PARAMS__": list(SESSION_PARAMS),
    "__SESSION_PREFIX__": SESSION_PREFIX,
    "__SESSION_TOKEN__": SESSION_TOKEN,
    "__PATH_SESSION__": PATH_SESSION,
}.items():
    _BODY = _BODY.replace(_name, json.dumps(_value))
WIDGET_JS = embeddable_script(_COMMENT, WIDGET_CSS, _BODY)
