import json
import os
import shutil
import tempfile
import unittest

import torch

from worker.checkpoint import COMPLETE, is_complete, read_adapter, write_atomically
from worker.merge import merge
from worker.model import expert_name
from worker.safetensors_io import checkpoint_files, load_checkpoint, read_header, read_raw
from worker.tests.util import pattern_data, run, run_main, tiny_checkpoint, train_spec, write_packed


def steps(msgs):
    return [m for m in msgs if m["type"] == "step"]


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="worker-train-")
        cls.model_dir = tiny_checkpoint(shards=2)
        cls.data = pattern_data(os.path.join(cls.tmp, "data"))
        cls.base = load_checkpoint(cls.model_dir)
        cls.runs = {}
        # A in both restricted routing modes (subnet is the default); the loss and merge tests cover every run
        for name, extra in (("A", {}), ("A-renormalized", {"routing": "renormalized"}), ("B", {"kept": 3}), ("C", {})):
            out = os.path.join(cls.tmp, f"run-{name}")
            cls.runs[name] = (out, run(train_spec(cls.model_dir, cls.data, out, cell=name[0], **extra)))

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_loss_falls_on_the_pattern(self) -> None:
        for cell, (_, msgs) in self.runs.items():
            losses = [m["loss"] for m in steps(msgs)]
            self.assertEqual(len(losses), 12)
            self.assertLess(losses[-1], losses[0] - 0.5, f"cell {cell}: {losses}")
            s = steps(msgs)[0]
            self.assertIsNone(s["gpu_mem_peak_bytes"])
            self.assertEqual(s["tokens"], 4 * 32)
            self.assertGreater(s["tokens_per_s"], 0)

    def test_only_resident_experts_receive_tokens(self) -> None:
        for cell in ("A", "B"):
            _, msgs = self.runs[cell]
            ready = next(m for m in msgs if m["type"] == "ready")["run"]
            counts = msgs[-1]["result"]["expert_tokens"]
            for layer, per_expert in counts.items():
                resident = set(ready["trainable"][layer]) | set(ready["kept"].get(layer, []))
                self.assertEqual(len(resident), 2 if cell == "A" else 5)
                self.assertEqual(ready["parked_per_layer"][layer], 8 - len(resident))
                for e, n in enumerate(per_expert):
                    if e not in resident:
                        self.assertEqual(n, 0, f"cell {cell} layer {layer} parked expert {e} got tokens")
                self.assertEqual(sum(per_expert), 12 * 4 * 32 * 2)  # steps x tokens x top-2
        # natural routing (C) reaches experts outside the trainable set
        _, msgs = self.runs["C"]
        ready = next(m for m in msgs if m["type"] == "ready")["run"]
        counts = msgs[-1]["result"]["expert_tokens"]
        self.assertTrue(any(n > 0 for layer, c in counts.items() for e, n in enumerate(c) if e not in ready["trainable"][layer]))

    def test_only_trainable_experts_change_and_merge_keeps_the_rest_byte_identical(self) -> None:
        for cell, (out, msgs) in self.runs.items():
            adapter = msgs[-1]["result"]["adapter_dir"]
            cfg, tensors = read_adapter(adapter)
            trained = {expert_name(int(layer), e, part) for layer, ids in cfg["experts"].items() for e in ids for part in ("gate_proj", "up_proj", "down_proj")}
            self.assertEqual(set(tensors), trained)
            for name in trained:
                self.assertFalse(torch.equal(tensors[name], self.base[name]), f"{cell}: {name} did not train")
            merged_dir = os.path.join(out, "merged")
            result = merge(self.model_dir, adapter, merged_dir)
            self.assertEqual(result["replaced"], len(trained))
            base_files, merged_files = checkpoint_files(self.model_dir), checkpoint_files(merged_dir)
            self.assertEqual(set(base_files), set(merged_files))
            for name, path in base_files.items():
                mpath = merged_files[name]
                self.assertEqual(os.path.basename(path), os.path.basename(mpath))
                raw_base = read_raw(path, read_header(path)[0][name])
                raw_merged = read_raw(mpath, read_header(mpath)[0][name])
                if name in trained:
                    self.assertNotEqual(raw_base, raw_merged)
                else:
                    self.assertEqual(raw_base, raw_merged, f"{cell}: {name} changed")
            merged = load_checkpoint(merged_dir)
            for name in trained:
                self.assertTrue(torch.equal(merged[name], tensors[name]))

    def test_routing_modes_train_the_same_experts_with_different_forwards(self) -> None:
        ready = {name: next(m for m in msgs if m["type"] == "ready")["run"] for name, (_, msgs) in self.runs.items()}
        self.assertEqual(ready["A"]["routing"], {"mode": "subnet", "top_k": 2, "clamped": {}})
        self.assertEqual(ready["A-renormalized"]["routing"], {"mode": "renormalized", "top_k": 2, "clamped": {}})
        self.assertEqual(ready["B"]["routing"]["mode"], "subnet")
        self.assertEqual(ready["C"]["routing"]["mode"], "natural")
        self.assertEqual(ready["A"]["trainable"], ready["A-renormalized"]["trainable"])
        # same weights at step 1, different combine weights: the losses differ from the first step
        first = {name: steps(msgs)[0]["loss"] for name, (_, msgs) in self.runs.items()}
        self.assertNotEqual(first["A"], first["A-renormalized"])
        counts = self.runs["A-renormalized"][1][-1]["result"]["expert_tokens"]
        for layer, per_expert in counts.items():
            self.assertEqual({e for e, n in enumerate(per_expert) if n}, set(ready["A"]["trainable"][layer]))

    def test_top_k_above_the_resident_count_is_clamped_and_reported(self) -> None:
        msgs = run(train_spec(self.model_dir, self.data, os.path.join(self.tmp, "clamped"), steps=1, top_k=3))
        ready = next(m for m in msgs if m["type"] == "ready")["run"]
        self.assertEqual(ready["routing"], {"mode": "subnet", "top_k": 3, "clamped": {"1": 2, "2": 2}})
        for layer, per_expert in msgs[-1]["result"]["expert_tokens"].items():
            self.assertEqual(sum(per_expert), 4 * 32 * 2)  # two slots per token: the two resident experts
            self.assertEqual({e for e, n in enumerate(per_expert) if n}, set(ready["trainable"][layer]))
        one = run(train_spec(self.model_dir, self.data, os.path.join(self.tmp, "top1"), steps=1, top_k=1))
        self.assertEqual(next(m for m in one if m["type"] == "ready")["run"]["routing"]["top_k"], 1)
        self.assertEqual(sum(one[-1]["result"]["expert_tokens"]["1"]), 4 * 32)

    def test_resume_equals_an_uninterrupted_run(self) -> None:
        spec = dict(checkpoint_every=3, dtype="fp32", cell="B", kept=2, steps=6, activation_checkpointing=True)
        full_dir, part_dir = os.path.join(self.tmp, "full"), os.path.join(self.tmp, "part")
        full = run(train_spec(self.model_dir, self.data, full_dir, **spec))
        first = run(train_spec(self.model_dir, self.data, part_dir, **{**spec, "steps": 3, "checkpoint_every": 0}))
        # a 3-step run writes only its final adapter; resume needs a training checkpoint: take it from a run cut at 4
        self.assertFalse(os.path.isdir(os.path.join(part_dir, "checkpoints")))
        shutil.rmtree(part_dir)
        cut = run(train_spec(self.model_dir, self.data, part_dir, **{**spec, "steps": 5}))
        self.assertEqual([m["step"] for m in cut if m["type"] == "checkpoint"], [3])
        resumed = run(train_spec(self.model_dir, self.data, part_dir, **{**spec, "resume": True}))
        self.assertEqual(next(m for m in resumed if m["type"] == "ready")["run"]["start_step"], 3)
        self.assertEqual([m["loss"] for m in steps(first)], [m["loss"] for m in steps(full)][:3])
        self.assertEqual([m["loss"] for m in steps(resumed)], [m["loss"] for m in steps(full)][3:])
        a, b = read_adapter(full[-1]["result"]["adapter_dir"])[1], read_adapter(resumed[-1]["result"]["adapter_dir"])[1]
        self.assertEqual(a.keys(), b.keys())
        self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
        self.assertEqual(full[-1]["result"]["expert_tokens"], resumed[-1]["result"]["expert_tokens"])

    def test_select_resolves_the_experts_cell_A_trains(self) -> None:
        spec = train_spec(self.model_dir, self.data, "-")
        select = {k: spec[k] for k in ("model_dir", "data", "experts", "batch_size", "score_tokens", "dtype", "device", "seed")}
        code, msgs = run_main(json.dumps({"command": "select", **select}))
        self.assertEqual(code, 0, msgs)
        self.assertEqual([m["type"] for m in msgs], ["hello", "done"])
        ready = next(m for m in self.runs["A"][1] if m["type"] == "ready")["run"]
        self.assertEqual(msgs[1]["result"]["experts"], ready["trainable"])
        self.assertEqual(msgs[1]["result"]["scores"], ready["scores"])
        code, msgs = run_main(json.dumps({"command": "select", **select, "steps": 3}))
        self.assertEqual((code, msgs[-1]["code"]), (1, "bad_spec"))
        self.assertIn("unknown field(s) ['steps']", msgs[-1]["message"])

    def test_bf16_training_with_stochastic_rounding_moves_small_updates(self) -> None:
        out = os.path.join(self.tmp, "bf16")
        msgs = run(train_spec(self.model_dir, self.data, out, dtype="bf16", optimizer_state_dtype="bf16", lr=1e-5, steps=2))
        _, tensors = read_adapter(msgs[-1]["result"]["adapter_dir"])
        name = sorted(tensors)[0]
        self.assertEqual(tensors[name].dtype, torch.bfloat16)
        changed = (tensors[name].float() != self.base[name].to(torch.bfloat16).float()).float().mean()
        self.assertGreater(float(changed), 0.01)  # nearest rounding would leave almost every weight in place

    def test_explicit_expert_config(self) -> None:
        out = os.path.join(self.tmp, "explicit")
        msgs = run(train_spec(self.model_dir, self.data, out, steps=1, experts={"method": "explicit", "experts": {"1": [0, 5], "2": [7]}}))
        ready = next(m for m in msgs if m["type"] == "ready")["run"]
        self.assertEqual(ready["trainable"], {"1": [0, 5], "2": [7]})
        self.assertIsNone(ready["scores"])
        with open(os.path.join(msgs[-1]["result"]["adapter_dir"], "expert_cfg.json")) as f:
            self.assertEqual(json.load(f)["experts"], {"1": [0, 5], "2": [7]})


class BadInputTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="worker-bad-")
        self.data = pattern_data(os.path.join(self.tmp, "data"))
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fails(self, spec, code: str, text: str) -> None:
        status, msgs = run_main(json.dumps(spec) if not isinstance(spec, str) else spec)
        self.assertEqual(status, 1)
        self.assertEqual(msgs[0]["type"], "hello")
        self.assertEqual([m["type"] for m in msgs], ["hello", "error"], msgs)  # no work started
        self.assertEqual(msgs[-1]["code"], code, msgs[-1])
        self.assertIn(text, msgs[-1]["message"])
        self.assertFalse(os.path.exists(os.path.join(self.out, "adapter")))

    def test_bad_specs_fail_before_any_work(self) -> None:
        m = tiny_checkpoint()
        self.fails("{not json", "bad_spec", "not valid JSON")
        self.fails(train_spec(m, self.data, self.out, cell="D"), "bad_spec", "spec.cell")
        self.fails(train_spec(m, self.data, self.out, steps=0), "bad_spec", "spec.steps")
        self.fails(train_spec(m, self.data, self.out, cell="B"), "bad_spec", "spec.kept")
        self.fails(train_spec(m, self.data, self.out, lr="fast"), "bad_spec", "spec.lr")
        self.fails(train_spec(m, self.data, self.out, experts={"method": "magic"}), "bad_spec", "spec.experts.method")
        self.fails(train_spec(m, self.data, self.out, bogus=1), "bad_spec", "unknown field")
        self.fails(train_spec(m, self.data, self.out, device="cuda"), "no_gpu", "no CUDA GPU")
        self.fails(train_spec(os.path.join(self.tmp, "nowhere"), self.data, self.out), "file_not_found", "config.json")
        self.fails(train_spec(m, os.path.join(self.tmp, "none.json"), self.out), "file_not_found", "data descriptor")
        self.fails(train_spec(m, self.data, self.out, experts={"method": "explicit", "experts": {"1": [0, 8]}}), "bad_experts", "expert id 8 is out of range 0..7")
        self.fails(train_spec(m, self.data, self.out, experts={"method": "explicit", "experts": {"0": [1]}}), "bad_experts", "layer 0 is not an MoE layer")
        self.fails(train_spec(m, self.data, self.out, cell="B", kept=7), "bad_experts", "exceeds the model's 8 routed experts")
        self.fails(train_spec(m, self.data, self.out, routing="masked"), "bad_spec", "spec.routing is \"masked\"; it must be 'subnet' or 'renormalized'")
        self.fails(train_spec(m, self.data, self.out, top_k=0), "bad_spec", "spec.top_k")
        self.fails(train_spec(m, self.data, self.out, top_k=9), "bad_spec", "spec.top_k 9 exceeds the model's 8 routed experts")

    def test_bad_model_and_data(self) -> None:
        llama = os.path.join(self.tmp, "llama")
        shutil.copytree(tiny_checkpoint(), llama)
        with open(os.path.join(llama, "config.json")) as f:
            raw = json.load(f)
        with open(os.path.join(llama, "config.json"), "w") as f:
            json.dump({**raw, "model_type": "llama"}, f)
        self.fails(train_spec(llama, self.data, self.out), "unsupported_model", "only 'deepseek_v2'")
        big_vocab = write_packed(os.path.join(self.tmp, "data2"), "big", torch.full((4, 8), 99), torch.ones(4, 8))
        self.fails(train_spec(tiny_checkpoint(), big_vocab, self.out), "bad_data", "token ids span 99..99; the model's vocab_size allows 0..63")
        broken = os.path.join(self.tmp, "broken")
        shutil.copytree(tiny_checkpoint(), broken)
        with open(os.path.join(broken, "model.safetensors"), "r+b") as f:
            f.truncate(1000)
        self.fails(train_spec(broken, self.data, self.out), "bad_checkpoint", "model.safetensors")

    def test_interrupted_write_never_looks_complete(self) -> None:
        final = os.path.join(self.tmp, "ckpt")

        def crash(tmp: str):
            with open(os.path.join(tmp, "half.bin"), "wb") as f:
                f.write(b"x")
            raise RuntimeError("killed mid-write")

        with self.assertRaises(RuntimeError):
            write_atomically(final, crash)
        self.assertFalse(os.path.exists(final))
        self.assertFalse(is_complete(final + f".tmp-{os.getpid()}"))
        with self.assertRaisesRegex(ValueError, COMPLETE):
            read_adapter(final + f".tmp-{os.getpid()}")


if __name__ == "__main__":
    unittest.main()
