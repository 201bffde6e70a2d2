"""``python -m backyard``: the same as the ``backyard`` command."""

from .cli import main

main()
