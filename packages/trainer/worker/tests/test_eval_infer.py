import base64
import json
import os
import subprocess
import sys
import unittest
from typing import List

import torch

from worker.config import load_config
from worker.generate import StopMatcher, generate, generate_batch
from worker.infer import RopeTable
from worker.loglikelihood import LoglikelihoodRequest, loglikelihoods
from worker.model import DeepseekV2, Layout, build_model
from worker.safetensors_io import load_checkpoint
from worker.tests.util import tiny_checkpoint

CPU = torch.device("cpu")
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def eval_model(q_lora=None) -> DeepseekV2:
    d = tiny_checkpoint(q_lora=q_lora)
    cfg = load_config(d)
    model = build_model(cfg, load_checkpoint(d), Layout.all_frozen(cfg), CPU, torch.float32)
    model.eval()
    return model


def greedy_without_cache(model: DeepseekV2, prompt: List[int], steps: int) -> List[int]:
    """Reference: the full model.py forward over the whole sequence for every new token."""
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            seq.append(int(model.logits(torch.tensor([seq]))[0, -1].argmax()))
    return seq[len(prompt):]


def prompts_of(lengths: List[int], seed: int, vocab: int) -> List[List[int]]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab, (n,), generator=g).tolist() for n in lengths]


# a byte per token id: no stop sequence ever appears unless a test says so
NO_STOP_BYTES = [bytes([0x80 + i % 64]) for i in range(64)]


