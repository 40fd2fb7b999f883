"""A small evaluator for the ODK XPath subset our forms may use, parsed once at load time.

Supported: `${field}`, `.`, numbers, quoted strings, `= != < <= > >=`, `and`, `or`,
`+ - * div mod`, unary minus, parentheses and the functions in `FUNCTIONS`. Choice filters
may also name choice-sheet columns bare (`colonia = ${colonia}`). Anything else raises
`ExpressionError` while the form loads, so a guardian never meets a broken expression.

Values follow XPath 1.0: a value is a string, a float or a bool; an unanswered question is
the empty string, which is NaN as a number, so `${age} > 3` is simply false until answered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

Value = str | float | bool

# name -> (minimum arguments, maximum arguments)
FUNCTIONS: dict[str, tuple[int, int]] = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "regex": (2, 2),
    "today": (0, 0),
    "if": (3, 3),
    "not": (1, 1),
    # Constants, so a `required` cell may say `true()` as ODK allows.
    "true": (0, 0),
    "false": (0, 0),
}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][\w.\-]*)\s*\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<dot>\.)
  | (?P<name>[A-Za-z_][\w\-]*(?::[A-Za-z_][\w\-]*)?)
    """,
    re.VERBOSE,
)
_WORD_OPERATORS = frozenset({"and", "or", "div", "mod"})


class ExpressionError(ValueError):
    """The expression uses syntax or a function outside the supported subset."""


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical unit: `kind` is ref, number, string, op, dot, name or word."""

    kind: str
    text: str
    position: int


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; `and`/`or`/`div`/`mod` become operators after operands."""
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(f"unexpected character {source[position]!r} at {position + 1}")
        kind = match.lastgroup or ""
        position = match.end()
        if kind == "space":
            continue
        if kind == "refname":  # the named group inside `ref`
            kind = "ref"
        text = match.group("refname") if kind == "ref" else match.group(0)
        if kind == "name" and text in _WORD_OPERATORS and _ends_operand(tokens):
            kind = "op"
        tokens.append(Token(kind, text, match.start() + 1))
    return tokens


def _ends_operand(tokens: list[Token]) -> bool:
    if not tokens:
        return False
    last = tokens[-1]
    return last.kind in {"ref", "number", "string", "dot", "name"} or last.text == ")"


# ---- syntax tree ----


@dataclass(frozen=True, slots=True)
class Literal:
    """A number or string constant."""

    value: Value


@dataclass(frozen=True, slots=True)
class Ref:
    """`${name}`: the answer to another question."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """`.`: the answer being checked (constraints)."""


@dataclass(frozen=True, slots=True)
class ChoiceColumn:
    """A bare name inside a choice filter: a column of the choice being filtered."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operator."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A function call."""

    name: str
    args: tuple[Node, ...]


Node = Literal | Ref | Current | ChoiceColumn | Unary | Binary | Call


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression with what it refers to, ready to evaluate many times."""

    source: str
    root: Node
    references: frozenset[str]
    uses_current: bool
    choice_columns: frozenset[str]


