"""Deduction keys: formatted and parsed in one place, and the keys the assessment emits parse back."""
from __future__ import annotations

import pytest

from scoring.keys import DeductionKey


@pytest.mark.parametrize("text, incident, secondary, referral, daily", [
    ("12:response:late", 12, None, None, None),
    ("12:-:few_channels", 12, None, None, None),
    ("7:secondary-9:secondary_incident", 7, 9, None, None),
    ("7:referral-3:referral_late", 7, None, 3, None),
    ("daily-41", None, None, None, 41),
])
def test_keys_round_trip(text, incident, secondary, referral, daily):
    key = DeductionKey.parse(text)
    assert key is not None
    assert (key.incident_id, key.secondary_id, key.referral_id, key.daily_id) == (incident, secondary, referral, daily)
    assert key.format() == text


@pytest.mark.parametrize("text", ["", "12", "12:response", "x:response:late", "12:Response:late", "daily-", "daily-x",
                                  "12:secondary-:secondary_incident", "1:response:late:extra", "9" * 25 + ":-:x"])
def test_what_is_not_a_key_is_refused(text):
    assert DeductionKey.parse(text) is None
