"""Lab 10's MNIST progression, side by side with its published test accuracies.

Six nets, trained as Lab 10 trains them (Adam, lr 0.001, batch 100, raw pixels in [0, 1];
biases drawn from N(0, 1) as its ``tf.random_normal`` biases are):

    softmax (784-10), weights N(0, 1)                         0.9035
    NN 784-256-256-10 ReLU, weights N(0, 1)                   0.9455
    the same NN, Xavier (uniform) weights                     0.9783
    deep NN 784-512-512-512-512-10, Xavier                    0.9742
    deep NN + dropout (keep_prob 0.7 = p 0.3)                 0.9804
    deep NN + dropout + batch norm                            0.9826

The published numbers are single runs and not monotone: Lab 10's deeper net is 0.41 points
below the shallower Xavier net (it overfits, which is what dropout then fixes). The claims test
what was published: the six mean test accuracies rank in the published order (every step,
including the deep net's drop); softmax below every MLP and N(0, 1) below Xavier by more than a
noise margin (``common.diff_margin``: seed spread + the test set's binomial error, z = 2), the
published gaps there being large; and the first-epoch cost with N(0, 1) weights about 470x
Xavier's (Lab 10: ~141 vs ~0.30), within half a decade.

Sizes (``PLANS``): full is the published setup on MNIST (55,000 train, 15 epochs; about 7 CPU
minutes per seed on one core, ~21 min for its 3 seeds); standard the same 55,000 images for 3
epochs (~3.5 min on 2 cores); quick the bundled 8x8 digits with narrower nets (~8 s). Without
MNIST on disk, standard and full run on the digits too. The design seed 0 at full size measured
0.8983 / 0.9437 / 0.9787 / 0.9803 / 0.9830 / 0.9844 against the published numbers above; the
default seeds start at 1000 (``SEED_BASE``).
"""

from __future__ import annotations

from trainlab import data
from trainlab.labs.base import Context, Lab, Quote
from trainlab.labs.common import fmt_ms, member_curves, train_seeds
from trainlab.labs.mnist_claims import check_claims
from trainlab.labs.registry import register

N01 = {"normal": {"mean": 0.0, "std": 1.0}}  # tf.random_normal
XAVIER = "xavier_uniform"  # tf.contrib.layers.xavier_initializer (uniform by default)
IMAGE_SETS = ("mnist", "fashion_mnist")  # 784 inputs: subsets and few epochs fit the budget

# (key, label ({w1}, {w2}: the plan's widths), published test accuracy, hidden (which width, how many),
# init, extras)
VARIANTS = (
    ("softmax", "softmax, N(0,1)", 0.9035, (None, 0), N01, {}),
    ("nn_normal", "NN {w1}x2 ReLU, N(0,1)", 0.9455, (0, 2), N01, {}),
    ("nn_xavier", "NN {w1}x2 ReLU, Xavier", 0.9783, (0, 2), XAVIER, {}),
    ("deep", "deep NN {w2}x4, Xavier", 0.9742, (1, 4), XAVIER, {}),
    ("dropout", "deep + dropout 0.3", 0.9804, (1, 4), XAVIER, {"dropout": 0.3}),
    ("batchnorm", "deep + dropout + BN", 0.9826, (1, 4), XAVIER, {"dropout": 0.3, "batchnorm": True}),
)
LECTURE_COST1 = {"nn_normal": 141.0, "nn_xavier": 0.30}  # Lab 10's printed epoch-1 average cost

# (size, "image" | "small") -> widths (the 256 net, the 512 net), epochs, training subset
PLANS = {
    ("quick", "small"): {"widths": (64, 96), "epochs": 40, "n_train": None},
    ("standard", "small"): {"widths": (256, 512), "epochs": 20, "n_train": None},
    ("full", "small"): {"widths": (256, 512), "epochs": 60, "n_train": None},
    ("quick", "image"): {"widths": (64, 96), "epochs": 4, "n_train": 1000},
    ("standard", "image"): {"widths": (256, 512), "epochs": 3, "n_train": None},
    ("full", "image"): {"widths": (256, 512), "epochs": 15, "n_train": None},  # 55,000: Lab 10's split
}


def mnist_is_here() -> bool:
    """Whether real MNIST is on disk (``trainlab data fetch mnist``); never downloads."""
    from trainlab.data import catalog

    return catalog.is_here("mnist")


def plan_for(size: str, dataset: str) -> dict:
    return dict(PLANS[(size, "image" if dataset in IMAGE_SETS else "small")])


def load(dataset: str, plan: dict):
    """The data set as Lab 10 feeds it: raw pixels; MNIST split 55,000 / 5,000 / 10,000."""
    spec: dict = {"name": dataset}
    if dataset in IMAGE_SETS:
        spec["n_val"] = 5000
    if plan["n_train"] is not None:
        spec["n_train"] = plan["n_train"]
    return data.load(spec)


