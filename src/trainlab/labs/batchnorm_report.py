"""Claims, tables, figure data and notes of the ``batchnorm`` lab, from its grid results
(``batchnorm_grid.run_grid``) and its mode checks (``batchnorm_checks``)."""

from __future__ import annotations

from trainlab.labs.base import Context
from trainlab.labs.batchnorm_grid import CURVE_CELL, EPOCHS, HIGH_LR, LRS, SCALES, TRAINS, cells
from trainlab.labs.common import fmt_ms, mean_std

MODE_TOL = 1e-3  # "differs": a relative output change above float noise (~1e-6) by far
SAME_TOL = 1e-5  # "does not change": within float32 round-off of a different batch shape
NOISE_MARGIN = 4  # running statistics within 4 x their EMA sampling noise of the data's


def _trained(res: dict) -> list[tuple[float, float]]:
    return [c for c in cells() if res["trains"][c]]


def _scales(res: dict) -> list[float]:
    return [s for s in SCALES if any(res["trains"][(s, lr)] for lr in LRS)]


def _curve_means(res: dict, key: str) -> list[float]:
    curves = res["curve"][key]  # (K, points)
    return [mean_std(col)[0] for col in zip(*curves)]


def claims(ctx: Context, res: dict, mech: dict) -> None:
    pl, bn = res["plain"], res["batchnorm"]
    tp, tb = _trained(pl), _trained(bn)
    ctx.claim("bn_trains_wider", "batch norm trains the deep net in more (init scale, lr) cells than the plain net",
              passed=len(tb) > len(tp),
              measured={"cells": len(cells()), "plain_trains": len(tp), "batchnorm_trains": len(tb),
                        "plain_cells": [list(c) for c in tp],
                        "plain_only_cells": [list(c) for c in sorted(set(tp) - set(tb))]},
              expected=f"count(batchnorm) > count(plain); a cell trains when >= half its seeds reach val "
                       f"accuracy >= {TRAINS} after {EPOCHS} epochs")
    sp, sb = _scales(pl), _scales(bn)
    ctx.claim("init_independence", "with batch norm the net trains from every initial weight scale (at some lr); "
              "without, only from fewer scales (activations shrink or grow as scale^9 through 9 layers)",
              passed=len(sb) == len(SCALES) and len(sb) > len(sp),
              measured={"scales": SCALES, "plain_trains_at": sp, "batchnorm_trains_at": sb},
              expected=f"batchnorm trains at all {len(SCALES)} scales; plain at fewer")
    hi = (CURVE_CELL[0], HIGH_LR)
    ctx.claim("higher_lr", f"batch norm allows a higher learning rate: at lr {HIGH_LR} (He scale) the batch-norm "
              f"net trains and the plain net does not",
              passed=bn["trains"][hi] and not pl["trains"][hi],
              measured={"plain_val_acc": fmt_ms(pl["val"][hi]), "batchnorm_val_acc": fmt_ms(bn["val"][hi])},
              expected=f"batchnorm >= {TRAINS} (trains), plain below")
    m = mech["modes"]
    ctx.claim("normalize_then_scale", "in train mode each batch-norm channel's output over the batch has mean "
              "beta and standard deviation |gamma| (normalise, then the learned scale and shift)",
              passed=m["channel_mean_error"] < 1e-4 and m["channel_std_error"] < 1e-4,
              measured={"max_mean_error": m["channel_mean_error"], "max_std_error": m["channel_std_error"]},
              expected="both errors < 1e-4 (float32 round-off)",
              lecture="정규화 => 정규화 된 것을 조정 (감마, 베타 : 학습을 통해 결정)")
    ctx.claim("train_eval_differ", "batch norm behaves differently in training and at test time: the same batch "
              "gives different outputs in train mode (batch statistics) and eval mode (running statistics); in "
              "train mode one example's output depends on the rest of its batch, in eval mode it does not; the "
              "plain net gives identical outputs in both modes",
              passed=m["train_vs_eval"] > MODE_TOL and m["row0_train_change"] > MODE_TOL
              and m["row0_eval_change"] < SAME_TOL and mech["plain_train_vs_eval"] == 0,
              measured={"train_vs_eval_relative": round(m["train_vs_eval"], 4),
                        "row0_change_train_mode": round(m["row0_train_change"], 4),
                        "row0_change_eval_mode": m["row0_eval_change"],
                        "plain_train_vs_eval": mech["plain_train_vs_eval"], "batch": m["batch"]},
              expected=f"relative differences > {MODE_TOL} in train mode; eval-mode change < {SAME_TOL}; plain 0",
              lecture="traning 할때와 test 할때 다름")
    s = mech["stats"]
    tol_m, tol_v = NOISE_MARGIN * s["noise_mean"], NOISE_MARGIN * s["noise_var"]
    ctx.claim("running_stats_converge", "the running mean and variance (what eval mode uses) converge to the "
              "training data's own statistics at that layer",
              passed=s["median_mean_error"] < tol_m and s["median_var_error"] < tol_v,
              measured={"median_mean_error_sd": round(s["median_mean_error"], 4),
                        "median_var_error_rel": round(s["median_var_error"], 4),
                        "max_mean_error_sd": round(s["max_mean_error"], 4),
                        "max_var_error_rel": round(s["max_var_error"], 4), "channels": s["channels"]},
              expected=f"median |running mean - mean| / sd < {tol_m:.3f} and median |running var / var - 1| < "
                       f"{tol_v:.3f} ({NOISE_MARGIN} x the sampling noise of a momentum-{s['momentum']} moving "
                       f"average of batch estimates)")
    vp, vb = _curve_means(pl, "val_accuracy"), _curve_means(bn, "val_accuracy")
    mean_p, mean_b = sum(vp) / len(vp), sum(vb) / len(vb)
    n_ahead, n = sum(b > p for b, p in zip(vb, vp)), len(vb)
    ctx.claim("lab10_6_curves", f"Lab 10-6: at the He init scale and lr {CURVE_CELL[1]} the batch-norm net's "
              f"validation accuracy curve lies above the plain net's: higher on average over the epochs and "
              f"ahead in most epochs",
              passed=mean_b > mean_p and n_ahead > n / 2,
              measured={"mean_over_epochs_plain": round(mean_p, 4), "mean_over_epochs_batchnorm": round(mean_b, 4),
                        "epochs_bn_ahead": f"{n_ahead}/{n}", "final_plain": round(vp[-1], 4),
                        "final_batchnorm": round(vb[-1], 4)},
              expected="mean over epochs: batchnorm > plain, and batchnorm ahead in more than half of the epochs "
                       "(curves averaged over seeds)")


