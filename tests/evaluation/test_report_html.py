"""report.html is self-contained and renders with its images in headless Chromium (when installed)."""

from __future__ import annotations

import re
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from eval_helpers import cli, run_dirs, shifted_predictions

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _report(make_project, tmp_path, capsys) -> Path:
    project = make_project("summarization")
    code, _, err = cli(capsys, "eval", "run", "--predictions", shifted_predictions(project, tmp_path / "p.jsonl"),
                       cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    return run


def test_report_is_self_contained(make_project, tmp_path, capsys):
    run = _report(make_project, tmp_path, capsys)
    html = (run / "report.html").read_text()
    # nothing fetched from elsewhere: every image inline, no scripts, no external links or stylesheets
    srcs = re.findall(r"src='([^']*)'", html)
    assert len(srcs) == 2 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    md = (run / "report.md").read_text()
    for name in ("metrics.png", "lengths.png"):
        assert f"(plots/{name})" in md and (run / "plots" / name).stat().st_size > 1000


def test_report_renders_with_images_in_headless_chromium(make_project, tmp_path, capsys):
    if CHROMIUM is None:  # .ci/run installs it: in CI a missing browser is a failure, not a skip
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run should have installed Debian's package)")
        pytest.skip("chromium is not installed")
    run = _report(make_project, tmp_path, capsys)
    # a copy with a probe script: the title reports how many images decoded with a real size
    probe = ("<script>window.addEventListener('load',()=>{const im=[...document.images];"
             "document.title='IMAGES '+im.filter(i=>i.complete&&i.naturalWidth>100).length+'/'+im.length+"
             "' TABLES '+document.querySelectorAll('table').length;});</script>")
    page = tmp_path / "probe.html"
    page.write_text((run / "report.html").read_text().replace("</body>", probe + "</body>"))
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=5000"]
    res = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", res.stdout).group(1)
    assert title.startswith("IMAGES 2/2 TABLES "), title
    assert int(title.split()[-1]) >= 3
    shot = tmp_path / "shot.png"
    res = subprocess.run([*args, "--window-size=1200,2400", f"--screenshot={shot}", (run / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and shot.stat().st_size > 50_000  # a page of tables and plots, not a blank one
