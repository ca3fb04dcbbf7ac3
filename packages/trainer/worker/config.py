"""DeepSeek-V2 family config (config.json), validated: anything outside the family is refused."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional


class ConfigError(ValueError):
    """config.json is not a DeepSeek-V2 family model we can run."""


@dataclass(frozen=True)
class RopeScaling:
    factor: float
    mscale: float
    mscale_all_dim: float
    original_max_position_embeddings: int
    beta_fast: float
    beta_slow: float


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    moe_intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    n_shared_experts: int
    n_routed_experts: int
    num_experts_per_tok: int
    first_k_dense_replace: int
    moe_layer_freq: int
    kv_lora_rank: int
    q_lora_rank: Optional[int]
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int
    topk_method: str
    n_group: int
    topk_group: int
    norm_topk_prob: bool
    routed_scaling_factor: float
    rms_norm_eps: float
    rope_theta: float
    rope_scaling: Optional[RopeScaling]
    tie_word_embeddings: bool

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    def is_moe_layer(self, layer: int) -> bool:
        return layer >= self.first_k_dense_replace and layer % self.moe_layer_freq == 0

    @property
    def moe_layers(self) -> List[int]:
        return [i for i in range(self.num_hidden_layers) if self.is_moe_layer(i)]


def _field(raw: Dict[str, Any], name: str, kind: type, default: Any = ..., minimum: Optional[float] = None) -> Any:
    if name not in raw or raw[name] is None:
        if default is ...:
            raise ConfigError(f"config.json: field {name!r} is missing; it must be a {kind.__name__}")
        return default
    value = raw[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"config.json: field {name!r} is {value!r}; it must be a {kind.__name__}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"config.json: field {name!r} is {value!r}; it must be >= {minimum}")
    return value


def parse_config(raw: Any) -> ModelConfig:
    if not isinstance(raw, dict):
        raise ConfigError("config.json must hold a JSON object")
    model_type = raw.get("model_type")
    if model_type != "deepseek_v2":
        raise ConfigError(f"config.json: model_type is {model_type!r}; only 'deepseek_v2' (the DeepSeek-V2 family) is supported")
    topk_method = _field(raw, "topk_method", str, "greedy")
    if topk_method not in ("greedy", "group_limited_greedy"):
        raise ConfigError(f"config.json: topk_method {topk_method!r}; allowed: 'greedy', 'group_limited_greedy'")
    scoring = _field(raw, "scoring_func", str, "softmax")
    if scoring != "softmax":
        raise ConfigError(f"config.json: scoring_func {scoring!r}; allowed: 'softmax'")
    act = _field(raw, "hidden_act", str, "silu")
    if act != "silu":
        raise ConfigError(f"config.json: hidden_act {act!r}; allowed: 'silu'")
    rope = raw.get("rope_scaling")
    scaling: Optional[RopeScaling] = None
    if rope is not None:
        if not isinstance(rope, dict):
            raise ConfigError("config.json: rope_scaling must be an object or null")
        rope_type = rope.get("type", rope.get("rope_type"))
        if rope_type != "yarn":
            raise ConfigError(f"config.json: rope_scaling type {rope_type!r}; allowed: 'yarn' or no rope_scaling")
        scaling = RopeScaling(
            factor=float(_field(rope, "factor", float, minimum=1.0)),
            mscale=float(_field(rope, "mscale", float, 1.0)),
            mscale_all_dim=float(_field(rope, "mscale_all_dim", float, 0.0)),
            original_max_position_embeddings=_field(rope, "original_max_position_embeddings", int, 4096, 1),
            beta_fast=float(_field(rope, "beta_fast", float, 32.0)),
            beta_slow=float(_field(rope, "beta_slow", float, 1.0)),
        )
    cfg = ModelConfig(
        vocab_size=_field(raw, "vocab_size", int, minimum=1),
        hidden_size=_field(raw, "hidden_size", int, minimum=1),
        intermediate_size=_field(raw, "intermediate_size", int, minimum=1),
        moe_intermediate_size=_field(raw, "moe_intermediate_size", int, minimum=1),
        num_hidden_layers=_field(raw, "num_hidden_layers", int, minimum=1),
        num_attention_heads=_field(raw, "num_attention_heads", int, minimum=1),
        n_shared_experts=_field(raw, "n_shared_experts", int, 0, 0),
        n_routed_experts=_field(raw, "n_routed_experts", int, minimum=1),
        num_experts_per_tok=_field(raw, "num_experts_per_tok", int, minimum=1),
        first_k_dense_replace=_field(raw, "first_k_dense_replace", int, 0, 0),
        moe_layer_freq=_field(raw, "moe_layer_freq", int, 1, 1),
        kv_lora_rank=_field(raw, "kv_lora_rank", int, minimum=1),
        q_lora_rank=_field(raw, "q_lora_rank", int, None, 1),
        qk_rope_head_dim=_field(raw, "qk_rope_head_dim", int, minimum=2),
        qk_nope_head_dim=_field(raw, "qk_nope_head_dim", int, minimum=1),
        v_head_dim=_field(raw, "v_head_dim", int, minimum=1),
        topk_method=topk_method,
        n_group=_field(raw, "n_group", int, 1, 1),
        topk_group=_field(raw, "topk_group", int, 1, 1),
        norm_topk_prob=_field(raw, "norm_topk_prob", bool, False),
        routed_scaling_factor=float(_field(raw, "routed_scaling_factor", float, 1.0)),
        rms_norm_eps=float(_field(raw, "rms_norm_eps", float, 1e-6)),
        rope_theta=float(_field(raw, "rope_theta", float, 10000.0)),
        rope_scaling=scaling,
        tie_word_embeddings=_field(raw, "tie_word_embeddings", bool, False),
    )
    if cfg.qk_rope_head_dim % 2:
        raise ConfigError(f"config.json: qk_rope_head_dim {cfg.qk_rope_head_dim} must be even")
    if cfg.num_experts_per_tok > cfg.n_routed_experts:
        raise ConfigError(f"config.json: num_experts_per_tok {cfg.num_experts_per_tok} exceeds n_routed_experts {cfg.n_routed_experts}")
    if cfg.topk_method == "group_limited_greedy" and cfg.n_routed_experts % cfg.n_group:
        raise ConfigError(f"config.json: n_routed_experts {cfg.n_routed_experts} is not divisible by n_group {cfg.n_group}")
    if not cfg.moe_layers:
        raise ConfigError("config.json: no MoE layer (first_k_dense_replace >= num_hidden_layers)")
    return cfg


def load_config(model_dir: str) -> ModelConfig:
    path = f"{model_dir}/config.json"
    try:
        with open(path, "r", encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"config.json not found in model_dir {model_dir!r}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from e
    return parse_config(raw)


def yarn_mscale(scale: float, mscale: float) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0
