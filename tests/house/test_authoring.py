"""Authoring: file names and slugs for new commentary (the command is tested end to end in
test_commentary.py)."""

from __future__ import annotations

from aggregator.house.authoring import slugify


def test_slugs_are_latin_and_file_name_safe():
    assert slugify("Стоп, снято!") == "stop-sniato"
    assert slugify("Қазақстан: ә ғ қ ң ө ұ ү һ і") == "qazaqstan-a-g-q-n-o-u-u-h-i"
