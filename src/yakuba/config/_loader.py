"""The one loader: TOML file -> frozen Deployment, or a ConfigError naming the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from yakuba.config._model import Deployment
from yakuba.errors import ConfigError

__all__ = ["CONFIG_FILE_NAME", "find_config", "load_deployment"]

CONFIG_FILE_NAME = "yakuba.toml"


def find_config(path: Path) -> Path:
    """The config file for PATH: the file itself, or yakuba.toml inside the folder."""
    candidate = path / CONFIG_FILE_NAME if path.is_dir() else path
    if not candidate.is_file():
        raise ConfigError(
            f"{candidate}: no such configuration file (create one with `yakuba init DIR`)",
            ja=f"{candidate}: 設定ファイルがありません（`yakuba init DIR` で作成できます）",
        )
    return candidate


def load_deployment(path: Path) -> Deployment:
    """Read and check a deployment; every error names the file and the key."""
    file = find_config(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}", ja=f"{file}: TOMLとして読めません: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}", ja=f"{file}: 読み込めません: {exc}") from exc
    if "root" in raw:
        raise ConfigError(f"{file}: root: unknown key", ja=f"{file}: root: 不明なキーです")
    try:
        return Deployment.model_validate({**raw, "root": file.parent.resolve()})
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        kind = first["type"]
        if kind == "extra_forbidden":
            what = "unknown key"
        elif kind == "missing":
            what = "missing key"
        else:
            what = first["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(
            f"{file}: {where}: {what}{more}", ja=f"{file}: {where}: 設定値に誤りがあります（{what}）{more}"
        ) from exc
