"""The question graph: pages declare it in their front matter; this module checks and draws it.

Each question page says where it stands::

    ---
    question: What are the inputs and outputs of a CNN?
    parents: [definition]
    part: network        # optional: the part of the course; else its parents' part
    added: true          # optional: asked beyond the original 25 questions
    ---

Its id is the file's stem (``input-output.md`` -> ``input-output``). Nothing else declares the
graph: the home page's map, its list fallback, the per-page links and the navigation order are
all computed from this one :class:`QuestionGraph`.

This module knows nothing about MkDocs (that adapter is :mod:`cnnqa.site.mkdocs_plugin`), so the
rules can be tested on small graphs made in the tests.

>>> graph = QuestionGraph.from_pages([
...     ("q/what.md", {"question": "What is it?", "part": "basics"}),
...     ("q/why.md", {"question": "Why?", "parents": ["what"], "added": True}),
...     ("q/how.md", {"question": "How?", "parents": ["what"], "order": 1, "part": "use"}),
... ], parts=["basics", "use"])
>>> graph.walk()
['what', 'how', 'why']
>>> graph.children["what"]
('how', 'why')
>>> graph.part["why"], graph.part["how"], graph.questions["why"].added
('basics', 'use', True)
"""

from __future__ import annotations

import difflib
import math
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import yaml

__all__ = ["GraphError", "Question", "QuestionGraph", "markdown_link_text", "read_front_matter"]

# The same front-matter block MkDocs accepts: YAML between '---' and '---' (or '...').
_FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\n(.*?\n?)^(?:-{3}|\.{3})[ \t]*$\n?", re.DOTALL | re.MULTILINE)


class GraphError(ValueError):
    """The pages do not form a valid question graph; the message names every page at fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid question graph:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Question:
    """One question page: its id (the file stem), title, parents, and where it came from."""

    id: str
    question: str
    parents: tuple[str, ...]
    src_path: str
    order: float = math.inf
    part: str | None = None  # as declared; QuestionGraph.part holds the inherited one
    added: bool = False


def read_front_matter(text: str) -> dict:
    """Return the YAML front matter of a Markdown document (``{}`` when it has none).

    >>> read_front_matter("---\\nquestion: Why?\\nparents: [a]\\n---\\nBody\\n")
    {'question': 'Why?', 'parents': ['a']}
    >>> read_front_matter("# No front matter")
    {}
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else {}


