"""The privacy gate: verdicts from metrics records, the release folder, and the config section."""

import pytest

from conftest import repo_config
from medsyn.config import load_config
from medsyn.errors import ConfigError
from medsyn.gate import DEFAULTS, REAL_DATA, ReleaseError, build_release, gate_rows, read_gate_table, verdict
from medsyn.gate import write_gate_table


BOUNDED = ("dcr_closer_to_train_share_size_adjusted", "mia_auc")  # the gate checks their upper 95% bound


def record(kind="llm", generator="smollm2", n_rows=20, **metrics):
    """A metrics record; a DCR share or MIA AUC given without its bound gets an upper bound 0.04 above it."""
    base = {
        "privacy.exact_copy_train_share": 0.0,
        "privacy.exact_copy_examples_share": 0.0,
        "privacy.exact_copy_real_share": 0.0,
        "privacy.dcr_closer_to_train_share_size_adjusted": 0.52,
        "privacy.dcr_closer_to_train_share_size_adjusted_ci95_high": 0.56,
        "privacy.mia_auc": 0.51,
        "privacy.mia_auc_ci95_high": 0.55,
    }
    for key in BOUNDED:
        if key in metrics and f"{key}_ci95_high" not in metrics:
            metrics[f"{key}_ci95_high"] = round(metrics[key] + 0.04, 6)
    base.update({f"privacy.{k}": v for k, v in metrics.items()})
    return {"kind": kind, "dataset": "pima", "generator": generator, "prompt": "A", "mode": "grammar", "seed": 1,
            "n_rows": n_rows, "metrics": base}


def test_well_behaved_run_passes_with_defaults():
    assert verdict(record(), {}) == (True, [])


def test_bootstrap_copies_are_blocked_with_the_metric_and_threshold_named():
    ok, reasons = verdict(record("baseline", "bootstrap", exact_copy_train_share=1.0, mia_auc=0.93,
                                 dcr_closer_to_train_share_size_adjusted=1.0), {})
    assert not ok
    assert "privacy.exact_copy_train_share=1 > max_exact_copy_train_share 0.0" in reasons
    assert "privacy.mia_auc_ci95_high=0.97 > max_mia_auc 0.6 (estimate 0.93; upper 95% bound checked)" in reasons
    assert any("dcr_closer_to_train_share_size_adjusted_ci95_high=1.04 > max_dcr_closer_to_train_share 0.7" in r
               for r in reasons)


def test_dcr_share_and_mia_are_judged_on_their_upper_bound_copies_on_the_table_itself():
    # estimates under the thresholds, but the intervals of a small table reach over them: not certified
    ok, reasons = verdict(record(dcr_closer_to_train_share_size_adjusted=0.6,
                                 dcr_closer_to_train_share_size_adjusted_ci95_high=0.78,
                                 mia_auc=0.52, mia_auc_ci95_high=0.64), {})
    assert not ok and len(reasons) == 2
    assert reasons[0].startswith("privacy.dcr_closer_to_train_share_size_adjusted_ci95_high=0.78 > ")
    assert "(estimate 0.52; upper 95% bound checked)" in reasons[1]
    # the same estimates with tight intervals pass
    assert verdict(record(dcr_closer_to_train_share_size_adjusted=0.6, mia_auc=0.52), {})[0]
    # a copy share is a count of this table's rows: its own value decides, not an interval
    rec = record(exact_copy_train_share=0.0, exact_copy_train_share_ci95_high=0.2)
    assert verdict(rec, {})[0]
    # a metrics.json without the bound (older evaluation) cannot be certified
    rec = record()
    del rec["metrics"]["privacy.mia_auc_ci95_high"]
    ok, reasons = verdict(rec, {})
    assert not ok and reasons == ["privacy.mia_auc_ci95_high not measured (privacy family off, failed or no rows): "
                                  "cannot certify"]