class CachedGenerationTest(unittest.TestCase):
    def check_equal(self, q_lora) -> None:
        model = eval_model(q_lora)
        prompts = prompts_of([9, 3, 17, 1, 12], seed=3, vocab=model.cfg.vocab_size)
        steps = 24
        ours = generate_batch(model, RopeTable(model.cfg, CPU), prompts, steps, NO_STOP_BYTES, [], [], prefill_rows=2)
        for prompt, g in zip(prompts, ours):
            self.assertEqual(g.finish, "length")
            self.assertEqual(g.tokens, greedy_without_cache(model, prompt, steps))

    def test_cached_equals_no_cache_greedy_token_for_token(self) -> None:
        self.check_equal(None)

    def test_cached_equals_no_cache_with_low_rank_query(self) -> None:
        self.check_equal(8)

    def test_stop_sequence_eos_and_batch_order(self) -> None:
        model = eval_model()
        prompts = prompts_of([5, 11, 7, 2], seed=9, vocab=64)
        steps = 20
        refs = [greedy_without_cache(model, p, steps) for p in prompts]
        # stop: the bytes of tokens 4..5 of row 0's reference continuation (a two-token stop sequence)
        token_bytes = [bytes([0x41 + i % 26, 0x61 + i // 26]) for i in range(64)]
        stop = token_bytes[refs[0][4]] + token_bytes[refs[0][5]]
        # eos: a token of row 1's continuation that row 0 does not produce before its stop
        eos = next(t for t in refs[1] if t not in refs[0][:6])
        out = generate(model, RopeTable(model.cfg, CPU), prompts, steps, token_bytes, [stop], [eos], batch_size=3)
        text = lambda toks: b"".join(token_bytes[t] for t in toks)
        for i, (ref, g) in enumerate(zip(refs, out)):
            cut_eos = ref.index(eos) if eos in ref else steps
            stop_end = next((k + 1 for k in range(steps) if stop in text(ref[: k + 1])), steps + 1)
            if stop_end <= cut_eos:
                self.assertEqual((g.finish, g.tokens), ("stop", ref[:stop_end]), f"row {i}")
            elif cut_eos < steps:
                self.assertEqual((g.finish, g.tokens), ("eos", ref[:cut_eos]), f"row {i}")
            else:
                self.assertEqual((g.finish, g.tokens), ("length", ref), f"row {i}")
        self.assertEqual(out[0].finish, "stop")
        self.assertEqual(out[1].finish, "eos")

    def test_stop_matcher_finds_a_stop_split_across_tokens(self) -> None:
        m = StopMatcher([b"Q:"])
        self.assertFalse(m.add(b"The answer is 3.\n\n"))
        self.assertFalse(m.add(b"Q"))
        self.assertTrue(m.add(b":"))
        self.assertFalse(StopMatcher([]).add(b"Q:"))


class LoglikelihoodTest(unittest.TestCase):
    def test_equals_manual_full_forward(self) -> None:
        model = eval_model()
        seqs = prompts_of([8, 15, 4, 11], seed=4, vocab=64)
        conts = [3, 1, 2, 5]
        ours = loglikelihoods(model, RopeTable(model.cfg, CPU), [LoglikelihoodRequest(s, c) for s, c in zip(seqs, conts)], batch_size=3)
        with torch.no_grad():
            for seq, c, got in zip(seqs, conts, ours):
                logp = torch.log_softmax(model.logits(torch.tensor([seq]))[0], dim=-1)
                n = len(seq)
                want = sum(float(logp[i - 1, seq[i]]) for i in range(n - c, n))
                greedy = all(int(logp[i - 1].argmax()) == seq[i] for i in range(n - c, n))
                self.assertAlmostEqual(got.logprob, want, places=4)
                self.assertEqual(got.is_greedy, greedy)

    def test_greedy_continuation_is_greedy(self) -> None:
        model = eval_model()
        prompt = prompts_of([6], seed=2, vocab=64)[0]
        cont = greedy_without_cache(model, prompt, 3)
        [res] = loglikelihoods(model, RopeTable(model.cfg, CPU), [LoglikelihoodRequest(prompt + cont, 3)], batch_size=1)
        self.assertTrue(res.is_greedy)
        self.assertLess(res.logprob, 0)


class ServeEvalProcessTest(unittest.TestCase):
    def test_ndjson_session(self) -> None:
        d = tiny_checkpoint()
        reqs = [
            {"op": "generate", "id": 1, "prompts": [[1, 2, 3]], "max_new_tokens": 2},
            {"op": "load", "id": 2, "model_dir": d, "device": "cpu", "dtype": "fp32", "token_bytes": [base64.b64encode(b).decode() for b in NO_STOP_BYTES]},
            {"op": "generate", "id": 3, "prompts": [[1, 2, 3], [4]], "max_new_tokens": 4, "stop": [], "eos_token_ids": [], "batch_size": 2},
            {"op": "loglikelihood", "id": 4, "requests": [{"tokens": [1, 2, 3], "continuation": 3}]},
            {"op": "loglikelihood", "id": 5, "requests": [{"tokens": [1, 2, 99], "continuation": 1}]},
            {"op": "loglikelihood", "id": 6, "requests": [{"tokens": [5, 6, 7], "continuation": 2}]},
        ]
        proc = subprocess.run([sys.executable, "-m", "worker.serve_eval"], cwd=PACKAGE_ROOT, input="\n".join(json.dumps(r) for r in reqs) + "\nnot json\n",
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        msgs = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual(msgs[0]["type"], "hello")
        by = lambda t, i: [m for m in msgs if m["type"] == t and m.get("id") == i]
        self.assertIn("before 'load'", by("error", 1)[0]["message"])
        self.assertEqual(by("ready", 2)[0]["model"]["kv_cache"], "mla_latent")
        gen = by("generated", 3)[0]["results"]
        self.assertEqual([len(g["tokens"]) for g in gen], [4, 4])
        self.assertEqual(gen[0]["tokens"], greedy_without_cache(eval_model(), [1, 2, 3], 4))
        self.assertIn("continuation is 3", by("error", 4)[0]["message"])
        self.assertIn("requests[0].tokens", by("error", 5)[0]["message"])
        self.assertEqual(len(by("loglikelihoods", 6)[0]["results"]), 1)
        self.assertEqual(msgs[-1]["code"], "bad_spec")


if __name__ == "__main__":
    unittest.main()
