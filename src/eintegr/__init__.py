"""eintegr — the regulated formats of Bulgarian e-government, built, validated, signed and sent.

The public API is exactly what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
