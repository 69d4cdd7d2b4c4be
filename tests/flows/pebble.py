"""A strict, test-side renderer for the few Pebble expressions the zoomcamp flows use.

It knows exactly: string/number/boolean literals, `inputs.x`, `vars.x`, `execution.id`, `trigger.date`,
`flow.namespace`, `outputs.<task>.<key>[...]`, `~`, `??`, `==`, `or`, `and`, `not`, the functions
`render()`, `read()`, `kv()` (with `errorOnMissing=`) and the filters `date('<java pattern>')` and
`lower`. Anything else (an unknown name, function, filter, operator, `{% %}` tag or date pattern
letter) raises UnknownExpression, so a flow that starts using a new expression fails its tests until
the renderer is taught it deliberately.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class UnknownExpression(ValueError):
    """The template uses something this renderer does not know."""


class Undefined(KeyError):
    """A variable or attribute that does not exist (Pebble's strict mode errors on it; `??` catches it)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>\d+)|(?P<op>\?\?|==|!=|[~|.()\[\],=])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"or", "and", "not", "true", "false", "null"}
_JAVA_DATE = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise UnknownExpression(f"cannot parse {expression[position:]!r} in {{{{ {expression} }}}}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


@dataclass
class Context:
    """What an expression can see while one execution runs."""

    inputs: Mapping[str, Any]
    variables: Mapping[str, Any]
    execution_id: str
    namespace: str
    namespace_files: Path
    kv: Mapping[str, Any] = field(default_factory=dict)
    trigger_date: dt.datetime | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


class _Parser:
    def __init__(self, expression: str, context: Context, renderer: "Renderer") -> None:
        self.source = expression
        self.tokens = _tokens(expression)
        self.position = 0
        self.context = context
        self.renderer = renderer

    # token helpers
    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _accept(self, value: str) -> bool:
        token = self._peek()
        if token and token[1] == value and token[0] in ("op", "name"):
            self.position += 1
            return True
        return False

    def _expect(self, value: str) -> None:
        if not self._accept(value):
            raise UnknownExpression(f"expected {value!r} in {{{{ {self.source} }}}}")

    def parse(self) -> Any:
        value = self._coalesce()
        if self._peek() is not None:
            raise UnknownExpression(f"unexpected {self._peek()[1]!r} in {{{{ {self.source} }}}}")
        return value

    # grammar, lowest precedence first; `??` catches Undefined on its left like Pebble does
    def _coalesce(self) -> Any:
        start = self.position
        try:
            value = self._or()
        except Undefined:
            self.position = start
            self._skip_operand()
            if self._peek() is None or self._peek()[1] != "??":
                raise
            value = None
        while self._accept("??"):
            if value is None:
                value = self._or()
            else:
                self._skip_operand()
        return value

    def _skip_operand(self) -> None:
        """Step over one operand of `??` without evaluating it (up to `??`, `)`, `]` or `,` at its level)."""
        depth = 0
        while self._peek() is not None:
            kind, text = self._peek()
            if kind == "op":
                if depth == 0 and text in ("??", ")", "]", ","):
                    return
                depth += text in ("(", "[")
                depth -= text in (")", "]")
            self.position += 1

    def _or(self) -> Any:
        value = self._and()
        while self._accept("or"):
            right = self._and()
            value = _truthy(value) or _truthy(right)
        return value

    def _and(self) -> Any:
        value = self._not()
        while self._accept("and"):
            right = self._not()
            value = _truthy(value) and _truthy(right)
        return value

    def _not(self) -> Any:
        if self._accept("not"):
            return not _truthy(self._not())
        return self._comparison()

    def _comparison(self) -> Any:
        value = self._concat()
        if self._accept("=="):
            return value == self._concat()
        if self._accept("!="):
            return value != self._concat()
        return value

    def _concat(self) -> Any:
        value = self._filtered()
        while self._accept("~"):
            value = _text(value) + _text(self._filtered())
        return value

    def _filtered(self) -> Any:
        value = self._postfix()
        while self._accept("|"):
            _, name = self._next_name()
            args, _ = self._arguments() if self._accept("(") else ([], {})
            value = self._apply_filter(name, value, args)
        return value

    def _postfix(self) -> Any:
        value = self._primary()
        while True:
            if self._accept("."):
                _, name = self._next_name()
                value = _attribute(value, name)
            elif self._accept("["):
                key = self._coalesce()
                self._expect("]")
                value = _attribute(value, _text(key))
            else:
                return value

    def _next_name(self) -> tuple[str, str]:
        token = self._peek()
        if not token or token[0] != "name":
            raise UnknownExpression(f"expected a name in {{{{ {self.source} }}}}")
        self.position += 1
        return token

    def _arguments(self) -> tuple[list[Any], dict[str, Any]]:
        positional: list[Any] = []
        named: dict[str, Any] = {}
        if self._accept(")"):
            return positional, named
        while True:
            token = self._peek()
            following = self.tokens[self.position + 1] if self.position + 1 < len(self.tokens) else None
            if token and token[0] == "name" and following and following[1] == "=":
                self.position += 2
                named[token[1]] = self._coalesce()
            else:
                positional.append(self._coalesce())
            if self._accept(")"):
                return positional, named
            self._expect(",")

    def _primary(self) -> Any:
        token = self._peek()
        if token is None:
            raise UnknownExpression(f"unexpected end of {{{{ {self.source} }}}}")
        kind, text = token
        self.position += 1
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "number":
            return int(text)
        if text == "(":
            value = self._coalesce()
            self._expect(")")
            return value
        if kind != "name":
            raise UnknownExpression(f"unexpected {text!r} in {{{{ {self.source} }}}}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._accept("("):
            args, named = self._arguments()
            return self._call(text, args, named)
        return self._root(text)

    def _root(self, name: str) -> Any:
        context = self.context
        roots: dict[str, Any] = {
            "inputs": context.inputs,
            "vars": context.variables,
            "execution": {"id": context.execution_id},
            "flow": {"namespace": context.namespace},
            "outputs": context.outputs,
        }
        if context.trigger_date is not None:
            roots["trigger"] = {"date": context.trigger_date}
        if name == "trigger" and name not in roots:
            raise Undefined("trigger")
        if name not in roots:
            raise UnknownExpression(f"unknown variable {name!r} in {{{{ {self.source} }}}}")
        return roots[name]

    def _call(self, name: str, args: list[Any], named: dict[str, Any]) -> Any:
        if name == "render" and len(args) == 1 and not named:
            return self.renderer.render(_text(args[0]), self.context)
        if name == "read" and len(args) == 1 and not named:
            path = self.context.namespace_files / _text(args[0])
            if not path.is_file():
                raise FileNotFoundError(f"read(): no namespace file {args[0]!r} under {self.context.namespace_files}")
            return path.read_text()
        if name == "kv" and len(args) == 1 and set(named) <= {"errorOnMissing"}:
            key = _text(args[0])
            if key in self.context.kv:
                return self.context.kv[key]
            if named.get("errorOnMissing", True):
                raise KeyError(f"kv(): no KV entry {key!r}")
            return None
        raise UnknownExpression(f"unknown function call {name}() in {{{{ {self.source} }}}}")

    def _apply_filter(self, name: str, value: Any, args: list[Any]) -> Any:
        if name == "lower" and not args:
            return _text(value).lower()
        if name == "date" and len(args) == 1 and isinstance(value, (dt.date, dt.datetime)):
            return value.strftime(_java_date_pattern(_text(args[0])))
        raise UnknownExpression(f"unknown filter |{name} in {{{{ {self.source} }}}}")


def _java_date_pattern(pattern: str) -> str:
    converted = ""
    for piece in re.finditer(r"([A-Za-z])\1*|[^A-Za-z]+", pattern):
        text = piece.group(0)
        if text[0].isalpha():
            if text not in _JAVA_DATE:
                raise UnknownExpression(f"unknown date pattern letters {text!r} in {pattern!r}")
            converted += _JAVA_DATE[text]
        else:
            converted += text
    return converted


def _attribute(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        if name not in value:
            raise Undefined(name)
        return value[name]
    raise Undefined(name)


def _truthy(value: Any) -> bool:
    """Pebble's `or`/`and`/`not` under Kestra's strict variables: a string is true when not empty (so
    'false' is true), a number when not zero, null is an error."""
    if isinstance(value, (bool, int, float, str)):
        return bool(value)
    raise UnknownExpression(f"{value!r} used as a boolean (Pebble refuses null and non-scalar values)")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Renderer:
    """Renders `{{ … }}` templates; refuses `{% … %}` tags and `{# … #}` comments."""

    _PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)

    def render(self, template: str, context: Context) -> str:
        if "{%" in template or "{#" in template:
            raise UnknownExpression(f"Pebble tags/comments are not supported: {template[:80]!r}")
        # Pebble's lexer looks for opening delimiters only: `}}` in plain text is text, `{{` never closed is an error
        for text in self._PLACEHOLDER.split(template)[::2]:
            if "{{" in text:
                raise UnknownExpression(f"unclosed {{{{ in {template[:80]!r}")
        return self._PLACEHOLDER.sub(lambda match: _text(self.evaluate(match.group(1), context)), template)

    def evaluate(self, expression: str, context: Context) -> Any:
        return _Parser(expression.strip(), context, self).parse()
