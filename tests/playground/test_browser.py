"""The page in a real browser (Debian's chromium via Playwright) against a real server: the
lecture's deep-XOR story, the live pictures, the gradient panel, the export, the URL state,
own points and the 8-seed stack. Screenshots go to runs/playground-screenshots/."""

import json
import math

import pytest
import yaml

from tests.conftest import run_cli
from tests.playground.conftest import screenshot

LN2 = math.log(2.0)
pytestmark = pytest.mark.slow


def _wait(page, condition: str, timeout_s: float = 20) -> None:
    try:
        page.wait_for_function(condition, timeout=timeout_s * 1000)
    except Exception as e:  # say what the page saw
        seen = page.evaluate("({errors: pg.errors, state: pg.state && {dataset: pg.state.dataset, "
                             "points: pg.state.points.length}, step: pg.last && pg.last.step})")
        raise AssertionError(f"waited {timeout_s} s for {condition}; the page: {seen}") from e


def _click(page, selector: str, condition: str) -> None:
    """Click, then wait until the server's answer satisfies ``condition`` (the page sends the
    change; the server checks it and sends the new state back)."""
    page.click(selector)
    _wait(page, condition)


def _select(page, selector: str, value: str, condition: str) -> None:
    page.select_option(selector, value)
    _wait(page, condition)


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.goto(url)
    _wait(page, "window.pg && pg.frames > 0 && pg.state !== null")
    return page


def _play_until(page, condition: str, timeout_s: float) -> None:
    page.click("#play")
    _wait(page, "pg.last.playing === true || " + condition)
    _wait(page, condition, timeout_s)
    page.click("#play")
    _wait(page, "pg.last.playing === false")


