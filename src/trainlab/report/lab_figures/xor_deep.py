"""Figure for ``xor-deep``: every seed's cost curve (the lecture's TensorBoard plot, one line per
seed), the share of seeds that have reached accuracy 1.0 by each step, and how each net's seeds
ended (solved / stuck at ln 2 / diverged / partial)."""

from __future__ import annotations

from pathlib import Path

from trainlab.report.lab_figures import register
from trainlab.report.plotting import figure, save

COLORS = {"shallow": "tab:green", "sigmoid": "tab:red", "relu": "tab:orange", "relu_he": "tab:blue"}
OUTCOME_COLORS = {"solved": "tab:green", "stuck": "tab:red", "diverged": "black", "partial": "tab:gray"}


def _float(v) -> float:
    return float(v) if v is not None else float("nan")  # "nan" / "inf" strings from the JSON


@register("xor-deep")
def draw(result: dict, out: Path) -> list[tuple[str, str]]:
    curves, outcomes = result["records"]["curves"], result["records"]["outcomes"]
    fig, axes = figure(3, width=4.6, height=3.6)
    ax_cost, ax_frac, ax_out = axes[0]
    for name, c in curves.items():
        for loss in c["loss"]:
            ax_cost.plot(c["steps"], [_float(v) for v in loss], color=COLORS.get(name), alpha=0.35, lw=0.8,
                         zorder=3 if name == "sigmoid" else 2)  # the flat sigmoid lines on top
    ln2 = result["records"]["ln2"]
    ax_cost.axhline(ln2, color="0.5", ls=":", lw=0.8, zorder=0)
    ax_cost.annotate("ln 2 = 0.693", (1, ln2), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                     fontsize=7)
    ax_cost.set(xscale="log", yscale="log", xlabel="step", ylabel="cost (binary cross-entropy)",
                title="Cost per seed (colors as in the middle panel)")

    for name, c in curves.items():
        k = len(c["first_solved"])
        frac = [sum(f is not None and f <= s for f in c["first_solved"]) / k for s in c["steps"]]
        ax_frac.plot(c["steps"], frac, color=COLORS.get(name), label=c["label"])
    ax_frac.set(xscale="log", ylim=(-0.03, 1.03), xlabel="step",
                ylabel="fraction of seeds", title="Seeds that reached accuracy 1.0")
    ax_frac.legend(fontsize=7)

    names = list(outcomes)
    bottom = [0] * len(names)
    for o, color in OUTCOME_COLORS.items():
        counts = [outcomes[n][o] for n in names]
        ax_out.bar(range(len(names)), counts, bottom=bottom, color=color, label=o)
        bottom = [b + c for b, c in zip(bottom, counts)]
    ax_out.set_xticks(range(len(names)), [curves[n]["label"].replace(", ", "\n") for n in names], fontsize=7)
    ax_out.set(ylabel="seeds", ylim=(0, bottom[0] * 1.2), title=f"How the {bottom[0]} seeds ended")
    ax_out.legend(fontsize=7, loc="upper center", ncol=4)
    path = save(fig, Path(out) / "xor-deep.png")
    return [(path.name, "XOR, one line per seed: the 10-layer sigmoid net stays at cost ln 2 while ReLU "
                        "drops; with the lecture's uniform(-1,1) init some ReLU seeds die or diverge, "
                        "with He init nearly all solve.")]
