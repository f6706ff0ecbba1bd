"""What a generation recipe cost and showed, read back from a run's call records (raw.jsonl) and generation.json:
the parse step adds it to the parse report. Beside generation, not in the parser: it counts the decoder's work
(rows the novelty judge sent back, tokens decoded and rolled back) and the train rows the prompts exposed."""

from __future__ import annotations

from collections import Counter

from medsyn.recipes.novelty import CHECKS


def generation_costs(calls: list[dict], exposed_train_rows: int | None, kept: int) -> dict:
    """What the generation recipe cost and showed: rows resampled at decode time (by reason), every token
    decoded (kept, rolled back, the call's own prompt part), distinct train patients shown in prompts."""
    resampled = Counter()
    for call in calls:
        resampled.update(call.get("rejected_rows") or {})
    decoded = sum(int(c.get("decoded_tokens", c.get("completion_tokens", 0))) for c in calls)
    seconds = sum(float(c.get("seconds", 0.0)) for c in calls)
    return {
        "resampled_rows": sum(resampled.values()),
        **{f"resampled_{reason}": resampled.get(reason, 0) for reason in CHECKS},
        "decoded_tokens": decoded,
        "decoded_tokens_per_valid_row": round(decoded / kept, 2) if kept else None,
        "seconds_per_valid_row": round(seconds / kept, 4) if kept else None,
        "exposed_train_rows": exposed_train_rows,
    }
