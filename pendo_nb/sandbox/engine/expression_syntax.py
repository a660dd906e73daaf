"""The syntax of Pendo's expression language (reference 3.7): tokens, the syntax tree, the parser.

:func:`parse` turns an expression string into a tree of :class:`Node` objects or raises
:class:`ParseError` with the 0-based character position; ``expressions.compile_expression``
reports it as an :class:`AggregationError` and compiles the tree. The grammar is described in
the docstring of ``expressions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .functions import FUNCTIONS

MAX_NESTING_DEPTH = 64
"""Deepest nesting of parentheses, brackets, calls, unary operators and indexes accepted.

Parsing and evaluation recurse once per level, so the bound keeps both far from Python's
recursion limit; chains of one operator (``a || b || c ...``) are flat and do not count.
"""


# --------------------------------------------------------------------------------------- lexer


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "ident", "op" (operators and punctuation), "end"
    value: Any
    pos: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of expression"
        if self.kind == "string":
            return "string literal"
        if self.kind == "number":
            return f"number {self.value:g}"
        return f"'{self.value}'"


_TWO_CHAR_OPERATORS = frozenset({"==", "!=", "<=", ">=", "&&", "||"})
_ONE_CHAR_OPERATORS = frozenset("<>!+-*/%()[],:.")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r"}
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_OPERAND_END = frozenset({"number", "string", "ident"})


class ParseError(Exception):
    """Internal: a syntax error at a position; turned into AggregationError with context."""

    def __init__(self, detail: str, pos: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pos = pos


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; raises ``ParseError`` at the first bad character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in _DIGITS or (
            ch == "." and i + 1 < n and text[i + 1] in _DIGITS and not _ends_operand(tokens)
        ):
            i = _lex_number(text, i, tokens)
        elif ch == '"':
            i = _lex_quoted(text, i, tokens)
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ParseError("unterminated backtick string", i)
            tokens.append(Token("string", text[i + 1 : end], i))
            i = end + 1
        elif ch in _IDENT_START:
            j = i + 1
            while j < n and text[j] in _IDENT_CHARS:
                j += 1
            tokens.append(Token("ident", text[i:j], i))
            i = j
        elif text[i : i + 2] in _TWO_CHAR_OPERATORS:
            tokens.append(Token("op", text[i : i + 2], i))
            i += 2
        elif ch in _ONE_CHAR_OPERATORS:
            tokens.append(Token("op", ch, i))
            i += 1
        elif ch in "=&|":
            hint = {"=": "==", "&": "&&", "|": "||"}[ch]
            raise ParseError(f"unexpected '{ch}' (did you mean '{hint}'?)", i)
        elif ch == "'":
            raise ParseError('unexpected "\'" (strings use double quotes or backticks)', i)
        else:
            raise ParseError(f"unexpected character {ch!r}", i)
    tokens.append(Token("end", None, n))
    return tokens


def _ends_operand(tokens: list[Token]) -> bool:
    """True when the previous token ends an operand, so a following '.' is member access."""
    if not tokens:
        return False
    last = tokens[-1]
    return last.kind in _OPERAND_END or last.value in (")", "]")


def _lex_number(text: str, start: int, tokens: list[Token]) -> int:
    n = len(text)
    i = start
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == "." and i + 1 < n and text[i + 1] in _DIGITS:
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            i = j
    if i < n and text[i] in _IDENT_CHARS:
        raise ParseError(f"malformed number {text[start : i + 1]!r}", start)
    tokens.append(Token("number", float(text[start:i]), start))
    return i


def _lex_quoted(text: str, start: int, tokens: list[Token]) -> int:
    parts: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            tokens.append(Token("string", "".join(parts), start))
            return i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            code = text[i + 1]
            if code in _SIMPLE_ESCAPES:
                parts.append(_SIMPLE_ESCAPES[code])
                i += 2
                continue
            if code == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    parts.append(chr(int(digits, 16)))
                    i += 6
                    continue
                raise ParseError("bad \\u escape (needs 4 hex digits)", i)
            raise ParseError(f"unknown escape '\\{code}' in string", i)
        parts.append(ch)
        i += 1
    raise ParseError("unterminated string", start)


# -------------------------------------------------------------------------------------- syntax


@dataclass
class Node:
    pos: int


@dataclass
class Const(Node):
    value: Any


@dataclass
class FieldRef(Node):
    segments: tuple[str, ...]


@dataclass
class ListLiteral(Node):
    items: list[Node]


@dataclass
class Unary(Node):
    op: str
    operand: Node


@dataclass
class Chain(Node):
    """Operands joined by operators of one precedence level, evaluated left to right."""

    operands: list[Node]
    ops: list[str]
    op_positions: list[int]


@dataclass
class Index(Node):
    target: Node
    index: Node


@dataclass
class Slice(Node):
    target: Node
    start: Node | None
    stop: Node | None


@dataclass
class Member(Node):
    target: Node
    name: str


@dataclass
class Call(Node):
    name: str
    args: list[Node] = field(default_factory=list)


# Binding power of each binary operator (C precedence, weakest first).
_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_KEYWORD_VALUES = {"true": True, "false": False, "null": None}
_WORD_OPERATORS = {"and": "&&", "or": "||"}  # SQL/Python habits, refused with a hint


class _Parser:
    """Pratt parser over the token list; ``depth`` bounds recursion (MAX_NESTING_DEPTH)."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str, context: str) -> Token:
        token = self.current
        if token.kind == "op" and token.value == value:
            return self.advance()
        raise ParseError(f"expected '{value}' {context}, found {token.describe()}", token.pos)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING_DEPTH:
            raise ParseError(f"expression nested deeper than {MAX_NESTING_DEPTH} levels", pos)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise ParseError("empty expression", 0)
        node = self.parse_binary(1)
        token = self.current
        if token.kind != "end":
            raise ParseError(self.unexpected_after_operand(token), token.pos)
        return node

    def unexpected_after_operand(self, token: Token) -> str:
        if token.kind == "ident" and token.value == "in":
            return (
                "'in' is not supported (use contains(list, value) or comparisons joined "
                "by ||), found 'in'"
            )
        if token.kind == "ident" and token.value in _WORD_OPERATORS:
            return f"unexpected '{token.value}' (did you mean '{_WORD_OPERATORS[token.value]}'?)"
        return f"unexpected {token.describe()}"

    def parse_binary(self, min_precedence: int) -> Node:
        left = self.parse_unary()
        while True:
            token = self.current
            precedence = _PRECEDENCE.get(token.value) if token.kind == "op" else None
            if precedence is None or precedence < min_precedence:
                return left
            self.advance()
            right = self.parse_binary(precedence + 1)
            if isinstance(left, Chain) and _PRECEDENCE[left.ops[0]] == precedence:
                # Extending a left-associative chain keeps long `a || b || ...` flat.
                left.operands.append(right)
                left.ops.append(token.value)
                left.op_positions.append(token.pos)
            else:
                left = Chain(left.pos, [left, right], [token.value], [token.pos])

    def parse_unary(self) -> Node:
        token = self.current
        if token.kind == "op" and token.value in ("!", "-", "+"):
            self.advance()
            self.enter(token.pos)
            operand = self.parse_unary()
            self.depth -= 1
            return Unary(token.pos, token.value, operand)
        return self.parse_postfix()

    def parse_postfix(self) -> Node:
        node = self.parse_primary()
        levels = 0
        while True:
            token = self.current
            if token.kind != "op":
                break
            if token.value == "[":
                self.advance()
                self.enter(token.pos)
                levels += 1
                node = self.parse_subscript(node, token.pos)
            elif token.value == ".":
                self.advance()
                name = self.current
                if name.kind != "ident":
                    raise ParseError(
                        f"expected a field name after '.', found {name.describe()}", name.pos
                    )
                self.advance()
                if isinstance(node, FieldRef):
                    node = FieldRef(node.pos, (*node.segments, name.value))
                else:
                    self.enter(token.pos)
                    levels += 1
                    node = Member(token.pos, node, name.value)
            elif token.value == "(":
                raise ParseError("only functions can be called", token.pos)
            else:
                break
        self.depth -= levels
        return node

    def parse_subscript(self, target: Node, pos: int) -> Node:
        start = stop = None
        if not self.is_op(":"):
            if self.is_op("]"):
                raise ParseError("empty index", self.current.pos)
            start = self.parse_binary(1)
            if self.is_op("]"):
                self.advance()
                return Index(pos, target, start)
            if not self.is_op(":"):
                raise ParseError(
                    f"expected ']' or ':' in an index, found {self.current.describe()}",
                    self.current.pos,
                )
        self.advance()  # ":"
        if not self.is_op("]"):
            stop = self.parse_binary(1)
        self.expect("]", "to close the slice")
        return Slice(pos, target, start, stop)

    def is_op(self, value: str) -> bool:
        token = self.current
        return token.kind == "op" and token.value == value

    def parse_primary(self) -> Node:
        token = self.advance()
        if token.kind in ("number", "string"):
            return Const(token.pos, token.value)
        if token.kind == "ident":
            if token.value in _KEYWORD_VALUES:
                return Const(token.pos, _KEYWORD_VALUES[token.value])
            if self.is_op("("):
                return self.parse_call(token)
            return FieldRef(token.pos, (token.value,))
        if token.kind == "op" and token.value == "(":
            self.enter(token.pos)
            node = self.parse_binary(1)
            self.expect(")", f"to close the '(' at position {token.pos}")
            self.depth -= 1
            return node
        if token.kind == "op" and token.value == "[":
            self.enter(token.pos)
            items = self.parse_items("]", "list")
            self.depth -= 1
            return ListLiteral(token.pos, items)
        raise ParseError(f"unexpected {token.describe()}", token.pos)

    def parse_call(self, name: Token) -> Node:
        if name.value != "if" and name.value not in FUNCTIONS:
            raise ParseError(f"unknown function '{name.value}'", name.pos)
        self.advance()  # "("
        self.enter(name.pos)
        args = self.parse_items(")", f"call to {name.value}()")
        self.depth -= 1
        return Call(name.pos, name.value, args)

    def parse_items(self, closer: str, what: str) -> list[Node]:
        items: list[Node] = []
        if self.is_op(closer):
            self.advance()
            return items
        while True:
            items.append(self.parse_binary(1))
            if self.is_op(","):
                self.advance()
                continue
            self.expect(closer, f"or ',' in {what}")
            return items


def parse(text: str) -> Node:
    """Parse an expression into its syntax tree (raises ``ParseError``)."""
    return _Parser(tokenize(text)).parse()
