"""Untrusted input: chat templates from GGUF files render in a sandbox, nothing untrusted is unpickled, and
data-derived text in the report is escaped."""

from __future__ import annotations

import re

import pytest

import medsyn.llm.chat_template as chat_template
from conftest import REPO
from medsyn.errors import ModelError
from medsyn.llm.chat_template import render_chat_template

CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]


def test_a_normal_chat_template_renders():
    out = render_chat_template(CHATML, MESSAGES, "", "")
    assert out == "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize("payload, blocked", [
    ("''.__class__.__mro__[1].__subclasses__()", "access to attribute '__class__' of 'str' object is unsafe"),
    ("cycler.__init__.__globals__.os", "access to attribute '__init__' of 'type' object is unsafe"),
    ("lipsum.__globals__['os'].popen('touch {marker}').read()", "attribute '__globals__' of 'function' object"),
    ("joiner.__init__.__globals__.__builtins__.open('{marker}', 'w')", "attribute '__init__' of 'type' object"),
    ("messages.__class__.__base__.__subclasses__()", "access to attribute '__class__' of 'list' object is unsafe"),
    ("cycler.__init__.__globals__.os.system('touch {marker}')", "attribute '__init__' of 'type' object is unsafe"),
    ("messages.append({{'role': 'system', 'content': 'injected'}})", "attribute 'append' of 'list' object"),
    ("'{{0.__class__.__mro__}}'.format('')", "access to attribute '__class__' of 'str' object is unsafe"),
])
def test_template_cannot_reach_python_internals(tmp_path, payload, blocked):
    marker = tmp_path / "pwned"
    template = "{{ " + payload.format(marker=marker) + " }}" + CHATML
    with pytest.raises(ModelError) as exc:
        render_chat_template(template, MESSAGES, "", "")
    assert str(exc.value).startswith("the model's chat template failed to render: SecurityError: ")
    assert blocked in str(exc.value)
    assert not marker.exists()  # never executed


@pytest.mark.parametrize("payload", ["raise_exception.__globals__", "strftime_now.__globals__",
                                     "''.format.__self__", "'{0.__class__}'.format('')"])
def test_unsafe_lookups_render_as_nothing(payload):
    """Attributes of Python internals are undefined inside the sandbox: they render empty, never their value."""
    assert render_chat_template("[{{ " + payload + " }}]", MESSAGES, "", "") == "[]"


@pytest.mark.parametrize("template, reason", [
    ("{{ 'a' * 10**10 }}", "SecurityError: repetition to 10,000,000,000 items exceeds 1,000,000"),
    ("{{ [0] * 10**9 }}", "SecurityError: repetition to 1,000,000,000 items"),
    ("{{ 10 ** 100000 }}", "SecurityError: power ** 100000 too large"),
    ("{% for i in range(10**9) %}x{% endfor %}", "OverflowError: Range too big"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}0123456789{% endfor %}{% endfor %}",
     "SecurityError: output longer than 1,000,000 characters"),
])
def test_template_cannot_exhaust_memory(template, reason):
    with pytest.raises(ModelError) as exc:
        render_chat_template(template, MESSAGES, "", "")
    assert reason in str(exc.value)


def test_template_looping_without_output_is_stopped(monkeypatch):
    monkeypatch.setattr(chat_template, "MAX_TEMPLATE_SECONDS", 1.0)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(ModelError, match=r"failed to render: TimeoutError: rendering took longer than 1s"):
        render_chat_template(loop, MESSAGES, "", "")


UNSAFE_LOADERS = re.compile(
    r"\bimport\s+(?:pickle|cPickle|dill|cloudpickle|marshal|shelve)\b|\bfrom\s+(?:pickle|dill|joblib)\s+import\b"
    r"|\bpickle\.loads?\(|\bjoblib\.load\(|\btorch\.load\(|allow_pickle\s*=\s*True|\byaml\.(?:unsafe_)?load\("
    r"|\byaml\.Loader\b|(?<![.\w])eval\(|(?<![.\w])exec\(|read_pickle\("
)


def test_no_unpickling_or_eval_of_untrusted_input():
    """Model files, imported runs, data and configs are read as text/JSON/YAML (safe_load), never unpickled."""
    offenders = []
    for folder in ("src", "scripts", "workflow"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix not in (".py", ".smk") and path.name != "Snakefile":
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), start=1):
                code = line.split("#")[0]
                if UNSAFE_LOADERS.search(code):
                    offenders.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert offenders == []


def test_the_loader_pattern_catches_what_it_should():
    for bad in ("import pickle", "pickle.load(fh)", "np.load(p, allow_pickle=True)", "yaml.load(fh)",
                "torch.load(path)", "pd.read_pickle(p)", "eval(text)"):
        assert UNSAFE_LOADERS.search(bad), bad
    for ok in ("yaml.safe_load(fh)", "json.load(fh)", "np.load(p)", "frame.eval(expr, engine='python')"):
        assert not UNSAFE_LOADERS.search(ok), ok


def test_report_escapes_data_derived_text(tmp_path, monkeypatch):
    """A spec whose level, description, column definition and rule text carry HTML: the report shows them as text.

    Renders the committed report fixture (tests/fixtures/report) through medsyn.report.render, with its spec
    edited to inject markup in every data-derived string the report prints from a spec.
    """
    import shutil

    import yaml

    import report_fixture

    fixture = tmp_path / "fixture"
    shutil.copytree(report_fixture.FIXTURE, fixture)
    spec = yaml.safe_load((fixture / "toy.yaml").read_text())
    smoking = next(c for c in spec["columns"] if c["name"] == "Smoking")
    assert "<script>alert(1)</script>" in smoking["levels"]  # the categorical level under test
    spec["description"] = "Invented rows <script>alert(2)</script> for tests."
    smoking["definition"] = "Smoking <img src=x onerror=alert(3)>"
    spec["rules"][0]["text"] = "Events become more common with age <iframe src=javascript:alert(4)>."
    (fixture / "toy.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    monkeypatch.setattr(report_fixture, "FIXTURE", fixture)
    workdir = tmp_path / "work"
    workdir.mkdir()
    html, _ = report_fixture.render_fixture(workdir)
    assert "<script>alert(1)</script>" not in html
    assert "<script" not in html.lower() and "<img src=x" not in html and "<iframe" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the level, shown escaped
    for injected in ("alert(2)", "alert(3)", "alert(4)"):  # wherever the report prints them, only escaped
        for at in [m.start() for m in re.finditer(re.escape(injected), html)]:
            assert "&lt;" in html[max(0, at - 40):at], html[max(0, at - 60):at + 20]
