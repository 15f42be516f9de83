"""`lab orders`: the order tokens it finds, the operation each is an argument of, the one-step
weakenings it proposes (valid C++20 orders only), given code left alone, and a report that
asks and never tells. No compiler runs here; the builds are mutation.py's, tested by the
self-test's mutants."""

import contextlib
import io
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from labtool import order_scan, orders
from labtool.console import LabError
from labtool.course import ROOT, load_milestones
from labtool.mutation import apply_edits
from labtool.order_scan import find_orders, weakened, weakenings

MS = {m.number: m for m in load_milestones()}


def _one(code: str, given: str = ""):
    sites = find_orders(code, given)
    return sites[0] if len(sites) == 1 else sites


class Tokens(unittest.TestCase):
    def test_both_forms_and_a_bare_one_are_found(self):
        code = ("a.load(std::memory_order_acquire);\n"
                "b.store(1, std::memory_order::release);\n"
                "c.fetch_add(1, memory_order_seq_cst);\n")
        sites = find_orders(code)
        self.assertEqual([(s.line, s.call, s.order) for s in sites],
                         [(1, "load", "acquire"), (2, "store", "release"),
                          (3, "fetch_add", "seq_cst")])

    def test_comments_and_strings_are_not_code(self):
        code = ('// x.load(std::memory_order_seq_cst)\n'
                'static_assert(true, "use std::memory_order_acquire");\n'
                '/* std::memory_order_release */ int n = 1\'000;\n')
        self.assertEqual(find_orders(code), [])

    def test_a_two_order_compare_exchange_weakens_each_order_as_its_access(self):
        code = ("while (!v.compare_exchange_weak(e, d, std::memory_order_acq_rel,\n"
                "                                std::memory_order_acquire)) {}\n")
        success, failure = find_orders(code)
        self.assertEqual((success.role, success.describe),
                         ("success", "compare_exchange_weak (success order)"))
        self.assertEqual(weakenings(success), ["acquire", "release"])
        self.assertEqual(failure.role, "failure")
        self.assertEqual(weakenings(failure), ["relaxed"])
        self.assertEqual(weakenings(_one("v.compare_exchange_strong(e, d, "
                                         "std::memory_order_seq_cst, "
                                         "std::memory_order_seq_cst);")[1]), ["acquire"])

    def test_a_one_order_compare_exchange_is_a_read_modify_write(self):
        site = _one("v.compare_exchange_strong(e, d, std::memory_order_seq_cst);")
        self.assertEqual((site.role, weakenings(site)), ("", ["acq_rel"]))

    def test_a_fence(self):
        site = _one("std::atomic_thread_fence(std::memory_order_seq_cst);")
        self.assertEqual((site.operation, weakenings(site)), ("fence", ["acq_rel"]))
        site = _one("std::atomic_signal_fence(std::memory_order_acq_rel);")
        self.assertEqual(weakenings(site), ["acquire", "release"])

    def test_the_one_step_table(self):
        cases = {"x.load(std::memory_order_seq_cst)": ["acquire"],
                 "x.load(std::memory_order_acquire)": ["relaxed"],
                 "x.load(std::memory_order_consume)": ["relaxed"],
                 "x.store(1, std::memory_order_seq_cst)": ["release"],
                 "x.store(1, std::memory_order_release)": ["relaxed"],
                 "x.exchange(1, std::memory_order_seq_cst)": ["acq_rel"],
                 "x.fetch_or(1, std::memory_order_acq_rel)": ["acquire", "release"],
                 "x.fetch_sub(1, std::memory_order_release)": ["relaxed"],
                 "f.test_and_set(std::memory_order_acquire)": ["relaxed"],
                 "f.clear(std::memory_order_release)": ["relaxed"],
                 "x.wait(0, std::memory_order_acquire)": ["relaxed"],
                 "std::atomic_fetch_add_explicit(&x, 1, std::memory_order_release)": ["relaxed"],
                 "x.load(std::memory_order_relaxed)": []}
        for call, expected in cases.items():
            with self.subTest(call=call):
                self.assertEqual(weakenings(_one(call + ";")), expected)

    def test_a_template_argument_or_a_constant_is_not_judged(self):
        for code in ("using S = Sb<std::memory_order_release, std::memory_order_acquire>;",
                     "constexpr auto o = std::memory_order_acquire;",
                     "case std::memory_order_release: return std::memory_order_acquire;",
                     "if (Order == std::memory_order_seq_cst) x.load(Order);",
                     "x.load(flag ? std::memory_order_acquire : std::memory_order_relaxed);"):
            with self.subTest(code=code):
                sites = find_orders(code)
                self.assertTrue(sites)
                for s in sites:
                    self.assertTrue(s.why_not, s)
                    self.assertEqual(weakenings(s), [])

    def test_an_order_invalid_for_its_operation_is_not_judged(self):
        site = _one("x.load(std::memory_order_release);")
        self.assertIn("not a valid order for a load", site.why_not)

    def test_a_default_order_call_is_counted_not_judged(self):
        code = ("x.fetch_add(1);\nint v = x.load();\nx.store(2);\n"
                "x.compare_exchange_weak(e, d);\nitems.clear();\n"
                "x.fetch_add(1, std::memory_order_relaxed);\n")
        self.assertEqual(order_scan.default_order_calls(code), 4)
        self.assertEqual([s.call for s in find_orders(code)], ["fetch_add"])

    def test_given_code_is_skipped_even_reindented(self):
        given = ("using Fenced = Sb<std::memory_order_release, std::memory_order_acquire>;\n"
                 "  x.store(1, std::memory_order_release);\n")
        mine = ("using Fenced = Sb<std::memory_order_release, std::memory_order_acquire>;\n"
                "x.store(1,\n    std::memory_order_release);\n"
                "y.store(1, std::memory_order_seq_cst);\n")
        self.assertEqual([(s.line, s.order) for s in find_orders(mine, given)],
                         [(4, "seq_cst")])

    def test_a_statement_the_student_changed_is_theirs_even_where_a_line_is_given(self):
        given = "c.compare_exchange_weak(e, e + 1, std::memory_order_relaxed,\n" \
                "    std::memory_order_relaxed);\n"
        mine = "c.compare_exchange_weak(e, e - 1, std::memory_order_acquire,\n" \
               "    std::memory_order_relaxed);\n"
        self.assertEqual([s.role for s in find_orders(mine, given)], ["success", "failure"])


