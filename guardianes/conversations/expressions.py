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
from datetime import date, datetime

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
    # The functions KoBo and ODK forms use most (issue 15).
    "concat": (0, 99),
    "coalesce": (2, 2),
    "selected-at": (2, 2),
    "now": (0, 0),
    "once": (1, 1),
    "round": (1, 2),
    "int": (1, 1),
    "number": (1, 1),
    "string": (1, 1),
    "boolean": (1, 1),
    "format-date": (2, 2),
    "format-date-time": (2, 2),
    "jr:choice-name": (2, 2),
    "indexed-repeat": (3, 3),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "sum": (1, 1),
    "position": (0, 1),
    # `instance('file')/root/item[key=${x}]/column`, rewritten to this call when parsed.
    "guardianes-instance": (4, 4),
}

# A lookup in a file attached to the form, as HOT and KoBo forms write it. Quotes may be
# typographic, as spreadsheets type them.
_INSTANCE_PATH = re.compile(
    r"""instance\(\s*['"‘’“”]([^'"‘’“”]+)['"‘’“”]\s*\)/root/item"""
    r"""\[\s*([\w\-]+)\s*=\s*(\$\{[^}]+\}|'[^']*'|"[^"]*")\s*\]/([\w:\-]+)"""
)
_TYPOGRAPHIC_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
# ODK format-date directives -> strftime; `%-x` means "without the leading zero".
_STRFTIME = {
    "%Y": "%Y", "%y": "%y", "%m": "%m", "%n": "%-m", "%b": "%b", "%d": "%d",
    "%e": "%-d", "%a": "%a", "%H": "%H", "%h": "%-H", "%M": "%M", "%S": "%S",
}  # fmt: skip

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][\w.\-]*)\s*\})
  | (?P<path>(?:\.\./)+(?P<pathname>[A-Za-z_][\w.\-]*))
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
        if kind in {"ref", "refname", "path", "pathname"}:  # `../name`: a sibling field
            kind = "ref"
            text = match.group("refname") or match.group("pathname")
        else:
            text = match.group(0)
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
    rewritten = _INSTANCE_PATH.sub(
        lambda m: (
            f"guardianes-instance('{m.group(1)}', '{m.group(2)}', {m.group(3)}, '{m.group(4)}')"
        ),
        source.translate(_TYPOGRAPHIC_QUOTES),
    )
    tokens = tokenize(rewritten)
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
    now: datetime | None = None
    # jr:choice-name(value, '${question}') -> the choice's label
    choice_name: Callable[[str, str], str] | None = None
    # indexed-repeat(${field}, ${repeat}, n) -> the field's answer in the n-th iteration
    repeat_value: Callable[[str, str, int], Value] | None = None
    # guardianes-instance(file, key column, key, column) -> a cell of a file beside the form
    instance_value: Callable[[str, str, str, str], str] | None = None


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
    if name == "indexed-repeat":
        field_node, repeat_node = node.args[0], node.args[1]
        index = to_number(_evaluate(node.args[2], env))
        if (
            env.repeat_value is None
            or not isinstance(field_node, Ref)
            or not isinstance(repeat_node, Ref)
            or math.isnan(index)
        ):
            return ""
        return env.repeat_value(repeat_node.name, field_node.name, int(index))
    if name == "position":
        return 1.0
    args = [_evaluate(arg, env) for arg in node.args]
    extra = _call_extra(name, args, env)
    if extra is not None:
        return extra
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


def _format_date(value: Value, pattern: str) -> str:
    text = to_string(value).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return ""
    result = pattern
    for odk, python in _STRFTIME.items():
        if python.startswith("%-"):
            piece = str(int(moment.strftime("%" + python[2:])))
        else:
            piece = moment.strftime(python)
        result = result.replace(odk, piece)
    return result


def _round(value: float, digits: int) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    factor = 10.0**digits
    return math.floor(value * factor + 0.5) / factor  # XPath rounds halves up


def _call_extra(name: str, args: list[Value], env: Environment) -> Value | None:
    """The functions added for the forms people write; None when `name` is not one."""
    if name == "concat":
        return "".join(to_string(arg) for arg in args)
    if name == "coalesce":
        return args[0] if to_string(args[0]) != "" else args[1]
    if name == "selected-at":
        items = to_string(args[0]).split()
        index = to_number(args[1])
        if math.isnan(index) or not 0 <= int(index) < len(items):
            return ""
        return items[int(index)]
    if name == "now":
        return (env.now or datetime.combine(env.today, datetime.min.time())).isoformat()
    if name == "once":
        # The chat computes a calculation once per answer set; `once` keeps the first value.
        return args[0]
    if name == "round":
        digits = int(to_number(args[1])) if len(args) > 1 else 0
        return _round(to_number(args[0]), digits)
    if name == "int":
        number = to_number(args[0])
        return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))
    if name == "number":
        return to_number(args[0])
    if name == "string":
        return to_string(args[0])
    if name == "boolean":
        return to_bool(args[0])
    if name in {"format-date", "format-date-time"}:
        return _format_date(args[0], to_string(args[1]))
    if name == "jr:choice-name":
        question = re.sub(r"^\$\{\s*|\s*\}$", "", to_string(args[1]).strip())
        if env.choice_name is None:
            return to_string(args[0])
        return env.choice_name(to_string(args[0]), question)
    if name == "contains":
        return to_string(args[1]) in to_string(args[0])
    if name == "starts-with":
        return to_string(args[0]).startswith(to_string(args[1]))
    if name == "ends-with":
        return to_string(args[0]).endswith(to_string(args[1]))
    if name == "substr":
        text = to_string(args[0])
        start = int(to_number(args[1])) if not math.isnan(to_number(args[1])) else 0
        if len(args) == 3:
            end = to_number(args[2])
            return text[start : int(end)] if not math.isnan(end) else ""
        return text[start:]
    if name == "sum":
        return sum((to_number(part) for part in to_string(args[0]).split()), 0.0)
    if name == "guardianes-instance":
        if env.instance_value is None:
            return ""
        return env.instance_value(*(to_string(arg) for arg in args))
    return None


def evaluate(expression: Expression, env: Environment) -> Value:
    """The value of a parsed expression in an environment."""
    return _evaluate(expression.root, env)


def evaluate_bool(expression: Expression, env: Environment) -> bool:
    """The expression's value as a boolean (relevance, constraints, filters)."""
    return to_bool(evaluate(expression, env))
