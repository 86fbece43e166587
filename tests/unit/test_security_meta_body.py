"""Deeply nested bodies are refused with a short reason, never a crash."""
import json

import pytest
from lead_channels_core import meta


@pytest.mark.parametrize("depth", [33, 500, 999, 1000, 100000])
def test_deep_nesting_is_a_payload_error(depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        if body.startswith("["):
            body = '{"entry": %s}' % body
        with pytest.raises(meta.PayloadError, match="nested too deeply|must be an object"):
            meta.load_body(body.encode())


def test_meta_shapes_and_moderate_nesting_still_load():
    delivery = {"object": "page", "entry": [{"changes": [{"value": {"a": [[[[{"b": 1}]]]]}}]}]}
    assert meta.load_body(json.dumps(delivery).encode()) == delivery
    nested = {"a": 1}
    for _i in range(30):
        nested = {"n": nested}
    assert meta.load_body(json.dumps(nested).encode()) == nested
