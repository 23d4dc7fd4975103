"""Who may import whom (docs/architecture.md, "Layers"): read from the source, every import
statement counted, including the ones inside functions."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "filters", "dedup", "decontam", "classifiers", "trainer", "jobs", "curate")
STAGE_PACKAGES = ("filters", "dedup", "decontam", "classifiers")
PIPELINE_IDEAS = ("pipeline.extract", "pipeline.tokens", "pipeline.mix", "pipeline.report")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = dict(_modules())


def test_the_rules_see_every_package():
    assert {name.split("/")[0] for name in MODULES} == set(PACKAGES)
    assert len(MODULES) > 90


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_spark_modules_and_commands_import_pyspark(module):
    allowed = module == "pipeline/spark.py" or module.endswith("_spark.py") or module.startswith("jobs/")
    found = sorted(n for n in _imports(MODULES[module]) if _under(n, "pyspark"))
    assert allowed or not found, f"{module} imports {found}: rename it *_spark.py or move the Spark code out"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    imports = _imports(MODULES[module])
    package = module.split("/")[0]
    forbidden: tuple[str, ...] = ()
    if package not in ("jobs", "curate"):
        forbidden += ("jobs",)                           # commands sit on top: only the public API uses them
    if package in ("pipeline", *STAGE_PACKAGES):
        forbidden += ("trainer",)                        # the trainer is torch; the pipeline is not
    if package == "trainer":
        forbidden += ("pyspark", *STAGE_PACKAGES)
    if package == "pipeline":
        forbidden += STAGE_PACKAGES
        if module.count("/") == 1:                       # the ground floor knows no stage
            forbidden += PIPELINE_IDEAS
        elif module.startswith("pipeline/mix/"):
            forbidden += ("pipeline.report",)            # the report reads the mix, not the other way
    if package in STAGE_PACKAGES:
        forbidden += tuple(p for p in STAGE_PACKAGES if p != package)
    bad = sorted(n for n in imports if _under(n, *forbidden))
    assert not bad, f"{module} imports {bad}"
