"""Every singer-sdk internal the tap relies on (tap_convai/sdk.py), checked against the
installed SDK: a release that renames or reshapes one fails here, by name."""

from __future__ import annotations

import ast
import inspect
import pathlib

import pytest
import requests
from singer_sdk import RESTStream, Stream, Tap
from singer_sdk.helpers import _catalog

from tap_convai.sdk import SeamStream, SeamTap
from tap_convai.tap import TapConvAI
from tests.support.config import sandbox_config

#: (SDK class, private method, its parameters after self) that the seam overrides or calls
METHODS = [
    (Tap, "_validate_config", ["raise_errors"]),
    (Tap, "_handle_termination", ["signum", "frame"]),
    (Stream, "_write_record_message", ["record"]),
    (Stream, "_process_record", ["record", "child_context", "partition_context"]),
    (Stream, "_increment_stream_state", ["latest_record", "context"]),
    (Stream, "_write_state_message", []),
]


@pytest.mark.parametrize(("owner", "name", "params"), METHODS,
                         ids=[f"{o.__name__}.{n}" for o, n, _ in METHODS])
def test_private_method_is_there_with_its_parameters(owner, name, params):
    method = getattr(owner, name, None)
    assert callable(method), f"singer-sdk {owner.__name__}.{name} is gone"
    found = [p for p in inspect.signature(method).parameters if p != "self"]
    assert found == params, f"singer-sdk {owner.__name__}.{name} now takes {found}"


@pytest.mark.parametrize("name", [n for _, n, _ in METHODS])
def test_the_seam_overrides_or_calls_only_these(name):
    seam = SeamTap if name in ("_validate_config", "_handle_termination") else SeamStream
    assert name in vars(seam) or name == "_write_state_message"


def test_private_helper_selection_is_there():
    params = list(inspect.signature(_catalog.pop_deselected_record_properties).parameters)
    assert params[:3] == ["record", "schema", "mask"]


def test_private_attributes_exist_on_a_real_stream():
    tap = TapConvAI(config=sandbox_config("http://127.0.0.1:9"))
    stream = tap.streams["airgentic_records"]
    assert stream.run is tap.run  # Stream._tap
    assert stream.installed_session is not None  # Stream._requests_session
    assert hasattr(stream, "_stream_version")  # RECORD version on the direct path
    assert hasattr(stream.state_manager, "is_flushed")  # final STATE after direct writes


def _sdk_private_names() -> tuple[set[str], set[str]]:
    """The private methods and attributes singer-sdk defines anywhere in its source."""
    import singer_sdk

    methods: set[str] = set()
    attributes: set[str] = set()
    for path in pathlib.Path(singer_sdk.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                attributes.add(node.attr)
    private = {n for n in methods | attributes
               if n.startswith("_") and not n.startswith("__") and not n.endswith("_")}
    return methods & private, attributes & private


def test_the_seam_is_the_only_module_touching_sdk_internals():
    """An allow-list: outside sdk.py no module imports a private singer-sdk module,
    overrides a private SDK method, or reads a private name the SDK defines (unless the
    module defines that name on its own objects)."""
    import tap_convai

    methods, attributes = _sdk_private_names()
    root = pathlib.Path(tap_convai.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.name == "sdk.py":
            continue
        tree = ast.parse(path.read_text())
        own = {n.attr for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in methods:
                used.add(f"def {node.name}")
            elif isinstance(node, ast.Attribute) and node.attr in (methods | attributes) - own:
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "singer_sdk") and any(p.startswith("_") for p in node.module.split(".")):
                used.add(f"import {node.module}")
        assert not used, f"{path.relative_to(root)} uses SDK internals {sorted(used)}: " \
            "go through tap_convai/sdk.py"


def test_the_allow_list_catches_an_internal():
    """The check above is not vacuous: the seam itself uses names it would refuse."""
    methods, attributes = _sdk_private_names()
    assert {"_write_record_message", "_validate_config"} <= methods
    assert {"_tap", "_requests_session", "_stream_version"} <= attributes


def test_the_sdk_sends_with_the_session_the_seam_installs():
    tap = TapConvAI(config=sandbox_config("http://127.0.0.1:9"))
    stream = tap.streams["airgentic_records"]
    session = requests.Session()
    stream.install_session(session)
    assert RESTStream.requests_session.fget(stream) is session
