"""Presets: the labs' setups, loadable in one click. Each is a partial state (the rest keeps
its default), checked by the schema like any message from the page."""

from __future__ import annotations

from trainlab.playground.schema import LAYER_DEFAULT, check_changes, default_state


def _layers(n: int, units: int, activation: str, init: str, **extra) -> list[dict]:
    return [{**LAYER_DEFAULT, "units": units, "activation": activation, "init": init, **extra} for _ in range(n)]


_LECTURE = {"dataset": "xor4", "batch_size": 4, "optimizer": "sgd", "lr": 0.1, "loss": "binary_cross_entropy",
            "features": ["x1", "x2"], "regularization": "none", "schedule": "none"}
PRESETS = {
    "tf_default": ("TensorFlow Playground's start: circle, 4-2 tanh, its uniform(-0.5, 0.5) init, SGD 0.03",
                   {}),
    "xor_2_5_4_1": ("Lecture 9: XOR with a 2-5-4-1 sigmoid net, uniform(-1, 1), SGD 0.1 (it learns)",
                    {**_LECTURE, "layers": _layers(1, 5, "sigmoid", "uniform") + _layers(1, 4, "sigmoid", "uniform"),
                     "output_init": "uniform"}),
    "xor_deep_sigmoid": ("Lecture 10: '9 hidden layers!' 10x10 sigmoid, uniform(-1, 1): the cost stays at ln 2",
                         {**_LECTURE, "layers": _layers(10, 10, "sigmoid", "uniform"), "output_init": "uniform"}),
    "xor_deep_relu_he": ("Lecture 10's fix: the same 10x10 net with ReLU and He init learns XOR",
                         {**_LECTURE, "layers": _layers(10, 10, "relu", "he"), "output_init": "he"}),
    "xor_deep_relu_uniform": ("ReLU with the lecture's uniform(-1, 1) init: often learns, not reliably",
                              {**_LECTURE, "layers": _layers(10, 10, "relu", "uniform"), "output_init": "uniform"}),
    "tf_xor_deep_sigmoid": ("The Playground's xor with 10x8 sigmoid layers, uniform(-1, 1), SGD 0.03",
                            {"dataset": "xor", "noise": 0, "batch_size": 10, "optimizer": "sgd", "lr": 0.03,
                             "loss": "auto", "layers": _layers(10, 8, "sigmoid", "uniform"), "output_init": "uniform"}),
    "spiral_relu_bn": ("Spiral with 6x8 ReLU + batch norm + He init and Adam",
                       {"dataset": "spiral", "noise": 0, "batch_size": 10, "optimizer": "adam", "lr": 0.01,
                        "features": ["x1", "x2"], "loss": "auto",
                        "layers": _layers(6, 8, "relu", "he", batchnorm=True), "output_init": "he"}),
    "spiral_features": ("Spiral made easy by the input features (x1, x2, squares, product, sines), 6x8 tanh",
                        {"dataset": "spiral", "noise": 0, "batch_size": 10, "optimizer": "adam", "lr": 0.01,
                         "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"], "loss": "auto",
                         "layers": _layers(6, 8, "tanh", "xavier"), "output_init": "xavier"}),
    "zeros_symmetry": ("Zero init: every unit of a layer computes the same thing (symmetric units)",
                       {"dataset": "circle", "layers": _layers(2, 6, "tanh", "zeros"), "output_init": "zeros",
                        "optimizer": "sgd", "lr": 0.1}),
    "vanishing_sigmoid": ("The vanishing-gradient lab's net in 2-D: spiral, 10x16 sigmoid with Xavier init, SGD 0.01, "
                       "batch 64 (compare the gradient panel with ReLU + He)",
                       {"dataset": "spiral", "noise": 0, "batch_size": 64, "optimizer": "sgd", "lr": 0.01,
                        "loss": "auto", "features": ["x1", "x2"],
                        "layers": _layers(10, 16, "sigmoid", "xavier"), "output_init": "xavier"}),
    "init_small_tanh": ("The init lab's N(0, 0.01^2) weights under tanh: activations shrink layer by layer",
                        {"dataset": "circle", "layers": _layers(6, 16, "tanh", "normal_small"),
                         "output_init": "normal_small", "optimizer": "sgd", "lr": 0.03}),
    "selu_lecun": ("SELU with LeCun init, 10x16 (the init lab's self-normalizing net)",
                   {"dataset": "spiral", "noise": 0, "batch_size": 10, "optimizer": "adam", "lr": 0.003,
                    "loss": "auto", "layers": _layers(10, 16, "selu", "lecun"), "output_init": "lecun"}),
    "dropout_overfit": ("The dropout lab in 2-D: few noisy points (10% train), 3x16 ReLU + He, Adam; set drop to "
                        "0.5 and compare the test loss",
                        {"dataset": "spiral", "noise": 30, "train_ratio": 10, "batch_size": 10, "optimizer": "adam",
                         "lr": 0.01, "loss": "auto", "layers": _layers(3, 16, "relu", "he"), "output_init": "he"}),
    "deep_sigmoid_residual": ("The deep sigmoid net on the Playground's xor with residual connections",
                              {"dataset": "xor", "noise": 0, "batch_size": 10, "optimizer": "sgd", "lr": 0.03,
                               "loss": "auto", "layers": _layers(10, 8, "sigmoid", "uniform", residual=True),
                               "output_init": "uniform"}),
}


def preset_states() -> dict:
    """name -> {"label", "state"}: full states (defaults filled in), checked."""
    out = {}
    for name, (label, changes) in PRESETS.items():
        out[name] = {"label": label, "state": {**default_state(), **check_changes(changes)}}
    return out
