"""The builder's own checker for Pendo expression strings (reference 3.7).

Every expression a pipeline holds (filters, eval/select values, aggregator arguments, timeSeries
bounds) is parsed here when the pipeline is built, so a typo fails in the notebook cell that made
it, with the character position, instead of as a 400 from Pendo. This is deliberately independent
of the sandbox's engine: the two parsers check each other in the tests.

Grammar (C precedence, loosest first)::

    expr    := or
    or      := and ("||" and)*
    and     := eq ("&&" eq)*
    eq      := rel (("==" | "!=") rel)*
    rel     := add (("<" | "<=" | ">" | ">=") add)*
    add     := mul (("+" | "-") mul)*
    mul     := unary (("*" | "/" | "%") unary)*
    unary   := ("!" | "-" | "+") unary | postfix
    postfix := primary ("[" expr? (":" expr?)? "]" | "." segment)*
    primary := number | string | true | false | null | name "(" args ")" | path
             | "(" expr ")" | "[" args "]"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pendo_nb.errors import PipelineError

#: Functions of reference 3.7, the official ones and those seen in Pendo's own samples or in
#: well-corroborated third-party notes. Anything else is most likely a typo.
KNOWN_FUNCTIONS = frozenset(
    {
        # general
        "if", "isBoolean", "isNumber", "isString", "isList", "isNil", "isNull", "isEmpty",
        # strings and lists
        "contains", "split", "startsWith", "toLowerCase", "toString", "len", "list",
        "listInRange", "reverse", "sortUnique", "sum",
        # dates
        "now", "date", "startOfPeriod", "dateAdd", "dateDist", "formatTime",
        # Pendo
        "identified", "childAccountId", "parentAccountId", "expandAppIds", "hash", "eventSubType",
    }
)  # fmt: skip

#: Longest expression accepted, and deepest nesting: far beyond any real pipeline, and they keep
#: the recursive descent from exhausting Python's stack on hostile input.
MAX_LENGTH = 100_000
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%()\[\],:.])
  | (?P<quote>["`])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_LEADING_DOT_NUMBER = re.compile(r"(?P<number>\.\d+(?:[eE][+-]?\d+)?)")
# Pendo documents \" and \\; \/ \n \t \r and \uXXXX are read as in JSON (the sandbox does
# the same). Anything else is refused: a Pendo 400 for bad quoting is common (reference 3.9).
_DOUBLE_QUOTED_ESCAPES = frozenset('"\\/ntr')
_UNICODE_ESCAPE = re.compile(r"u[0-9a-fA-F]{4}")
_HINTS = {
    "=": "use == to compare",
    "&": "use && for 'and'",
    "|": "use || for 'or'",
    "'": "strings use double quotes or backticks",
    "and": "use && for 'and'",
    "or": "use || for 'or'",
    "not": "use ! for 'not'",
    "in": "'in' is not supported; use contains(list, x) or a chain of ==",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, op, end
    text: str
    position: int


def _fail(where: str, text: str, position: int, problem: str) -> PipelineError:
    """An error naming the argument, the problem and the character position (0-based)."""
    caret = " " * position + "^"
    return PipelineError(
        f"{where}: cannot parse expression {text!r}: {problem} at position {position}\n"
        f"    {text}\n    {caret}"
    )


def _tokenize(text: str, where: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        # ".5" is a number, except right after an operand, where "." is member access.
        match = None if _ends_operand(tokens) else _LEADING_DOT_NUMBER.match(text, position)
        match = match or _TOKEN.match(text, position)
        assert match is not None  # the "bad" alternative matches any character
        kind = match.lastgroup
        assert kind is not None  # every alternative of the token patterns is a named group
        if kind == "quote":
            end = _string_end(text, position, where)
            tokens.append(_Token("string", text[position:end], position))
            position = end
            continue
        if kind == "bad":
            char = match.group()
            hint = _HINTS.get(char)
            problem = f"unexpected character {char!r}" + (f" ({hint})" if hint else "")
            raise _fail(where, text, position, problem)
        if kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _ends_operand(tokens: list[_Token]) -> bool:
    if not tokens:
        return False
    last = tokens[-1]
    return last.kind in ("number", "string", "name") or last.text in (")", "]")


def _string_end(text: str, start: int, where: str) -> int:
    """Index just past the string literal opening at ``start``.

    Backtick strings are raw (no escapes); double-quoted strings take backslash escapes.
    """
    quote = text[start]
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            return position + 1
        if char == "\\" and quote == '"':
            escaped = text[position + 1 : position + 2]
            if _UNICODE_ESCAPE.match(text, position + 1):
                position += 6
                continue
            if not escaped or escaped not in _DOUBLE_QUOTED_ESCAPES:
                raise _fail(where, text, position, f"unknown escape \\{escaped}")
            position += 2
            continue
        position += 1
    raise _fail(where, text, start, "unterminated string")


class _Parser:
    """Recursive descent over the tokens; checks shape and function names, builds nothing."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = _tokenize(text, where)
        self.index = 0
        self.depth = 0

    # -- token helpers ------------------------------------------------------------------------
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _at(self, *texts: str) -> bool:
        return self.current.kind == "op" and self.current.text in texts

    def _advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def _expect(self, text: str, context: str) -> None:
        if not self._at(text):
            raise self._unexpected(f"expected {text!r} {context}")
        self._advance()

    def _unexpected(self, expected: str | None = None) -> PipelineError:
        token = self.current
        if token.kind == "end":
            problem = "unexpected end of expression"
        else:
            problem = f"unexpected {token.text!r}"
            hint = _HINTS.get(token.text)
            if hint:
                problem += f" ({hint})"
        if expected:
            problem += f"; {expected}"
        return _fail(self.where, self.text, token.position, problem)

    # -- grammar ------------------------------------------------------------------------------
    def parse(self) -> None:
        if self.current.kind == "end":
            raise _fail(self.where, self.text, 0, "empty expression")
        self._expression()
        if self.current.kind != "end":
            raise self._unexpected("expected an operator or the end of the expression")

    def _expression(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(self.where, self.text, self.current.position, "nested too deeply")
        self._binary(0)
        self.depth -= 1

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def _binary(self, level: int) -> None:
        if level == len(self._LEVELS):
            self._unary()
            return
        self._binary(level + 1)
        while self._at(*self._LEVELS[level]):
            self._advance()
            self._binary(level + 1)

    def _unary(self) -> None:
        if self._at("!", "-", "+"):
            self._advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _fail(self.where, self.text, self.current.position, "nested too deeply")
            self._unary()
            self.depth -= 1
            return
        self._primary()
        self._postfix()

    def _postfix(self) -> None:
        while True:
            if self._at("["):
                self._advance()
                if not self._at(":", "]"):
                    self._expression()
                if self._at(":"):
                    self._advance()
                    if not self._at("]"):
                        self._expression()
                self._expect("]", "to close the index")
            elif self._at("."):
                self._advance()
                self._segment()
            else:
                return

    def _segment(self) -> None:
        if self.current.kind == "name":
            self._advance()
            return
        raise self._unexpected("expected a field name after '.'")

    def _primary(self) -> None:
        token = self.current
        if token.kind in ("number", "string"):
            self._advance()
        elif token.kind == "name":
            self._advance()
            if self._at("("):
                self._call(token)
        elif self._at("("):
            self._advance()
            self._expression()
            self._expect(")", "to close the parenthesis")
        elif self._at("["):
            self._advance()
            self._arguments("]")
        else:
            raise self._unexpected("expected a value, a field or a function call")

    def _call(self, name: _Token) -> None:
        if name.text not in KNOWN_FUNCTIONS:
            raise _fail(self.where, self.text, name.position, f"unknown function {name.text!r}")
        self._advance()  # "("
        self._arguments(")")

    def _arguments(self, closing: str) -> None:
        if self._at(closing):
            self._advance()
            return
        while True:
            self._expression()
            if self._at(","):
                self._advance()
                continue
            self._expect(closing, "after the arguments")
            return


def check_expression(text: object, where: str) -> str:
    """Check that ``text`` is a well-formed Pendo expression and return it unchanged.

    Parameters
    ----------
    text : str
        The expression, e.g. ``'numEvents > 10 && !isNull(accountId)'``.
    where : str
        Which method and argument the expression came from, used in the error message,
        e.g. ``"filter(expression)"``.

    Raises
    ------
    PipelineError
        If ``text`` is not a string, is too long, or does not parse; the message gives the
        character position (0-based) and points at it.
    """
    if not isinstance(text, str):
        raise PipelineError(f"{where}: expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise PipelineError(f"{where}: expression longer than {MAX_LENGTH} characters")
    _Parser(text, where).parse()
    return text


# Names written where a field is expected (keys, outputs of unwind...) may also hold "-", which
# Pendo's app-specific metadata groups use; inside an expression "-" is subtraction.
_FIELD_PATH = re.compile(r"[A-Za-z_$][\w$-]*(?:\.[\w$-]+)*")
_EXPRESSION_PATH = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")


def check_field_path(text: object, where: str, *, in_expression: bool = False) -> str:
    """Check that ``text`` is a (possibly dotted) field name such as ``metadata.agent.email``.

    With ``in_expression``, the name must also read as a field inside an expression (no ``-``).
    """
    pattern = _EXPRESSION_PATH if in_expression else _FIELD_PATH
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise PipelineError(f"{where}: {text!r} is not a field name (letters, digits, _, dots)")
    return text
