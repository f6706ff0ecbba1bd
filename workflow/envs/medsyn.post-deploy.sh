#!/usr/bin/env bash
# Snakemake runs this once in the freshly created conda env (--sdm conda): install the medsyn package of this
# checkout, editable (later edits of src/ reach the env) and without dependencies (the env file pins them).
set -euo pipefail
checkout="$(cd "$(dirname "$0")/../.." && pwd)"
python -m pip install --no-deps --no-build-isolation -e "$checkout"
