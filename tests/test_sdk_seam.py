"""Every singer-sdk internal the tap relies on (tap_convai/sdk.py), checked against the
installed SDK: a release that renames or reshapes one fails here, by name."""

from __future__ import annotations

import inspect
import re

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
    assert stream.tap is tap  # Stream._tap
    assert stream.installed_session is not None  # Stream._requests_session
    assert hasattr(stream, "_stream_version")  # RECORD version on the direct path
    assert hasattr(stream.state_manager, "is_flushed")  # final STATE after direct writes


def test_the_seam_is_the_only_module_touching_sdk_internals():
    import pathlib

    import tap_convai

    root = pathlib.Path(tap_convai.__file__).parent
    private = re.compile(
        r"\b(_validate_config|_handle_termination|_write_record_message|_process_record"
        r"|_increment_stream_state|_write_state_message|_requests_session|_stream_version"
        r"|_tap|_request|_sync_records|_config)\b|singer_sdk\.helpers\._"
    )
    for path in root.rglob("*.py"):
        if path.name == "sdk.py":
            continue
        used = sorted({m.group(0) for m in private.finditer(path.read_text())})
        assert not used, f"{path.relative_to(root)} uses SDK internals {used}"


def test_the_sdk_sends_with_the_session_the_seam_installs():
    tap = TapConvAI(config=sandbox_config("http://127.0.0.1:9"))
    stream = tap.streams["airgentic_records"]
    session = requests.Session()
    stream.install_session(session)
    assert RESTStream.requests_session.fget(stream) is session
