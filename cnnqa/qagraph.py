"""The question graph: pages declare it in their front matter; this module checks and draws it.

Each question page says two things about itself::

    ---
    question: What are the inputs and outputs of a CNN?
    parents: [definition]
    ---

Its id is the file's stem (``input-output.md`` -> ``input-output``). Nothing else declares the
graph: the home page's map, its list fallback, the per-page links and the navigation order are
all computed from this one :class:`QuestionGraph`.

This module knows nothing about MkDocs (that adapter is :mod:`cnnqa.mkdocs_plugin`), so the
rules can be tested on small graphs made in the tests.

>>> graph = QuestionGraph.from_pages([
...     ("q/what.md", {"question": "What is it?"}),
...     ("q/why.md", {"question": "Why?", "parents": ["what"]}),
...     ("q/how.md", {"question": "How?", "parents": ["what"], "order": 1}),
... ])
>>> graph.walk()
['what', 'how', 'why']
>>> graph.children["what"]
('how', 'why')
"""

from __future__ import annotations

import difflib
import math
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
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


def _question_from_meta(src_path: str, meta: Mapping) -> tuple[Question | None, list[str]]:
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
    if problems:
        return None, problems
    return Question(qid, question.strip(), tuple(parents), src_path, order), []


class QuestionGraph:
    """A validated, acyclic question graph with a single root that reaches every question.

    Build it with :meth:`from_pages`; every problem found is raised together as one
    :class:`GraphError` whose lines each name the page at fault.
    """

    def __init__(self, questions: Mapping[str, Question], root: str):
        self.questions = dict(questions)
        self.root = root
        kids: dict[str, list[Question]] = {qid: [] for qid in self.questions}
        for q in self.questions.values():
            for parent in q.parents:
                kids[parent].append(q)
        # Siblings read in their 'order:' (if given), then alphabetically by id.
        self.children = {
            qid: tuple(c.id for c in sorted(cs, key=lambda c: (c.order, c.id))) for qid, cs in kids.items()
        }

    @classmethod
    def from_pages(cls, pages: Iterable[tuple[str, Mapping]], root: str | None = None) -> QuestionGraph:
        """Build the graph from ``(src_path, front_matter)`` pairs and check every rule.

        The rules: each page has a ``question``; ids (file stems) are unique; every parent is a
        known id; exactly one root (the given ``root``, or else the only page without parents);
        no cycles; every question reachable from the root.
        """
        questions, problems = cls._read(pages)
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
        return cls(questions, root)

    @staticmethod
    def _read(pages: Iterable[tuple[str, Mapping]]) -> tuple[dict[str, Question], list[str]]:
        questions: dict[str, Question] = {}
        problems: list[str] = []
        for src_path, meta in pages:
            q, page_problems = _question_from_meta(src_path, meta)
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

    def mermaid(self, href: Callable[[str], str]) -> str:
        """The whole graph as Mermaid ``graph TD`` source, each node a click link to ``href(id)``.

        >>> g = QuestionGraph.from_pages([("a.md", {"question": 'Why "a"?'}),
        ...                               ("b.md", {"question": "B?", "parents": ["a"]})])
        >>> print(g.mermaid(lambda qid: qid + "/"))
        graph TD
            n0["Why #quot;a#quot;?"]
            n1["B?"]
            n0 --> n1
            click n0 "a/"
            click n1 "b/"
        """
        node = {qid: f"n{i}" for i, qid in enumerate(self.walk())}
        lines = ["graph TD"]
        lines += [f'    {node[qid]}["{_mermaid_text(self.questions[qid].question)}"]' for qid in node]
        lines += [f"    {node[qid]} --> {node[child]}" for qid in node for child in self.children[qid]]
        lines += [f'    click {node[qid]} "{_quoted_url(href(qid))}"' for qid in node]
        return "\n".join(lines)

    def nested_list(self, href: Callable[[str], str]) -> str:
        """The graph as a nested Markdown list of links, for readers without JavaScript.

        A question with several parents is listed under each; its own sub-list is spelled out
        the first time only.

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
            lines.append(f"{'    ' * depth}- [{title}]({href(qid)})")
            if qid in expanded:
                return
            expanded.add(qid)
            for child in self.children[qid]:
                emit(child, depth + 1)

        emit(self.root, 0)
        return "\n".join(lines)


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
