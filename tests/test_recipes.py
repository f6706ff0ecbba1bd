"""Generation recipes without a model: example selection, the novelty judge, outside draws, marginal steering,
and the recipe config (resolution, validation, the drawn baseline)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import generation_settings, repo_config, spec_path, switches
from medsyn.config import baseline_names, load_config, recipe_generation, runs
from medsyn.data import load_real
from medsyn.errors import ConfigError
from medsyn.recipes.examples import ExampleSource
from medsyn.recipes.novelty import NoveltyJudge
from medsyn.recipes.outside import OutsideDraws, without_model
from medsyn.recipes.rowtext import row_text, row_texts, text_frame
from medsyn.recipes.steering import MarginalSteering
from medsyn.settings import settings_from_config
from medsyn.spec import load_spec
from medsyn.split import split_train_holdout


@pytest.fixture(scope="module")
def pima():
    spec = load_spec(spec_path("pima"))
    train, holdout = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    return spec, train, holdout


def test_per_call_examples_differ_by_call_and_repeat_by_seed(pima):
    spec, train, _ = pima
    source = ExampleSource(switches("examples"), train, spec, n=3, run_seed=1)
    calls = [tuple(source.for_call(k).index) for k in range(6)]
    assert len(set(calls)) == 6  # every call its own rows
    plain = switches("examples")
    assert calls == [tuple(ExampleSource(plain, train, spec, 3, run_seed=1).for_call(k).index) for k in range(6)]
    assert calls != [tuple(ExampleSource(plain, train, spec, 3, run_seed=2).for_call(k).index) for k in range(6)]


def test_stratified_examples_follow_the_target_shares(pima):
    spec, train, _ = pima
    source = ExampleSource(switches("examples", stratify=True), train, spec, n=4, run_seed=1)
    positive = [int((source.for_call(k)[spec.target] == "1").sum()) for k in range(40)]
    share = (train[spec.target] == "1").mean()  # about 0.35: 4 x 0.35 = 1.4 -> 1 or 2 positives, never 0 or 4
    assert set(positive) <= {1, 2} and abs(np.mean(positive) / 4 - share) < 0.08


def test_residual_examples_come_from_the_region_generated_rows_miss(pima):
    """One column to pick (Outcome) and generated rows that are all Outcome 0: the worst-covered region is
    Outcome 1, so every residual draw shows positives only; with two columns, each call's rows share one bin."""
    spec, train, _ = pima
    generated = train[train[spec.target] == "0"].head(40)
    outcome_only = dataclasses.replace(spec, columns=(spec.column(spec.target),))
    source = ExampleSource(switches("examples", residual=True), train, outcome_only, n=3, run_seed=1)
    for call in range(5):
        assert set(source.for_call(call, generated)[spec.target]) == {"1"}
    # before any row is generated the draw is the plain random one
    plain = ExampleSource(switches("examples"), train, outcome_only, 3, 1)
    assert list(source.for_call(0, None).index) == list(plain.for_call(0).index)


