"""The error tree and the status -> error helper."""

from __future__ import annotations

import pytest

from pendo_nb import errors
from pendo_nb.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PendoAPIError,
    PendoError,
    RateLimitError,
    ServerError,
    WriteAccessError,
    error_for_status,
)

URL = "https://app.pendo.io/api/v1/aggregation"


def make(status, body="", **kwargs):
    return error_for_status(
        status, method="POST", url=URL, body=body, host="app.pendo.io", **kwargs
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, BadRequestError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (408, ServerError),
        (409, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, PendoAPIError),
    ],
)
def test_status_picks_the_class(status, expected):
    error = make(status)
    assert type(error) is expected
    assert error.status == status
    assert isinstance(error, PendoError)


def test_a_403_on_a_write_is_a_write_access_error_with_its_hint():
    error = make(403, "Key is invalid", is_write=True)
    assert type(error) is WriteAccessError
    assert "read-only" in error.hint and "Allow Write Access" in error.hint


def test_region_mismatch_names_the_host_of_the_key_suffix():
    error = make(403, "Key is invalid", key_host="app.eu.pendo.io")
    assert "app.eu.pendo.io" in error.hint and "app.pendo.io" in error.hint
    assert "app.eu.pendo.io" in str(error)


def test_auth_error_without_a_suffix_still_hints_at_region_and_key():
    error = make(401, "no key")
    assert "region" in error.hint


def test_rate_limit_hint():
    assert "rate_limit" in make(429).hint


def test_bad_request_carries_the_engine_message_and_position():
    body = 'Cannot parse pipeline[1].filter expression: unexpected end at position 13 in "a == "'
    error = make(400, body)
    assert error.position == 13
    assert "character 13" in error.hint
    assert "Cannot parse pipeline[1].filter" in str(error)


def test_bad_request_without_position():
    assert make(400, "No IDs in payload").position is None


def test_message_carries_status_method_url_request_id_and_body_start():
    error = make(500, "x" * 5000, request_id="req-42")
    text = str(error)
    assert text.startswith(f"500 from POST {URL}")
    assert "request id: req-42" in text
    assert len(error.body) == errors.BODY_PREVIEW_CHARS


def test_the_key_is_masked_in_a_body_that_echoes_it():
    key = "0123456789abcdef0123456789abcdef.eu"
    error = make(403, f"Key {key} is invalid", secret=key)
    assert key not in str(error) and key not in error.body
    assert "***" in error.body


def test_value_errors_are_library_errors_too():
    assert issubclass(errors.PipelineError, ValueError)
    assert issubclass(errors.PipelineError, PendoError)
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.PendoTimeoutError, errors.PendoConnectionError)


def test_the_tree_in_the_docstring_lists_every_class():
    for name in errors.__all__:
        if name[0].isupper():
            assert name in errors.__doc__, name
