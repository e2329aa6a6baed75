"""External tensor data stays inside the model's folder, symbolic links included.

ONNX initializers stored as external data name a file by its ``location`` relative to the
model. drsn resolves that file with realpath and refuses (InvalidModelError naming the
location and where it leads) any that is not inside the model's folder: an absolute
location, ``..``, a symbolic link to a file outside, or a path through a symbolic link to a
folder outside. A normal external-data model, and symbolic links that stay inside, load
and agree with onnxruntime. (test_errors.py covers missing files and loads from memory.)
"""

import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

import drsn
from oracle import make_model, node, ort_run, ort_session

pytestmark = pytest.mark.usefixtures("needs_library")


def conv_model() -> onnx.ModelProto:
    rng = np.random.default_rng(11)
    nodes = [node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
             node("Relu", ["c"], ["y"])]
    inits = {"w": rng.uniform(-1, 1, (4, 2, 3)).astype(np.float32),
             "b": rng.uniform(-1, 1, 4).astype(np.float32)}
    return make_model(nodes, [("x", ["N", 2, 16])], ["y"], inits)


def save_external(folder: Path, location: str = "weights.bin") -> Path:
    """The model saved in `folder` with every initializer in `folder/location`."""
    (folder / location).parent.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save_model(conv_model(), path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return path


def set_location(path: Path, location: str) -> None:
    """Rewrites every initializer's external `location` entry of the model at `path`."""
    model = onnx.load(path, load_external_data=False)
    for init in model.graph.initializer:
        for entry in init.external_data:
            if entry.key == "location":
                entry.value = location
    path.write_bytes(model.SerializeToString())


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(drsn.InvalidModelError) as info:
        drsn.Model(path)
    message = str(info.value)
    assert info.value.status == 3
    missing = [n for n in needles if n not in message]
    assert not missing, f"message lacks {missing}: {message}"
    return message


def test_external_data_model_matches_onnxruntime(tmp_path):
    path = save_external(tmp_path / "models")
    x = np.random.default_rng(3).uniform(-2, 2, (3, 2, 16)).astype(np.float32)
    expected = ort_run(ort_session(onnx.load(path)), {"x": x})["y"]
    with drsn.Model(path) as m:
        np.testing.assert_allclose(m.run(x)[0], expected, rtol=1e-5, atol=1e-5)


def test_symlink_to_a_file_outside_is_refused(tmp_path):
    path = save_external(tmp_path / "models")
    outside = tmp_path / "outside.bin"
    shutil.move(tmp_path / "models" / "weights.bin", outside)
    (tmp_path / "models" / "weights.bin").symlink_to(outside)
    message = refused(path, "weights.bin", "not inside the model's folder", str(outside.resolve()))
    assert "symbolic link" in message


def test_relative_symlink_leaving_the_folder_is_refused(tmp_path):
    path = save_external(tmp_path / "models")
    shutil.move(tmp_path / "models" / "weights.bin", tmp_path / "outside.bin")
    (tmp_path / "models" / "weights.bin").symlink_to("../outside.bin")
    refused(path, "weights.bin", "not inside the model's folder")


def test_path_through_a_symlinked_folder_outside_is_refused(tmp_path):
    path = save_external(tmp_path / "models", location="data/weights.bin")
    shutil.move(tmp_path / "models" / "data", tmp_path / "elsewhere")
    (tmp_path / "models" / "data").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    refused(path, "data/weights.bin", "not inside the model's folder")


def test_dotdot_location_is_refused(tmp_path):
    path = save_external(tmp_path / "models")
    shutil.move(tmp_path / "models" / "weights.bin", tmp_path / "x.bin")
    set_location(path, "../x.bin")
    refused(path, "../x.bin")


def test_absolute_location_is_refused(tmp_path):
    path = save_external(tmp_path / "models")
    set_location(path, str(tmp_path / "models" / "weights.bin"))
    refused(path, "absolute")


def test_symlink_inside_the_folder_loads(tmp_path):
    """Unlike onnx.load, which refuses every symbolic link, drsn follows links that stay
    inside the folder."""
    path = save_external(tmp_path / "models", location="store/real.bin")
    x = np.ones((1, 2, 16), np.float32)
    expected = ort_run(ort_session(onnx.load(path)), {"x": x})["y"]
    (tmp_path / "models" / "alias.bin").symlink_to("store/real.bin")
    set_location(path, "alias.bin")
    with drsn.Model(path) as m:
        np.testing.assert_allclose(m.run(x)[0], expected, rtol=1e-5, atol=1e-5)


def test_model_reached_through_a_symlinked_folder_loads(tmp_path):
    """The folder is resolved as well, so a model opened through a link to its folder
    still finds its data inside."""
    save_external(tmp_path / "models")
    (tmp_path / "link").symlink_to(tmp_path / "models", target_is_directory=True)
    with drsn.Model(tmp_path / "link" / "model.onnx") as m:
        assert m.run(np.ones((1, 2, 16), np.float32))[0].shape == (1, 4, 16)


def test_model_in_the_working_directory_loads(tmp_path, monkeypatch):
    """A bare file name: the folder is the working directory."""
    save_external(tmp_path)
    monkeypatch.chdir(tmp_path)
    with drsn.Model("model.onnx") as m:
        assert m.run(np.ones((2, 2, 16), np.float32))[0].shape == (2, 4, 16)


def test_dangling_symlink_is_a_file_error(tmp_path):
    path = save_external(tmp_path / "models")
    os.remove(tmp_path / "models" / "weights.bin")
    (tmp_path / "models" / "weights.bin").symlink_to(tmp_path / "models" / "gone.bin")
    with pytest.raises(drsn.FileError, match="weights.bin"):
        drsn.Model(path)
