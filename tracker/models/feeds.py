"""Models for the feeds part of the tracker (see the issue that owns it)."""

__all__: list[str] = []