def test_example_copies_block_an_import():
    ok, reasons = verdict(record("external", "paper-vicuna", exact_copy_examples_share=1.0), {})
    assert not ok and reasons == ["privacy.exact_copy_examples_share=1 > max_exact_copy_examples_share 0.0"]


def test_holdout_baseline_is_real_data_never_released():
    ok, reasons = verdict(record("baseline", "holdout"), {})
    assert not ok and reasons == [REAL_DATA]


def test_zero_rows_and_unmeasured_metrics_block():
    rec = record(n_rows=0)
    rec["metrics"] = {}
    rec["generation"] = {"status": "no_valid_rows"}
    ok, reasons = verdict(rec, {})
    assert not ok
    assert reasons[0] == "0 rows < min_rows 1 (status no_valid_rows)"
    assert "privacy.mia_auc_ci95_high not measured (privacy family off, failed or no rows): cannot certify" in reasons


def test_thresholds_are_configurable_and_null_disables_a_check():
    rec = record(mia_auc=0.62)  # upper bound 0.66
    assert not verdict(rec, {})[0]
    assert verdict(rec, {"max_mia_auc": 0.7})[0]
    assert verdict(rec, {"max_mia_auc": None})[0]
    assert not verdict(record(exact_copy_real_share=0.1), {"max_exact_copy_real_share": 0.05})[0]


def _rows(tmp_path, records):
    rows = []
    for i, rec in enumerate(records):
        folder = tmp_path / f"results/runs/r{i}"
        folder.mkdir(parents=True)
        (folder / "synthetic.csv").write_text("a,b\n1,2\n3,4\n")
        rows.append((f"results/runs/r{i}/metrics.json", rec))
    table = tmp_path / "gate.tsv"
    write_gate_table(gate_rows(rows, {}), table)
    return read_gate_table(table)


def test_release_copies_only_releasable_tables_with_a_manifest(tmp_path):
    rows = _rows(tmp_path, [record(), record("baseline", "bootstrap", exact_copy_train_share=1.0),
                            record("baseline", "holdout")])
    assert [r["releasable"] for r in rows] == ["True", "False", "False"]
    out = tmp_path / "results/release"
    manifest = build_release(rows, {}, out, root=tmp_path)
    assert [m["file"] for m in manifest] == ["runs/r0/synthetic.csv"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "GATE.txt", "manifest.tsv", "runs/r0/synthetic.csv"]
    assert (out / "manifest.tsv").read_text().splitlines()[1].startswith("runs/r0/synthetic.csv\t")
    assert manifest[0]["rows"] == 2


def test_release_fails_loudly_when_nothing_qualifies_and_leaves_no_folder(tmp_path):
    rows = _rows(tmp_path, [record("baseline", "bootstrap", exact_copy_train_share=1.0),
                            record(mia_auc=0.62), record("baseline", "holdout")])
    out = tmp_path / "results/release"
    with pytest.raises(ReleaseError) as exc:
        build_release(rows, {}, out, root=tmp_path)
    message = str(exc.value)
    assert "no synthetic table passes the privacy gate (3 evaluated)" in message
    assert "max_exact_copy_train_share=0.0" in message and "max_mia_auc=0.6" in message
    # the closest table comes first: the LLM run just over the MIA threshold, not the bootstrap
    assert message.index("llm pima/smollm2/A/grammar/seed1: privacy.mia_auc_ci95_high=0.66") < message.index("bootstrap")
    assert "holdout" not in message.split("Closest:")[1]
    assert not out.exists() and not list(tmp_path.glob("results/release*"))


def test_config_section_defaults_and_typo():
    cfg = load_config(repo_config())
    assert cfg["release_gate"] == DEFAULTS
    bad = repo_config()
    bad["release_gate"] = {"max_mia_acu": 0.6}
    with pytest.raises(ConfigError, match=r"config key 'release_gate'.*'max_mia_acu' was unexpected"):
        load_config(bad)
