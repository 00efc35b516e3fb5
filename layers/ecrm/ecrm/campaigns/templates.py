"""The campaign template language: `{{ variable }}` and `{{ variable | filter("arg") }}`, nothing more.

Deliberately tiny. A template names variables from a fixed list and applies a few string filters;
there are no expressions, loops, attribute lookups or calls, so a template saved by a marketer can
never run code or reach data it was not handed. Templates are parsed when they are saved (an
unknown variable or filter is rejected there, naming the part and the variable) and rendered many
times; contact data is HTML-escaped in the HTML part, kept as is in the text part, and flattened to
one line in the subject (a header: a line break there would start a new header).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Part = Literal["subject", "html", "text"]

VARIABLES: Mapping[str, str] = {
    "first_name": "the contact's first name",
    "last_name": "the contact's last name",
    "email": "the contact's e-mail address",
    "company": "the contact's company",
    "country": "the contact's country (ISO code)",
    "tier": "the contact's loyalty tier",
    "unsubscribe_url": "one-click unsubscribe link; required in the HTML and text parts",
    "preferences_url": "link to the contact's per-topic preferences page",
}
# Links we build ourselves. Only these may open an href/src attribute, and they take no filters
# (an upper-cased signed link no longer works).
LINK_VARIABLES = frozenset({"unsubscribe_url", "preferences_url"})
UNSUBSCRIBE = "unsubscribe_url"


def _default(value: str, arg: str | None) -> str:
    return value if value else (arg or "")


_FILTERS: Mapping[str, tuple[bool, Callable[[str, str | None], str]]] = {
    # name: (takes one string argument, function)
    "default": (True, _default),
    "upper": (False, lambda v, _: v.upper()),
    "lower": (False, lambda v, _: v.lower()),
    "title": (False, lambda v, _: v.title()),
    "trim": (False, lambda v, _: v.strip()),
}
FILTERS = frozenset(_FILTERS)

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<pipe>\|)|(?P<open>\()|(?P<close>\))"""
    r"""|(?P<string>"[^"\\\n]{0,200}"|'[^'\\\n]{0,200}')|(?P<other>\S))"""
)
_URL_ATTRIBUTE = re.compile(r"""\b(?:href|src|action)\s*=\s*["']?\s*$""", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


class TemplateError(ValueError):
    """A template that does not parse or breaks a rule; names the part and, if any, the variable."""

    def __init__(self, part: Part, message: str, variable: str | None = None) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message
        self.variable = variable


@dataclass(frozen=True)
class Filter:
    name: str
    arg: str | None = None


@dataclass(frozen=True)
class Placeholder:
    variable: str
    filters: tuple[Filter, ...]
    line: int
    column: int


Node = str | Placeholder


@dataclass(frozen=True)
class Parsed:
    part: Part
    nodes: tuple[Node, ...]

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(n.variable for n in self.nodes if isinstance(n, Placeholder))

    def render(self, values: Mapping[str, str | None]) -> str:
        out: list[str] = []
        for node in self.nodes:
            if isinstance(node, str):
                out.append(node)
            else:
                out.append(self._value(node, values))
        return "".join(out)

    def _value(self, node: Placeholder, values: Mapping[str, str | None]) -> str:
        value = values.get(node.variable) or ""
        for f in node.filters:
            value = _FILTERS[f.name][1](value, f.arg)
        if self.part == "html":
            return html.escape(value, quote=True)
        if self.part == "subject":
            return _LINE_BREAKS.sub(" ", value)
        return value


# -- parsing -----------------------------------------------------------------------------------


def parse(source: str, part: Part) -> Parsed:
    """Parse `source`; raise TemplateError on the first problem, with line and column."""
    nodes: list[Node] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        if match.start() > position:
            nodes.append(source[position : match.start()])
        line, column = _where(source, match.start())
        nodes.append(_placeholder(match.group(1), part, line, column))
        position = match.end()
    rest = source[position:]
    if "{{" in rest:
        line, column = _where(source, position + rest.index("{{"))
        raise TemplateError(part, f"'{{{{' at line {line}, column {column} is never closed with '}}}}'")
    if rest:
        nodes.append(rest)
    return Parsed(part, tuple(nodes))


def _where(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _tokens(expression: str, part: Part) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup or "other"
        text = match.group(kind)
        if kind == "other":
            hint = "attribute access is not allowed" if text in ".[" else f"unexpected {text!r}"
            raise TemplateError(part, f"{hint} in '{{{{{expression}}}}}'")
        tokens.append((kind, text))
    return tokens


def _placeholder(expression: str, part: Part, line: int, column: int) -> Placeholder:
    tokens = _tokens(expression, part)
    where = f"at line {line}, column {column}"
    if not tokens or tokens[0][0] != "name":
        raise TemplateError(part, f"empty or malformed placeholder {where}")
    variable = tokens[0][1]
    if variable not in VARIABLES:
        raise TemplateError(part, f"unknown variable '{variable}' {where}", variable)
    filters = _filters(tokens[1:], part, variable, where)
    if filters and variable in LINK_VARIABLES:
        raise TemplateError(part, f"'{variable}' is a link and takes no filters {where}", variable)
    return Placeholder(variable, filters, line, column)


def _filters(tokens: list[tuple[str, str]], part: Part, variable: str, where: str) -> tuple[Filter, ...]:
    filters: list[Filter] = []
    i = 0
    while i < len(tokens):
        if tokens[i][0] != "pipe" or i + 1 >= len(tokens) or tokens[i + 1][0] != "name":
            raise TemplateError(part, f"expected '| filter' after '{variable}' {where}", variable)
        name = tokens[i + 1][1]
        if name not in _FILTERS:
            raise TemplateError(part, f"unknown filter '{name}' on '{variable}' {where}", variable)
        arg, i = _argument(tokens, i + 2, name, part, variable, where)
        filters.append(Filter(name, arg))
    return tuple(filters)


def _argument(
    tokens: list[tuple[str, str]], i: int, name: str, part: Part, variable: str, where: str
) -> tuple[str | None, int]:
    takes_arg = _FILTERS[name][0]
    kinds = [kind for kind, _ in tokens[i : i + 3]]
    if takes_arg and kinds == ["open", "string", "close"]:
        return tokens[i + 1][1][1:-1], i + 3
    if takes_arg:
        raise TemplateError(part, f"filter '{name}' needs one quoted string, as {name}(\"…\"), {where}", variable)
    if kinds[:1] == ["open"]:
        raise TemplateError(part, f"filter '{name}' takes no argument {where}", variable)
    return None, i


# -- rules for campaign templates ----------------------------------------------------------------


def require_unsubscribe(parsed: Parsed) -> None:
    """The HTML and text parts must carry the unsubscribe link, and not inside an HTML comment."""
    seen_text = ""
    for node in parsed.nodes:
        if isinstance(node, str):
            seen_text += node
        elif node.variable == UNSUBSCRIBE and not (parsed.part == "html" and _in_comment(seen_text)):
            return
    raise TemplateError(parsed.part, "must contain the unsubscribe link {{ unsubscribe_url }}", UNSUBSCRIBE)


def _in_comment(html_before: str) -> bool:
    return html_before.rfind("<!--") > html_before.rfind("-->")


def check_link_attributes(parsed: Parsed) -> None:
    """In HTML only our own links may open an href/src: contact data there could be `javascript:`."""
    before = ""
    for node in parsed.nodes:
        if isinstance(node, str):
            before = node
            continue
        if node.variable not in LINK_VARIABLES and _URL_ATTRIBUTE.search(before):
            raise TemplateError(
                parsed.part,
                f"'{node.variable}' may not start a link attribute (line {node.line}); only "
                + ", ".join(sorted(LINK_VARIABLES))
                + " may",
                node.variable,
            )
        before = ""


def compile_part(source: str, part: Part) -> Parsed:
    """Parse a part and apply the campaign rules for it (save-time validation)."""
    parsed = parse(source, part)
    if part == "subject" and _LINE_BREAKS.search(source):
        raise TemplateError(part, "must be one line without control characters: it is a mail header")
    if part == "subject" and UNSUBSCRIBE in parsed.variables:
        raise TemplateError(part, "the unsubscribe link does not belong in the subject", UNSUBSCRIBE)
    if part in ("html", "text"):
        require_unsubscribe(parsed)
    if part == "html":
        check_link_attributes(parsed)
    return parsed


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class CompiledTemplate:
    subject: Parsed
    html: Parsed
    text: Parsed

    @classmethod
    def compile(cls, subject: str, html_source: str, text: str) -> CompiledTemplate:
        return cls(compile_part(subject, "subject"), compile_part(html_source, "html"), compile_part(text, "text"))

    def render(self, values: Mapping[str, str | None], subject: Parsed | None = None) -> Rendered:
        """Render all parts; `subject` replaces the template's own (an A/B variant)."""
        return Rendered(
            subject=(subject or self.subject).render(values).strip(),
            html=self.html.render(values),
            text=self.text.render(values),
        )
