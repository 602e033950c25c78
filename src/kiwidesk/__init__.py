"""Kiwidesk: support operations for teams whose customers cannot afford a mistake."""
