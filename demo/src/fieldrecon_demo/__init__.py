"""Demo data: a landing folder of realistic, messy extracts and the findings they must produce.

    from fieldrecon_demo import generate
    manifest = generate(Path("landing"), seed=7, engineers=40, months=3)

or ``python -m fieldrecon_demo --landing DIR [--manifest PATH]``.
"""

from .generator import generate, write_manifest

__all__ = ["generate", "write_manifest"]