def test_neighbor_examples_are_one_patient_and_its_nearest_train_rows(pima):
    """Each call's rows: some shown row (the anchor) has every other shown row at most as far as any row not
    shown (under the evaluation's distance); anchors differ by call, repeat by seed, and follow the class shares."""
    from medsyn.distance import encode

    spec, train, _ = pima
    encoded = encode(train, spec, train)
    source = ExampleSource(switches("examples", stratify=True, neighbors=True), train, spec, n=4, run_seed=1)
    calls, anchor_classes = [], []
    for call in range(40):
        shown = train.index.get_indexer(source.for_call(call).index)
        assert len(shown) == 4
        hidden = np.setdiff1d(np.arange(len(train)), shown)
        anchors = [a for a in shown if np.abs(encoded[shown] - encoded[a]).sum(axis=1).max()
                   <= np.abs(encoded[hidden] - encoded[a]).sum(axis=1).min() + 1e-6]
        assert anchors, f"call {call}: no shown row has the others as its nearest"
        calls.append(tuple(shown))
        anchor_classes.append(train[spec.target].iloc[anchors[0]])
    assert len(set(calls)) >= 34  # anchors drawn with replacement; mutual neighbours share a set
    near = switches("examples", stratify=True, neighbors=True)
    assert calls[:5] == [tuple(train.index.get_indexer(ExampleSource(near, train, spec, 4, 1)
                                                       .for_call(k).index)) for k in range(5)]
    assert calls[:5] != [tuple(train.index.get_indexer(ExampleSource(near, train, spec, 4, 2)
                                                       .for_call(k).index)) for k in range(5)]
    positive = np.mean([c == "1" for c in anchor_classes])
    assert abs(positive - (train[spec.target] == "1").mean()) < 0.2

    def spread(rows):  # mean distance between the shown rows
        return np.abs(encoded[rows][:, None] - encoded[rows][None]).sum(axis=2).mean()

    at_random = ExampleSource(switches("examples", stratify=True), train, spec, n=4, run_seed=1)
    random_calls = [train.index.get_indexer(at_random.for_call(k).index) for k in range(40)]
    assert np.mean([spread(list(c)) for c in calls]) < 0.5 * np.mean([spread(c) for c in random_calls])


def test_novelty_judge_names_each_reason(pima):
    spec, train, holdout = pima
    judge = NoveltyJudge(switches("novelty", reject=("earlier", "examples", "train", "near")), spec, train, holdout)
    first = row_text(train.iloc[0], spec)
    assert judge.reason(first) == "train"
    assert judge.reason(first, {first}) == "examples"  # the call's own examples are named first
    new = row_text(holdout.iloc[0], spec)
    judge.accept(new)
    assert judge.reason(new) == "earlier"
    assert judge.near_threshold is not None and judge.near_threshold >= 0
    # a train row with one value nudged is within the near-copy distance (unless the threshold is 0)
    near = train.iloc[[1]].copy()
    near["Glucose"] = near["Glucose"] + 1
    text = row_text(near.iloc[0], spec)
    assert judge.distance_to_train(text) < 0.01  # one column moved by 1 of its range
    frame = text_frame([row_text(train.iloc[2], spec)], spec)
    assert list(frame.columns) == spec.column_names


def test_novelty_distance_matches_the_privacy_metric(pima):
    from medsyn.distance import categorical_slice, encode, nearest

    spec, train, holdout = pima
    judge = NoveltyJudge(switches("novelty", reject=("near",)), spec, train, holdout)
    rows = holdout.head(20)
    expected = nearest(encode(rows, spec, train), encode(train, spec, train), k=1, group=categorical_slice(spec))[0]
    got = [judge.distance_to_train(row_text(r, spec)) for _, r in rows.iterrows()]
    assert np.allclose(got, expected[:, 0], atol=1e-5)


@pytest.mark.parametrize("dataset", ["pima", "cirrhosis"])
def test_whole_table_row_texts_and_one_row_encodings_match_the_per_row_paths(dataset):
    """The fast paths the recipes use (a table formatted per distinct value; one canonical row encoded without
    pandas) give exactly what the per-row formatting and the evaluation's ``encode`` give, missing values included."""
    from medsyn.distance import RowEncoder, encode

    spec = load_spec(spec_path(dataset))
    train, holdout = split_train_holdout(load_real(spec), spec, 0.3, seed=1)
    assert holdout.isna().any().any()  # both tables have missing values: their texts and coordinates are tested
    texts = row_texts(holdout, spec)
    assert texts == [row_text(r, spec) for _, r in holdout.iterrows()]
    encoder = RowEncoder(spec, train)
    expected = encode(text_frame(texts, spec), spec, train)
    got = np.stack([encoder.encode(t.split(",")) for t in texts])
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_copula_draws_keep_the_drawn_columns_dependence(pima):
    spec, train, _ = pima
    order = spec.in_order(["Glucose", "Outcome"])
    draws = OutsideDraws(switches("outside", method="copula", columns=2), order, train, fit_seed=1)
    stream = draws.prefixes(seed=5)
    prefixes = [next(stream) for _ in range(300)]
    assert all(p.count(",") == 2 and p.endswith(",") for p in prefixes)
    glucose = np.array([float(p.split(",")[0].replace("NA", "nan")) for p in prefixes])  # Glucose may be missing
    outcome = np.array([p.split(",")[1] == "1" for p in prefixes])
    glucose, outcome = glucose[~np.isnan(glucose)], outcome[~np.isnan(glucose)]
    assert glucose[outcome].mean() > glucose[~outcome].mean() + 15  # diabetics have higher glucose, as in train
    again = OutsideDraws(switches("outside", method="copula", columns=2), order, train, fit_seed=1).prefixes(seed=5)
    assert [next(again) for _ in range(300)] == prefixes


