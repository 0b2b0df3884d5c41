"""Bad input to `lifecycle new`: rejected with one clear line (or rendered literally), and nothing
written anywhere. Ctrl-C leaves nothing behind."""

from __future__ import annotations

import yaml

import pytest

from lifecycle.config.model import ModelConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.manifest import Manifest


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), err
    assert len(lines) <= 2 and all(line.startswith(("error: ", "hint: ")) for line in lines), err
    assert "Traceback" not in err
    return lines[0]


BAD_NAMES = ["../x", "../../x", "/tmp/abs-lifecycle-test", "a/b", "", "   ", "ñandú", "日本語", "{{ 7*7 }}",
             "{% raw %}x", "..", ".hidden", "-rf", "x" * 65]


@pytest.mark.parametrize("bad", BAD_NAMES)
@pytest.mark.parametrize("how", ["dir", "flag", "answers"])
def test_bad_names_are_rejected_and_nothing_is_written(new, tmp_path, bad, how):
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    if how == "dir":
        args = ["--no-input", "--", bad]
    elif how == "flag":
        args = ["--name", bad, "--no-input"]
    else:
        answers = tmp_path / "answers.yaml"
        answers.write_text(yaml.safe_dump({"name": bad, "use_case": "Summarise calls", "task": "summarization"}))
        args = ["--answers", answers]
    before = snapshot(tmp_path)
    code, out, err = new(*args, cwd=work)
    assert code != 0
    line = one_error(err)
    assert "name" in line or "DIR" in line
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "x").exists() and not (tmp_path / "a" / "x").exists()


@pytest.mark.parametrize("payload", [
    "{{ 7*7 }}",
    "{% for i in range(3) %}{{ i }}{% endfor %} loops",
    "{{ cookiecutter.name }} and {{ cookiecutter }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% raw %}{{ 7*7 }}{% endraw %}",
    "quotes ' \" colon: hash # and {braces}",
])
def test_jinja_in_free_text_is_rendered_literally(new, tmp_path, payload):
    code, out, err = new("demo", "--no-input", "--use-case", payload, "--model", "org/{{ 7*7 }}", cwd=tmp_path)
    assert code == 0, err
    root = tmp_path / "demo"
    assert load_config(root / "lifecycle.yaml", Manifest).scope.use_case == payload
    assert load_config(root / "configs" / "model.yaml", ModelConfig).model == "org/{{ 7*7 }}"
    assert yaml.safe_load((root / ".lifecycle" / "template.yaml").read_text())["answers"]["use_case"] == payload
    assert payload in (root / "README.md").read_text(encoding="utf-8")
    assert "49" not in (root / "lifecycle.yaml").read_text() and "49" not in (root / "configs" / "model.yaml").read_text()


def test_bad_answers_all_reported_at_once(new, tmp_path):
    before = snapshot(tmp_path)
    code, out, err = new("demo", "--task", "summarisation", "--metric", "acc", "--gpu-memory", "lots",
                         "--use-case", "x", cwd=tmp_path)
    assert code != 0
    assert "--task" in err and "--gpu-memory" in err and "--use-case" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("flag,bad,meant", [("--task", "summarisation", "summarization"),
                                            ("--task", "question-answering", "question_answering"),
                                            ("--device", "gpus", "gpu"), ("--sensitivity", "publik", "public"),
                                            ("--adaptation", "pef", "peft")])
def test_misspelt_choice_did_you_mean(new, tmp_path, flag, bad, meant):
    code, out, err = new("demo", "--no-input", flag, bad, cwd=tmp_path)
    assert code == 1
    line = one_error(err)
    assert line.startswith(f"error: {flag}: unknown ") and f"'{bad}'; did you mean '{meant}'" in line
    assert snapshot(tmp_path) == []


