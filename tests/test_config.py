import pytest

from conftest import repo_config
from medsyn import paths
from medsyn.config import load_config, runs, validate_config
from medsyn.errors import ConfigError


def test_repo_config_is_valid_and_defaults_filled():
    cfg = load_config(repo_config())
    assert cfg["split"]["holdout_fraction"] == 0.25 and cfg["split"]["reference_fraction"] == 0.15
    assert cfg["parse"]["keep_example_copies"] is False
    assert cfg["models"]["smollm2-135m-instruct"]["n_gpu_layers"] == 0
    n = len(cfg["datasets"]) * len(cfg["prompts"]["types"]) * len(cfg["seeds"]) * len(cfg["generation"]["modes"])
    assert len(runs(cfg)) == n * len(cfg["generation"]["models"])


def test_default_config_runs_the_recipe_the_readme_names():
    """README "Generation recipes": untruncated sampling, fresh stratified examples shown once, novelty, steering;
    no outside draws (so every value of a default table is the model's own)."""
    gen = load_config(repo_config())["generation"]
    assert (gen["temperature"], gen["top_p"], gen["top_k"], gen["min_p"]) == (1.0, 1.0, 0, 0.0)
    assert gen["examples"]["per_call"] and gen["examples"]["stratify"] and gen["examples"]["placement"] == "prefill"
    assert set(gen["novelty"]["reject"]) == {"earlier", "examples", "train", "near"}
    assert gen["steering"]["strength"] > 0 and gen["outside"]["method"] == "none"


def test_typo_names_the_key():
    cfg = repo_config()
    cfg["generation"]["temprature"] = 0.5
    with pytest.raises(ConfigError, match=r"config key 'generation'.*'temprature' was unexpected"):
        load_config(cfg)


def test_bad_value_names_the_key():
    cfg = repo_config()
    cfg["generation"]["top_p"] = 3
    with pytest.raises(ConfigError, match=r"config key 'generation.top_p'"):
        load_config(cfg)



def test_bad_sha256_format():
    cfg = repo_config()
    cfg["models"]["smollm2-135m-instruct"]["sha256"] = "abc"
    with pytest.raises(ConfigError, match=r"models.smollm2-135m-instruct.sha256"):
        load_config(cfg)



def test_csv_override_reaches_dataset_options():
    cfg = repo_config()
    cfg["datasets"] = ["stroke"]
    cfg["dataset_options"] = {"stroke": {"csv": "data/stroke.csv"}}
    out = load_config(cfg)
    assert out["dataset_options"]["stroke"]["csv"] == "data/stroke.csv"
    assert out["dataset_options"]["stroke"]["spec"] == str(paths.shipped_spec("stroke"))  # a spec beats a draft


def test_validation_reads_no_files(tmp_path):
    """Validation is pure (issue 16): a paper_raw root that does not exist passes validate_config untouched and
    is reported by load_config, which resolves the files; spec paths are found only by load_config."""
    cfg = repo_config()
    cfg["paper_raw"] = {"root": str(tmp_path / "absent"), "datasets": cfg["datasets"][:1]}
    checked = validate_config(cfg)
    assert checked["external"] == {} and "spec" not in checked["dataset_options"].get(cfg["datasets"][0], {})
    with pytest.raises(ConfigError, match=r"config key 'paper_raw.root': .*absent is not a folder"):
        load_config(cfg)
    cfg.pop("paper_raw")
    assert load_config(cfg)["dataset_options"][cfg["datasets"][0]]["spec"].endswith(f"{cfg['datasets'][0]}.yaml")


def test_settings_have_no_defaults_of_their_own_and_refuse_unknown_keys():
    """The schema is the only place a default lives; a block that reaches the settings with a key they do not know
    (or without one they need) is an error naming it, never silently dropped."""
    import dataclasses

    from medsyn.config import schema_defaults
    from medsyn.errors import ConfigError
    from medsyn.settings import BLOCKS, GenerationSettings, settings_from_config

    for cls in (GenerationSettings, *BLOCKS.values()):
        assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   for f in dataclasses.fields(cls)), cls
    gen = schema_defaults()["generation"]
    assert settings_from_config(gen, "grammar", 1).steering.bins == 10  # the schema's default
    gen["steering"]["strenght"] = 2.0
    with pytest.raises(ConfigError, match=r"config key 'generation.steering': unknown keys \['strenght'\]"):
        settings_from_config(gen, "grammar", 1)
    gen = schema_defaults()["generation"]
    del gen["novelty"]["max_retries"]
    with pytest.raises(ConfigError, match=r"generation.novelty': missing keys \['max_retries'\]"):
        settings_from_config(gen, "grammar", 1)


def test_one_config_object_filled_in_place_and_recipes_override_only_what_they_name():
    from medsyn.config import load_config, recipe_generation

    raw = repo_config()
    raw["generation"]["recipes"] = {"base": {}, "strong": {"steering": {"strength": 8.0}}}
    assert load_config(raw) is raw  # Snakemake's config object itself, defaults filled
    assert raw["generation"]["recipes"]["strong"] == {"steering": {"strength": 8.0}}  # nothing filled into a recipe
    strong = recipe_generation(raw, "strong")
    assert strong["steering"] == {**raw["generation"]["steering"], "strength": 8.0}
    assert raw["split"] == {"holdout_fraction": 0.25, "reference_fraction": 0.15, "seed": 20250811,
                            "train_rows": ["all"]}
