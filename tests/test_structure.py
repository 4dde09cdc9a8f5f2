"""Structural rules of the codebase: every module imports alone, logic stays free of frameworks."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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
    "console",
    "registry",
)
FORBIDDEN_IN_LOGIC = ("fastapi", "starlette", "aiohttp", "httpx", "sqlalchemy", "uvicorn")


def _all_modules() -> list[str]:
    # __main__ runs the CLI when imported, by design; every other module must import silently.
    return sorted(m.name for m in pkgutil.walk_packages([str(SRC)], prefix="yakuba.") if m.name != "yakuba.__main__")


def _import_alone(name: str) -> str | None:
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return None
    lines = result.stderr.strip().splitlines() or ["(no message)"]
    return f"{name}: {lines[-1]}"


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    """A cycle or an import-time side effect shows up as a failure to import the module first, alone."""
    modules = _all_modules()
    assert "yakuba.config" in modules
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        failed = [msg for msg in pool.map(_import_alone, modules) if msg]
    assert not failed, "\n".join(failed)


def _modules_imported_by(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _imports_of(path: Path) -> set[str]:
    """The top-level packages PATH imports."""
    return {name.split(".")[0] for name in _modules_imported_by(path)}


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


def test_registry_logic_never_imports_the_orm() -> None:
    """In yakuba.registry only the store (and the migrations) touch SQLAlchemy or Alembic."""
    root = SRC / "registry"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.relative_to(root).parts[0] not in ("store", "migrations")
        and _imports_of(path) & {"sqlalchemy", "alembic"}
    ]
    assert offenders == []


def test_registry_service_does_not_reach_into_the_store() -> None:
    offenders = [
        str(path)
        for path in (SRC / "registry" / "service").rglob("*.py")
        if any(name.startswith("yakuba.registry.store") for name in _modules_imported_by(path))
    ]
    assert offenders == []


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


def test_every_error_code_names_one_error() -> None:
    """A code on the wire is turned back into its class by the client: two classes with one code would make
    the error a caller sees depend on which modules happened to be imported."""
    import importlib

    from yakuba.errors import YakubaError

    for name in _all_modules():
        if name.endswith((".errors", "._errors")):
            importlib.import_module(name)
    owners: dict[str, list[str]] = {}
    pending: list[type[YakubaError]] = [YakubaError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "code" in vars(cls):  # a class that inherits its parent's code is the same error on the wire
            owners.setdefault(cls.code, []).append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {code: classes for code, classes in owners.items() if len(classes) > 1}
    assert not shared, shared