@dataclass
class _Parser:
    tokens: list[Token]
    allow_choice_columns: bool
    index: int = 0
    references: set[str] = field(default_factory=set)
    choice_columns: set[str] = field(default_factory=set)
    uses_current: bool = False

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.index += 1
        return token

    def accept(self, *ops: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in ops:
            self.index += 1
            return token.text
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            token = self.peek()
            found = repr(token.text) if token else "the end"
            raise ExpressionError(f"expected {op!r} but found {found}")

    def binary_level(self, ops: tuple[str, ...], lower: Callable[[], Node]) -> Node:
        node = lower()
        while (op := self.accept(*ops)) is not None:
            node = Binary(op, node, lower())
        return node

    def parse_or(self) -> Node:
        return self.binary_level(("or",), self.parse_and)

    def parse_and(self) -> Node:
        return self.binary_level(("and",), self.parse_equality)

    def parse_equality(self) -> Node:
        return self.binary_level(("=", "!="), self.parse_relational)

    def parse_relational(self) -> Node:
        return self.binary_level(("<", "<=", ">", ">="), self.parse_additive)

    def parse_additive(self) -> Node:
        return self.binary_level(("+", "-"), self.parse_multiplicative)

    def parse_multiplicative(self) -> Node:
        return self.binary_level(("*", "div", "mod"), self.parse_unary)

    def parse_unary(self) -> Node:
        if self.accept("-") is not None:
            return Unary(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(token.text[1:-1])
        if token.kind == "ref":
            self.references.add(token.text)
            return Ref(token.text)
        if token.kind == "dot":
            self.uses_current = True
            return Current()
        if token.kind == "op" and token.text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "name":
            if self.accept("(") is not None:
                return self.parse_call(token)
            if self.allow_choice_columns:
                self.choice_columns.add(token.text)
                return ChoiceColumn(token.text)
            raise ExpressionError(
                f"{token.text!r} is not supported here; refer to questions as ${{name}}"
            )
        raise ExpressionError(f"unexpected {token.text!r} at {token.position}")

    def parse_call(self, name_token: Token) -> Node:
        name = name_token.text
        args: list[Node] = []
        if self.accept(")") is None:
            args.append(self.parse_or())
            while self.accept(",") is not None:
                args.append(self.parse_or())
            self.expect(")")
        if name not in FUNCTIONS:
            raise ExpressionError(f"the function {name}() is not supported")
        low, high = FUNCTIONS[name]
        if not low <= len(args) <= high:
            raise ExpressionError(f"{name}() takes {low} argument(s), got {len(args)}")
        if name == "regex" and isinstance(args[1], Literal):
            try:
                re.compile(str(args[1].value))
            except re.error as error:
                raise ExpressionError(f"invalid regular expression: {error}") from error
        return Call(name, tuple(args))


def parse_expression(source: str, *, allow_choice_columns: bool = False) -> Expression:
    """Parse an expression or raise `ExpressionError` saying what is unsupported."""
    tokens = tokenize(source)
    if not tokens:
        raise ExpressionError("the expression is empty")
    parser = _Parser(tokens, allow_choice_columns)
    root = parser.parse_or()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.take().text!r} after the expression")
    return Expression(
        source=source,
        root=root,
        references=frozenset(parser.references),
        uses_current=parser.uses_current,
        choice_columns=frozenset(parser.choice_columns),
    )


# ---- evaluation ----


@dataclass(frozen=True, slots=True)
class Environment:
    """What an expression sees: answers by name, `.`, today's date and the filtered choice."""

    lookup: Callable[[str], Value]
    today: date
    current: Value = ""
    choice: Mapping[str, str] | None = None


def to_number(value: Value) -> float:
    """XPath number(): booleans are 1/0, unparsable strings (and '') are NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value.strip())
    except ValueError:
        return math.nan


def to_bool(value: Value) -> bool:
    """XPath boolean(): non-zero numbers and non-empty strings are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not math.isnan(value) and value != 0
    return value != ""


def to_string(value: Value) -> str:
    """XPath string(): whole numbers print without a decimal point."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _compare(op: str, left: Value, right: Value) -> bool:
    if op in {"=", "!="}:
        if isinstance(left, bool) or isinstance(right, bool):
            equal = to_bool(left) == to_bool(right)
        elif isinstance(left, float) or isinstance(right, float):
            equal = to_number(left) == to_number(right)
        else:
            equal = left == right
        return equal if op == "=" else not equal
    a, b = _orderable(left), _orderable(right)
    if math.isnan(a) or math.isnan(b):
        return False
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _orderable(value: Value) -> float:
    # Dates are ISO strings in answers and today(); order them by day number, as ODK does.
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return float(date.fromisoformat(value.strip()).toordinal())
        except ValueError:
            return math.nan
    return to_number(value)


def _arithmetic(op: str, left: Value, right: Value) -> float:
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if b == 0:
        if op == "mod" or a == 0:
            return math.nan
        return math.copysign(math.inf, a) if op == "div" else math.nan
    return a / b if op == "div" else math.fmod(a, b)


def _evaluate(node: Node, env: Environment) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return env.lookup(node.name)
    if isinstance(node, Current):
        return env.current
    if isinstance(node, ChoiceColumn):
        return (env.choice or {}).get(node.name, "")
    if isinstance(node, Unary):
        return -to_number(_evaluate(node.operand, env))
    if isinstance(node, Binary):
        if node.op == "and":
            return to_bool(_evaluate(node.left, env)) and to_bool(_evaluate(node.right, env))
        if node.op == "or":
            return to_bool(_evaluate(node.left, env)) or to_bool(_evaluate(node.right, env))
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        if node.op in {"=", "!=", "<", "<=", ">", ">="}:
            return _compare(node.op, left, right)
        return _arithmetic(node.op, left, right)
    return _call(node, env)


def _call(node: Call, env: Environment) -> Value:
    name = node.name
    if name == "today":
        return env.today.isoformat()
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "if":
        chosen = node.args[1] if to_bool(_evaluate(node.args[0], env)) else node.args[2]
        return _evaluate(chosen, env)
    args = [_evaluate(arg, env) for arg in node.args]
    if name == "not":
        return not to_bool(args[0])
    if name == "selected":
        return to_string(args[1]).strip() in to_string(args[0]).split()
    if name == "count-selected":
        return float(len(to_string(args[0]).split()))
    if name == "string-length":
        return float(len(to_string(args[0])))
    # regex: JavaRosa searches (find), so forms anchor with ^...$ when they mean a full match.
    try:
        return re.search(to_string(args[1]), to_string(args[0])) is not None
    except re.error:
        return False


def evaluate(expression: Expression, env: Environment) -> Value:
    """The value of a parsed expression in an environment."""
    return _evaluate(expression.root, env)


def evaluate_bool(expression: Expression, env: Environment) -> bool:
    """The expression's value as a boolean (relevance, constraints, filters)."""
    return to_bool(evaluate(expression, env))
