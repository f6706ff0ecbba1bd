"""The report's figures, one function per figure, each writing a PNG file (embedded in the HTML later).

Real data enters only as aggregates: histograms, level shares and association matrices of the holdout split
(the same real side the fidelity metrics use). Text from configs and data is drawn as plain text (no mathtext),
so a ``$`` in a generator name cannot break a figure.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from medsyn.evaluate.association import association_matrix  # noqa: E402
from medsyn.spec import DatasetSpec  # noqa: E402

# Sizes for a screen at DPI 80: 10 pt is about 11 px, the smallest text a figure should carry in the page.
plt.rcParams.update({"text.parse_math": False, "font.size": 10, "axes.titlesize": 11, "figure.dpi": 80})
DPI = 80  # small, sharp enough on screen; keeps a many-generator report well under 10 MB
COLORS = {"candidate": "#1f77b4", "baseline": "#7f7f7f", "reference": "#2ca02c"}
BASELINE_MARKERS = {"holdout": "*", "marginals": "s", "copula": "D", "bootstrap": "X"}
FAMILY_HEATMAPS = [
    ("fidelity_score", "fidelity score"),
    ("privacy_score", "privacy score"),
    ("utility_score", "utility (TSTR / TRTR)"),
    ("clinical.rules_agree_share", "clinical rules agree"),
    ("diversity.unique_row_share", "unique rows"),
]


def _save(fig, path) -> str:
    """Write the PNG to ``path`` (a file path, or a binary buffer the report embeds directly)."""
    if isinstance(path, (str, Path)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    # No "Software" metadata: the same inputs give byte-identical PNGs across matplotlib patch versions.
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return str(path)


def _free_offsets(ax, points: list[tuple[float, float]], label_px: tuple[float, float]) -> list[tuple[int, int]]:
    """An offset (points) per label that keeps it off the other labels and markers: candidates around each point
    are tried in order, in display space, nearest first; the least crowded one is kept."""
    to_px = ax.transData.transform
    dpi_scale = ax.figure.dpi / 72
    w, h = label_px
    markers = [to_px(p) for p in points]
    placed: list[tuple[float, float, float, float]] = []
    candidates = [(5, 4), (5, -12), (-5 - w / dpi_scale, 4), (-5 - w / dpi_scale, -12), (-w / 2 / dpi_scale, 8),
                  (-w / 2 / dpi_scale, -17), (12, -4), (-12 - w / dpi_scale, -4)]
    candidates += [(dx * 2, dy * 2) for dx, dy in candidates]
    out = []
    for (x, y) in markers:
        best, best_hits = candidates[0], None
        for dx, dy in candidates:
            box = (x + dx * dpi_scale, y + dy * dpi_scale, x + dx * dpi_scale + w, y + dy * dpi_scale + h)
            hits = sum(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in placed)
            hits += sum(box[0] - 4 < mx < box[2] + 4 and box[1] - 4 < my < box[3] + 4 for mx, my in markers)
            if best_hits is None or hits < best_hits:
                best, best_hits = (dx, dy), hits
            if hits == 0:
                break
        dx, dy = best
        placed.append((x + dx * dpi_scale, y + dy * dpi_scale, x + dx * dpi_scale + w, y + dy * dpi_scale + h))
        out.append((int(round(dx)), int(round(dy))))
    return out


def _zoomed_limits(values: pd.Series) -> tuple[float, float]:
    """Axis limits around the points (at least 0.2 wide, inside [-0.02, 1.05]): clustered generators spread out
    instead of sharing a corner of the unit square."""
    lo, hi = float(values.min()), float(values.max())
    pad = max(0.04, 0.08 * (hi - lo))
    lo, hi = lo - pad, hi + pad
    if hi - lo < 0.2:
        mid = (lo + hi) / 2
        lo, hi = mid - 0.1, mid + 0.1
    return max(lo, -0.02), min(hi, 1.05)


def privacy_fidelity_scatter(board: pd.DataFrame, path: str | Path) -> str:
    """Each generator group at (fidelity, privacy) with its seed intervals; the Pareto front joined by a line.
    Points carry numbers keyed in a list beside the plot, so twenty generators stay readable; the axes zoom to the
    points and each number is placed off the other numbers and markers."""
    fig, (ax, key) = plt.subplots(1, 2, figsize=(10, 5.4), gridspec_kw={"width_ratios": [1.7, 1]})
    numbered = [r for _, r in board.iterrows() if pd.notna(r["fidelity_score"]) and pd.notna(r["privacy_score"])]
    for r in numbered:
        marker = BASELINE_MARKERS.get(r["generator"], "o") if r["kind"] == "baseline" else "o"
        ax.errorbar(r["fidelity_score"], r["privacy_score"], xerr=_err(r, "fidelity_score"),
                    yerr=_err(r, "privacy_score"), fmt="none", ecolor="#cccccc", lw=0.8, zorder=1)
        ax.scatter(r["fidelity_score"], r["privacy_score"], s=170 if marker == "*" else 55, marker=marker,
                   zorder=3, color=COLORS[r["role"]], edgecolor="black" if r["pareto"] else "none", linewidth=1.2)
    front = board[board["pareto"]].sort_values("fidelity_score")
    if len(front):
        ax.plot(front["fidelity_score"], front["privacy_score"], "--", color="black", lw=0.9, zorder=2,
                label="Pareto front")
    ax.scatter([], [], color=COLORS["candidate"], label="LLM / imported generator")
    ax.scatter([], [], color=COLORS["baseline"], marker="s", label="baseline")
    ax.scatter([], [], color=COLORS["reference"], marker="*", s=120, label="holdout (real reference)")
    ax.set_xlabel("fidelity score (higher = closer to real holdout)")
    ax.set_ylabel("privacy score (higher = less leakage)")
    if numbered:
        frame = pd.DataFrame(numbered)
        ax.set_xlim(*_zoomed_limits(frame["fidelity_score"]))
        ax.set_ylim(*_zoomed_limits(frame["privacy_score"]))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9, framealpha=0.85)
    fig.tight_layout()
    points = [(r["fidelity_score"], r["privacy_score"]) for r in numbered]
    for i, (r, offset) in enumerate(zip(numbered, _free_offsets(ax, points, (16, 12))), 1):
        ax.annotate(str(i), (r["fidelity_score"], r["privacy_score"]), fontsize=10, fontweight="bold",
                    xytext=offset, textcoords="offset points", zorder=4,
                    arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.6} if abs(offset[0]) > 12
                    or abs(offset[1]) > 12 else None)
    key.axis("off")
    size = 9.5 if len(numbered) <= 18 else 8 if len(numbered) <= 26 else 6.5
    for i, r in enumerate(numbered, 1):
        key.text(0, 1 - i / max(len(numbered) + 1, 14), textwrap.shorten(f"{i}  {r['label']}", 48)
                 + ("  (Pareto)" if r["pareto"] else ""),
                 fontsize=size, transform=key.transAxes, va="center",
                 fontweight="bold" if r["pareto"] else "normal", color=COLORS[r["role"]])
    return _save(fig, path)


def _err(row, col: str):
    lo, hi = row.get(f"{col}.ci_low"), row.get(f"{col}.ci_high")
    if pd.isna(lo) or pd.isna(hi):
        return None
    lo, hi = max(lo, 0.0), min(hi, 1.0)  # scores live in [0, 1]; a few-seed t-interval can overshoot
    return [[max(row[col] - lo, 0)], [max(hi - row[col], 0)]]


def family_heatmaps(board: pd.DataFrame, path: str | Path) -> str | None:
    """Generator (x decoding) rows x prompt-type columns, one panel per metric family; candidates only."""
    cands = board[board["role"] == "candidate"].copy()
    if cands.empty:
        return None
    cands["row"] = [" · ".join([str(r["generator"]), str(r["mode"])]
                               + ([str(r["recipe"])] if str(r.get("recipe", "default")) != "default" else []))
                    for _, r in cands.iterrows()]
    rows = sorted(cands["row"].unique())
    prompts = sorted(cands["prompt"].astype(str).unique())
    panels = [(c, t) for c, t in FAMILY_HEATMAPS if c in cands.columns]
    fig, axes = plt.subplots(1, len(panels), figsize=(1.2 + len(panels) * (1.3 + 0.5 * len(prompts)),
                                                      1.6 + 0.4 * len(rows)), squeeze=False)
    for ax, (col, title) in zip(axes[0], panels):
        grid = cands.pivot_table(index="row", columns="prompt", values=col, aggfunc="mean")
        grid = grid.reindex(index=rows, columns=prompts)
        im = ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
            ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if not np.isnan(v) and v < 0.6 else "black")
        ax.set_title(textwrap.fill(title, 12 + 5 * len(prompts)), fontsize=10)
        ax.set_xticks(range(len(prompts)), prompts, rotation=90 if max(map(len, prompts)) > 3 else 0)
        ax.set_yticks(range(len(rows)), rows if ax is axes[0][0] else [""] * len(rows))
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    return _save(fig, path)


def column_distributions(spec: DatasetSpec, real: pd.DataFrame, runs: dict[str, pd.DataFrame],
                         path: str | Path) -> str:
    """Small multiples, one per column: real holdout vs each given synthetic table (numeric: density histograms on
    bins fixed from the real values; categorical: share of each level, plus any invented level)."""
    n = len(spec.columns)
    ncols = min(5, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 2.2 * nrows), squeeze=False)
    series = [("real holdout", real, "#2ca02c")] + [
        (name, frame, c) for (name, frame), c in zip(runs.items(), ["#1f77b4", "#d62728", "#ff7f0e"])]
    for ax, col in zip(axes.flat, spec.columns):
        ax.set_title(textwrap.shorten(col.name, 28), fontsize=10)
        ax.tick_params(labelsize=8)
        if col.is_numeric:
            values = pd.to_numeric(real[col.name], errors="coerce").dropna()
            lo, hi = (values.min(), values.max()) if len(values) else (0, 1)
            edges = np.linspace(lo, hi if hi > lo else lo + 1, 16)
            for name, frame, color in series:
                v = pd.to_numeric(frame[col.name], errors="coerce").dropna().clip(edges[0], edges[-1])
                if len(v):
                    ax.hist(v, bins=edges, density=True, histtype="step", color=color, lw=1.2, label=name)
        else:
            real_levels = list(col.levels)
            seen = set(real_levels)
            extra = sorted({str(x) for _, f, _ in series for x in f[col.name].dropna().astype(str)} - seen)
            levels = real_levels + extra
            width = 0.8 / len(series)
            for k, (name, frame, color) in enumerate(series):
                shares = frame[col.name].dropna().astype(str).value_counts(normalize=True)
                ax.bar(np.arange(len(levels)) + k * width, [shares.get(lv, 0.0) for lv in levels], width,
                       color=color, label=name)
            ax.set_xticks(np.arange(len(levels)) + 0.4 - width / 2, [str(lv)[:8] for lv in levels],
                          rotation=45, ha="right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(series), fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97 if nrows > 2 else 0.9))
    return _save(fig, path)


def association_difference(spec: DatasetSpec, real: pd.DataFrame, runs: dict[str, pd.DataFrame],
                           path: str | Path) -> str:
    """Synthetic minus real pairwise association (Spearman / correlation ratio / Cramér's V), one panel per run."""
    real_assoc = association_matrix(real, spec)
    fig, axes = plt.subplots(1, len(runs), figsize=(0.6 + 5.4 * len(runs), 5.2), squeeze=False)
    names = list(real_assoc.columns)
    for ax, (name, frame) in zip(axes[0], runs.items()):
        diff = (association_matrix(frame, spec) - real_assoc).reindex(index=names, columns=names)
        im = ax.imshow(diff.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(f"{textwrap.shorten(name, 40)}\nsynthetic − real association", fontsize=10)
        step = max(1, len(names) // 20)
        ticks = list(range(0, len(names), step))
        ax.set_xticks(ticks, [names[i][:12] for i in ticks], rotation=90, fontsize=8)
        ax.set_yticks(ticks, [names[i][:12] for i in ticks], fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    return _save(fig, path)


def utility_bars(board: pd.DataFrame, path: str | Path) -> str | None:
    """TSTR ROC AUC of each generator group with its interval, against the TRTR reference line."""
    col, ref = "utility.tstr_roc_auc", "utility.trtr_roc_auc"
    if col not in board.columns:
        return None
    rows = board[board[col].notna()]
    if rows.empty:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.3 * len(rows)))
    y = np.arange(len(rows))
    xerr = np.array([_err(r, col) or [[0], [0]] for _, r in rows.iterrows()])[:, :, 0].T
    ax.barh(y, rows[col], xerr=xerr, color=[COLORS[r] for r in rows["role"]], height=0.7)
    trtr = pd.to_numeric(board[ref], errors="coerce").dropna() if ref in board.columns else pd.Series([], dtype=float)
    if len(trtr):
        ax.axvline(trtr.mean(), color="black", ls="--", lw=1, label=f"TRTR (real train) {trtr.mean():.3f}")
        ax.legend(fontsize=9, loc="lower right")
    ax.axvline(0.5, color="#999999", lw=0.8, ls=":")
    ax.set_yticks(y, rows["label"], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("ROC AUC on real holdout (trained on synthetic = TSTR)")
    return _save(fig, path)


# train_size_curves: the generator groups' line styles; LLM groups get distinct colours, baselines greys
LLM_COLORS = ["#1f77b4", "#9467bd", "#d62728", "#17becf", "#e377c2", "#bcbd22", "#8c564b", "#393b79"]
CLASSICAL_STYLES = [("#555555", "s"), ("#8a8a8a", "D"), ("#333333", "^"), ("#a5a5a5", "v"), ("#6b6b6b", "P")]
PULL_STYLES = [("#ff7f0e", "h"), ("#e6a15c", "p"), ("#c46a00", "8")]


def _size_styles(groups: pd.DataFrame) -> dict[str, dict]:
    """Line style per generator group (rows: label, group_kind) of the train-size figure."""
    styles, counts = {}, {"classical": 0, "pull": 0, "llm": 0, "imported": 0}
    for label, kind in zip(groups["label"], groups["group_kind"]):
        i = counts.get(kind, 0)
        counts[kind] = i + 1
        if kind == "reference":
            styles[label] = {"color": COLORS["reference"], "marker": "", "ls": "--"}
        elif kind == "resampling":
            styles[label] = {"color": "#b07aa1", "marker": "X", "ls": ":"}
        elif kind == "classical":
            color, marker = CLASSICAL_STYLES[i % len(CLASSICAL_STYLES)]
            styles[label] = {"color": color, "marker": marker, "ls": ":"}
        elif kind == "pull":
            color, marker = PULL_STYLES[i % len(PULL_STYLES)]
            styles[label] = {"color": color, "marker": marker, "ls": "-."}
        else:
            styles[label] = {"color": LLM_COLORS[(counts["llm"] + counts["imported"] - 1) % len(LLM_COLORS)],
                             "marker": "o", "ls": "-"}
    return styles


def _points(ax, x, y, err, releasable, style, **kw) -> None:
    """One group's points: filled where every seed passes the privacy gate, hollow where not."""
    for xi, yi, ei, ok in zip(x, y, err, releasable):
        if pd.isna(yi):
            continue
        ax.errorbar(xi, yi, yerr=ei, fmt=style["marker"] or "none", color=style["color"], ms=5, capsize=2, lw=0.9,
                    mfc=style["color"] if ok else "white", mec=style["color"], zorder=3, **kw)


def train_size_curves(table: pd.DataFrame, sizes: list[str], ticks: list[str], path: str | Path) -> str:
    """Fidelity vs train size, one line per generator group (95% intervals as error bars; hollow markers where not
    every seed passes the privacy gate; the holdout reference dashed), and each LLM group's contribution over its
    recipe's pull (fidelity minus ``steered-<recipe>``) per size. ``table``: one dataset's rows of
    ``medsyn.report.train_sizes.size_table``; ``sizes`` in order, ``ticks`` their axis labels."""
    fig, (ax, delta) = plt.subplots(1, 2, figsize=(10.5, 4.0), gridspec_kw={"width_ratios": [1.7, 1]})
    groups = table.drop_duplicates("label")[["label", "group_kind"]]
    styles = _size_styles(groups)
    position = {n: i for i, n in enumerate(sizes)}
    spread = 0.25 / max(len(groups), 1)  # a small shift per group keeps overlapping intervals apart
    contributions, handles = False, []
    for k, (label, kind) in enumerate(zip(groups["label"], groups["group_kind"])):
        rows = table[table["label"] == label].copy()
        rows["_x"] = rows["train_rows"].astype(str).map(position)
        rows = rows.sort_values("_x")
        x = rows["_x"].to_numpy(dtype=float) + (k - len(groups) / 2) * spread
        y = rows["fidelity_score"].to_numpy(dtype=float)
        releasable = rows["releasable"].astype(str).str.lower().eq("true").to_numpy()
        style = styles[label]
        ax.plot(x, y, ls=style["ls"], color=style["color"], lw=1.1, zorder=2)
        handles.append(Line2D([], [], ls=style["ls"], color=style["color"], marker=style["marker"] or None, ms=5,
                              label=label))
        if kind != "reference":
            err = [_err(r, "fidelity_score") for _, r in rows.iterrows()]
            _points(ax, x, y, err, releasable, style)
        gain = rows["contribution"].to_numpy(dtype=float)
        if kind == "llm" and np.isfinite(gain).any():
            contributions = True
            delta.plot(x, gain, ls="-", color=style["color"], lw=1.1)
            _points(delta, x, gain, [None] * len(x), releasable, style)
    handles.append(Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="hollow: not every seed "
                                                                                       "passes the privacy gate"))
    for a in (ax, delta):
        a.set_xticks(range(len(sizes)), ticks)
        a.set_xlim(-0.5, len(sizes) - 0.5)
        a.set_xlabel("train size (rows the generator learnt from)")
        a.grid(alpha=0.3)
    ax.set_ylabel("fidelity score (mean over seeds, 95% interval)")
    ax.set_title("Fidelity by train size")
    delta.axhline(0, color="black", lw=0.9)
    delta.set_title("LLM contribution over its recipe's pull")
    delta.set_ylabel("fidelity − fidelity of steered-<recipe>")
    if not contributions:
        why = ("no LLM group with a steered-<recipe>\nbaseline at these sizes" if (groups["group_kind"] == "llm").any()
               else "no LLM table at these sizes")
        delta.text(0.5, 0.5, why, ha="center", va="center", transform=delta.transAxes, color="#777777")
        delta.set_yticks([])
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def generator_dataset_dots(table: pd.DataFrame, titles: dict[str, str], path) -> str:
    """The overview's figure: every generator group (rows) on every dataset (one panel each), fidelity with its 95%
    interval over seeds; filled where every seed passes the privacy gate, hollow where not; the real holdout as a
    dashed line. ``table``: ``train_sizes.size_table`` at one train size. ``path`` may be a file or a buffer."""
    groups = table[table["group_kind"] != "reference"].drop_duplicates("label")[["label", "group_kind"]]
    order = {"classical": 0, "resampling": 1, "pull": 2, "llm": 3, "imported": 4}
    groups = groups.assign(_k=groups["group_kind"].map(order).fillna(5)).sort_values(["_k", "label"],
                                                                                      ascending=[False, False])
    labels = list(groups["label"])
    styles = _size_styles(groups)
    datasets = list(titles)
    ncols = min(len(datasets), 4)
    nrows = -(-len(datasets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.0 + 2.6 * ncols, 0.6 + nrows * (0.8 + 0.32 * len(labels))),
                             sharey=True, squeeze=False)
    for ax in axes.flat[len(datasets):]:
        ax.axis("off")
    for ax, dataset in zip(axes.flat, datasets):
        rows = table[table["dataset"] == dataset]
        ref = rows[rows["group_kind"] == "reference"]
        if len(ref) and pd.notna(ref["fidelity_score"].iloc[0]):
            ax.axvline(ref["fidelity_score"].iloc[0], color=COLORS["reference"], ls="--", lw=1.2)
        for y, label in enumerate(labels):
            mine = rows[rows["label"] == label]
            if mine.empty or pd.isna(mine["fidelity_score"].iloc[0]):
                continue
            r = mine.iloc[0]
            ok = str(r["releasable"]).lower() == "true"
            style = styles[label]
            ax.errorbar(r["fidelity_score"], y, xerr=_err(r, "fidelity_score"), fmt=style["marker"] or "o",
                        color=style["color"], ms=7, capsize=2.5, lw=1.1, mfc=style["color"] if ok else "white",
                        mec=style["color"])
        ax.set_title(textwrap.fill(titles[dataset], 24), fontsize=11)
        ax.set_yticks(range(len(labels)), labels, fontsize=10)
        ax.set_ylim(-0.6, len(labels) - 0.4)
        ax.tick_params(axis="x", labelsize=9)
        ax.grid(alpha=0.3, axis="x")
        ax.set_xlabel("fidelity score", fontsize=10)
    fig.legend(handles=[Line2D([], [], ls="--", color=COLORS["reference"], label="real holdout (unseen patients)"),
                        Line2D([], [], ls="", marker="o", color="#444444", label="every seed releasable"),
                        Line2D([], [], ls="", marker="o", mfc="white", mec="#444444",
                               label="not every seed passes the privacy gate")],
               loc="lower center", ncol=3, fontsize=10, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return _save(fig, path)
