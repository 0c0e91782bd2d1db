"""The README is the user's reference: it must keep up with the code."""

import dataclasses
from pathlib import Path

import pytest

from aggregator import config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTIONS = [
    config.SiteConfig,
    config.FetchConfig,
    config.StorageConfig,
    config.SourceConfig,
    config.HouseConfig,
    config.PublishConfig,
    config.RelatedConfig,
    config.OutputConfig,
]


@pytest.mark.parametrize("section", SECTIONS, ids=lambda cls: cls.__name__)
def test_every_feeds_yaml_key_is_documented(section):
    undocumented = [f.name for f in dataclasses.fields(section) if f"`{f.name}`" not in README]
    assert undocumented == []


def test_every_command_is_documented():
    from aggregator.cli import cli

    names = set()
    for name, command in cli.commands.items():  # a group's commands: "comment new"...
        subcommands = getattr(command, "commands", None)
        names |= {f"{name} {sub}" for sub in subcommands} if subcommands else {name}
    assert [n for n in sorted(names) if f"`{n}" not in README] == []
