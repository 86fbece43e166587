"""Pure tests of the conversation state (lead_channels/core/conversation.py)."""
from datetime import datetime

from lead_channels_core import conversation as c

T0 = datetime(2026, 11, 23, 10, 0)
T1 = datetime(2026, 11, 23, 10, 5)


def test_preview_is_one_line_and_cut():
    assert c.preview("Hi,\n\n  is the unit   available?") == "Hi, is the unit available?"
    cut = c.preview("x" * 300)
    assert len(cut) == c.PREVIEW_LENGTH and cut.endswith("\u2026")
    assert c.preview(None) == ""


def test_customer_last_awaits_reply():
    values = c.conversation_values([(1, T0, 10, c.OUTBOUND, "Hello"), (1, T1, 11, c.INBOUND, "Price?")])
    assert values[1] == {"channel_last_message": "Price?", "channel_awaiting_reply": True,
                         "channel_last_inbound_date": T1, "channel_last_message_date": T1}


def test_agent_last_clears_and_keeps_inbound_date():
    values = c.conversation_values([(1, T0, 10, c.INBOUND, "Price?"), (1, T1, 11, c.OUTBOUND, "RM 500k")])
    assert values[1] == {"channel_last_message": "RM 500k", "channel_awaiting_reply": False,
                         "channel_last_inbound_date": T0, "channel_last_message_date": T1}


def test_same_date_newest_id_wins_and_outbound_only_has_no_inbound_date():
    values = c.conversation_values([(2, T0, 5, c.INBOUND, "a"), (2, T0, 6, c.OUTBOUND, "b"),
                                    (3, T0, 7, c.OUTBOUND, "c")])
    assert values[2]["channel_awaiting_reply"] is False
    assert "channel_last_inbound_date" not in values[3]


def test_elapsed_units():
    assert c.elapsed(59) == (0, "min")
    assert c.elapsed(3599) == (59, "min")
    assert c.elapsed(7200) == (2, "h")
    assert c.elapsed(3 * 86400 + 5) == (3, "d")
    assert c.elapsed(-5) == (0, "min")


def test_late_older_batch_only_moves_inbound_date():
    late = c.conversation_values([(1, T0, 9, c.INBOUND, "Price?")])[1]
    assert c.merge_stored(late, None, T1) == {"channel_last_inbound_date": T0}
    assert c.merge_stored(late, T1, T1) == {}
    newer = c.conversation_values([(1, T1, 12, c.INBOUND, "Still there?")])[1]
    assert c.merge_stored(newer, T0, T0) == newer
