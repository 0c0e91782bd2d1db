"""sources.opml: OPML 2.0 list of every configured source."""

from __future__ import annotations

from lxml import etree

from aggregator.config import (
    Config,
)
from aggregator.publish.select import Catalog
from aggregator.text.urls import http_uri
from aggregator.text.xml import clean_text


def sources_opml(config: Config, catalog: Catalog) -> bytes:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = clean_text(f"{config.site.title}: sources")
    if config.site.author:
        etree.SubElement(head, "ownerName").text = clean_text(config.site.author)
    body = etree.SubElement(opml, "body")
    for source in config.published_sources():
        state = catalog.states.get(source.id)
        name = catalog.source_view(source.id).name
        attrs = {"text": name, "title": name}
        xml_url = catalog.feed_uri(state.url if state else source.url)
        if xml_url:  # a file read from this machine has no public address: a plain outline
            attrs = {"type": "rss", **attrs, "xmlUrl": xml_url}
        home = http_uri(state.link) if state else None
        if home:
            attrs["htmlUrl"] = home
        if source.language:
            attrs["language"] = clean_text(source.language)
        if source.tags:
            # OPML 2.0: comma-separated, slash-delimited category strings.
            attrs["category"] = ",".join("/" + clean_text(t).replace(",", " ") for t in source.tags)
        etree.SubElement(body, "outline", attrs)
    return etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)