def test_outside_draws_need_model_columns(pima):
    spec, train, _ = pima
    with pytest.raises(ValueError, match="fewer|0 < columns"):
        OutsideDraws(switches("outside", method="marginal", columns=len(spec.columns)), spec, train, fit_seed=1)


def test_without_model_baseline_keeps_only_the_drawn_dependence(pima):
    spec, train, _ = pima
    order = spec.in_order(["Glucose", "Outcome"])
    frame = without_model(switches("outside", method="copula", columns=2), order, train, 400, np.random.default_rng(3))
    assert list(frame.columns) == order.column_names
    g = pd.to_numeric(frame["Glucose"])  # missing values are NaN, skipped by mean()
    assert g[frame["Outcome"] == "1"].mean() > g[frame["Outcome"] == "0"].mean() + 15
    bmi = pd.to_numeric(frame["BMI"])  # a model column: resampled independently of the drawn ones
    assert abs(bmi[frame["Outcome"] == "1"].mean() - bmi[frame["Outcome"] == "0"].mean()) < 2.5


def _pieces():
    """A toy vocabulary: single characters, and a few merged tokens like Qwen's ',Female'."""
    chars = list("0123456789.,\nNA") + ["NA", ",1", ",0", "1,", "0,"]
    return {c.encode(): i for i, c in enumerate(dict.fromkeys(chars))}


def test_steering_pulls_toward_the_train_marginal(pima):
    spec, train, _ = pima
    order = spec.in_order(["Outcome"])
    pieces = _pieces()
    steering = MarginalSteering(switches("steering", strength=2.0), order, train, pieces)
    assert steering.steer(b"") is None  # nothing generated yet: running = target, no bias
    for _ in range(30):  # the model wrote only Outcome 1
        steering.observe("1," + ",".join(["1"] * (len(order.columns) - 1)))
    ids, bias = steering.steer(b"")
    by_token = dict(zip(ids.tolist(), bias.tolist()))
    assert by_token[pieces[b"0"]] > 0 > by_token[pieces[b"1"]]  # pushes toward the under-produced level
    assert by_token[pieces[b"0,"]] > 0  # a token closing the field gets the same pull
    off = MarginalSteering(switches("steering", strength=0.0), order, train, pieces)
    off.observe("1," * (len(order.columns) - 1) + "1")
    assert off.steer(b"") is None


def test_a_token_closing_a_value_and_opening_the_next_level_is_steered_even_off_trains_support(pima):
    """Qwen writes ',1' as one token: it closes Age and decides Outcome. It is pulled toward the under-produced
    level wherever Age may close, also at an age no train row shows (there the field itself is decided: no other
    candidate), not only right after a train value."""
    spec, train, _ = pima
    order = spec.in_order([])  # the spec's order: Outcome last, after the numeric Age
    pieces = _pieces()
    steering = MarginalSteering(switches("steering", strength=2.0), order, train, pieces)
    assert order.columns[-1].name == "Outcome" and order.columns[-2].name == "Age"
    row = ",".join(["1"] * (len(order.columns) - 1))
    for _ in range(30):  # the model wrote only Outcome 1
        steering.observe(row + ",1")
    before_age = ",".join(["1"] * (len(order.columns) - 2)).encode() + b","
    assert not any(str(v).startswith("99") for v in train["Age"])
    for age in (b"99", b"3"):  # off train's support, and a prefix of train ages (31-39) that is not one itself
        ids, bias = steering.steer(before_age + age)
        by_token = dict(zip(ids.tolist(), bias.tolist()))
        assert by_token[pieces[b",0"]] > 0 > by_token[pieces[b",1"]]


