"""The ``mnist`` lab's claims: Lab 10's accuracy ordering as published (the six mean test
accuracies rank in the published order; the two large published gaps also above a noise margin),
and the first-epoch cost of N(0, 1) weights against the lecture's 470x Xavier's. Kept apart from ``mnist.py`` (which trains) so each file
stays short; it registers no lab.

``results`` maps a variant key (softmax, nn_normal, nn_xavier, deep, dropout, batchnorm) to
``{"accuracy": [K], "cost1": [K], ...}`` (test accuracy and epoch-1 mean cost, one per seed).
"""

from __future__ import annotations

from trainlab.labs.base import Context
from trainlab.labs.common import diff_margin, mean_std

PUBLISHED = {"softmax": 0.9035, "nn_normal": 0.9455, "nn_xavier": 0.9783, "deep": 0.9742, "dropout": 0.9804,
             "batchnorm": 0.9826}
PUBLISHED_ORDER = tuple(sorted(PUBLISHED, key=PUBLISHED.get))  # worst to best: softmax, N(0,1), deep, Xavier, ...
LECTURE_RATIO = 141.0 / 0.30  # Lab 10's printed epoch-1 costs: 141 (N(0, 1)) vs 0.30 (Xavier), 470x
RATIO_DECADES = 0.5  # "about 470x": within half a decade on a log scale (149x .. 1486x)
Z = 2.0  # noise margin: about a 95% two-sided band


class Compare:
    """Mean test accuracies and the noise margin between any two variants."""

    def __init__(self, results: dict, n_test: int):
        self.acc = {k: r["accuracy"] for k, r in results.items()}
        self.mean = {k: mean_std(v)[0] for k, v in self.acc.items()}
        self.n_test = n_test

    def gap(self, a: str, b: str) -> float:
        return self.mean[a] - self.mean[b]

    def margin(self, a: str, b: str) -> float:
        return diff_margin(self.acc[a], self.acc[b], self.n_test, Z)

    def row(self, a: str, b: str) -> dict:
        return {"pair": f"{a} - {b}", "gap": round(self.gap(a, b), 4), "margin": round(self.margin(a, b), 4),
                "published_gap": round(PUBLISHED[a] - PUBLISHED[b], 4)}


def check_claims(ctx: Context, results: dict, n_test: int) -> None:
    c = Compare(results, n_test)
    mlps = [k for k in results if k != "softmax"]
    noise = (f"noise margin = {Z:g} * sqrt(SE_a^2 + SE_b^2), SE^2 = seed variance / seeds "
             f"+ p(1-p) / {n_test} test images")

    rows = [c.row(k, "softmax") for k in mlps]
    ctx.claim("softmax_last", "the softmax (no hidden layer) is below every one of the five ReLU nets",
              all(c.gap(k, "softmax") > c.margin(k, "softmax") for k in mlps),
              {"softmax": round(c.mean["softmax"], 4), "gaps": rows},
              f"every net above the softmax by more than the noise margin ({noise})",
              {"softmax": PUBLISHED["softmax"], "nets": "0.9455 .. 0.9826"})

    ctx.claim("xavier_beats_normal", "Xavier weights beat N(0, 1) weights on the same 256x2 ReLU net",
              c.gap("nn_xavier", "nn_normal") > c.margin("nn_xavier", "nn_normal"),
              {"N(0,1)": round(c.mean["nn_normal"], 4), "Xavier": round(c.mean["nn_xavier"], 4),
               **c.row("nn_xavier", "nn_normal")},
              f"Xavier - N(0,1) > noise margin ({noise})",
              {"N(0,1)": PUBLISHED["nn_normal"], "Xavier": PUBLISHED["nn_xavier"]})

    normal, xavier = results["nn_normal"]["cost1"], results["nn_xavier"]["cost1"]
    ratio = mean_std(normal)[0] / mean_std(xavier)[0]
    lo, hi = LECTURE_RATIO / 10 ** RATIO_DECADES, LECTURE_RATIO * 10 ** RATIO_DECADES
    ctx.claim("first_epoch_cost", f"with N(0, 1) weights the first epoch's mean cost is about {LECTURE_RATIO:.0f}x "
              f"Xavier's, as in Lab 10: within half a decade ({lo:.0f}x to {hi:.0f}x)",
              lo <= ratio <= hi,
              {"N(0,1)": round(mean_std(normal)[0], 3), "Xavier": round(mean_std(xavier)[0], 4),
               "ratio": round(ratio, 1), "ratio_range_over_seed_pairs": [round(min(normal) / max(xavier), 1),
                                                                          round(max(normal) / min(xavier), 1)]},
              f"{lo:.0f} <= mean N(0,1) cost / mean Xavier cost <= {hi:.0f} "
              f"(|log10(ratio / {LECTURE_RATIO:.0f})| <= {RATIO_DECADES})",
              {"N(0,1)": 141.0, "Xavier": 0.30, "ratio": round(LECTURE_RATIO)})

    steps = [c.row(b, a) for a, b in zip(PUBLISHED_ORDER, PUBLISHED_ORDER[1:])]  # each: the better minus the worse
    ctx.claim("published_order", "the six nets rank as published: " + " < ".join(PUBLISHED_ORDER)
              + " (mean test accuracy over seeds)",
              all(c.gap(b, a) > 0 for a, b in zip(PUBLISHED_ORDER, PUBLISHED_ORDER[1:])),
              {"measured_order": order(c.mean), "steps": steps,
               "steps_above_noise": sum(s["gap"] > s["margin"] for s in steps)},
              f"every step of the published order has a positive mean gap (margins, {noise}, shown for "
              "reference)",
              {s["pair"]: s["published_gap"] for s in steps})
    ctx.note(f"measured order (worst to best): {order(c.mean)}; published: {order(PUBLISHED)}.")


def order(means: dict) -> str:
    return " < ".join(sorted(means, key=means.get))
