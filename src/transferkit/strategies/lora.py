"""``lora``: parameter-efficient fine-tuning of transformer backbones with low-rank adapters (PEFT).

Adapters are injected into the attention projections of the backbone (in place, so the module
tree and the layer groups stay the same); only the adapters and the head train. Defaults follow
PEFT's: rank 8, alpha 8, no dropout, B initialised at zero (so the model starts unchanged).
"""

from __future__ import annotations

from transferkit.errors import BackboneSpecError
from transferkit.strategies._base import Strategy
from transferkit.strategies._info import STRATEGIES, StrategyInfo
from transferkit.training import TransferModel, set_trainable

_CANDIDATE_TARGETS = (("query", "value"), ("q_proj", "v_proj"), ("qkv",), ("q_lin", "v_lin"))


def attention_targets(model: TransferModel) -> list[str]:
    """Names of the attention projection layers LoRA should adapt in this backbone."""
    leaves = {n.rsplit(".", 1)[-1] for n, _ in model.backbone.named_modules()}
    for names in _CANDIDATE_TARGETS:
        if all(n in leaves for n in names):
            return list(names)
    raise BackboneSpecError(f"lora needs a transformer backbone with attention projections ({model.backbone.spec!r} "
                        "has none): use finetune, l2sp or discriminative_lr for this backbone")


@STRATEGIES.register("lora", info=StrategyInfo("low-rank adapters in the attention layers + head (PEFT); "
                                               "transformers only", transformer_only=True))
class LoRA(Strategy):
    """Train LoRA adapters (``r``, ``alpha``, ``dropout``) and the head; the backbone stays frozen."""

    name = "lora"

    def __init__(self, r: int = 8, alpha: int = 8, dropout: float = 0.0,
                 target_modules: list[str] | None = None) -> None:
        if r < 1:
            raise ValueError(f"r must be >= 1, got {r}")
        self.r, self.alpha, self.dropout, self.target_modules = int(r), int(alpha), float(dropout), target_modules

    def setup(self, model: TransferModel) -> None:
        """Inject adapters (once) and freeze everything but them and the head."""
        try:
            from peft import LoraConfig, inject_adapter_in_model
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise BackboneSpecError("lora needs the peft package: pip install peft") from exc
        targets = self.target_modules or attention_targets(model)
        if not any("lora_" in n for n, _ in model.backbone.named_parameters()):
            cfg = LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=targets)
            inject_adapter_in_model(cfg, model.backbone)
        for n, p in model.backbone.named_parameters():
            p.requires_grad_("lora_" in n)
        set_trainable(model.head, True)

    def default_lr(self, model: TransferModel) -> float:
        """Adapters start at zero and want a larger step than full fine-tuning."""
        return 1e-3
