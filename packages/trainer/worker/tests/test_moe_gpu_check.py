"""bench/gpu/check --smoke: the GPU check's code paths on the CPU with tiny shapes (one run for the whole module)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
CELLS = ("cell_A_subnet", "cell_A_renormalized", "cell_B_subnet", "cell_B_renormalized", "cell_C")


class GpuCheckSmokeTest(unittest.TestCase):
    doc: Dict[str, Any]
    rc: int
    stderr: str

    @classmethod
    def setUpClass(cls) -> None:
        out = os.path.join(tempfile.mkdtemp(prefix="gpu-check-"), "check.json")
        proc = subprocess.run([os.path.join(ROOT, "bench", "gpu", "check"), "--smoke", "--out", out], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "TRAINER_PYTHON": sys.executable})
        cls.rc, cls.stderr = proc.returncode, proc.stderr
        with open(out, encoding="utf-8") as f:
            cls.doc = json.load(f)

    def test_every_section_runs_and_the_check_passes(self) -> None:
        self.assertEqual(self.rc, 0, self.stderr[-3000:])
        sections = self.doc["sections"]
        self.assertEqual(list(sections), ["env", "dispatch", *CELLS, "selection", "generation", "parity"])
        for key, s in sections.items():
            if key != "parity":
                self.assertEqual(s["status"], "ok", (key, s.get("error")))

    def test_parity_without_transformers_is_skipped_with_the_reason(self) -> None:
        parity = self.doc["sections"]["parity"]
        try:
            import transformers  # noqa: F401
        except ImportError:
            self.assertEqual(parity["status"], "skipped")
            self.assertEqual(parity["reason"], "skipped: transformers not installed")
        else:
            self.assertEqual(parity["status"], "ok")

    def test_dispatch_agrees_with_the_loop_and_reads_nothing_on_the_host(self) -> None:
        d = self.doc["sections"]["dispatch"]
        agreement = d["agreement"][0]
        self.assertTrue(agreement["ok"], agreement)
        self.assertEqual(agreement["empty_trainable_slots"], [1])
        self.assertTrue(agreement["empty_experts_zero_grad"])
        self.assertEqual(set(d["no_host_sync"]), {"routed_experts", "routed_experts_checkpointed", "moe_layer_subnet", "moe_layer_renormalized"})
        for name, probe in d["no_host_sync"].items():
            self.assertEqual(probe["host_reads"], [], name)
            self.assertEqual(probe["runs"], 1 if name == "routed_experts" else 2, name)
        self.assertTrue(self.doc["targets_met"]["no_host_sync_in_moe_layer"])

    def test_cells_measure_and_profile_with_their_routing(self) -> None:
        for key in CELLS:
            cell = self.doc["sections"][key]
            self.assertGreater(cell["tokens_per_s"], 0, key)
            self.assertTrue(cell["top_kernels"], key)  # smoke profiles every section
            self.assertEqual(cell["routing"], key.split("_")[-1] if key != "cell_C" else "natural")
        self.assertGreater(self.doc["sections"]["generation"]["new_tokens_per_s"], 0)
        self.assertEqual(self.doc["sections"]["selection"]["layers_scored"], 2)
        # figures of a CPU smoke run are not held against the GPU targets
        self.assertIsNone(self.doc["targets_met"]["A_subnet_tokens_per_s>=26000"])
        self.assertIsNone(self.doc["targets_met"]["generation_new_tokens_per_s>=2500"])


if __name__ == "__main__":
    unittest.main()
