"""The documentation site: built with warnings as errors, its reference generated from the schema,
its getting-started commands those of the README, its stage example runnable."""

import re
import subprocess
import sys
from html import unescape

import numpy as np
import pytest
import yaml
from pydantic import BaseModel, Field

from tests.conftest import REPO, load_script
from uqms.config import WorkflowFile
from uqms.workflow import Workflow

DOCS = REPO / "docs"
CONFIG = DOCS / "mkdocs.yml"


def _generator():
    return load_script(DOCS / "gen_reference.py")


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        for value in entry.values():
            pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def _code_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, re.DOTALL)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built by ``mkdocs build --strict`` (any warning fails the build)."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(CONFIG), "--site-dir", str(out)],
        check=False, capture_output=True, text=True, cwd=out,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def _page(site, name: str) -> str:
    return (site / name.removesuffix(".md").removesuffix("index") / "index.html").read_text()


def test_every_page_of_the_navigation_is_built(site):
    config = yaml.load(CONFIG.read_text(), Loader=yaml.BaseLoader)
    pages = _nav_pages(config["nav"])
    assert {"getting-started.md", "concepts.md", "workflow-reference.md", "dask.md", "extending.md",
            "calibration.md"} <= set(pages)
    for page in pages:
        assert "<h1" in _page(site, page), page


def test_reference_lists_every_section_and_key_of_the_schema(site):
    html = _page(site, "workflow-reference.md")
    schema = WorkflowFile.model_json_schema()
    defs = schema["$defs"]
    chunks = re.split(r'<h2 id="', html)[1:]
    sections = {chunk.split('"', 1)[0]: chunk for chunk in chunks}
    assert set(schema["properties"]) <= set(sections)
    for name, field in schema["properties"].items():
        ref = re.search(r"#/\$defs/(\w+)", str(field))
        model = defs[ref.group(1)]
        for key in model["properties"]:
            assert f"<code>{key}</code>" in sections[name], (name, key)
    design, execution = _text(sections["design"]), _text(sections["execution"])
    assert all(method in design for method in ('"mc"', '"lhs"', '"sobol"', '"halton"', '"saltelli"'))
    assert "1000" in design and "nested design" in design
    assert "samples per task" in execution and "Dask scheduler address" in execution
    normal = _text(sections["inputs"].split('distribution = "normal"', 1)[1])
    assert "mean" in normal and "std" in normal and "float (> 0)" in normal


def test_reference_follows_a_changed_schema(monkeypatch):
    class Extra(BaseModel):
        """A section the real schema does not have."""

        knob: int = Field(default=3, description="turns things")

    class Changed(WorkflowFile):
        extra: Extra = Extra()

    generator = _generator()
    monkeypatch.setattr(generator, "WorkflowFile", Changed)
    page = generator.reference_markdown()
    assert "`[extra]`" in page and "| `knob` | integer | <code>3</code> | turns things |" in page


def test_getting_started_gives_the_readme_commands_verbatim(site):
    readme = _code_blocks((REPO / "README.md").read_text(), "bash")
    guide = _code_blocks((DOCS / "pages" / "getting-started.md").read_text(), "bash")
    assert len(readme) == 2 and readme == guide[:2]
    assert "uqms run workflows/ishigami.toml --n 100000" in _text(_page(site, "getting-started.md"))


def test_api_reference_documents_the_public_objects(site):
    core, models = _page(site, "api/core.md"), _page(site, "api/models.md")
    for name in ("uqms.workflow.Workflow", "uqms.models.stage.Stage", "uqms.models.stage.Chain",
                 "uqms.models.registry.resolve_stage", "uqms.config.WorkflowFile"):
        assert f'id="{name}"' in core, name
    for name in ("uqms.models.atomistic.calculators.CalculatorCache", "uqms.models.reactor.stages",
                 "uqms.models.microkinetics.steady_state.solve_steady_state"):
        assert f'id="{name}"' in models, name
    assert 'id="uqms.analysis.sobol.sobol"' in _page(site, "api/analysis.md")


def test_the_stage_example_of_the_guide_runs_from_a_workflow_file(tmp_path, monkeypatch):
    guide = (DOCS / "pages" / "extending.md").read_text()
    arrhenius, conversion = _code_blocks(guide, "python")[:2]
    package = tmp_path / "mykinetics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "stages.py").write_text(arrhenius + conversion)
    (tmp_path / "flow.toml").write_text(
        '[workflow]\nname = "guide"\n[inputs.E_a]\ndistribution = "normal"\nmean = 0.9\nstd = 0.1\n'
        'kind = "epistemic"\nunit = "eV"\n[constants]\nT = 400.0\n' + _code_blocks(guide, "toml")[0]
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    run = Workflow.from_file(tmp_path / "flow.toml").run(n=64)
    assert (run.status == 0).all() and run.conversion.attrs["units"] == "1"
    np.testing.assert_allclose(run.conversion, 1 - np.exp(-run.k * 10.0))
