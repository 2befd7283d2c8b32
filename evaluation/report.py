"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no requests),
so it can be mailed, archived with a CI run or opened offline. All user text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from evaluation.metrics import KIND_METRICS, RATE_METRICS, Pair
from evaluation.scoring import failure_reasons, scored_as

HEADLINE = ("correct", "refusal_rate", "followup_correct", "hit@3", "mrr")

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d2430;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.muted{color:#5b6675}.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid #d8dee6;border-radius:8px;padding:.6rem .9rem;min-width:8.5rem}
.card b{display:block;font-size:1.5rem}.card span{color:#5b6675;font-size:.85rem}
.gate{padding:.6rem .9rem;border-radius:8px;font-weight:600}
.pass{background:#e4f5e9;color:#145a2c}.fail{background:#fde8e8;color:#8a1c1c}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0}svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d8dee6;padding:.4rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f5f8}td ul{margin:0;padding-left:1.1rem}
.why{color:#8a1c1c}.ok{color:#145a2c}code{font-size:.85em}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"
    return str(value)


def bar_chart(summary: Mapping[str, Any]) -> str:
    """Horizontal bars for every rate (0-1); undefined rates are labelled n/a, not drawn."""
    row, label_w, bar_w = 26, 190, 300
    height = row * len(RATE_METRICS) + 24
    parts = [
        f'<svg id="metrics-chart" role="img" aria-label="metrics" width="{label_w + bar_w + 70}"'
        f' height="{height}" viewBox="0 0 {label_w + bar_w + 70} {height}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>Metrics (0 to 1)</title>'
    ]
    for i, name in enumerate(RATE_METRICS):
        y = 8 + i * row
        value = summary.get(name)
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{escape(name)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="16" fill="#eef1f5"/>'
        )
        if value is not None:
            color = "#2f7d4a" if value >= 0.9 else "#c98a12" if value >= 0.6 else "#b83232"
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * value:.1f}" height="16"'
                f' fill="{color}"/>'
            )
        parts.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 15}" font-size="13">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], bins: int = 10) -> str:
    """Latency histogram: equal-width bins between the fastest and slowest question."""
    width, height, pad = 420, 200, 30
    head = (
        f'<svg id="latency-chart" role="img" aria-label="latency histogram" width="{width}"'
        f' height="{height + pad}" viewBox="0 0 {width} {height + pad}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>Latency (ms)</title>'
    )
    if not values:
        return head + '<text x="10" y="40" font-size="13">no latencies</text></svg>'
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    top = max(counts)
    plot_w, plot_h = width - 2 * pad, height - pad
    step = plot_w / bins
    parts = [head]
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x, y = pad + i * step, pad / 2 + plot_h - h
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{step - 2:.1f}" height="{h:.1f}"'
            f' fill="#3b6fb6"><title>{count} question(s)</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y - 3:.1f}" font-size="11"'
                f' text-anchor="middle">{count}</text>'
            )
    base = pad / 2 + plot_h
    parts.append(
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#5b6675"/>'
        f'<text x="{pad}" y="{base + 16}" font-size="12">{low:.1f} ms</text>'
        f'<text x="{width - pad}" y="{base + 16}" font-size="12" text-anchor="end">'
        f"{high:.1f} ms</text></svg>"
    )
    return "".join(parts)


def _items(values: Sequence[str]) -> str:
    if not values:
        return '<span class="muted">–</span>'
    return "<ul>" + "".join(f"<li>{escape(v)}</li>" for v in values) + "</ul>"


def _question_cell(pair: Pair) -> str:
    q, _ = pair
    earlier = "".join(f"<li>{escape(t)}</li>" for t in q.history)
    history = f'<div class="muted">after:<ul>{earlier}</ul></div>' if q.history else ""
    return f"{history}{escape(q.question)}"


def _answer_cell(pair: Pair) -> str:
    """Status and answer, with the refusal's reason muted under it."""
    _, a = pair
    reason = f'<div class="muted">{escape(a.reason)}</div>' if a.reason else ""
    return f"<b>{escape(a.status)}</b>: {escape(a.answer)}{reason}"


def _cited(pair: Pair) -> str:
    _, a = pair
    return _items([f"[{c.n}] {c.source}:{c.start}-{c.end} — {c.text}" for c in a.citations])


