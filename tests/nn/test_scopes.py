"""The spec-named view of a network (what TensorBoard's graph shows) shares the network's modules."""

import torch

from trainlab.nn.scopes import display_names, scope_names, scoped
from trainlab.nn.spec import build


def test_mlp_scopes_are_the_lectures_layers_and_share_the_modules():
    net = build({"mlp": {"hidden": 10, "depth": 3, "activation": "sigmoid", "batchnorm": True, "dropout": 0.2}}, (2,), 1)
    view = scoped(net).eval()
    net.eval()
    assert scope_names(net) == ["Layer1", "Layer2", "Layer3", "Output"]
    x = torch.randn(5, 2)
    assert torch.equal(view(x), net(x))
    assert {id(p) for p in view.parameters()} == {id(p) for p in net.parameters()}  # no copy
    names = display_names(net)
    assert names["layers.0"] == "Layer1/Linear" and names["layers.2"] == "Layer1/Sigmoid"
    assert names[f"layers.{len(net.layers) - 1}"] == "Output/Linear"


def test_layers_spec_scopes_are_spec_paths():
    net = build({"layers": [{"dense": 8}, "relu", {"residual": [{"dense": 8}, "tanh"]}, {"dense": "auto"}]}, (4,), 3)
    assert scope_names(net) == ["layers[0]", "layers[1]", "layers[2]", "layers[3]"]
    x = torch.randn(2, 4)
    assert torch.equal(scoped(net)(x), net(x))
    assert display_names(net)["layers.2.body.0"] == "layers[2]/body.0"


def test_a_plain_module_is_left_as_it_is():
    m = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert scoped(m) is m and scope_names(m) == [] and display_names(m) == {}
