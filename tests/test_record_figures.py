"""The demo fixture says what the public record says: every funding figure, date and tally, the
positions' stances, dates and sources, checked against `../shared/domain/negotiation-2023-24.yaml`
so the two cannot drift apart. Skipped where the shared folder is not beside the checkout."""

from pathlib import Path

import pytest
import yaml

from tracker.demo import DEMO_FIXTURE

RECORD = Path(__file__).resolve().parents[2] / "shared" / "domain" / "negotiation-2023-24.yaml"

pytestmark = pytest.mark.skipif(not RECORD.exists(), reason=f"{RECORD} is not here")

MILLION = 1_000_000
# The record's funding columns and the fixture's versions they are.
COLUMNS = {
    "biden_request": "request",
    "senate_deal": "senate_deal",
    "senate_passed_feb13": "senate_passed",
    "final_law": "enacted",
}
# The timeline entry that dates each version.
VERSION_DAYS = {"t03": "request", "t14": "senate_deal", "t19": "senate_passed", "t23": "enacted"}
# Figures the fixture shows as confirmed although the record's row is marked unconfirmed: each
# with the words of the row's notes that confirm that one column.
CONFIRMED_BY_NOTES = {
    ("israel_security", "biden_request"): "Request and deal figures confirmed",
    ("israel_security", "senate_deal"): "Request and deal figures confirmed",
    ("humanitarian", "biden_request"): "Request had $9.15B global humanitarian",
    ("indo_pacific", "senate_deal"): "Deal $4.83B and final H.R. 8036 $8.12B confirmed",
    ("indo_pacific", "final_law"): "Deal $4.83B and final H.R. 8036 $8.12B confirmed",
    ("border_shelter_grants", "biden_request"): "Request confirmed",
    ("border_fentanyl", "biden_request"): "Request confirmed",
    ("centcom_red_sea", "senate_deal"): "Deal figure confirmed",
    ("refugees_displaced", "biden_request"): "Request figure is the Ukraine-arrivals line only",
    ("refugees_displaced", "senate_deal"): "Final amount unconfirmed",
    ("nonprofit_security_grants", "senate_deal"): "Deal figure confirmed",
    ("equip_inspection_machines", "senate_deal"): "Deal figure from the Feb 2024 SAP",
}
# The record's stakeholders as the fixture names them; its group positions go to each member.
STAKEHOLDERS = {
    "gop_four": ["susan-m-collins", "lisa-murkowski", "mitt-romney"],
    "senate_gop_hardliners": [
        "mike-lee",
        "rand-paul",
        "ted-cruz",
        "j-d-vance",
        "rick-scott",
        "marco-rubio",
    ],
    "biden": ["joe-biden"],
    "young": ["shalanda-young"],
    "mayorkas": ["alejandro-mayorkas"],
    "blinken": ["antony-blinken"],
    "sherwood_randall": ["liz-sherwood-randall"],
    "amlo": ["andres-manuel-lopez-obrador"],
    "barcena": ["alicia-barcena"],
    "lankford": ["james-lankford"],
    "murphy": ["christopher-murphy"],
    "sinema": ["kyrsten-sinema"],
    "schumer": ["charles-e-schumer"],
    "mcconnell": ["mitch-mcconnell"],
    "thune": ["john-thune"],
    "cornyn": ["john-cornyn"],
    "murray": ["patty-murray"],
    "padilla": ["alex-padilla"],
    "menendez": ["robert-menendez"],
    "sanders": ["bernard-sanders"],
    "johnson": ["mike-johnson"],
    "jeffries": ["hakeem-jeffries"],
    "gonzales": ["tony-gonzales"],
    "freedom_caucus": ["house-freedom-caucus"],
    "chc": ["congressional-hispanic-caucus"],
    "jayapal": ["pramila-jayapal"],
    "trump": ["donald-trump"],
    "abbott": ["greg-abbott"],
    "desantis": ["ron-desantis"],
    "adams": ["eric-adams"],
    "nbpc": ["national-border-patrol-council"],
    "aclu": ["american-civil-liberties-union"],
    "hrw": ["human-rights-watch"],
    "aic": ["american-immigration-council"],
    "cis": ["center-for-immigration-studies"],
    "zelensky": ["volodymyr-zelensky"],
}
RECORD_DEMANDS = {
    "link_border_to_aid": "link-border-to-aid",
    "mexico_cooperation": "mexico-cooperation",
    "deportation_flights": "deportation-flights",
}
STANCES = {
    "support": "firm_support",
    "oppose": "firm_oppose",
    "demand": "firm_support",
    "mixed": "undecided",
    "neutral": "undecided",
}


@pytest.fixture(scope="module")
def record() -> dict:
    return yaml.safe_load(RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fixture() -> dict:
    return yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))


def _slug(record_id: str) -> str:
    return record_id.replace("_", "-")


def test_every_funding_figure_is_the_records(record: dict, fixture: dict) -> None:
    provisions = {entry["slug"]: entry for entry in fixture["provisions"]}
    checked = 0
    for row in record["funding_provisions"]:
        if row["id"] == "total":
            continue
        lines = provisions[_slug(row["id"])].get("lines") or {}
        scale = MILLION if row["unit"] == "usd_m" else 1
        for column, version in COLUMNS.items():
            figure = row[column]
            amount = (lines.get(version) or {}).get("amount")
            expected = None if figure is None else figure * scale
            assert amount == expected, (row["id"], column, amount, expected)
            checked += figure is not None
    assert checked > 50


