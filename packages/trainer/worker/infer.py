"""Inference forward for evaluation: padded batches, per-row positions, and an MLA latent KV cache.

Reuses the modules and weights of model.py (built with Layout.all_frozen: every expert resident, natural
routing) and adds what training does not need:
- Padding: rows are left-padded for generation (every row's next token sits in the same column) and
  right-padded for scoring; `valid` marks real tokens, rope positions count real tokens only, and a padded
  key is never attended to (a padded query attends to itself alone, so no row of the softmax is empty).
- KV cache, MLA style: per layer and token the cache holds the normalised compressed kv latent
  (kv_lora_rank values) and the roped shared key (qk_rope_head_dim values) -- 576 values per token and layer
  for DeepSeek-V2-Lite instead of 16 heads x (192 + 128) for expanded keys and values. Prefill computes
  attention the expanded way (as model.py does); a decode step absorbs kv_b_proj into the query and the
  output ("weight absorption"): score = (q_nope W_UK) . latent + q_pe . k_pe, out = (softmax . latent) W_UV,
  which reads only the small cache.
- MoE through the training layer's dispatch (moe.py: offsets on the device, no host synchronisation), so a
  decode step's kernels queue up while the previous ones run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .config import ModelConfig
from .model import HAS_SDPA_SCALE, Attention, DeepseekV2, MoE, apply_rope, rope_inv_freq


@dataclass
class LatentCache:
    """Per layer a [B, capacity, kv_lora_rank + qk_rope_head_dim] tensor; columns [0, length) are filled."""

    layers: List[torch.Tensor]
    length: int = 0

    @staticmethod
    def empty(cfg: ModelConfig, batch: int, capacity: int, device: torch.device, dtype: torch.dtype) -> "LatentCache":
        width = cfg.kv_lora_rank + cfg.qk_rope_head_dim
        return LatentCache([torch.zeros(batch, capacity, width, device=device, dtype=dtype) for _ in range(cfg.num_hidden_layers)])

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Drops finished rows (rows: indices of the rows to keep)."""
        self.layers = [c.index_select(0, rows) for c in self.layers]


