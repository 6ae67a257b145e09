"""Every command's --help renders, and shows percent signs as people write them."""

from __future__ import annotations

import argparse

import pytest

from sweeper.cli import build_parser, main


def _parsers(parser: argparse.ArgumentParser, path: str = "sweeper"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_help_page_renders_without_doubled_percent_signs():
    pages = dict(_parsers(build_parser()))
    assert {"sweeper bench curves", "sweeper bench pruner", "sweeper diagnose"} <= set(pages)
    for path, parser in pages.items():
        text = parser.format_help()  # a lone % in an argument's help would raise here
        # argparse %-formats argument help but not descriptions: "%%" there is printed as is.
        assert "%%" not in text, path


@pytest.mark.parametrize(
    "argv",
    [
        ["diagnose", "/no/such/run", "--debug"],
        ["bench", "pruner", "/no/such.npz", "--debug"],
        ["--debug", "diagnose", "/no/such/run"],
    ],
)
def test_debug_works_before_or_after_the_subcommand(argv):
    from sweeper.errors import InputError

    with pytest.raises(InputError):  # --debug: the exception, not a one-line message
        main(argv)
    assert main([a for a in argv if a != "--debug"]) == 2