def tables(ctx: Context, res: dict, mech: dict) -> None:
    pl, bn = res["plain"], res["batchnorm"]
    yes = {True: "yes", False: "no"}
    rows = [[s, lr, fmt_ms(pl["val"][(s, lr)]), yes[pl["trains"][(s, lr)]], fmt_ms(bn["val"][(s, lr)]),
             yes[bn["trains"][(s, lr)]]] for s, lr in cells()]
    ctx.table("grid", f"Validation accuracy after {EPOCHS} epochs (mean ± std over seeds) and whether the cell "
              f"trains (>= half the seeds at >= {TRAINS})",
              ["init scale", "lr", "plain val acc", "plain trains", "batchnorm val acc", "batchnorm trains"], rows)
    s, b = mech["stats"], mech["batch"]
    rows = [[c, round(b["mean"][c], 4), round(s["running_mean"][c], 4), round(s["data_mean"][c], 4),
             round(b["var"][c], 4), round(s["running_var"][c], 4), round(s["data_var"][c], 4)] for c in range(6)]
    ctx.table("statistics", "First batch-norm layer, channels 0-5: one batch's statistics (train mode uses "
              "these), the running statistics (eval mode uses these) and the whole training set's",
              ["channel", "batch mean", "running mean", "data mean", "batch var", "running var", "data var"], rows)


def records(ctx: Context, res: dict, mech: dict) -> None:
    ctx.record("grid", {"scales": SCALES, "lrs": LRS, "threshold": TRAINS, **{
        name: {"mean": [[mean_std(r["val"][(s, lr)])[0] for lr in LRS] for s in SCALES],
               "trains": [[bool(r["trains"][(s, lr)]) for lr in LRS] for s in SCALES]}
        for name, r in res.items()}})
    ctx.record("curves", {"cell": list(CURVE_CELL), **{name: r["curve"] for name, r in res.items()}})
    s = mech["stats"]
    ctx.record("running_stats", {k: s[k] for k in ("data_mean", "data_var", "running_mean", "running_var")})
    ctx.record("batch_stats", mech["batch"])


def notes(ctx: Context, res: dict, mech: dict) -> None:
    pl, bn = res["plain"], res["batchnorm"]
    slow = [f"scale {s} lr {lr}: {fmt_ms(bn['val'][(s, lr)])}" for s, lr in cells() if not bn["trains"][(s, lr)]]
    if slow:
        ctx.note("Where batch norm does not train within 10 epochs it is slow, not diverged: the lr is small, "
                 "and large initial weights make it smaller still (the net is invariant to the scale of the "
                 "weights before each batch norm: gradient ~ 1/scale, relative update ~ lr/scale^2): "
                 + "; ".join(slow) + ".")
    only = sorted(set(_trained(pl)) - set(_trained(bn)))
    if only:
        ctx.note("Cells where the plain net trains and batch norm does not (within 10 epochs): "
                 + "; ".join(f"scale {s} lr {lr}: plain {fmt_ms(pl['val'][(s, lr)])}, batchnorm "
                             f"{fmt_ms(bn['val'][(s, lr)])}" for s, lr in only)
                 + ". Batch norm is not faster everywhere: at a small lr it learns slowly.")
    ctx.note("The plain net's validation accuracy jumps from epoch to epoch at lr 0.1, so its last-epoch value "
             "alone can beat batch norm's on a single seed, which is why the claim compares whole curves (mean "
             "over epochs and epochs ahead); the last epoch is still reported.")
    ctx.note(f"Training mode: {pl['mode']} ({len(cells())} cells x {pl['k']} seeds per net as one stack).")
