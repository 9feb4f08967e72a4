"""bd-vpt: Value Per Token for coding-agent fleets on beads."""

__version__ = "0.1.0"
