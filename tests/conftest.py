"""Shared fixtures: the form spec, the generated template, filled copies and headless LibreOffice."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import settings

# CI runs the property tests on fixed examples (no flaky runs on a clean checkout); locally they
# explore new examples on every run. Deadlines are off: the 2-core machine is shared and noisy.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from lagesrapport_dev.fill import fill_workbook
from lagesrapport_dev.libreoffice import LibreOffice
from lagesrapport_dev.samples import example_answers
from lagesrapport_xl.form.spec import FormSpec, default_spec
from lagesrapport_xl.template.writer import write_template


@pytest.fixture(scope="session")
def spec() -> FormSpec:
    return default_spec()


@pytest.fixture(scope="session")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated, empty template (never modified by tests: copy it via `fill`)."""
    return write_template(tmp_path_factory.mktemp("template") / "lagesrapport_mall.xlsx")


@pytest.fixture()
def answers(spec: FormSpec) -> dict[str, Any]:
    """A complete valid report's values; tests change what they need."""
    return example_answers(spec)


@pytest.fixture()
def fill(template_path: Path, tmp_path: Path) -> Callable[..., Path]:
    """fill(values, name="rapport.xlsx") → a copy of the template with the values typed in."""

    def _fill(values: dict[str, Any], name: str = "rapport.xlsx") -> Path:
        return fill_workbook(template_path, tmp_path / name, values)

    return _fill


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    """Headless LibreOffice with a private profile that recalculates every formula on load.

    Missing LibreOffice is an error, not a skip: .ci/run and scripts/test install it.
    """
    return LibreOffice(tmp_path_factory.mktemp("lo-profile"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