class RopeTable:
    """cos/sin for positions [0, size), grown on demand; rows are gathered by position id."""

    def __init__(self, cfg: ModelConfig, device: torch.device) -> None:
        self.inv_freq, self.scale = rope_inv_freq(cfg)
        self.device = device
        self.cos = torch.empty(0, self.inv_freq.shape[0], device=device)
        self.sin = torch.empty_like(self.cos)

    def at(self, positions: torch.Tensor, bound: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """`bound` > every position, known on the host: reading positions.max() would wait for the GPU."""
        need = bound
        if need > self.cos.shape[0]:
            size = max(need, 2 * self.cos.shape[0], 256)
            freqs = torch.outer(torch.arange(size, dtype=torch.float32), self.inv_freq).to(self.device)
            self.cos, self.sin = freqs.cos() * self.scale, freqs.sin() * self.scale
        return self.cos[positions], self.sin[positions]


def positions_of(valid: torch.Tensor, offset: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Rope position of each column: real tokens before it in its row (pads get 0), plus `offset` [B]."""
    pos = (valid.long().cumsum(dim=1) - 1).clamp(min=0)
    return pos if offset is None else pos + offset.unsqueeze(1)


def _query(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    c = attn.cfg
    return attn.q_proj(x) if c.q_lora_rank is None else attn.q_b_proj(attn.q_a_layernorm(attn.q_a_proj(x)))


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, scale: float) -> torch.Tensor:
    """q, k [B, n, T, d], v [B, n, T, dv], mask [B, 1, T, T] bool (True: may attend)."""
    if HAS_SDPA_SCALE:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    scores = torch.matmul(q, k.transpose(-1, -2)).float() * scale
    probs = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


def attention_prefill(attn: Attention, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor, cache: Optional[torch.Tensor]) -> torch.Tensor:
    """model.py's attention over a padded block of T tokens; writes each token's latent and roped key to `cache`."""
    c = attn.cfg
    b, t, _ = x.shape
    n, nope, rope, vd = c.num_attention_heads, c.qk_nope_head_dim, c.qk_rope_head_dim, c.v_head_dim
    q_nope, q_pe = _query(attn, x).view(b, t, n, c.qk_head_dim).transpose(1, 2).split([nope, rope], dim=-1)
    latent, k_pe = attn.kv_a_proj_with_mqa(x).split([c.kv_lora_rank, rope], dim=-1)
    latent = attn.kv_a_layernorm(latent)
    k_pe = apply_rope(k_pe.view(b, 1, t, rope), cos, sin)
    q_pe = apply_rope(q_pe, cos, sin)
    if cache is not None:
        cache[:, :t, : c.kv_lora_rank] = latent
        cache[:, :t, c.kv_lora_rank :] = k_pe[:, 0]
    kv = attn.kv_b_proj(latent).view(b, t, n, nope + vd).transpose(1, 2)
    k_nope, v = kv.split([nope, vd], dim=-1)
    q = torch.cat((q_nope, q_pe), dim=-1)
    k = torch.cat((k_nope, k_pe.expand(b, n, t, rope)), dim=-1)
    out = _attend(q, k, v.contiguous(), mask, attn.scale)
    return attn.o_proj(out.transpose(1, 2).reshape(b, t, n * vd))


def attention_decode(attn: Attention, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, key_valid: torch.Tensor, cache: torch.Tensor, at: int) -> torch.Tensor:
    """One new token per row (x [B, 1, H]) at cache column `at`, attending to columns [0, at] with kv_b_proj absorbed."""
    c = attn.cfg
    b = x.shape[0]
    n, nope, rope, vd, r = c.num_attention_heads, c.qk_nope_head_dim, c.qk_rope_head_dim, c.v_head_dim, c.kv_lora_rank
    q_nope, q_pe = _query(attn, x).view(b, n, c.qk_head_dim).split([nope, rope], dim=-1)
    latent, k_pe = attn.kv_a_proj_with_mqa(x[:, 0]).split([r, rope], dim=-1)
    cache[:, at, :r] = attn.kv_a_layernorm(latent)
    cache[:, at, r:] = apply_rope(k_pe.unsqueeze(1), cos, sin)[:, 0]
    q_pe = apply_rope(q_pe, cos, sin)
    w = attn.kv_b_proj.weight.view(n, nope + vd, r)
    w_uk, w_uv = w[:, :nope], w[:, nope:]
    q_lat = torch.bmm(q_nope.transpose(0, 1), w_uk).transpose(0, 1)  # [B, n, r]
    keys = cache[:, : at + 1]  # [B, T, r + rope]
    scores = torch.bmm(torch.cat((q_lat, q_pe), dim=-1), keys.transpose(1, 2)).float() * attn.scale  # [B, n, T]
    probs = scores.masked_fill(~key_valid[:, None, : at + 1], float("-inf")).softmax(dim=-1).to(cache.dtype)
    out_lat = torch.bmm(probs, keys[:, :, :r])  # [B, n, r]
    out = torch.bmm(out_lat.transpose(0, 1), w_uv.transpose(1, 2)).transpose(0, 1)  # [B, n, vd]
    return attn.o_proj(out.reshape(b, 1, n * vd))


def moe_forward(moe: MoE, x: torch.Tensor) -> torch.Tensor:
    """The training layer's own forward (one dispatch, moe.py), once the layout is known to route naturally."""
    ex = moe.experts
    if ex.restricted or ex.trainable_ids or ex.kept_ids != list(range(moe.cfg.n_routed_experts)):
        raise ValueError("evaluation needs every expert resident and natural routing (Layout.all_frozen)")
    return moe(x)


def _mlp(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return moe_forward(module, x) if isinstance(module, MoE) else module(x)  # type: ignore[arg-type]


def forward_prefill(model: DeepseekV2, rope: RopeTable, ids: torch.Tensor, valid: torch.Tensor, cache: Optional[LatentCache]) -> torch.Tensor:
    """Final hidden states [B, T, H] of a padded block; with a cache, fills its columns [0, T)."""
    b, t = ids.shape
    cos, sin = rope.at(positions_of(valid), t)
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # [B, 1, T, d/2]: broadcast over heads
    causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
    eye = torch.eye(t, dtype=torch.bool, device=ids.device)
    mask = ((causal & valid[:, None, :]) | eye).unsqueeze(1)  # [B, 1, T, T]
    x = model.model.embed_tokens(ids)
    for i, layer in enumerate(model.model.layers):
        x = x + attention_prefill(layer.self_attn, layer.input_layernorm(x), cos, sin, mask, None if cache is None else cache.layers[i])
        x = x + _mlp(layer.mlp, layer.post_attention_layernorm(x))
    if cache is not None:
        cache.length = t
    return model.model.norm(x)


def forward_decode(model: DeepseekV2, rope: RopeTable, ids: torch.Tensor, positions: torch.Tensor, key_valid: torch.Tensor, cache: LatentCache) -> torch.Tensor:
    """Final hidden states [B, H] of one new token per row (ids [B], positions [B]) appended at cache.length."""
    at = cache.length
    cos, sin = rope.at(positions, at + 1)  # a row's position never exceeds its cache column
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # [B, 1, d/2]: broadcast over heads
    x = model.model.embed_tokens(ids.unsqueeze(1))
    for i, layer in enumerate(model.model.layers):
        x = x + attention_decode(layer.self_attn, layer.input_layernorm(x), cos, sin, key_valid, cache.layers[i], at)
        x = x + _mlp(layer.mlp, layer.post_attention_layernorm(x))
    cache.length = at + 1
    return model.model.norm(x)[:, 0]


def lm_logits(model: DeepseekV2, hidden: torch.Tensor) -> torch.Tensor:
    return F.linear(hidden, model.lm_head.weight).float()
