"""The question graph's rules, each on a small graph made here."""

import re

import pytest

from cnnqa.site.qagraph import GraphError, QuestionGraph, read_front_matter


def page(qid, parents=(), question=None, folder="questions", **extra):
    meta = {"question": question or f"{qid}?", "parents": list(parents), **extra}
    return (f"{folder}/{qid}.md", meta)


def build(*pages, root=None):
    return QuestionGraph.from_pages(pages, root=root)


def problems_of(*pages, root=None):
    with pytest.raises(GraphError) as info:
        build(*pages, root=root)
    return info.value.problems


def test_walk_is_depth_first_with_each_question_after_all_its_parents():
    graph = build(
        page("root"),
        page("a", ["root"], order=1),
        page("b", ["root"], order=2),
        page("a1", ["a"]),
        page("join", ["a1", "b"]),  # two parents: must come after both
    )
    assert graph.walk() == ["root", "a", "a1", "b", "join"]


def test_siblings_without_order_follow_those_with_one_then_sort_by_id():
    graph = build(page("root"), page("zeta", ["root"], order=1), page("beta", ["root"]), page("alpha", ["root"]))
    assert graph.children["root"] == ("zeta", "alpha", "beta")


def test_missing_question_names_the_page():
    problems = problems_of(page("root"), ("questions/nameless.md", {"parents": ["root"]}))
    assert problems == [
        "questions/nameless.md: front matter needs 'question:' with the question as text, got None"
    ]


@pytest.mark.parametrize("question", ["", "   ", 42, ["a list"]], ids=["empty", "blank", "number", "list"])
def test_question_must_be_non_empty_text(question):
    (problem,) = problems_of(page("root"), ("questions/q.md", {"question": question, "parents": ["root"]}))
    assert problem.startswith("questions/q.md: front matter needs 'question:'")


@pytest.mark.parametrize(
    "parents, words",
    [("root", "must be a list"), ([1], "must be a list"), (["root", "root"], "lists an id twice")],
    ids=["string", "not-text", "repeated"],
)
def test_malformed_parents_name_the_page(parents, words):
    (problem,) = problems_of(page("root"), ("questions/q.md", {"question": "Q?", "parents": parents}))
    assert problem.startswith("questions/q.md:") and words in problem


def test_duplicate_id_names_both_pages():
    problems = problems_of(page("root"), page("twin", ["root"]), page("twin", ["root"], folder="questions/deeper"))
    assert problems == ["questions/deeper/twin.md: duplicate question id 'twin' (also used by questions/twin.md)"]


def test_unknown_parent_names_the_page_and_suggests_a_close_id():
    problems = problems_of(page("architecture"), page("pooling", ["architecure"]))
    assert problems == [
        "questions/pooling.md: parent 'architecure' is not the id of any question page; did you mean 'architecture'?"
    ]


def test_cycle_names_a_page_and_the_cycle():
    problems = problems_of(page("root"), page("a", ["root", "c"]), page("b", ["a"]), page("c", ["b"]))
    assert len(problems) == 1
    assert re.fullmatch(r"questions/[abc]\.md: the parents form a cycle: (\w) -> (\w) -> (\w) -> \1", problems[0])
    assert set(re.findall(r"\b[abc]\b", problems[0].split(":", 2)[2])) == {"a", "b", "c"}


def test_self_parent_is_a_cycle():
    (problem,) = problems_of(page("root"), page("me", ["root", "me"]))
    assert problem == "questions/me.md: the parents form a cycle: me -> me"


def test_page_unreachable_from_configured_root_is_named():
    problems = problems_of(page("root"), page("child", ["root"]), page("island"), root="root")
    assert problems == ["questions/island.md: question 'island' is not reachable from the root 'root' (give it parents)"]


def test_two_pages_without_parents_and_no_configured_root():
    (problem,) = problems_of(page("root"), page("other"))
    assert "several questions have no parents" in problem
    assert "questions/other.md" in problem and "questions/root.md" in problem


def test_configured_root_must_exist_and_have_no_parents():
    assert problems_of(page("root"), root="nope") == ["the configured root 'nope' is not the id of any question page"]
    (problem,) = problems_of(page("top"), page("root", ["top"]), root="root")
    assert problem == "questions/root.md: the root 'root' must not have parents"


def test_every_problem_is_reported_at_once():
    problems = problems_of(page("root"), ("questions/a.md", {}), ("questions/b.md", {"question": "B?", "parents": 3}))
    assert [p.split(":")[0] for p in problems] == ["questions/a.md", "questions/b.md"]


def test_no_question_pages_at_all():
    assert problems_of() == ["no question pages found"]


def test_mermaid_has_one_node_and_one_link_per_question_and_one_edge_per_parent():
    graph = build(page("root"), page("a", ["root"]), page("b", ["root"]), page("c", ["a", "b"]))
    source = graph.mermaid(lambda qid: f"pages/{qid}/")
    lines = source.splitlines()
    assert lines[0] == "flowchart LR"
    assert len([ln for ln in lines if re.fullmatch(r'\s+n\d+\["[^"]*"\]', ln)]) == 4
    assert len([ln for ln in lines if "-->" in ln]) == 4
    assert sorted(re.findall(r'click n\d+ "pages/(\w+)/"', source)) == ["a", "b", "c", "root"]


