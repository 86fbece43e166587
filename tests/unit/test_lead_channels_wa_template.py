"""Pure tests of WhatsApp templates (lead_channels/core/wa_template.py)."""
from lead_channels_core import wa_template as t


def test_param_count_is_the_highest_placeholder():
    assert t.param_count("Hi {{1}}, your viewing of {{2}} is at {{ 3 }}.") == 3
    assert t.param_count("Hi {{1}}, {{1}} again") == 1
    assert t.param_count("No parameter") == 0
    assert t.param_count(None) == 0


def test_parse_template_reads_body_status_category():
    item = {"name": "viewing_reminder", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "id": "123", "components": [{"type": "HEADER", "format": "TEXT", "text": "Reminder"},
                                        {"type": "BODY", "text": "Hi {{1}}, see you at {{2}}."}]}
    assert t.parse_template(item) == {
        "name": "viewing_reminder", "language": "en_US", "status": "approved", "category": "utility",
        "body": "Hi {{1}}, see you at {{2}}.", "param_count": 2}
    assert t.parse_template({"name": "x", "language": "ms", "status": "PENDING_DELETION"})["status"] == "deleted"
    assert t.parse_template({"name": "x", "language": "ms", "status": "WEIRD"})["status"] == "other"
    assert t.parse_template({"name": "x"}) is None
    assert t.parse_template("junk") is None


def test_next_page_stays_on_the_graph_url():
    base = "http://127.0.0.1:8000/v21.0"
    assert t.next_page_path({"next": base + "/W1/message_templates?after=Q"}, base) == "W1/message_templates?after=Q"
    assert t.next_page_path({"cursors": {"after": "Q"}}, base) == ""
    assert t.next_page_path(None, base) == ""
    assert t.next_page_path({"next": "https://evil.example/steal"}, base) is None


def test_params_missing_empty_or_too_many():
    assert t.split_params("Ahmad\n Saturday 10am \n") == ["Ahmad", "Saturday 10am"]
    assert t.check_params(["Ahmad", "Sat"], 2) == (None, 0)
    assert t.check_params(["Ahmad"], 2) == (t.MISSING, 2)
    assert t.check_params(["", "Sat"], 2) == (t.MISSING, 1)
    assert t.check_params(["a", "b", "c"], 2) == (t.TOO_MANY, 3)
    assert t.check_params([], 0) == (None, 0)


def test_components_and_render():
    assert t.body_components([]) == []
    assert t.body_components(["Ahmad", "Sat"]) == [{"type": "body", "parameters": [
        {"type": "text", "text": "Ahmad"}, {"type": "text", "text": "Sat"}]}]
    assert t.render("Hi {{1}}, at {{2}}", ["Ahmad"]) == "Hi Ahmad, at {{2}}"