def test_steering_stops_once_the_bin_is_decided(pima):
    spec, train, _ = pima
    order = spec.in_order(["Age"])
    steering = MarginalSteering(switches("steering", strength=2.0, bins=4), order, train, _pieces())
    for _ in range(20):
        steering.observe("22," + ",".join(["1"] * (len(order.columns) - 1)))
    assert steering.steer(b"") is not None  # the leading digit decides the age quartile
    assert steering.steer(b"22") is None  # 22 is decided: one bin holds every train age starting with 22


def test_a_columns_values_by_prefix_are_exactly_those_a_scan_finds(pima):
    """The bisected run of the sorted support (the hot path's lookup) is the scan's list, in the same order, for
    every prefix the decoder can hold: empty, one digit, a decided value, a value plus more, and none."""
    spec, train, _ = pima
    steering = MarginalSteering(switches("steering", strength=2.0), spec.in_order(["Age"]), train, _pieces())
    for column in steering.columns:
        for partial in ["", "1", "2", "22", "0.", "22.5", "9999", "N", "x"] + column.support[:5]:
            assert column.starting_with(partial) == [v for v in column.support if v.startswith(partial)]
    assert steering.columns[0].starting_with("2") and not steering.columns[0].starting_with("x")


def test_steering_with_train_values_only_rules_out_unseen_values_from_the_first_row(pima):
    """A value no train row shows is ruled out before the run has written it, past the decided bin, to the last
    digit; values train shows keep the plain pull (none yet: nothing generated)."""
    from medsyn.recipes.steering import UNSEEN_BIAS

    spec, train, _ = pima
    order = spec.in_order(["Age"])
    pieces = _pieces()
    ages = set(train["Age"].dropna().astype(int).astype(str))
    strict = MarginalSteering(switches("steering", strength=2.0, bins=4, train_values_only=True), order, train, pieces)
    ids, bias = strict.steer(b"")
    by_token = dict(zip(ids.tolist(), bias.tolist()))
    for digit in "0123456789":
        leads = any(a.startswith(digit) for a in ages)
        assert (by_token[pieces[digit.encode()]] == UNSEEN_BIAS) == (not leads), digit
    # 22 decides the quartile: the plain steering stops there, the support still rules out "22x" and "22,"
    # where train has no such age
    plain = MarginalSteering(switches("steering", strength=2.0, bins=4), order, train, pieces)
    assert plain.steer(b"22") is None
    ids, bias = strict.steer(b"22")
    by_token = dict(zip(ids.tolist(), bias.tolist()))
    for digit in "0123456789":
        assert (by_token[pieces[digit.encode()]] == UNSEEN_BIAS) == (f"22{digit}" not in ages)
    assert (by_token[pieces[b","]] == UNSEEN_BIAS) == ("22" not in ages)
    assert all(b in (0.0, UNSEEN_BIAS) for b in bias)  # decided: only the support acts, no pull