def test_mermaid_escapes_quotes_and_angle_brackets_in_labels():
    graph = build(page("root", question='Why is it called "convolution" <really>?'))
    assert '["Why is it called #quot;convolution#quot; #lt;really#gt;?"]' in graph.mermaid(str)


def test_nested_list_spells_out_a_shared_child_once():
    graph = build(page("root"), page("a", ["root"]), page("b", ["root"]), page("c", ["a", "b"]), page("d", ["c"]))
    assert graph.nested_list(lambda qid: f"{qid}.md") == "\n".join(
        [
            "- [root?](root.md)",
            "    - [a?](a.md)",
            "        - [c?](c.md)",
            "            - [d?](d.md)",
            "    - [b?](b.md)",
            "        - [c?](c.md)",
        ]
    )


def test_front_matter_is_read_like_mkdocs_reads_it():
    text = "---\nquestion: What is it?\nparents:\n  - definition\n---\n\n# Body\n"
    assert read_front_matter(text) == {"question": "What is it?", "parents": ["definition"]}
    assert read_front_matter("---\njust: text\n...\nbody") == {"just": "text"}
    assert read_front_matter("no front matter\n---\nq: 1\n---\n") == {}


# --- parts of the course and added questions ---------------------------------------------------

PARTS = ["network", "conv", "pooling"]


def test_children_inherit_their_parents_part_unless_they_declare_their_own():
    graph = build_parts(
        page("root", part="network"),
        page("a", ["root"]),
        page("b", ["a"], part="conv"),
        page("c", ["b"]),
        page("d", ["c", "b"]),
        page("e", ["a", "d"], part="pooling"),
    )
    assert graph.part == {"root": "network", "a": "network", "b": "conv", "c": "conv", "d": "conv", "e": "pooling"}
    assert graph.parts_used() == [(0, "network"), (1, "conv"), (2, "pooling")]


def build_parts(*pages):
    return QuestionGraph.from_pages(pages, parts=PARTS)


def parts_problems(*pages):
    with pytest.raises(GraphError) as info:
        build_parts(*pages)
    return info.value.problems


def test_unknown_part_names_the_page_the_parts_and_a_close_one():
    (problem,) = parts_problems(page("root", part="network"), page("a", ["root"], part="pool"))
    assert problem == (
        "questions/a.md: 'part:' must be one of network, conv, pooling, got 'pool'; did you mean 'pooling'?"
    )


@pytest.mark.parametrize("part", [3, "", ["conv"]], ids=["number", "empty", "list"])
def test_a_part_that_is_not_text_names_the_page(part):
    (problem,) = problems_of(page("root"), page("a", ["root"], part=part))
    assert problem == f"questions/a.md: 'part:' must be the id of a part as text, got {part!r}"


def test_the_root_must_name_its_part():
    (problem,) = parts_problems(page("root"), page("a", ["root"], part="conv"))
    assert problem == "questions/root.md: the root 'root' has no parent to take a part from; give it 'part:'"


def test_a_question_between_parts_must_name_its_own():
    (problem,) = parts_problems(
        page("root", part="network"), page("a", ["root"], part="conv"), page("b", ["root"], part="pooling"),
        page("both", ["a", "b"]),
    )
    assert problem == "questions/both.md: its parents lie in different parts (conv, pooling); give it 'part:'"


@pytest.mark.parametrize("added", ["yes", 1, None], ids=["text", "number", "empty"])
def test_added_must_be_true_or_false(added):
    (problem,) = problems_of(page("root"), page("a", ["root"], added=added))
    assert problem == f"questions/a.md: 'added:' must be true or false, got {added!r}"


def test_without_configured_parts_any_part_is_kept_and_none_is_required():
    graph = build(page("root"), page("a", ["root"], part="anything"), page("b", ["a"]))
    assert graph.part == {"root": None, "a": "anything", "b": "anything"}
    assert graph.parts_used() == []


def test_mermaid_classes_each_node_by_part_and_marks_added_questions():
    graph = build_parts(
        page("root", part="network"), page("a", ["root"], part="pooling", added=True), page("b", ["root"]),
    )
    source = graph.mermaid(lambda qid: qid)
    node = dict(re.findall(r'click (n\d+) "(\w+)"', source))
    classes = dict(re.findall(r"^    class (\S+) (\w+)$", source, re.MULTILINE)[i][::-1] for i in range(3))
    assert sorted(node[n] for n in classes["part0"].split(",")) == ["b", "root"]
    assert [node[n] for n in classes["part2"].split(",")] == ["a"]
    assert [node[n] for n in classes["added"].split(",")] == ["a"]
    assert "part1" not in classes


def test_mermaid_refuses_an_unknown_direction():
    with pytest.raises(ValueError, match="direction must be one of LR, RL, TD, TB, BT, got 'sideways'"):
        build(page("root")).mermaid(str, direction="sideways")
