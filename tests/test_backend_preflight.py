"""Issue 23: no AMX path by default (decided in medsyn.llm.backend.choose_extra_buffer_types) and the backend
preflight (medsyn.llm.preflight), with real crashing children and the real SmolLM2 decode."""

from __future__ import annotations

import sys

import pytest

from conftest import repo_config
from medsyn.config import validate_config
from medsyn.errors import BackendError, ConfigError
from medsyn.llm.backend import LlamaBackend, build_has_amx, choose_extra_buffer_types
from medsyn.llm.preflight import PROMPT, check_backend

# llama_print_system_info() of two real builds: this project's CI machine (AMD EPYC, native build: no AMX) and the
# Sapphire Rapids VM of issue 23 (native build there: the AMX backend compiled in).
NO_AMX = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
          "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |")
WITH_AMX = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
            "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | "
            "OPENMP = 1 | REPACK = 1 |")

MODEL = "smollm2-135m-instruct"


def test_auto_turns_extra_buffer_types_off_only_when_the_build_has_amx():
    assert build_has_amx(WITH_AMX) and not build_has_amx(NO_AMX)
    assert not build_has_amx(NO_AMX.replace("REPACK = 1", "AMX_INT8 = 0"))
    use, why = choose_extra_buffer_types(WITH_AMX, "auto")
    assert use is False and "AMX_INT8 = 1" in why and "20824" in why
    use, why = choose_extra_buffer_types(NO_AMX, "auto")
    assert use is True and "REPACK" in why


def test_on_and_off_force_the_choice_whatever_the_build():
    for info in (WITH_AMX, NO_AMX):
        assert choose_extra_buffer_types(info, "on")[0] is True
        assert choose_extra_buffer_types(info, "off")[0] is False


def test_an_unknown_setting_names_the_config_key():
    with pytest.raises(ConfigError, match=r"llama_cpp\.extra_buffer_types is 'yes'"):
        choose_extra_buffer_types(NO_AMX, "yes")


def test_the_config_defaults_to_auto_and_rejects_other_values():
    assert validate_config(repo_config())["llama_cpp"] == {"extra_buffer_types": "auto", "kv_cache": "shared-q8_0"}
    bare = repo_config()
    bare["llama_cpp"] = {}  # the schema's defaults
    assert validate_config(bare)["llama_cpp"] == {"extra_buffer_types": "auto", "kv_cache": "shared-q8_0"}
    for key, value in (("extra_buffer_types", "maybe"), ("kv_cache", "q4_0")):
        bad = repo_config()
        bad["llama_cpp"] = {key: value}
        with pytest.raises(ConfigError, match=key):
            validate_config(bad)


def test_a_crashing_child_becomes_an_error_naming_the_signal_the_model_and_the_way_out():
    segfault = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    with pytest.raises(BackendError) as info:
        check_backend(MODEL, "unused.gguf", command=segfault)
    message = str(info.value)
    print(message)  # quoted in the closing note
    assert "crashed (SIGSEGV)" in message and f"model '{MODEL}'" in message
    assert "CPU AMX flags:" in message and "llama.cpp build: CPU :" in message
    assert "llama_cpp.extra_buffer_types" in message and "scripts/install.sh --rebuild" in message


def test_a_child_that_fails_or_hangs_is_an_error_too():
    with pytest.raises(BackendError, match=r"exited with status 3: boom"):
        check_backend(MODEL, "unused.gguf", command=[sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"])
    with pytest.raises(BackendError, match=r"took over 1 s: llama.cpp hangs"):
        check_backend(MODEL, "unused.gguf", command=[sys.executable, "-c", "import time; time.sleep(30)"], timeout=1)


def test_smollm2_decodes_the_reference_text_in_a_child(smollm2_path):
    expected = repo_config()["models"][MODEL]["preflight_text"]
    result = check_backend(MODEL, smollm2_path, expected=expected)
    assert result["text"] == expected and result["matches_reference"] is True
    assert result["prompt"] == PROMPT and result["min_logit_margin"] > 0.5
    assert isinstance(result["extra_buffer_types"], bool) and result["extra_buffer_types_reason"].startswith("auto")


def test_a_wrong_reference_text_is_an_error_quoting_both_texts(smollm2_path):
    with pytest.raises(BackendError) as info:
        check_backend(MODEL, smollm2_path, expected=" 9, 10, 11, 13, ")
    message = str(info.value)
    assert "' 9, 10, 11, 12, '" in message and "not the reference ' 9, 10, 11, 13, '" in message
    assert "computes wrong results" in message and f"models.{MODEL}.preflight_text" in message


def test_the_backend_loads_with_the_chosen_extra_buffer_types(smollm2_path):
    for setting, wanted in (("off", False), ("on", True)):
        backend = LlamaBackend(smollm2_path, n_ctx=256, n_threads=1, extra_buffer_types=setting)
        assert bool(backend.llm.model_params.use_extra_bufts) is wanted  # what llama.cpp was given
        info = backend.system_info()
        assert info["extra_buffer_types"] is wanted and info["extra_buffer_types_reason"].startswith(setting)
        # the same greedy text either way: REPACK changes speed, not results
        assert backend.greedy(PROMPT, 16)[0] == " 9, 10, 11, 12, "
