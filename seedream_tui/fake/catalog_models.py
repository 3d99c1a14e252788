"""The fake server's catalog: a dozen-odd models of several kinds, in RunComfy's schema dialect.

Names, prices and fields are plausible stand-ins, not RunComfy's real catalog, but every shape is the one
RunComfy's own clients rely on (see the protocol spec and ``tests/test_conformance.py``): each ``kind`` is
``"model"`` and what it does is in ``categories`` (entries ending in ``image`` or ``video``); price units are
``output`` or ``second``; ``required_inputs`` sits at the top level of the detail; ``validations`` use only
the rule names seen in RunComfy's live schemas (``file_size_mb<``, ``width/height>``, ``width/height<``,
``width_pixels>``, ``height_pixels>``). Seedream 5 lite edit is RunComfy's documented one: an ``image``
array of 1-14 images at $0.028 per image. The schemas keep the dialect's other quirks on purpose
(``type: float``, ``default: null``, ``image_uri``/``image_uris``) so the app is tested against them. The
models that ship with the app as schema files (Seedream 5 lite text-to-image, FLUX 2 flash) get their
catalog facts from :data:`BUNDLED_FACTS`; the others are built here.
"""

from __future__ import annotations

from typing import Any

#: catalog facts of the models whose schemas are bundled files (``schema/models``)
BUNDLED_FACTS: dict[str, dict[str, Any]] = {
    "bytedance/seedream-5/lite/text-to-image": {
        "display_name": "Seedream 5 lite · text to image",
        "categories": ["image", "text-to-image"],
        "kind": "model",
        "base_price_usd": 0.03,
        "price_unit": "output",
        "pricing_note": "Charged per generated image; a sequence of images costs one price per image.",
    },
    "blackforestlabs/flux-2/flash/text-to-image": {
        "display_name": "FLUX.2 flash · text to image",
        "categories": ["image", "text-to-image"],
        "kind": "model",
        "base_price_usd": 0.01,
        "price_unit": "output",
    },
}

#: what RunComfy's live schemas say about input images (rule names and values as its ComfyUI nodes list them)
_IMAGE_RULES = [
    {"validation_rule": "file_size_mb<", "validation_value": 10,
     "validation_error": "Each input image must be smaller than 10 MB."},
    {"validation_rule": "width/height>", "validation_value": 0.0625,
     "validation_error": "An input image may be at most 16 times taller than it is wide."},
    {"validation_rule": "width/height<", "validation_value": 16,
     "validation_error": "An input image may be at most 16 times wider than it is tall."},
    {"validation_rule": "width_pixels>", "validation_value": 14,
     "validation_error": "Each input image must be more than 14 pixels wide."},
    {"validation_rule": "height_pixels>", "validation_value": 14,
     "validation_error": "Each input image must be more than 14 pixels high."},
]  # fmt: skip


def _prompt(limit: int = 2000) -> dict[str, Any]:
    return {
        "title": "Prompt",
        "type": "string",
        "description": "What to make. Describe subject, style, light and composition.",
        "maxLength": limit,
    }


def _seed() -> dict[str, Any]:
    return {"title": "Seed", "type": "integer", "default": None, "minimum": 0, "maximum": 2147483647,
            "description": "The same seed and input give the same image. Leave empty for a random one."}  # fmt: skip


def _choice(title: str, choices: list[Any], default: Any, description: str = "") -> dict[str, Any]:
    kind = "integer" if all(isinstance(c, int) for c in choices) else "string"
    return {"title": title, "type": kind, "enum": choices, "default": default, "description": description}


def _image(title: str = "Image") -> dict[str, Any]:
    return {"title": title, "type": "string", "format": "image_uri", "default": None,
            "description": "A public https URL of the image (or a data: URI).", "validations": _IMAGE_RULES}  # fmt: skip


def _images(title: str, most: int, *, items: bool = True) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "title": title,
        "type": "array",
        "format": "image_uris",
        "description": f"One to {most} reference images, JPEG or PNG (public https URLs or data: URIs).",
        "minItems": 1,
        "maxItems": most,
        "validations": _IMAGE_RULES,
    }
    if items:
        prop["items"] = {"type": "string", "format": "image_uri"}
    return prop


def _sequence() -> dict[str, Any]:
    return {
        "sequential_image_generation": _choice(
            "Sequential image generation", ["auto", "disabled"], "disabled", "Turn on to generate a sequence of images."
        ),
        "max_images": _choice(
            "Max images", list(range(1, 16)), 15,
            "The most images that may be generated. Takes effect only when sequential_image_generation is auto.",
        ),
    }  # fmt: skip


def _model(
    model_id: str,
    display_name: str,
    categories: list[str],
    price: float | None,
    unit: str | None,
    properties: dict[str, Any],
    required: list[str],
    note: str | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "model_id": model_id,
        "display_name": display_name,
        "title": display_name,
        "categories": categories,
        "kind": "model",
        # RunComfy's Zapier client reads input_schema.required or the top-level required_inputs: give both
        "required_inputs": list(required),
        "input_schema": {"type": "object", "title": "Input schema", "required": list(required),
                         "properties": properties},
    }  # fmt: skip
    if price is not None:
        detail["base_price_usd"] = price
    if unit is not None:
        detail["price_unit"] = unit
    if note is not None:
        detail["pricing_note"] = note
    return detail