def _question_from_meta(
    src_path: str, meta: Mapping, parts: Sequence[str] | None
) -> tuple[Question | None, list[str]]:
    """Read one page's front matter into a Question, or say what is wrong with it."""
    problems = []
    qid = posixpath.splitext(posixpath.basename(src_path))[0]
    question = meta.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{src_path}: front matter needs 'question:' with the question as text, got {question!r}")
    parents = meta.get("parents", [])
    if parents is None:
        parents = []
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        problems.append(f"{src_path}: 'parents:' must be a list of question ids, got {parents!r}")
    elif len(set(parents)) != len(parents):
        problems.append(f"{src_path}: 'parents:' lists an id twice: {parents!r}")
    order = meta.get("order", math.inf)
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        problems.append(f"{src_path}: 'order:' must be a number, got {order!r}")
    part = meta.get("part")
    if part is not None and parts is not None and part not in parts:
        close = difflib.get_close_matches(str(part), list(parts), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(f"{src_path}: 'part:' must be one of {', '.join(parts)}, got {part!r}{hint}")
    elif part is not None and not (isinstance(part, str) and part.strip()):
        problems.append(f"{src_path}: 'part:' must be the id of a part as text, got {part!r}")
    added = meta.get("added", False)
    if not isinstance(added, bool):
        problems.append(f"{src_path}: 'added:' must be true or false, got {added!r}")
    if problems:
        return None, problems
    return Question(qid, question.strip(), tuple(parents), src_path, order, part, added), []


class QuestionGraph:
    """A validated, acyclic question graph with a single root that reaches every question.

    Build it with :meth:`from_pages`; every problem found is raised together as one
    :class:`GraphError` whose lines each name the page at fault. ``part[id]`` is each question's
    part: its own ``part:``, else the one part its parents share (``None`` when no page names one).
    """

    def __init__(self, questions: Mapping[str, Question], root: str, parts: Sequence[str] | None = None):
        self.questions = dict(questions)
        self.root = root
        self.parts = tuple(parts) if parts is not None else None
        kids: dict[str, list[Question]] = {qid: [] for qid in self.questions}
        for q in self.questions.values():
            for parent in q.parents:
                kids[parent].append(q)
        # Siblings read in their 'order:' (if given), then alphabetically by id.
        self.children = {
            qid: tuple(c.id for c in sorted(cs, key=lambda c: (c.order, c.id))) for qid, cs in kids.items()
        }
        self.part, _ = _inherit_parts(self.questions, self.walk())

    @classmethod
    def from_pages(
        cls, pages: Iterable[tuple[str, Mapping]], root: str | None = None, parts: Sequence[str] | None = None
    ) -> QuestionGraph:
        """Build the graph from ``(src_path, front_matter)`` pairs and check every rule.

        The rules: each page has a ``question``; ids (file stems) are unique; every parent is a
        known id; exactly one root (the given ``root``, or else the only page without parents);
        no cycles; every question reachable from the root; ``added`` is true or false. With
        ``parts`` given, every ``part:`` is one of them, and every question has a part: the root
        names its own, and a question whose parents lie in different parts names its own.
        """
        questions, problems = cls._read(pages, parts)
        if not problems:
            problems = cls._unknown_parents(questions)
        if not problems:
            root, problems = cls._find_root(questions, root)
        if not problems:
            problems = cls._cycles(questions)
        if not problems:
            problems = cls._unreachable(questions, root)
        if problems:
            raise GraphError(problems)
        graph = cls(questions, root, parts)
        if parts is not None:
            _, problems = _inherit_parts(graph.questions, graph.walk())
        if problems:
            raise GraphError(problems)
        return graph

    @staticmethod
    def _read(
        pages: Iterable[tuple[str, Mapping]], parts: Sequence[str] | None
    ) -> tuple[dict[str, Question], list[str]]:
        questions: dict[str, Question] = {}
        problems: list[str] = []
        for src_path, meta in pages:
            q, page_problems = _question_from_meta(src_path, meta, parts)
            problems += page_problems
            if q is None:
                continue
            if q.id in questions:
                other = questions[q.id].src_path
                problems.append(f"{src_path}: duplicate question id '{q.id}' (also used by {other})")
            else:
                questions[q.id] = q
        if not questions and not problems:
            problems.append("no question pages found")
        return questions, problems

    @staticmethod
    def _unknown_parents(questions: Mapping[str, Question]) -> list[str]:
        problems = []
        for q in questions.values():
            for parent in q.parents:
                if parent not in questions:
                    close = difflib.get_close_matches(parent, list(questions), n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    problems.append(f"{q.src_path}: parent '{parent}' is not the id of any question page{hint}")
        return problems

    @staticmethod
    def _find_root(questions: Mapping[str, Question], root: str | None) -> tuple[str, list[str]]:
        if root is not None:
            if root not in questions:
                return root, [f"the configured root '{root}' is not the id of any question page"]
            if questions[root].parents:
                return root, [f"{questions[root].src_path}: the root '{root}' must not have parents"]
            return root, []
        orphans = sorted(q.id for q in questions.values() if not q.parents)
        if len(orphans) == 1:
            return orphans[0], []
        if not orphans:
            return "", ["no question is without parents, so there is no root (is every page in a cycle?)"]
        listed = ", ".join(questions[o].src_path for o in orphans)
        return "", [f"several questions have no parents ({listed}); only the root may have none"]

    @staticmethod
    def _cycles(questions: Mapping[str, Question]) -> list[str]:
        """Find cycles by depth-first search along parent links; report each cycle once."""
        state: dict[str, str] = {}  # id -> "open" while on the DFS path, "done" after
        problems, seen = [], set()

        def visit(qid: str, path: list[str]) -> None:
            state[qid] = "open"
            path.append(qid)
            for parent in questions[qid].parents:
                if state.get(parent) == "open":
                    cycle = path[path.index(parent) :]
                    if frozenset(cycle) not in seen:
                        seen.add(frozenset(cycle))
                        chain = " -> ".join([*reversed(cycle), cycle[-1]])
                        problems.append(f"{questions[parent].src_path}: the parents form a cycle: {chain}")
                elif parent not in state:
                    visit(parent, path)
            path.pop()
            state[qid] = "done"

        for qid in sorted(questions):
            if qid not in state:
                visit(qid, [])
        return problems

    @staticmethod
    def _unreachable(questions: Mapping[str, Question], root: str) -> list[str]:
        kids: dict[str, list[str]] = {qid: [] for qid in questions}
        for q in questions.values():
            for parent in q.parents:
                kids[parent].append(q.id)
        reached, stack = {root}, [root]
        while stack:
            for child in kids[stack.pop()]:
                if child not in reached:
                    reached.add(child)
                    stack.append(child)
        return [
            f"{q.src_path}: question '{q.id}' is not reachable from the root '{root}' (give it parents)"
            for q in sorted(questions.values(), key=lambda q: q.src_path)
            if q.id not in reached
        ]

    def walk(self) -> list[str]:
        """Every question id, depth first from the root, each after all of its parents."""
        waiting = {qid: len(q.parents) for qid, q in self.questions.items()}
        order, stack = [], [self.root]
        while stack:
            qid = stack.pop()
            order.append(qid)
            for child in reversed(self.children[qid]):
                waiting[child] -= 1
                if waiting[child] == 0:
                    stack.append(child)
        return order

    def mermaid(self, href: Callable[[str], str], direction: str = "LR") -> str:
        """The whole graph as Mermaid flowchart source, each node a click link to ``href(id)``.

        Nodes carry the Mermaid classes ``part<i>`` (``i`` their part's index in ``parts``) and
        ``added`` (questions beyond the original ones), for the map's colours and legend.

        >>> g = QuestionGraph.from_pages([("a.md", {"question": 'Why "a"?', "part": "p"}),
        ...                               ("b.md", {"question": "B?", "parents": ["a"], "added": True})],
        ...                              parts=["p"])
        >>> print(g.mermaid(lambda qid: qid + "/"))
        flowchart LR
            n0["Why #quot;a#quot;?"]
            n1["B?"]
            n0 --> n1
            click n0 "a/"
            click n1 "b/"
            class n0,n1 part0
            class n1 added
        """
        if direction not in ("LR", "RL", "TD", "TB", "BT"):
            raise ValueError(f"direction must be one of LR, RL, TD, TB, BT, got {direction!r}")
        node = {qid: f"n{i}" for i, qid in enumerate(self.walk())}
        lines = [f"flowchart {direction}"]
        lines += [f'    {node[qid]}["{_mermaid_text(self.questions[qid].question)}"]' for qid in node]
        lines += [f"    {node[qid]} --> {node[child]}" for qid in node for child in self.children[qid]]
        lines += [f'    click {node[qid]} "{_quoted_url(href(qid))}"' for qid in node]
        for index, part in enumerate(self.parts or ()):
            members = [node[qid] for qid in node if self.part[qid] == part]
            if members:
                lines.append(f"    class {','.join(members)} part{index}")
        added = [node[qid] for qid in node if self.questions[qid].added]
        if added:
            lines.append(f"    class {','.join(added)} added")
        return "\n".join(lines)

    def parts_used(self) -> list[tuple[int, str]]:
        """``(index, part)`` of each configured part that some question is in, in order.

        >>> g = QuestionGraph.from_pages([("a.md", {"question": "A?", "part": "z"})], parts=["y", "z"])
        >>> g.parts_used()
        [(1, 'z')]
        """
        used = set(self.part.values())
        return [(i, part) for i, part in enumerate(self.parts or ()) if part in used]

    def nested_list(self, href: Callable[[str], str], after: Callable[[str], str] = lambda qid: "") -> str:
        """The graph as a nested Markdown list of links, for readers without JavaScript.

        A question with several parents is listed under each; its own sub-list is spelled out
        the first time only. ``after(id)`` is written right after each link (attributes, say).

        >>> g = QuestionGraph.from_pages([("a.md", {"question": "A?"}),
        ...                               ("b.md", {"question": "B?", "parents": ["a"]})])
        >>> print(g.nested_list(lambda qid: qid + ".md"))
        - [A?](a.md)
            - [B?](b.md)
        """
        lines: list[str] = []
        expanded: set[str] = set()

        def emit(qid: str, depth: int) -> None:
            title = markdown_link_text(self.questions[qid].question)
            lines.append(f"{'    ' * depth}- [{title}]({href(qid)}){after(qid)}")
            if qid in expanded:
                return
            expanded.add(qid)
            for child in self.children[qid]:
                emit(child, depth + 1)

        emit(self.root, 0)
        return "\n".join(lines)


def _inherit_parts(questions: Mapping[str, Question], walk: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """Each question's part, its own or its parents' (visited parents first); and what is unclear."""
    part: dict[str, str | None] = {}
    problems = []
    for qid in walk:
        q = questions[qid]
        inherited = sorted({part[p] for p in q.parents if part[p] is not None})
        if q.part is not None:
            part[qid] = q.part
        elif len(inherited) == 1:
            part[qid] = inherited[0]
        else:
            part[qid] = None
            if not q.parents:
                problems.append(f"{q.src_path}: the root '{qid}' has no parent to take a part from; give it 'part:'")
            elif inherited:
                problems.append(
                    f"{q.src_path}: its parents lie in different parts ({', '.join(inherited)}); give it 'part:'"
                )
    return part, problems


def _mermaid_text(text: str) -> str:
    """Escape text for a double-quoted Mermaid label or link, using Mermaid's entity codes."""
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _quoted_url(url: str) -> str:
    """A URL safe inside a double-quoted Mermaid click target."""
    return url.replace('"', "%22")


def markdown_link_text(text: str) -> str:
    r"""Escape the characters that would end or restyle the text of a Markdown link.

    >>> print(markdown_link_text("Is [x] *really* `code`?"))
    Is \[x\] \*really\* \`code\`?
    """
    return re.sub(r"([\\\[\]*_`<])", r"\\\1", text)
