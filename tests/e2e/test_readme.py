"""The README's scripting example runs as written (only the working directory is a temp one)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from cli_support import ROOT, run_cli


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [block] = [b for b in blocks if "README example" in b]
    return block


def test_readme_scripting_example_runs_on_the_embedded_default(tmp_path):
    url = f"sqlite:///{tmp_path / 'clientmgr.db'}"
    assert run_cli("migrate", url=url, cwd=tmp_path).returncode == 0
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Maria Silva now due on 2027-01-10" in done.stdout
    listed = run_cli("clients", "list", "-a", "1", url=url, cwd=tmp_path)
    assert "Maria Silva" in listed.stdout
    assert "10/01/2027" in listed.stdout