def test_every_stated_topline_is_the_records_total(record: dict, fixture: dict) -> None:
    total = next(row for row in record["funding_provisions"] if row["id"] == "total")
    versions = {entry["slug"]: entry for entry in fixture["versions"]}
    for column, version in COLUMNS.items():
        assert versions[version]["stated_total"] == total[column] * MILLION, column


def test_no_figure_the_record_leaves_unconfirmed_is_shown_as_confirmed(
    record: dict, fixture: dict
) -> None:
    provisions = {entry["slug"]: entry for entry in fixture["provisions"]}
    for row in record["funding_provisions"]:
        if row["id"] == "total" or row["confirmed"]:
            continue
        lines = provisions[_slug(row["id"])].get("lines") or {}
        for column, version in COLUMNS.items():
            line = lines.get(version) or {}
            if row[column] in (None, 0) or not line.get("confirmed", True):
                continue
            why = CONFIRMED_BY_NOTES.get((row["id"], column))
            assert why, f"{row['id']} {column}: confirmed in the fixture, not in the record"
            assert why in row["notes"], (row["id"], column)


def test_every_version_is_dated_as_the_record_dates_it(record: dict, fixture: dict) -> None:
    days = {entry["id"]: entry["date"] for entry in record["timeline"]}
    versions = {entry["slug"]: entry for entry in fixture["versions"]}
    for timeline_id, version in VERSION_DAYS.items():
        assert versions[version]["date"] == days[timeline_id], version


def test_every_timeline_date_and_its_confirmation_are_the_records(
    record: dict, fixture: dict
) -> None:
    assert len(fixture["timeline"]) == len(record["timeline"])
    for event, entry in zip(record["timeline"], fixture["timeline"], strict=True):
        # A month-only date of the record is the 1st of that month, flagged unconfirmed.
        assert entry["date"].startswith(event["date"]), (event["id"], entry["date"])
        if len(event["date"]) < 10 or not event["confirmed"]:
            assert entry["confirmed"] is False, event["id"]
        sources = dict(zip(event["sources"], event["source_types"], strict=True))
        assert entry["source_url"] in sources, event["id"]
        if "primary" in sources.values():
            assert sources[entry["source_url"]] == "primary", event["id"]


def _match_votes(record: dict, fixture: dict) -> list[tuple[dict, dict]]:
    """Each record vote with the fixture's: by chamber, day and roll call where the record
    numbers it, else by chamber, day and bill, in the record's order."""
    taken: set[str] = set()
    pairs = []
    for vote in record["votes"]:
        bill = vote["bill"] and "118-" + "-".join(
            [
                "".join(c for c in vote["bill"].lower() if c.isalpha()),
                "".join(c for c in vote["bill"] if c.isdigit()),
            ]
        )
        found = next(
            entry
            for entry in fixture["votes"]
            if entry["key"] not in taken
            and entry["chamber"] == vote["chamber"]
            and str(entry["voted_at"])[:10] == vote["date"]
            and entry["roll_number"] == vote["roll_call"]
            and (vote["roll_call"] is not None or entry["bill"] == bill)
        )
        taken.add(found["key"])
        pairs.append((vote, found))
    return pairs


def test_every_tally_date_and_roll_number_is_the_records(record: dict, fixture: dict) -> None:
    pairs = _match_votes(record, fixture)

    assert len(pairs) == len(record["votes"])
    for vote, entry in pairs:
        for field in ("yeas", "nays", "present", "not_voting"):
            if vote[field] is not None:
                assert entry[field] == vote[field], (vote["id"], field)
        # No roll number the record does not confirm.
        assert entry["roll_number"] == vote["roll_call"], vote["id"]
        assert entry["confirmed"] == vote["confirmed"], vote["id"]
        sources = dict(zip(vote["sources"], vote["source_types"], strict=True))
        assert entry["source_url"] in sources, vote["id"]
        if "primary" in sources.values():
            assert sources[entry["source_url"]] == "primary", vote["id"]


def test_every_position_has_the_records_stance_date_and_source(record: dict, fixture: dict) -> None:
    stated = {
        (entry["stakeholder"], entry.get("provision") or entry.get("demand")): entry
        for entry in fixture["positions"]
        if not entry["derived_from_vote"]
    }
    seen = set()
    for position in record["positions"]:
        if position["stance"] == "unknown":
            # The record has no stance: none is invented.
            for slug in STAKEHOLDERS[position["stakeholder"]]:
                assert (slug, _slug(position["provision"])) not in stated
            continue
        target = RECORD_DEMANDS.get(position["provision"], _slug(position["provision"]))
        if position["provision"] == "hr2_package" and position["stance"] == "demand":
            target = "hr2-terms"  # the fixture's demand for H.R. 2-style terms
        for slug in STAKEHOLDERS[position["stakeholder"]]:
            entry = stated[slug, target]
            seen.add((slug, target))
            assert entry["stance"] == STANCES[position["stance"]], (slug, target)
            assert entry["as_of"].startswith(position["date"]), (slug, target)
            assert entry["source_url"] == position["source"], (slug, target)
            assert entry["source_type"] == position["source_type"], (slug, target)
            weak = position.get("source_quality") == "weak"
            assert (entry.get("source_quality") == "weak") == weak, (slug, target)
    assert seen == set(stated), set(stated) - seen


def test_positions_read_off_a_roll_call_cite_that_roll_call_as_primary(fixture: dict) -> None:
    votes = {entry["key"]: entry for entry in fixture["votes"]}
    derived = [entry for entry in fixture["positions"] if entry["derived_from_vote"]]

    assert len(derived) == 260
    for entry in derived:
        assert entry["source_url"] == votes[entry["derived_from_vote"]]["source_url"]
        assert entry["source_type"] == "primary"