class Edits(unittest.TestCase):
    def test_weakened_keeps_the_tokens_form(self):
        code = "a.load(std::memory_order::seq_cst); b.load(std::memory_order_seq_cst);"
        first, second = find_orders(code)
        self.assertEqual(weakened(code, first, "acquire"),
                         "a.load(std::memory_order::acquire); b.load(std::memory_order_seq_cst);")
        self.assertEqual(weakened(code, second, "acquire"),
                         "a.load(std::memory_order::seq_cst); b.load(std::memory_order_acquire);")

    def test_the_unique_edit_applies_with_the_mutants_apply_edits(self):
        code = ("void f() {\n  x.fetch_add(1, std::memory_order_release);\n}\n"
                "void g() {\n  x.fetch_add(1, std::memory_order_release);\n}\n")
        site = find_orders(code)[1]
        edit = order_scan.unique_edit(code, site, "relaxed")
        self.assertEqual(apply_edits(code, [edit], "weakening", "x.hpp"),
                         weakened(code, site, "relaxed"))


class OverStrong(unittest.TestCase):
    """A solution with one relaxed order strengthened: the command proposes weakening it."""

    def test_milestone_2_with_a_seq_cst_where_the_solution_has_relaxed(self):
        m = MS[2]
        name = m.code_files()[0]
        text = (ROOT / "solutions" / m.slug / name).read_text()
        relaxed = next(s for s in find_orders(text, orders.starter_texts(m)[name])
                       if s.order == "relaxed" and s.operation == "read-modify-write")
        strong = weakened(text, relaxed, "seq_cst")
        scan = orders.scan({name: strong}, orders.starter_texts(m))
        proposed = [(c.site.line, c.site.order, c.new) for c in scan.candidates]
        self.assertIn((relaxed.line, "seq_cst", "acq_rel"), proposed)
        base = orders.scan({name: text}, orders.starter_texts(m))
        self.assertEqual(len(scan.candidates), len(base.candidates) + 1)

    def test_the_shipped_starter_has_nothing_to_judge(self):
        for m in MS.values():
            with self.subTest(milestone=m.number):
                texts = orders.workspace_texts(m, ROOT / "starter" / m.slug)
                self.assertEqual(orders.scan(texts, orders.starter_texts(m)).candidates, [])


