"""One JSON-able report per autograd site: where, what, the facts, and why a value is Unknown."""
from __future__ import annotations

from typing import Optional

from torchlint.analysis.explain.facts import facts, is_unknown, tensors_of, verdict_of
from torchlint.analysis.explain.sites import collect
from torchlint.analysis.explain.why import Explainer, Why, unknown_size, unknown_value
from torchlint.analysis.values import (
    LIKELY_NON_SCALAR,
    NON_SCALAR,
    SCALAR,
    UNKNOWN_VERDICT,
    Function,
    UserBound,
    join_all,
)

# site kinds whose scalar verdict matters (the others are listed for their tensor facts)
VERDICT_KINDS = ("backward", "autograd.grad", "func.grad")


def site_reports(ctx, lines: Optional[set] = None) -> list:
    from torchlint.server.query import ValueIndex  # the hover's index: node -> recorded values

    sites = collect(ctx)
    if lines:
        sites = [s for s in sites if _lines(ctx, s.node) & lines]
    if not sites:
        return []
    explainer = Explainer(ctx, ValueIndex(ctx))
    return [_report(ctx, explainer, s) for s in sites]


def _lines(ctx, node) -> set:
    r = ctx.code_range(node)
    return set(range(r.start.line, r.end.line + 1))


def _report(ctx, explainer: Explainer, site) -> dict:
    r = ctx.code_range(site.node)
    value = _informative(site) if site.values else None
    out = {"kind": site.kind, "via": site.via, "line": r.start.line, "column": r.start.column + 1,
           "expression": ctx.short_code(site.target if site.target is not None else site.node, 60),
           "reached": site.reached}
    out.update(facts(value, ctx.line_of))
    if not site.reached:
        out["value"] = "not reached by the analysis"
    if site.note:
        out["note"] = site.note
    why = _why(ctx, explainer, site, value)
    if why is not None:
        out["why"] = render_why(ctx, why)
    return out


_RANK = {NON_SCALAR: 3, LIKELY_NON_SCALAR: 2, SCALAR: 1}


def _informative(site):
    """The site's value in its most informative contexts, as the rules judge them: each context (a call
    site of the function, or the function on its own) on its own; the contexts with the most certain
    verdict are joined.  Other kinds of site: every context joined."""
    if site.kind not in VERDICT_KINDS or len(site.values) == 1:
        return join_all(site.values)
    ranked = [(_RANK.get(verdict_of(v), 0), v) for v in site.values]
    top = max(r for r, _ in ranked)
    if top == 0:
        return join_all(site.values)
    return join_all([v for r, v in ranked if r == top])


def _why(ctx, explainer: Explainer, site, value) -> Optional[Why]:
    if not site.reached:
        if ctx.analysis.truncated:
            return Why("the analysis budget ran out before it", site.node)
        return Why("torchlint never evaluated this code", site.node)
    unknown = is_unknown(value)
    if not unknown and (site.kind not in VERDICT_KINDS or not tensors_of(value)
                        or facts(value, ctx.line_of)["verdict"] != UNKNOWN_VERDICT):
        return None  # known, or not a tensor (a Python number says what it is)
    pred = unknown_value if unknown else unknown_size
    if site.kind in ("func.grad",) or site.via == "torch.autograd.functional.vjp":
        fn = site.func_target
        if isinstance(fn, (Function, UserBound)):
            f = fn.func if isinstance(fn, UserBound) else fn
            return explainer.why_returns(site.node, f.qual, f.node, pred)
        return None if site.target is None else explainer.why(site.target, pred)
    if site.target is None:
        return None
    return explainer.why(site.target, pred)


def render_why(ctx, why: Why) -> dict:
    def line(node):
        try:
            return ctx.line_of(node)
        except Exception:  # a node without a position
            return None

    return {"cause": why.cause, "kind": why.kind, "line": line(why.node),
            "steps": [{"text": text, "line": line(node)} for text, node in why.steps]}
