"""Validation of user input against a model spec, and coercion of typed text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seedream_tui import DEFAULT_MODEL_ID
from seedream_tui.schema import (
    FieldKind,
    ModelRegistry,
    ModelSpec,
    coerce_value,
    parse_schema,
    validate_input,
)

FLUX_ID = "blackforestlabs/flux-2/flash/text-to-image"


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return with_translation(ModelRegistry.bundled())


def with_translation(registry: ModelRegistry) -> ModelRegistry:
    """The bundled schemas and the tests' translated one (a fixture, not shipped), by key only."""
    from seedream_tui.schema import load_schema_file

    registry.add(load_schema_file(Path(__file__).resolve().parent / "fixtures" / "models" / "seed-original-zh.json"),
                 user=False)
    return registry


@pytest.fixture(scope="module")
def seedream(registry: ModelRegistry) -> ModelSpec:
    return registry.get(DEFAULT_MODEL_ID)


@pytest.fixture(scope="module")
def flux(registry: ModelRegistry) -> ModelSpec:
    return registry.get(FLUX_ID)


@pytest.fixture(scope="module")
def various() -> ModelSpec:
    return parse_schema(
        {
            "model_id": "acme/various",
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 5},
                "hd": {"type": "boolean"},
                "sizes": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
                "refs": {"type": "array", "items": {"type": "string", "format": "image_uri"}},
                "image": {"type": "string", "format": "image_uri"},
                "extra": {"type": "object"},
                "ratio": {"type": "number", "enum": [0.5, 1, 2]},
                "detail": {"type": "integer", "x-depends-on": {"field": "hd", "values": [True]}},
            },
        }
    )


def test_prompt_only_is_sent_as_is_without_defaults(seedream: ModelSpec) -> None:
    result = validate_input(seedream, {"prompt": "a cat on a windowsill"})
    assert result.ok and result.errors == {} and result.warnings == {}
    assert result.cleaned == {"prompt": "a cat on a windowsill"}  # the server applies its own defaults


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "Prompt is required."),
        ({"prompt": None}, "Prompt is required."),
        ({"prompt": "  \n\t "}, "Prompt must not be empty."),
        ({"prompt": 42}, "Prompt must be text, not a number."),
    ],
)
def test_prompt_required_and_not_blank(seedream: ModelSpec, values: dict[str, Any], message: str) -> None:
    result = validate_input(seedream, values)
    assert not result.ok and result.errors == {"prompt": message}
    assert "prompt" not in result.cleaned


def test_enum_membership_and_spelling(seedream: ModelSpec) -> None:
    bad = validate_input(seedream, {"prompt": "x", "resolution": "8K"})
    assert bad.errors["resolution"].startswith(
        "Resolution must be one of 2K, 3K, 2048x2048 (1:1), 2304x1728 (4:3)"
    )
    assert bad.errors["resolution"].endswith("4704x2016 (21:9).")
    good = validate_input(seedream, {"prompt": "x", "resolution": "3k", "output_format": "JPEG"})
    assert good.ok and good.cleaned == {"prompt": "x", "resolution": "3K", "output_format": "jpeg"}


def test_max_images_applies_only_with_sequential_auto(seedream: ModelSpec) -> None:
    on = validate_input(seedream, {"prompt": "x", "sequential_image_generation": "auto", "max_images": "3"})
    assert on.ok and on.cleaned["max_images"] == 3 and isinstance(on.cleaned["max_images"], int)
    too_many = validate_input(
        seedream, {"prompt": "x", "sequential_image_generation": "auto", "max_images": 16}
    )
    assert too_many.errors == {
        "max_images": "Max images must be one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15."
    }
    # disabled explicitly, or by the schema default: dropped, not an error, even when the value is bad
    for values in (
        {"prompt": "x", "sequential_image_generation": "disabled", "max_images": 4},
        {"prompt": "x", "max_images": 4},
        {"prompt": "x", "max_images": 99},
    ):
        result = validate_input(seedream, values)
        assert result.ok and "max_images" not in result.cleaned