class Report(unittest.TestCase):
    def _verdicts(self):
        code = "x.fetch_add(1, std::memory_order_seq_cst);\ny.load(std::memory_order_acquire);\n"
        a, b = find_orders(code)
        return [orders.Verdict(orders.Candidate("c.hpp", a, "acq_rel")),
                orders.Verdict(orders.Candidate("c.hpp", b, "relaxed"), ["t1", "model: t2"])]

    def test_a_survivor_is_a_question_and_a_catch_names_its_checkpoints(self):
        with mock.patch.dict("os.environ", {"NO_COLOR": "1"}):
            lines = orders.verdict_lines(MS[2], self._verdicts(), "starter/02-x")
        text = "\n".join(lines)
        self.assertIn("starter/02-x/c.hpp:1  fetch_add  seq_cst -> acq_rel", text)
        self.assertIn("no checkpoint of milestone 2 fails: which guarantee in the contract "
                      "needs seq_cst here?", text)
        self.assertIn("caught by: t1; model: t2", text)
        self.assertNotIn("\033[", text)

    def test_a_survivor_in_a_file_with_unjudged_orders_says_so(self):
        import dataclasses
        m = dataclasses.replace(MS[2], unjudged_orders={"c.hpp": "hand-over 9 is judged by none"})
        with mock.patch.dict("os.environ", {"NO_COLOR": "1"}):
            text = "\n".join(orders.verdict_lines(m, self._verdicts(), "s"))
        self.assertEqual(text.count("beware: hand-over 9 is judged by none"), 1)  # survivor only
        self.assertIn("interval_recorder.hpp", MS[6].unjudged_orders)

    def test_a_malformed_unjudged_orders_is_refused_with_its_shape(self):
        import json, shutil, tempfile
        from labtool.console import LabError
        from labtool.course import load_milestone
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / MS[2].slug
            shutil.copytree(MS[2].directory, folder)
            data = json.loads((folder / "manifest.json").read_text())
            data["unjudged_orders"] = {"not_a_file.hpp": "why"}
            (folder / "manifest.json").write_text(json.dumps(data))
            with self.assertRaises(LabError) as raised:
                load_milestone(folder)
            self.assertIn('"unjudged_orders" maps files of the milestone', str(raised.exception))

    def test_the_footer_is_honest_about_what_a_verdict_proves(self):
        scan = orders.Scan([], [], 2, 3)
        text = " ".join(orders.footer(MS[2], scan))
        for phrase in ("proves that something needs the stronger order",
                       "not proof that the weaker order is correct", "x86-64",
                       "exact only for what their models cover", "3 atomic call(s)",
                       "default (seq_cst)", "judges only the orders written out",
                       "never a deduction"):
            self.assertIn(phrase, text)

    def test_the_wording_never_tells_an_order(self):
        """The report asks: no line says which order to use."""
        text = " ".join(orders.verdict_lines(MS[2], self._verdicts(), "s")
                        + orders.footer(MS[2], orders.Scan([], [], 0, 0))).lower()
        for telling in ("should be", "use relaxed", "use acquire", "use release", "the right order",
                        "is enough", "is sufficient"):
            self.assertNotIn(telling, text)


