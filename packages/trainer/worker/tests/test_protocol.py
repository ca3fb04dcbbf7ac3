"""The worker judges specs as the zod schemas do: the shared cases of test/fixtures/protocol-cases.json, the
schema file's keywords, and the messages the Emitter lets out."""

from __future__ import annotations

import io
import json
import os
import unittest
from typing import List, Union

from worker import json_schema
from worker.protocol import ERROR_CODES, PROTOCOL_VERSION, SCHEMAS, Emitter, SpecError, checked, parse_spec

CASES = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "protocol-cases.json")


def field(path: List[Union[str, int]], root: str = "spec") -> str:
    """A zod issue path as the worker's messages write it: spec.betas[1], spec.experts.method."""
    return root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


class SharedCasesTest(unittest.TestCase):
    def setUp(self) -> None:
        with open(CASES, "r", encoding="utf-8") as f:
            self.cases = json.load(f)

    def test_valid_specs_parse_with_the_same_defaults(self) -> None:
        for case in self.cases["valid"]:
            with self.subTest(case["name"]):
                filled = json_schema.validate(SCHEMAS["spec"], case["spec"], "spec")
                self.assertEqual(filled, case["parsed"])
                self.assertEqual(json.dumps(filled, sort_keys=True), json.dumps(case["parsed"], sort_keys=True))  # 3, not 3.0
                parse_spec(json.dumps(case["spec"]))

    def test_invalid_specs_are_refused_naming_the_field(self) -> None:
        for case in self.cases["invalid"]:
            with self.subTest(case["name"]):
                with self.assertRaises(SpecError) as caught:
                    parse_spec(json.dumps(case["spec"]))
                self.assertTrue(str(caught.exception).startswith(field(case["path"]) + " "), str(caught.exception))

    def test_eval_requests_as_zod_judges_them(self) -> None:
        for case in self.cases["eval_requests"]["valid"]:
            with self.subTest(case["name"]):
                self.assertEqual(checked(SCHEMAS["eval_request"], case["request"], "request"), case["parsed"])
        for case in self.cases["eval_requests"]["invalid"]:
            with self.subTest(case["name"]):
                with self.assertRaises(SpecError) as caught:
                    checked(SCHEMAS["eval_request"], case["request"], "request")
                self.assertTrue(str(caught.exception).startswith(field(case["path"], "request") + " "), str(caught.exception))


class SchemaFileTest(unittest.TestCase):
    def test_constants_come_from_the_schema(self) -> None:
        self.assertEqual(PROTOCOL_VERSION, 1)
        self.assertIn("bad_spec", ERROR_CODES)

    def test_a_keyword_outside_the_subset_is_refused_when_loaded(self) -> None:
        with self.assertRaisesRegex(ValueError, r"#/properties/a uses JSON Schema keyword\(s\) \['multipleOf'\]"):
            json_schema.check_keywords({"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 2}}})

    def test_allowed_in_words(self) -> None:
        self.assertEqual(json_schema.allowed({"type": "number", "exclusiveMinimum": 0, "maximum": 1}), "a number in (0, 1]")
        self.assertEqual(json_schema.allowed({"type": "integer", "minimum": 1, "maximum": 2**53 - 1}), "an integer >= 1")
        self.assertEqual(json_schema.allowed({"type": "string", "enum": ["a", "b", "c"]}), "'a', 'b' or 'c'")
        self.assertEqual(json_schema.allowed({"type": ["number", "null"]}), "a number or null")


class EmitterTest(unittest.TestCase):
    def test_writes_valid_messages_and_refuses_others(self) -> None:
        out = io.StringIO()
        emitter = Emitter(out)
        emitter.emit("checkpoint", step=2, path="/runs/x/checkpoint")
        emitter.emit("error", code="bad_data", message="no sequences")
        emitter.emit("done", command="train", result={"steps": 0, "final_loss": None, "adapter_dir": "a", "expert_tokens": {}})
        self.assertEqual([json.loads(line)["type"] for line in out.getvalue().splitlines()], ["checkpoint", "error", "done"])
        with self.assertRaisesRegex(ValueError, "message.code is \"nope\""):
            emitter.emit("error", code="nope", message="x")
        with self.assertRaisesRegex(ValueError, "message.step is 0; it must be an integer >= 1"):
            emitter.emit("checkpoint", step=0, path="p")
        with self.assertRaisesRegex(ValueError, "message.type is \"chat\""):
            emitter.emit("chat", text="hi")
        self.assertEqual(len(out.getvalue().splitlines()), 3)  # nothing half-written


if __name__ == "__main__":
    unittest.main()
