"""Demo data: realistic teams, agents, contacts and cases, written fast into an empty database.

`seed_database` plans every case in memory and replays the case services' rules
(see story.py) so the timeline is exactly what the product would have written.
"""

from __future__ import annotations