class Command(unittest.TestCase):
    def _run(self, *argv):
        from labtool.cli import main
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["orders", *argv])
        return code, out.getvalue(), err.getvalue()

    def test_an_unknown_milestone_is_refused(self):
        code, _, err = self._run("99")
        self.assertEqual(code, 2)
        self.assertIn("no milestone '99'", err)

    def test_no_milestone_says_how_to_name_one(self):
        code, _, err = self._run()
        self.assertEqual(code, 2)
        self.assertIn("scripts/lab orders 2", err)

    def test_the_starter_says_nothing_to_judge_and_names_the_todos(self):
        code, out, _ = self._run("2")
        self.assertEqual(code, 0)
        self.assertIn("Nothing to judge in milestone 2", out)
        self.assertIn("TODOs", out)

    def test_a_workspace_that_does_not_build_says_make_check_build_first(self):
        m = MS[2]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / m.slug
            folder.mkdir()
            name = m.code_files()[0]
            text = (ROOT / "solutions" / m.slug / name).read_text()
            site = next(s for s in find_orders(text) if s.order == "release")
            (folder / name).write_text(weakened(text, site, "seq_cst"))
            with mock.patch.object(orders, "make_tree", return_value="the code does not "
                                   "build:\nerror: x"), \
                    mock.patch.object(orders, "ensure_packages"):
                code, _, err = self._run("2", "--track", tmp)
        self.assertEqual(code, 2)
        self.assertIn("make `scripts/lab check 2` build first", err)

    def test_a_missing_file_says_how_to_restore_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / MS[2].slug).mkdir()
            with self.assertRaisesRegex(LabError, "scripts/lab reset 2"):
                orders.workspace_texts(MS[2], Path(tmp) / MS[2].slug)


class SolutionsAllowList(unittest.TestCase):
    def test_survivors_need_an_allowance_and_stale_allowances_are_reported(self):
        from labtool.instructor import orders_check
        m = MS[6]
        allowed = m.order_allowances()
        self.assertTrue(all(a["why"] for a in allowed))
        name = allowed[0]["file"]
        text = (ROOT / "solutions" / m.slug / name).read_text()
        site = next(s for s in find_orders(text)
                    if text.splitlines()[s.line - 1].strip() == allowed[0]["code"])
        new = allowed[0]["weakening"].split(" -> ")[1]
        survivor = orders.Verdict(orders.Candidate(name, site, new))
        problems = orders_check.milestone_problems(m, [survivor], {name: text})
        self.assertFalse(any("SURVIVES" in p for p in problems))
        self.assertEqual(sum("remove the entry" in p for p in problems), len(allowed) - 1)
        other = next(s for s in find_orders(text) if weakenings(s) and s != site)
        problems = orders_check.milestone_problems(
            m, [orders.Verdict(orders.Candidate(name, other, weakenings(other)[0]))],
            {name: text})
        self.assertTrue(any("SURVIVES" in p for p in problems))


if __name__ == "__main__":
    unittest.main()


class AllowListInput(unittest.TestCase):
    """A malformed orders.json is refused with what it must hold; a missing one allows nothing."""

    def test_a_malformed_allow_list_says_what_it_must_hold(self):
        import dataclasses
        with tempfile.TemporaryDirectory() as tmp:
            m = dataclasses.replace(MS[6], directory=Path(tmp))
            self.assertEqual(m.order_allowances(), [])
            for bad in ('{"file": "x"}', '[{"file": "x.hpp", "code": "", "weakening": "a -> b",'
                        ' "why": "w"}]', '[{"file": "x.hpp"}]'):
                (Path(tmp) / "orders.json").write_text(bad)
                with self.assertRaisesRegex(LabError, "orders.json: a list of"):
                    m.order_allowances()
            (Path(tmp) / "orders.json").write_text("[1, ")
            with self.assertRaises(LabError):
                m.order_allowances()