def test_chinese_schema_validates_the_same_way(registry: ModelRegistry) -> None:
    zh = registry.get("seed-original-zh")
    on = validate_input(zh, {"prompt": "一只猫", "sequential_image_generation": "auto", "max_images": 2})
    assert on.ok and on.cleaned == {
        "prompt": "一只猫",
        "sequential_image_generation": "auto",
        "max_images": 2,
    }
    off = validate_input(zh, {"prompt": "一只猫", "max_images": 2})
    assert off.cleaned == {"prompt": "一只猫"}
    assert (
        validate_input(zh, {"resolution": "9K"})
        .errors["resolution"]
        .startswith("分辨率 must be one of 2K, 3K")
    )


def test_unknown_keys_are_named(seedream: ModelSpec) -> None:
    result = validate_input(seedream, {"prompt": "x", "foo": 1, "seed": 3})
    assert result.errors == {
        "foo": f"Unknown option 'foo' for {DEFAULT_MODEL_ID}.",
        "seed": f"Unknown option 'seed' for {DEFAULT_MODEL_ID}.",
    }
    assert result.cleaned == {"prompt": "x"}


def test_numbers_coerced_and_bounded(flux: ModelSpec) -> None:
    ok = validate_input(flux, {"prompt": "p", "guidance_scale": "2.5", "seed": "12"})
    assert ok.ok and ok.cleaned == {"prompt": "p", "guidance_scale": 2.5, "seed": 12}
    assert validate_input(flux, {"prompt": "p", "seed": 7.0}).cleaned["seed"] == 7
    cases = {
        "abc": "Guidance Scale must be a number, not 'abc'.",
        25: "Guidance Scale must be at most 20, not 25.",
        -0.5: "Guidance Scale must be at least 0, not -0.5.",
        True: "Guidance Scale must be a number, not true/false.",
        "inf": "Guidance Scale must be a finite number, not 'inf'.",
    }
    for value, message in cases.items():
        assert validate_input(flux, {"prompt": "p", "guidance_scale": value}).errors == {
            "guidance_scale": message
        }
    assert validate_input(flux, {"prompt": "p", "seed": 1.5}).errors == {
        "seed": "Seed must be a whole number, not a number."
    }
    assert validate_input(flux, {"prompt": "p", "seed": "1.5"}).errors == {
        "seed": "Seed must be a whole number, not '1.5'."
    }
    # a blank number field means "not set"
    assert validate_input(flux, {"prompt": "p", "seed": "  "}).cleaned == {"prompt": "p"}


def test_control_characters_refused_but_newlines_and_tabs_kept(seedream: ModelSpec) -> None:
    bad = validate_input(seedream, {"prompt": "a\x07b"})
    assert bad.errors["prompt"] == (
        "Prompt contains a control character (U+0007); only line breaks and tabs are allowed."
    )
    assert "U+001B" in validate_input(seedream, {"prompt": "red \x1b[31m"}).errors["prompt"]
    assert "U+0085" in validate_input(seedream, {"prompt": "next\x85line"}).errors["prompt"]
    good = validate_input(seedream, {"prompt": "line one\r\nline\ttwo"})
    assert good.ok and good.cleaned["prompt"] == "line one\nline\ttwo"


def test_long_prompt_is_a_warning_with_the_count(seedream: ModelSpec) -> None:
    result = validate_input(seedream, {"prompt": " ".join(["word"] * 601)})
    assert result.ok and result.cleaned["prompt"].count("word") == 601
    assert "601 words" in result.warnings["prompt"] and "600" in result.warnings["prompt"]
    assert validate_input(seedream, {"prompt": " ".join(["word"] * 600)}).warnings == {}