def test_conditional_steering_pulls_each_parent_bin_toward_trains_share_in_it(pima):
    """Outcome written first: Glucose's parent is Outcome. The model wrote Glucose 1xx for every row of both
    outcomes; the conditional pull on the leading "1" is then train's share of 1xx among that outcome's rows against
    the running share in that bin, so it differs by outcome (more negative where train has fewer 1xx glucoses),
    where the marginal pull is the same after either outcome."""
    import math

    from medsyn.recipes.steering import PSEUDO_ROWS

    spec, train, _ = pima
    order = spec.in_order(["Outcome", "Glucose"])
    pieces = _pieces()
    conditional = MarginalSteering(switches("steering", strength=2.0, conditional=True), order, train, pieces)
    marginal = MarginalSteering(switches("steering", strength=2.0), order, train, pieces)
    assert conditional.chain.parents[1] == 0
    rest = ",".join(["1"] * (len(order.columns) - 2))
    for outcome in ["0", "1"] * 15:
        for steering in (conditional, marginal):
            steering.observe(f"{outcome},150,{rest}")

    def pull(steering, row):
        ids, bias = steering.steer(row)
        return dict(zip(ids.tolist(), bias.tolist()))[pieces[b"1"]]

    from medsyn.recipes.rowtext import column_texts

    def share_1xx(values):  # over the value texts the steering counts (NA included)
        return float(np.mean([t.startswith("1") for t in column_texts(values, spec.column("Glucose"))]))

    for outcome in "01":
        t = share_1xx(train.loc[train["Outcome"] == outcome, "Glucose"])
        running = (15 + PSEUDO_ROWS * t) / (15 + PSEUDO_ROWS)
        assert pull(conditional, f"{outcome},".encode()) == pytest.approx(2.0 * (math.log(t) - math.log(running)),
                                                                           rel=1e-5)
    assert pull(conditional, b"0,") < pull(conditional, b"1,") < 0  # fewer 1xx among Outcome 0 in train
    assert pull(marginal, b"0,") == pull(marginal, b"1,") < 0
    t_all = share_1xx(train["Glucose"])
    assert pull(marginal, b"0,") == pytest.approx(
        2.0 * (math.log(t_all) - math.log((30 + PSEUDO_ROWS * t_all) / (30 + PSEUDO_ROWS))), rel=1e-5)


def test_the_steered_baseline_keeps_the_chains_pairs_that_marginals_lose(pima):
    """The conditional pull without the model: Age is drawn given Pregnancies' bin (its parent on train), so their
    correlation survives (the marginals baseline's is ~0); its values are train's, column by column."""
    from medsyn.baselines import make_baseline
    from medsyn.recipes.rowtext import value_texts
    from medsyn.recipes.steering_counts import Chain

    spec, train, holdout = pima
    chain = Chain(spec, value_texts(train, spec))
    assert spec.columns[chain.parents[spec.column_names.index("Age")]].name == "Pregnancies"
    recipe = generation_settings(steering=switches("steering", strength=4.0, conditional=True))
    steered = make_baseline("steered-r8", spec, train, holdout, 400, 1, recipe)
    independent = make_baseline("marginals", spec, train, holdout, 400, 1)
    corr = lambda frame: frame[["Pregnancies", "Age"]].astype(float).corr().iloc[0, 1]  # noqa: E731
    assert corr(train) > 0.4 and corr(steered) > 0.7 * corr(train) and abs(corr(independent)) < 0.15
    for name in spec.column_names:
        assert set(steered[name].dropna()) <= set(train[name].dropna())
    assert steered.equals(make_baseline("steered-r8", spec, train, holdout, 400, 1, recipe))


def test_the_pull_without_the_model_matches_each_marginal_closer_than_resampling(pima):
    """Marginal steering's pull on train's own marginals: level counts land within a row or two of train's shares
    (the pull fills what is short), where independent resampling scatters by sampling noise; columns independent."""
    from medsyn.recipes.steering import pull_without_model

    spec, train, _ = pima
    share = (train["Outcome"] == "1").mean()
    strong = switches("steering", strength=8.0)
    pulled = [pull_without_model(strong, spec, train, 100, np.random.default_rng(s)) for s in range(6)]
    resampled = [train["Outcome"].to_numpy()[np.random.default_rng(s).integers(len(train), size=100)] for s in range(6)]
    pulled_error = [abs((p["Outcome"] == "1").sum() - 100 * share) for p in pulled]
    resampled_error = [abs((r == "1").sum() - 100 * share) for r in resampled]
    assert max(pulled_error) <= 3 and np.mean(pulled_error) < np.mean(resampled_error)
    ages = pd.concat(pulled)[["Pregnancies", "Age"]].astype(float)
    assert abs(ages.corr().iloc[0, 1]) < 0.15  # no model, no chain: independent columns
    # strength 0: plain resampling
    off = pull_without_model(switches("steering", strength=0.0), spec, train, 100, np.random.default_rng(1))
    assert set(off["Outcome"]) <= {"0", "1"} and len(off) == 100


