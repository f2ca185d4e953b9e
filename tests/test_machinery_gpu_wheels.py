"""The wheels the GPU machine lacks (machinery/gpu/wheels.py), offline: the
requirement walk on synthetic wheels, the target's markers and tags, and the device's
check of its own packages."""

import importlib.metadata
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from machinery.__main__ import main
from machinery.gpu import wheels as gpu_wheels


def make_wheel(
    folder: Path, name: str, version: str, requires=(), tag="py3-none-any"
) -> Path:
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{dist}.dist-info/METADATA", meta)
    return path


@pytest.fixture
def index(tmp_path):
    """A fake package index: name -> wheel, and a fetch that records what was
    asked for."""
    wheels = {
        "app": make_wheel(
            tmp_path,
            "app",
            "1.0",
            [
                "lib-a>=1",
                "numpy>=1.20",
                "lib-b; python_version < '3.10'",
                "lib-c; extra == 'docs'",
                "lib-d; sys_platform == 'win32'",
                "debugpy>=1.6",
                "Lib_E (>=2.0)",
            ],
        ),
        "lib-a": make_wheel(tmp_path, "lib-a", "1.5", ["lib-e<3", "packaging"]),
        "lib-e": make_wheel(
            tmp_path,
            "lib-e",
            "2.4",
            ["lib-a"],
            tag="cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        ),
    }
    asked = []

    def fetch(reqs):
        asked.append([str(r) for r in reqs])
        return [wheels[canonicalize_name(r.name)] for r in reqs]

    return wheels, fetch, asked


def test_resolve_walks_requires_dist_and_stops_at_what_is_there(index):
    wheels, fetch, asked = index
    got, versions, present_needs, left_out = gpu_wheels.resolve(
        ["app==1.0"],
        fetch,
        present=frozenset({"numpy", "packaging"}),
        optional=frozenset({"debugpy"}),
    )
    assert versions == {
        "app": "1.0",
        "lib-a": "1.5",
        "lib-e": "2.4",
    }  # each once, cycle a<->e ends
    assert set(got.values()) == {wheels["app"], wheels["lib-a"], wheels["lib-e"]}
    assert present_needs == {"numpy": {">=1.20"}, "packaging": {""}}
    assert left_out == {"debugpy"}
    assert sum(len(a) for a in asked) == 3  # nothing fetched twice
    assert not any(
        "lib-b" in r or "lib-c" in r or "lib-d" in r for a in asked for r in a
    )


def test_resolve_reports_conflicting_needs(tmp_path):
    wheels = {
        "app": make_wheel(tmp_path, "app", "1.0", ["lib-a<2"]),
        "lib-a": make_wheel(tmp_path, "lib-a", "2.1", []),
    }
    # a root pins lib-a 2.1 and app needs lib-a<2: the walk must say so rather than
    # bundle it
    with pytest.raises(ValueError, match="lib-a 2.1 does not meet <2"):
        gpu_wheels.resolve(
            ["lib-a==2.1", "app"],
            lambda reqs: [wheels[r.name] for r in reqs],
            present=frozenset(),
        )


def test_markers_are_evaluated_for_python_312_linux():
    reqs = gpu_wheels.needed(
        [
            "a; python_version >= '3.12'",
            "b; python_version < '3.12'",
            "c; platform_system == 'Darwin'",
            "d; extra == 'test'",
            "e; sys_platform != 'win32'",
            "f",
        ]
    )
    assert [r.name for r in reqs] == ["a", "e", "f"]


def test_wheel_tags_for_the_gpu_machine(tmp_path):
    ok = [
        "x-1-py3-none-any.whl",
        "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        (
            "x-1-cp311-abi3-manylinux1_x86_64.manylinux_2_28_x86_64."
            "manylinux_2_5_x86_64.whl"
        ),
        "x-1-py2.py3-none-any.whl",
    ]
    bad = [
        "x-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "x-1-cp312-cp312-macosx_11_0_arm64.whl",
        "x-1-cp312-cp312-manylinux_2_17_aarch64.whl",
        "x-1-cp312-cp312-manylinux_2_34_x86_64.whl",
        "x-1-cp312-cp312-musllinux_1_2_x86_64.whl",
    ]
    assert all(gpu_wheels.check_tags(Path(n)) for n in ok)
    assert not any(gpu_wheels.check_tags(Path(n)) for n in bad)


def test_wheel_metadata_reads_name_version_and_requires(tmp_path):
    meta = gpu_wheels.wheel_metadata(
        make_wheel(tmp_path, "Some_Pkg", "0.3", ["numpy>=2", "rich; extra == 'x'"])
    )
    assert meta == {
        "name": "some-pkg",
        "version": "0.3",
        "requires": ["numpy>=2", "rich; extra == 'x'"],
    }


def test_pin_prefers_the_tested_local_version():
    here = importlib.metadata.version("packaging")
    assert gpu_wheels.pin(Requirement("packaging")) == f"packaging=={here}"
    assert gpu_wheels.pin(Requirement("packaging<1")) == "packaging<1"
    assert (
        gpu_wheels.pin(Requirement("surely-not-installed-pkg>=1"))
        == "surely-not-installed-pkg>=1"
    )


def test_check_on_the_device(tmp_path, capsys):
    (tmp_path / "present-needs.txt").write_text(
        "packaging>=1\nsurely-not-installed-pkg\n"
    )
    assert main(["gpu", "check", "--dest", str(tmp_path)]) == 1
    assert "surely-not-installed-pkg: missing" in capsys.readouterr().out
    (tmp_path / "present-needs.txt").write_text("packaging>=1\n")
    assert main(["gpu", "check", "--dest", str(tmp_path)]) == 0
