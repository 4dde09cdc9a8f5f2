"""yakuba (役場): open software for a city's systems that hold residents' personal data."""

from yakuba.errors import YakubaError

__all__ = ["YakubaError", "__version__"]

__version__ = "0.1.0"