def _seedream_sizes(top: str) -> dict[str, Any]:
    sizes = ["2K", "3K"] if top == "3K" else ["1K", "2K", "4K"]
    return _choice("Resolution", sizes, "2K", "The model chooses width and height itself at this tier.")


def extra_models() -> list[dict[str, Any]]:
    """Model details of the catalog beyond the bundled schema files."""
    fmt = _choice("Output format", ["png", "jpeg"], "png")
    t2i, edit = ["image", "text-to-image"], ["image", "image-to-image"]
    t2v, i2v = ["video", "text-to-video"], ["video", "image-to-video"]
    return [
        # RunComfy's page: {"prompt": "…", "image": ["https://…"]}, 1-14 JPEG/PNG images, $0.028 per image
        _model("bytedance/seedream-5/lite/edit", "Seedream 5 lite · edit", edit, 0.028, "output",
               {"prompt": _prompt(), "image": _images("Images", 14),
                "resolution": _seedream_sizes("3K"), **_sequence(), "output_format": fmt},
               ["prompt", "image"], "Charged per generated image."),
        _model("bytedance/seedream-4-5/text-to-image", "Seedream 4.5 · text to image", t2i, 0.04,
               "output", {"prompt": _prompt(), "size": _seedream_sizes("4K"), **_sequence(), "seed": _seed()},
               ["prompt"]),
        _model("bytedance/seedream-4-5/edit", "Seedream 4.5 · edit", edit, 0.04, "output",
               {"prompt": _prompt(), "images": _images("Images", 10, items=False), "size": _seedream_sizes("4K"),
                **_sequence(), "seed": _seed()},
               ["prompt", "images"]),
        _model("bytedance/seedream-4/text-to-image", "Seedream 4 · text to image", t2i, 0.03, "output",
               {"prompt": _prompt(), "size": _seedream_sizes("4K"), "seed": _seed()}, ["prompt"]),
        _model("blackforestlabs/flux-1-1/pro/text-to-image", "FLUX 1.1 pro · text to image", t2i,
               0.04, "output",
               {"prompt": _prompt(), "num_images": _choice("Number of images", [1, 2, 3, 4], 1),
                "guidance_scale": {"title": "Guidance scale", "type": "float", "default": 3.5,
                                   "minimum": 1, "maximum": 10},
                "seed": _seed()},
               ["prompt"]),
        _model("blackforestlabs/flux-kontext/pro/edit", "FLUX Kontext pro · edit", edit, 0.04,
               "output", {"prompt": _prompt(), "image_url": _image(), "seed": _seed()}, ["prompt", "image_url"]),
        _model("qwen/qwen-image/text-to-image", "Qwen-Image · text to image", t2i, 0.02, "output",
               {"prompt": _prompt(), "negative_prompt": {"title": "Negative prompt", "type": "string",
                                                         "default": None},
                "image_size": _choice("Image size", ["square_hd", "landscape_4_3", "portrait_4_3"], "square_hd"),
                "num_inference_steps": {"title": "Steps", "type": "integer", "default": 30, "minimum": 1,
                                        "maximum": 50}},
               ["prompt"]),
        _model("qwen/qwen-image/edit", "Qwen-Image · edit", edit, 0.025, "output",
               {"prompt": _prompt(), "image": _image()}, ["prompt", "image"]),
        _model("google/imagen-4/fast/text-to-image", "Imagen 4 fast · text to image", t2i, 0.02,
               "output",
               {"prompt": _prompt(), "aspect_ratio": _choice("Aspect ratio", ["1:1", "16:9", "9:16", "4:3"], "1:1"),
                "num_images": _choice("Number of images", [1, 2, 3, 4], 1)},
               ["prompt"]),
        _model("ideogram/ideogram-3/text-to-image", "Ideogram 3 · text to image", t2i, 0.06, "output",
               {"prompt": _prompt(), "rendering_speed": _choice("Speed", ["TURBO", "BALANCED", "QUALITY"],
                                                                "BALANCED")},
               ["prompt"], "TURBO and QUALITY are priced differently from the base price."),
        _model("bytedance/seedance-1/lite/text-to-video", "Seedance 1 lite · text to video", t2v, 0.036, "second",
               {"prompt": _prompt(), "duration": _choice("Duration (seconds)", [5, 10], 5),
                "resolution": _choice("Resolution", ["480p", "720p"], "720p"), "seed": _seed()},
               ["prompt"], "Charged per second of video."),
        _model("bytedance/seedance-1/lite/image-to-video", "Seedance 1 lite · image to video", i2v, 0.036, "second",
               {"prompt": _prompt(), "image_url": _image("First frame"),
                "duration": _choice("Duration (seconds)", [5, 10], 5)},
               ["prompt", "image_url"], "Charged per second of video."),
        _model("topaz/image-upscale/standard", "Topaz upscale · standard", edit, 0.01, "output",
               {"image_url": _image(), "scale": _choice("Scale", [2, 4], 2)}, ["image_url"],
               "Charged per upscaled image."),
        _model("community/sdxl/lora", "SDXL with LoRA (community)", t2i, None, None,
               {"prompt": _prompt(), "lora_url": {"title": "LoRA URL", "type": "string", "default": None},
                "lora_scale": {"title": "LoRA scale", "type": "float", "default": None}},
               ["prompt"]),
    ]  # fmt: skip