def test_deep_xor_story(server, browser, tmp_path):
    page = _open(browser, server)
    _click(page, "#ds-xor", "pg.state.dataset === 'xor' && pg.points.dataset === 'xor'")
    # widen the two hidden layers to 8 units, then stack copies: 10 hidden layers x 8 units
    for i, clicks in ((0, 4), (1, 6)):
        for _ in range(clicks):
            units = page.evaluate(f"pg.state.layers[{i}].units")
            _click(page, f'.u-plus[data-i="{i}"]', f"pg.state.layers[{i}].units === {units + 1}")
    while page.evaluate("pg.state.layers.length") < 10:
        n = page.evaluate("pg.state.layers.length")
        _click(page, "#add-layer", f"pg.state.layers.length === {n + 1}")
    _select(page, "#activation", "sigmoid", "pg.state.layers.every(l => l.activation === 'sigmoid')")
    _select(page, "#init", "uniform", "pg.state.layers.every(l => l.init === 'uniform')")
    assert page.evaluate("pg.state.layers.map(l => l.units)") == [8] * 10
    assert page.evaluate("[pg.state.optimizer, pg.state.lr, pg.state.batch_size]") == ["sgd", 0.03, 10]

    # 10 sigmoid layers: the cost sits at ln 2 (the lecture's "cost [0.69314718]")
    _play_until(page, "pg.last.step >= 1500", timeout_s=120)
    history = page.evaluate("pg.last.history")
    late = [train for step, train, _ in history if step >= 500]
    assert late and all(abs(v - LN2) < 0.02 for v in late), late
    assert abs(page.evaluate("pg.last.train_loss") - LN2) < 0.01
    # the gradient panel: at init, the first layer's gradient is orders of magnitude below the output's
    grads = page.eval_on_selector_all("#grad-table tbody tr", "rows => rows.map(r => Number(r.dataset.gradFirst))")
    assert len(grads) == 11 and grads[0] < 1e-2 * grads[-1], grads
    assert page.locator('#findings li[data-kind="vanishing_gradient"]').count() == 1
    screenshot(page, "deep-xor-sigmoid")

    # the lecture's fix: ReLU + He init; the loss falls below 0.1, and the picture changes as it learns
    _select(page, "#activation", "relu", "pg.state.layers.every(l => l.activation === 'relu')")
    _select(page, "#init", "he", "pg.state.layers.every(l => l.init === 'he') && pg.last.step === 0")
    page.click("#play")
    _wait(page, "pg.last.step > 20")
    before = page.evaluate("[pg.frames, document.getElementById('output').toDataURL()]")
    _wait(page, f"pg.frames > {before[0] + 3}")
    after = page.evaluate("document.getElementById('output').toDataURL()")
    assert after != before[1], "the decision-boundary canvas did not change between frames"
    _wait(page, "pg.last.train_loss !== null && pg.last.train_loss < 0.1", 120)
    page.click("#play")
    _wait(page, "pg.last.playing === false")
    # (SGD on batches of 10 is noisy: the loss may rise again after the frame that showed < 0.1)
    assert any(train < 0.1 for _, train, _ in page.evaluate("pg.last.history"))
    screenshot(page, "deep-xor-relu-he")

    # export: a spec that `trainlab train` accepts
    _click(page, "#export", "pg.exported !== null")
    text = page.evaluate("pg.exported.yaml")
    assert page.inner_text("#export-cmd").startswith("$ trainlab train")
    spec = yaml.safe_load(text)
    assert spec["model"]["layers"][1] == {"activation": "relu"} and spec["data"]["name"] == "xor_2d"
    (tmp_path / "playground.yaml").write_text(text)
    r = run_cli("train", str(tmp_path / "playground.yaml"), "--set", "train.steps=20", "--out", str(tmp_path / "run"),
                "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "run" / "result.json").read_text())["steps"] == 20

    # the whole state lives in the URL: a new page opened on it shows the same net
    state_url = page.url
    assert "#s=" in state_url
    page2 = _open(browser, state_url)
    _wait(page2, "pg.state.layers.length === 10 && pg.state.dataset === 'xor' && "
                 "pg.state.layers.every(l => l.activation === 'relu' && l.init === 'he')")
    assert page.errors == [] and page2.errors == []
    assert page.evaluate("pg.errors") == []


def test_own_points_csv_and_seeds(server, browser, tmp_path):
    page = _open(browser, server)
    _select(page, "#preset", "xor_deep_sigmoid", "pg.state.dataset === 'xor4' && pg.state.layers.length === 10")
    # 8 seeds of the lecture's deep sigmoid net, trained as one stacked computation
    page.fill("#seed-steps", "300")
    _click(page, "#seeds", "pg.seeds !== null")
    seeds = page.evaluate("pg.seeds")
    assert seeds["mode"] == "stacked" and len(seeds["maps"]) == 8 and seeds["seeds"] == list(range(8))
    assert page.locator("#seeds-out canvas").count() == 8
    screenshot(page, "seeds-deep-sigmoid")

    # a click on the picture adds a point (the data set becomes the page's own points)
    _click(page, "#ds-gauss", "pg.state.dataset === 'gauss' && pg.points.dataset === 'gauss'")
    n = page.evaluate("pg.points.train.length + pg.points.test.length")
    page.select_option("#click-class", "1")
    box = page.locator("#output").bounding_box()
    page.locator("#output").click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})
    _wait(page, f"pg.state.dataset === 'custom' && pg.state.points.length === {n + 1}")
    assert page.evaluate("pg.state.points[pg.state.points.length - 1][2]") == 1

    # a CSV with three classes: parsed as data on the server, softmax output, three-colour map
    _select(page, "#preset", "spiral_relu_bn", "pg.state.optimizer === 'adam' && pg.state.layers[0].batchnorm")
    rows = ["x1,x2,label"] + [f"{x},{y},{c}" for c, (cx, cy) in enumerate([(-3, -3), (3, -3), (0, 3)])
                              for x, y in [(cx - 0.5, cy), (cx + 0.5, cy), (cx, cy + 0.5), (cx, cy - 0.5)]]
    (tmp_path / "three.csv").write_text("\n".join(rows))
    page.set_input_files("#csv", str(tmp_path / "three.csv"))
    _wait(page, "pg.state.dataset === 'custom' && pg.state.points.length === 12 && pg.points.n_classes === 3 "
                "&& pg.last.output && pg.last.output.kind === 'multi'")
    _play_until(page, "pg.last.step >= 200", timeout_s=60)
    screenshot(page, "three-classes-csv")
    # a bad CSV is refused with a message; the page keeps its data
    (tmp_path / "bad.csv").write_text("1,2,0\n3,=cmd|' /c calc'!A0,1\n")
    page.set_input_files("#csv", str(tmp_path / "bad.csv"))
    _wait(page, "pg.errors.length === 1")
    assert "csv line 2" in page.evaluate("pg.errors[0]")
    assert page.evaluate("pg.state.points.length") == 12
    # a choice the server refuses (class labels for a regression set): the menu shows the real state again
    _click(page, "#ds-reg_plane", "pg.state.dataset === 'reg_plane' && pg.points.task === 'regression'")
    page.select_option("#loss", "binary_cross_entropy")
    _wait(page, "pg.errors.length === 2")
    assert "regression set" in page.evaluate("pg.errors[1]")
    assert page.input_value("#loss") == page.evaluate("pg.state.loss") == "auto"
    assert page.errors == []
