"""Django's manage.py for the baseline project, to look at a run's database afterwards.

bench/out/helpdesk-venv/bin/python bench/helpdesk/manage.py dbshell
(with HELPDESK_BENCH_WORKDIR set to the run's --workdir).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
