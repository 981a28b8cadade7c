"""Models for the whip part of the tracker (see the issue that owns it)."""

__all__: list[str] = []