def test_other_kinds(various: ModelSpec) -> None:
    result = validate_input(
        various,
        {
            "name": "abc",
            "hd": "yes",
            "sizes": "1, 2,3",
            "refs": ["https://x/a.png", " https://x/b.png "],
            "image": " https://x/c.png ",
            "extra": '{"k": [1]}',
            "ratio": "1",
            "detail": "4",
        },
    )
    assert result.ok, result.errors
    assert result.cleaned == {
        "name": "abc",
        "hd": True,
        "sizes": [1, 2, 3],
        "refs": ["https://x/a.png", "https://x/b.png"],
        "image": "https://x/c.png",
        "extra": {"k": [1]},
        "ratio": 1,
        "detail": 4,
    }
    errors = validate_input(
        various,
        {"name": "a", "hd": "maybe", "sizes": [1, 2, 3, 4], "refs": "a,b\x00", "extra": "{", "ratio": 3},
    ).errors
    assert errors == {
        "name": "Name must have at least 2 characters (it has 1).",
        "hd": "Hd must be true or false, not 'maybe'.",
        "sizes": "Sizes must have at most 3 items (it has 4).",
        "refs": "Refs contains a control character (U+0000); only line breaks and tabs are allowed.",
        "extra": "Extra must be valid JSON.",
        "ratio": "Ratio must be one of 0.5, 1, 2.",
    }
    assert validate_input(various, {"sizes": ["x"]}).errors == {
        "sizes": "Sizes items must be a whole number, not 'x'."
    }
    # detail only applies with hd on
    assert validate_input(various, {"hd": False, "detail": 3}).cleaned == {"hd": False}
    assert validate_input(various, {"name": "   "}).cleaned == {}  # blank optional text: not set


def test_not_a_dict(seedream: ModelSpec) -> None:
    result = validate_input(seedream, ["prompt"])  # type: ignore[arg-type]
    assert result.errors == {"": "The input must be an object, not a list."} and result.cleaned == {}


def test_coerce_value(seedream: ModelSpec, flux: ModelSpec, various: ModelSpec) -> None:
    assert coerce_value(seedream.field("max_images"), " 3 ") == 3
    assert coerce_value(seedream.field("resolution"), "2k") == "2K"
    assert coerce_value(seedream.field("prompt"), "  keep  spaces \n") == "  keep  spaces \n"
    assert coerce_value(flux.field("guidance_scale"), "3") == 3
    assert coerce_value(flux.field("guidance_scale"), "2.75") == 2.75
    assert coerce_value(flux.field("seed"), "") is None
    assert coerce_value(various.field("hd"), "off") is False
    assert coerce_value(various.field("sizes"), "[4, 5]") == [4, 5]
    assert coerce_value(various.field("refs"), "a.png, b.png") == ["a.png", "b.png"]
    assert coerce_value(various.field("extra"), '{"a": 1}') == {"a": 1}
    assert various.field("refs").kind is FieldKind.MEDIA_LIST
    for field, text, message in [
        (seedream.field("max_images"), "16", "Max images must be one of 1, 2, 3"),
        (seedream.field("resolution"), "huge", "Resolution must be one of 2K, 3K"),
        (flux.field("seed"), "abc", "Seed must be a whole number, not 'abc'."),
        (flux.field("guidance_scale"), "nan", "Guidance Scale must be a finite number, not 'nan'."),
        (various.field("sizes"), "[1,", "Sizes must be valid JSON."),
        (various.field("sizes"), '[1, "x"]', "Sizes items must be a whole number, not 'x'."),
        (various.field("extra"), "{oops", "Extra must be valid JSON."),
    ]:
        with pytest.raises(ValueError) as info:
            coerce_value(field, text)
        assert str(info.value).startswith(message)


def test_word_count_counts_each_cjk_character_and_space_separated_words() -> None:
    from seedream_tui.schema import count_words

    assert count_words("a red fox  in\nsnow") == 5
    assert count_words("一只红狐狸在雪中") == 8  # no spaces in Chinese: one per character
    assert count_words("a 雪山 sunrise, 4K") == 5
    assert count_words("  ") == 0


def test_a_long_chinese_prompt_gets_the_soft_warning() -> None:
    from seedream_tui.schema import ModelRegistry, validate_input

    spec = with_translation(ModelRegistry.bundled()).get("seed-original-zh")
    result = validate_input(spec, {"prompt": "狐" * 700})
    assert result.ok and "700" in result.warnings["prompt"]