def test_misspelt_task_in_answers_file_is_located(new, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("name: demo\nuse_case: Summarise calls\ntask: summarisation\n", encoding="utf-8")
    code, out, err = new("--answers", answers, cwd=tmp_path)
    assert code == 1
    assert "answers.yaml:3: task: unknown task 'summarisation'; did you mean 'summarization'" in one_error(err)
    assert snapshot(tmp_path) == ["answers.yaml"]


def test_unknown_metric_did_you_mean(new, tmp_path):
    code, out, err = new("demo", "--no-input", "--metric", "rouge_l", cwd=tmp_path)
    assert code != 0
    assert "did you mean 'rougeL'" in one_error(err)
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize("text,line,what", [
    ("name: demo\ntask: [summarization\n", 3, "YAML syntax error"),
    ("name: demo\ntaks: summarization\nuse_case: Summarise calls\n", 2, "did you mean 'task'"),
    ("name: demo\ntask: summarization\nuse_case: Summarise calls\ntarget: high\n", 4, "target"),
    ("name: demo\ntask: summarization\nname: other\n", 3, "duplicate key"),
    ("name: demo\ntask: !!python/object/apply:os.system ['touch PWNED']\n", 2, "python/object"),
    ("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", 1, "aliases"),
])
def test_bad_answers_files(new, tmp_path, text, line, what):
    answers = tmp_path / "answers.yaml"
    answers.write_text(text, encoding="utf-8")
    (tmp_path / "work").mkdir()
    code, out, err = new("--answers", answers, "--no-input", cwd=tmp_path / "work")
    assert code != 0
    first = err.splitlines()[0]
    assert f"answers.yaml:{line}" in first and what in first, err
    assert "Traceback" not in err
    assert snapshot(tmp_path / "work") == []
    assert not (tmp_path / "work" / "PWNED").exists() and not (tmp_path / "PWNED").exists()


def test_existing_non_empty_target_is_refused(new, tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    code, out, err = new("demo", "--no-input", cwd=tmp_path)
    assert code != 0
    assert "not empty" in one_error(err) and "--force" in err
    assert snapshot(tmp_path) == ["demo", "demo/notes.txt"]


def test_force_keeps_every_existing_file_and_lists_them_first(new, tmp_path):
    root = tmp_path / "demo"
    (root / "data").mkdir(parents=True)
    (root / "notes.txt").write_text("mine")
    (root / "data" / "real.jsonl").write_text("{}\n")
    (root / "README.md").write_text("my old readme")
    outside = tmp_path / "outside.md"
    outside.write_text("do not touch")
    (root / "configs").mkdir()
    (root / "configs" / "model.yaml").symlink_to(outside)
    code, out, err = new("demo", "--no-input", "--force", cwd=tmp_path)
    assert code == 0, err
    listing = out.split("Created")[0]
    assert "keeping 2 existing file(s)" in listing and "README.md" in listing and "configs/model.yaml" in listing
    assert (root / "notes.txt").read_text() == "mine" and (root / "data" / "real.jsonl").read_text() == "{}\n"
    assert (root / "README.md").read_text() == "my old readme"
    assert outside.read_text() == "do not touch" and (root / "configs" / "model.yaml").is_symlink()
    assert (root / "lifecycle.yaml").is_file() and (root / "configs" / "prompt.yaml").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo.")]  # no staging left


def test_new_never_rewrites_an_existing_project(new, tmp_path):
    """`new --force` over an edited project used to reset its README, configs and data at once."""
    code, out, err = new("demo", "--no-input", cwd=tmp_path)
    assert code == 0, err
    root = tmp_path / "demo"
    (root / "README.md").write_text("our notes\n")
    (root / "data" / "sample.jsonl").write_text('{"id": "1", "dialogue": "ours", "summary": "ours"}\n')
    before = snapshot(tmp_path)
    contents = {p: (tmp_path / p).read_bytes() for p in before if (tmp_path / p).is_file()}
    for flags in ((), ("--force",)):
        code, out, err = new("demo", "--no-input", *flags, cwd=tmp_path)
        assert code != 0 and "already a lifecycle project" in one_error(err) and "lifecycle upgrade" in err
    assert snapshot(tmp_path) == before
    assert all((tmp_path / p).read_bytes() == data for p, data in contents.items())


def test_a_new_killed_mid_render_leaves_a_staging_folder_the_next_new_removes(tmp_path):
    """SIGKILL between rendering and moving into place: the next `new` cleans up (and succeeds)."""
    import signal
    import subprocess
    import sys

    code = ("import sys, time\n"
            "from lifecycle.scaffold import render\n"
            "real = render.check_rendered\n"
            "def pause(project):\n"
            "    real(project); print('rendered', flush=True); time.sleep(60)\n"
            "render.check_rendered = pause\n"
            "from lifecycle.cli.main import run\n"
            "run(['new', 'demo', '--no-input'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "rendered"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = [p.name for p in tmp_path.iterdir()]
    assert not (tmp_path / "demo").exists() and any(n.startswith(".demo.lifecycle-new-") for n in left)
    done = subprocess.run([sys.executable, "-m", "lifecycle", "new", "demo", "--no-input"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_force_refuses_a_file_where_the_template_needs_a_folder(new, tmp_path):
    root = tmp_path / "demo"
    root.mkdir()
    (root / "configs").write_text("a file")
    code, out, err = new("demo", "--no-input", "--force", cwd=tmp_path)
    assert code != 0 and "configs" in one_error(err)
    assert snapshot(tmp_path) == ["demo", "demo/configs"]


def test_no_tty_never_prompts_and_lists_missing_answers(new_subprocess, tmp_path):
    proc = new_subprocess(cwd=tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "missing answers: name, use_case, task" in proc.stderr and "--no-input" in proc.stderr
    proc = new_subprocess("demo", "--task", "chat", cwd=tmp_path, timeout=60)
    assert proc.returncode != 0 and "missing answers: use_case" in proc.stderr
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize("where", ["_generate", "check_rendered", "_move_into_place"])
def test_ctrl_c_while_rendering_leaves_nothing(new, tmp_path, monkeypatch, where):
    from lifecycle.scaffold import render

    real = getattr(render, where)

    def interrupted(*args, **kwargs):
        real(*args, **kwargs) if where != "_move_into_place" else None
        raise KeyboardInterrupt

    monkeypatch.setattr(render, where, interrupted)
    code, out, err = new("demo", "--no-input", cwd=tmp_path)
    assert code == 130, (out, err)  # typer turns KeyboardInterrupt into a silent Exit(130)
    assert snapshot(tmp_path) == []


def test_model_id_typo_did_you_mean(new, tmp_path):
    code, out, err = new("demo", "--no-input", "--model", "google/flan-t5-bse", cwd=tmp_path)
    assert code != 0
    assert "did you mean 'google/flan-t5-base'" in one_error(err)
    assert snapshot(tmp_path) == []


def test_model_outside_the_catalog_is_allowed_with_a_note(new, tmp_path):
    code, out, err = new("demo", "--no-input", "--model", "my-org/support-model-v3", cwd=tmp_path)
    assert code == 0, err
    assert "nor in the built-in catalog" in err
    assert load_config(tmp_path / "demo" / "configs" / "model.yaml", ModelConfig).model == "my-org/support-model-v3"
    assert load_config(tmp_path / "demo" / "lifecycle.yaml", Manifest).selection.model == "my-org/support-model-v3"


def test_a_failing_write_is_one_line_and_leaves_nothing(new, tmp_path, monkeypatch):
    """Disk full / permission denied while moving into place (simulated: tests often run as root)."""
    import errno

    from lifecycle.scaffold import render

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(render.os, "rename", refuse)
    code, out, err = new("demo", "--no-input", cwd=tmp_path)
    assert code != 0 and "could not write the project (Permission denied)" in one_error(err)
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize("folder", ["{{ 7*7 }}", "a{#b", "{% if 1 %}x{% endif %}"])
def test_parent_folder_with_jinja_is_refused_not_evaluated(new, tmp_path, folder):
    """cookiecutter renders absolute sub-folder paths as templates: `{{ 7*7 }}/` would become `49/`."""
    (tmp_path / folder).mkdir()
    code, out, err = new("demo", "--no-input", "-o", folder, cwd=tmp_path)
    assert code != 0 and "cannot be used" in one_error(err)
    assert snapshot(tmp_path) == [folder]
    code, out, err = new("demo", "--no-input", cwd=tmp_path / folder)
    assert code != 0 and snapshot(tmp_path) == [folder]


def test_force_never_writes_through_a_symlinked_folder(new, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "demo"
    root.mkdir()
    (root / "configs").symlink_to(outside, target_is_directory=True)
    code, out, err = new("demo", "--no-input", "--force", cwd=tmp_path)
    assert code != 0 and "symlink" in one_error(err)
    assert list(outside.iterdir()) == [] and snapshot(root) == ["configs"]
