"""Structural rules of the codebase: every module imports alone, logic stays free of frameworks."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import yakuba

SRC = Path(yakuba.__file__).parent
ROLE_PACKAGES = (
    "kiosk",
    "storehq",
    "center",
    "jpki",
    "forwarder",
    "issuer",
    "recorder",
    "council",
    "registry",
)
FORBIDDEN_IN_LOGIC = ("fastapi", "starlette", "aiohttp", "httpx", "sqlalchemy", "uvicorn")


def _all_modules() -> list[str]:
    # __main__ runs the CLI when imported, by design; every other module must import silently.
    return sorted(m.name for m in pkgutil.walk_packages([str(SRC)], prefix="yakuba.") if m.name != "yakuba.__main__")


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """A cycle or an import-time side effect shows up as a failure to import the module first, alone."""
    modules = _all_modules()
    assert "yakuba.config" in modules
    script = (
        "import importlib, subprocess, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if r.returncode:\n"
        "        failed.append(name + ': ' + r.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *modules], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _logic_files() -> list[Path]:
    files: list[Path] = []
    for pkg in ROLE_PACKAGES:
        base = SRC / pkg
        files += [p for p in (base / "service.py", base / "_service.py") if p.exists()]
        if (base / "service").is_dir():
            files += sorted((base / "service").rglob("*.py"))
    return files


def test_logic_never_imports_web_framework_http_client_or_orm() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(_imports_of(path) & set(FORBIDDEN_IN_LOGIC)) for path in _logic_files()
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"logic modules import frameworks: {offenders}"


def test_structural_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The rule above is not vacuous: a service module importing sqlalchemy is caught."""
    bad = tmp_path / "service.py"
    bad.write_text("from sqlalchemy import select\nimport fastapi.routing\n", encoding="utf-8")
    assert _imports_of(bad) & set(FORBIDDEN_IN_LOGIC) == {"sqlalchemy", "fastapi"}


@pytest.mark.parametrize("name", ["utils.py", "helpers.py", "common.py"])
def test_no_grab_bag_module_names(name: str) -> None:
    assert not list(SRC.rglob(name)), f"name files for what they hold, not {name}"


def test_public_packages_declare_all() -> None:
    missing = [
        str(init.relative_to(SRC))
        for init in SRC.rglob("__init__.py")
        if "migrations" not in init.parts
        and not any(part.startswith("_") and part != "__init__.py" for part in init.relative_to(SRC).parts)
        and init.read_text(encoding="utf-8").strip()
        and "__all__" not in init.read_text(encoding="utf-8")
    ]
    assert not missing, f"public packages without __all__: {missing}"
