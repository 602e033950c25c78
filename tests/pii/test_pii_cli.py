from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from kiwidesk.cli import main


def test_pii_scan_prints_findings_of_standard_input_as_json(monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("Grüße! Mail jane@example.com or call +44 20 7946 0958")
    )

    status = main(["pii", "scan"])

    assert status == 0
    assert json.loads(capsys.readouterr().out) == [
        {"type": "email", "start": 12, "end": 28},
        {"type": "phone", "start": 37, "end": 53},
    ]


def test_pii_scan_of_text_without_personal_data_prints_an_empty_list(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Thanks, the export works again."))

    main(["pii", "scan"])

    assert json.loads(capsys.readouterr().out) == []


def test_pii_scan_runs_as_a_command(tmp_path):
    environment = {**os.environ, "KIWIDESK_DATA_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "kiwidesk.cli", "pii", "scan"],
        input=b"SSN 536-90-4399",
        capture_output=True,
        env=environment,
        check=False,
        timeout=60,
    )

    assert (result.returncode, json.loads(result.stdout)) == (
        0,
        [{"type": "us_ssn", "start": 4, "end": 15}],
    )