def variant_spec(variant: tuple, plan: dict) -> dict:
    """The run spec (model + train) of one of the six nets at this plan's widths and epochs."""
    _, _, _, (which, depth), init, extra = variant
    hidden = [plan["widths"][which]] * depth if depth else []
    model = {"mlp": {"hidden": hidden, "activation": "relu", "init": init, "bias_init": N01, **extra}}
    train = {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": plan["epochs"]}
    return {"model": model, "train": train}


def data_note(dataset: str, default: str, mnist_here: bool) -> str:
    """Why this run is not on MNIST (the published numbers are MNIST's)."""
    why = (f"chosen with --data {dataset}" if dataset != default
           else "MNIST not found; run `trainlab data fetch mnist`" if not mnist_here
           else "quick size runs on the bundled 8x8 digits")
    return f"data: {dataset}, not MNIST ({why}); the published numbers are MNIST's."


def label(variant: tuple, plan: dict) -> str:
    w1, w2 = plan["widths"]
    return variant[1].format(w1=w1, w2=w2)


def epoch_means(curves: list[list[float]]) -> list[float]:
    """The mean over members at each logged point of (K, points) curves."""
    return [sum(col) / len(col) for col in zip(*curves)]


@register
class MnistLab(Lab):
    name = "mnist"
    title = "Lab 10 on MNIST: softmax -> NN -> Xavier -> deeper -> dropout -> batch norm"
    data = ("mnist", "fashion_mnist", "digits", "mnist1d")
    seeds = {"quick": 3, "standard": 3, "full": 3}
    lecture = (
        Quote("모두를 위한 딥러닝 Lab 10-2",
              "지금까지 했던 예제에서는 weight 정할 때, random normal(평균 0, 분산 1인 random 함수)를 이용하여 "
              "initailization을 했다.",
              "Until now the examples initialised the weights with random normal (mean 0, variance 1)."),
        Quote("모두를 위한 딥러닝 Lab 10-2",
              "Xavier의 경우, 평균은 0, 분산은 2/(Channel_in + Channel_out)인 random 분포로 weight를 설정",
              "Xavier sets the weights from a random distribution with mean 0 and variance "
              "2/(fan_in + fan_out)."),
        Quote("모두를 위한 딥러닝 Lecture 10",
              "잘라내는 건 train 동안만 함 실전에는 총 동원해서 모두 참여해야 함",
              "Units are dropped only while training; at test time every unit takes part."),
        Quote("모두를 위한 딥러닝 Lecture 10", "NN, ReLu, Xavier, Dropout and Adam (사용팁)",
              "Tips: NN, ReLU, Xavier, dropout and Adam."),
    )

    def default_data(self, size: str) -> str:
        # quick (tests, CI) always runs on the bundled digits; MNIST only when it is on disk
        return "mnist" if size != "quick" and mnist_is_here() else "digits"

    def run(self, ctx: Context) -> None:
        plan = plan_for(ctx.size, ctx.data)
        ds = load(ctx.data, plan)
        self._setup(ctx, ds, plan)
        results = {}
        for variant in VARIANTS:
            ctx.step(f"training {label(variant, plan)} ({len(ctx.seeds)} seeds)")
            results[variant[0]] = measure(ctx, variant_spec(variant, plan), ds)
        n_test = len(ds.test.y)
        check_claims(ctx, results, n_test)
        self._report(ctx, results, plan, n_test)

    def _setup(self, ctx: Context, ds, plan: dict) -> None:
        w1, w2 = plan["widths"]
        ctx.setup(data=ds.name, source=ds.source, train=len(ds.train.y), val=len(ds.val.y), test=len(ds.test.y),
                  nets=f"softmax; {w1}x2 ReLU (N(0,1) and Xavier); {w2}x4 ReLU Xavier (+ dropout 0.3, + batch norm)",
                  optimizer="adam lr 0.001", batch_size=100, epochs=plan["epochs"], biases="N(0, 1), as Lab 10",
                  seeds=ctx.seeds)
        if ctx.data != "mnist":
            ctx.note(data_note(ctx.data, self.default_data(ctx.size), mnist_is_here()))
        if plan["widths"] != (256, 512):
            ctx.note(f"{ctx.size} size: hidden widths {w1} and {w2} instead of Lab 10's 256 and 512.")
        if plan["n_train"] is not None or plan["epochs"] != 15:
            ctx.note(f"{ctx.size} size: {len(ds.train.y)} training images for {plan['epochs']} epochs "
                     f"({plan['epochs'] * -(-len(ds.train.y) // 100)} Adam steps per net); Lab 10: 55,000 for 15 "
                     "epochs (8,250 steps). Nets started at N(0, 1) need many steps, so they sit further below "
                     "the published numbers at small sizes.")
        steps1 = -(-len(ds.train.y) // 100)
        if steps1 != 550:
            ctx.note(f"epoch-1 cost averages the first {steps1} steps (Lab 10: 550), so it is not the lecture's "
                     "141 / 0.30 number for number; the claim compares N(0, 1) with Xavier on the same steps.")

    def _report(self, ctx: Context, results: dict, plan: dict, n_test: int) -> None:
        rows, variants = [], []
        for variant in VARIANTS:
            key, published, r = variant[0], variant[2], results[variant[0]]
            rows.append([label(variant, plan), published, fmt_ms(r["accuracy"], 4), fmt_ms(r["train_accuracy"], 4),
                         fmt_ms(r["cost1"], 3), LECTURE_COST1.get(key, "")])
            variants.append({"key": key, "label": label(variant, plan), "published": published, **r})
        ctx.table("accuracy", f"Test accuracy ({len(ctx.seeds)} seeds, {n_test} test images) beside Lab 10's",
                  ["net", "published", "test accuracy", "train accuracy", "epoch-1 cost", "lecture epoch-1 cost"],
                  rows)
        ctx.record("variants", variants)
        ctx.record("n_test", n_test)


def measure(ctx: Context, spec: dict, ds) -> dict:
    """Train one net on every seed (stacked) and keep what the claims and figures need."""
    members = train_seeds(ctx, spec, ds)
    losses = member_curves(members, "loss")  # (K, epochs): mean training cost per epoch
    return {"accuracy": members.evaluate(ds.test)["accuracy"],
            "train_accuracy": members.evaluate(ds.train)["accuracy"],
            "cost1": [c[0] for c in losses],
            "epochs": [h["epoch"] for h in members.trainer.member_history(0)],
            "loss_curve": epoch_means(losses),
            "val_curve": epoch_means(member_curves(members, "val_accuracy")),
            "mode": members.mode}