def test_recipes_resolve_over_the_base_and_cross_the_grid():
    raw = repo_config()
    # a base with every switch off (config.yaml turns the default recipe's on)
    raw["generation"].update(novelty={"reject": []}, steering={"strength": 0.0}, examples={})
    raw["generation"]["recipes"] = {"base": {}, "novel": {"novelty": {"reject": ["earlier"]}, "temperature": 0.5},
                                    "hybrid": {"outside": {"method": "copula", "columns": 2}},
                                    "chained": {"steering": {"strength": 2.0, "conditional": True}}}
    config = load_config(raw)
    novel = recipe_generation(config, "novel")
    assert novel["novelty"] == {"reject": ["earlier"], "max_retries": 8, "near_quantile": 0.05}
    assert novel["temperature"] == 0.5
    assert recipe_generation(config, "base")["novelty"]["reject"] == []
    assert {r.recipe for r in runs(config)} == {"base", "novel", "hybrid", "chained"}
    assert "drawn-hybrid" in baseline_names(config) and "drawn-novel" not in baseline_names(config)
    assert "steered-chained" in baseline_names(config) and not {"steered-hybrid", "drawn-chained"} & set(
        baseline_names(config))  # every steering recipe gets its pull without the model
    assert settings_from_config(recipe_generation(config, "chained"), "grammar", 1).steering.conditional
    settings = settings_from_config(novel, "grammar", 3)
    assert settings.novelty.reject == ("earlier",) and settings.uses_row_hooks and settings.seed == 3
    assert not settings_from_config(recipe_generation(config, "base"), "grammar", 1).uses_row_hooks


def test_the_default_recipe_is_the_ablations_r7_and_the_ladder_base_has_every_switch_off():
    """config.yaml's generation settings are recipes.yaml's r7-prefill (what docs/results.md's table measured), the
    ladder's base turns every switch off (examples in both places, as the measured rungs ran), and the variants
    config's r5-steering is the ladder's."""
    import yaml

    from conftest import REPO, merged_config

    def merged(*names):
        return load_config(merged_config(*[yaml.safe_load((REPO / "config" / "experiments" / n).read_text())
                                           for n in names]))

    keys = ("temperature", "top_p", "top_k", "min_p", "examples", "novelty", "outside", "steering", "column_order")
    default = load_config(repo_config())["generation"]
    ladder = merged("recipes.yaml")
    r7 = recipe_generation(ladder, "r7-prefill")
    assert {k: r7[k] for k in keys} == {k: default[k] for k in keys}
    base = {k: v for k, v in ladder["generation"].items() if k in keys}
    assert base["examples"] == {"per_call": False, "stratify": False, "residual": False, "neighbors": False,
                                "placement": "both"}
    assert not base["novelty"]["reject"] and base["steering"]["strength"] == 0 and base["outside"]["method"] == "none"
    variants = merged("recipes.yaml", "recipes-variants.yaml")
    assert recipe_generation(variants, "r5-steering") == recipe_generation(ladder, "r5-steering")
    assert recipe_generation(variants, "r7-prefill") == r7


def test_row_level_recipes_refuse_free_mode():
    raw = repo_config()
    raw["generation"]["modes"] = ["grammar", "free"]
    raw["generation"]["recipes"] = {"novel": {"steering": {"strength": 1.0}}}
    with pytest.raises(ConfigError, match=r"generation\.recipes\.novel.*free"):
        load_config(raw)


def test_unknown_recipe_key_is_named():
    raw = repo_config()
    raw["generation"]["recipes"] = {"x": {"novelty": {"rejects": ["earlier"]}}}
    with pytest.raises(ConfigError, match=r"generation\.recipes\.x\.novelty.*rejects"):
        load_config(raw)