def failure_table(pairs: Sequence[Pair]) -> str:
    """Every scored question judged wrong: what was expected next to what was given."""
    failed = [(p, failure_reasons(*p)) for p in pairs]
    failed = [(p, why) for p, why in failed if why]
    if not failed:
        return '<p id="no-failures" class="ok">No failed questions.</p>'
    rows = []
    for pair, why in failed:
        q = pair[0]
        expected = [" | ".join(g) for g in q.must_include] if scored_as(q) == "answerable" else []
        rows.append(
            f"<tr><td><code>{escape(q.id)}</code></td><td>{_question_cell(pair)}</td>"
            f"<td>{'not_found, no sources' if scored_as(q) == 'unanswerable' else _items(expected)}"
            f"</td><td>{_items(q.gold)}</td>"
            f"<td>{_answer_cell(pair)}</td><td>{_cited(pair)}</td>"
            f'<td class="why">{_items(why)}</td></tr>'
        )
    return (
        '<table id="failures"><thead><tr><th>id</th><th>question</th><th>expected words</th>'
        "<th>gold evidence</th><th>answer</th><th>cited</th><th>why it failed</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def all_questions(pairs: Sequence[Pair]) -> str:
    rows = []
    for pair in pairs:
        q, a = pair
        scoring = scored_as(q)
        verdict = "–" if scoring == "unscored" else ("wrong" if failure_reasons(*pair) else "ok")
        rows.append(
            f"<tr><td><code>{escape(q.id)}</code></td><td>{_question_cell(pair)}</td>"
            f"<td>{escape(q.kind or scoring)}</td><td>{verdict}</td><td>{_answer_cell(pair)}"
            f"</td><td>{_cited(pair)}</td><td>{a.latency_ms:.1f}</td></tr>"
        )
    return (
        f"<details><summary>All {len(pairs)} questions</summary><table><thead><tr><th>id</th>"
        "<th>question</th><th>kind</th><th>verdict</th><th>answer</th><th>cited</th>"
        f"<th>ms</th></tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def kind_table(summary: Mapping[str, Any], by: str = "kind") -> str:
    """Metrics per question kind, or per ``language`` (empty when the set has none)."""
    kinds: Mapping[str, Mapping[str, Any]] = summary.get(f"by_{by}") or {}
    if not kinds:
        return ""
    head = "".join(f"<th>{escape(m)}</th>" for m in (by, "n", *KIND_METRICS))
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{values.get('n', 0)}</td>"
        + "".join(f"<td>{_fmt(values.get(m))}</td>" for m in KIND_METRICS)
        + "</tr>"
        for kind, values in kinds.items()
    )
    return (
        f'<h2>By {by}</h2><table id="by-{by}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def render_report(
    pairs: Sequence[Pair],
    summary: Mapping[str, Any],
    *,
    title: str,
    problems: Sequence[str] = (),
    gate: Sequence[str] | None = None,
) -> str:
    """The whole page. ``gate``: None when no thresholds were given, else the misses."""
    cards = "".join(
        f'<div class="card"><b>{_fmt(summary.get(name))}</b><span>{escape(name)}</span></div>'
        for name in (*HEADLINE, "latency_p50_ms", "latency_p95_ms")
    )
    counts = ", ".join(
        f"{summary.get(k, 0)} {label}"
        for k, label in (
            ("n_questions", "questions"),
            ("n_answerable", "answerable"),
            ("n_unanswerable", "unanswerable"),
            ("n_followups", "follow-ups"),
            ("n_unscored", "unscored"),
            ("n_errors", "errors"),
            ("n_skipped", "skipped lines"),
        )
    )
    gate_html = ""
    if gate is not None:
        gate_html = (
            f'<p class="gate fail">Gate failed: {escape("; ".join(gate))}</p>'
            if gate
            else '<p class="gate pass">Gate passed.</p>'
        )
    skipped = (
        f"<h2>Skipped input</h2>{_items(list(problems))}" if problems else ""
    )  # malformed lines, by line number
    times = [a.latency_ms for _, a in pairs if a.status != "error"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Evaluation: {escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>Evaluation report</h1><p class="muted">{escape(title)} — {escape(counts)}</p>'
        f'{gate_html}<div class="cards">{cards}</div>'
        '<h2>Metrics</h2><div class="charts">'
        f"<figure>{bar_chart(summary)}<figcaption class='muted'>rates, 0–1</figcaption></figure>"
        f"<figure>{histogram(times)}<figcaption class='muted'>latency per question"
        "</figcaption></figure></div>"
        f"{kind_table(summary)}{kind_table(summary, 'language')}"
        f"<h2>Failed questions</h2>{failure_table(pairs)}{skipped}"
        f"<h2>All questions</h2>{all_questions(pairs)}</body></html>"
    )
