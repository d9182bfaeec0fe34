"""Client lists as CSV, the way Brazilian sellers keep them in Excel or Google Sheets.

Reading is forgiving about the *shape* of the file and strict about the *values*, because a
spreadsheet that opens fine but puts a price in the wrong client is worse than a question:

- Encoding: UTF-8 with or without BOM, UTF-16 with BOM ("Texto Unicode" from Excel), else
  Windows-1252 (what Excel in Brazil writes for "CSV (separado por vírgulas)").
- Separator: ``;`` (Excel pt-BR), ``,`` or tab, chosen by which one yields a recognisable
  header. Up to ``HEADER_SEARCH_ROWS`` title rows above the header ("Clientes 2026") are skipped.
- Headers in Portuguese or English, case- and accent-insensitive, with synonyms
  (``HEADER_SYNONYMS``). Unknown columns (e-mail, endereço...) are ignored and reported.

Choices for the ambiguous cases:

- Required columns are nome, telefone, valor and vencimento. A client book row without a
  price or a due date would make the bot send "R$ 0,00 vence hoje" or invent a date, so a
  file without them is refused up front instead of filled with guesses. plano, ciclo and
  observações are optional: absent or empty they mean "", mensal and "".
- One row, one verdict: a row is either a ``ClientDraft`` or a ``RowError`` listing every
  problem in it (so the seller fixes a row once), numbered like the spreadsheet shows it
  (header on line 1 when it is the first row; blank rows count, title rows count).
- Fully blank rows (also ``;;;;`` left by Excel) are skipped silently and not counted.
- The same phone twice in one file: the first row wins and every later one is a
  ``RowError`` naming both lines. Guessing which of two rows is right is the seller's call.
- Too long: name over 120 characters, plan over 80, notes over 2000 (the limits of the
  add-client screen), a whole file over ``MAX_FILE_BYTES``. Errors, never silent truncation.
- Invisible control characters (NUL and friends, which PostgreSQL refuses in text) are
  removed; a file that is mostly NUL is not text and is refused.
- Ragged rows: missing trailing cells are empty; extra non-empty cells are an error (usually
  a decimal comma in a comma-separated file), extra empty ones are ignored.
- A leading apostrophe before ``= + - @ '`` is dropped: it is how ``export_csv`` (and people)
  keep spreadsheets from running a cell as a formula.

Writing (``export_csv``) produces what reading accepts back unchanged: UTF-8 with BOM, ``;``,
Portuguese headers, "35,90", "10/12/2026", the pt-BR cycle label, and cells that would start a
formula prefixed with an apostrophe (CSV injection).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import TypeVar

from attrs import field, frozen

from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle, parse_cycle
from clientmgr.core.dates import format_date, parse_date
from clientmgr.core.i18n import _
from clientmgr.core.money import parse_money
from clientmgr.core.phones import format_phone, parse_phone
from clientmgr.errors import InvalidCsvError, InvalidInputError

__all__ = [
    "EXPORT_HEADER",
    "FIELD_LABELS",
    "HEADER_SYNONYMS",
    "MAX_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_NOTES_LENGTH",
    "MAX_PLAN_LENGTH",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "ClientDraft",
    "ParsedCsv",
    "RowError",
    "decode_csv",
    "export_csv",
    "parse_csv",
]

MAX_NAME_LENGTH = 120
MAX_PLAN_LENGTH = 80
MAX_NOTES_LENGTH = 2000
# Telegram lets bots download files up to 20 MB; 32 MiB leaves room for other callers while
# keeping a stray multi-gigabyte upload from being decoded into memory.
MAX_FILE_BYTES = 32 * 1024 * 1024
# Title rows sellers put above the header ("Meus clientes", a date) are skipped up to this.
HEADER_SEARCH_ROWS = 10
# Parsers get short inputs only; anything longer is an error before any regex sees it.
_MAX_SHORT_CELL = 64
# How much of a bad row is kept in RowError.raw (per cell, and cells per row).
_RAW_CELL_CHARS = 100
_RAW_CELLS = 20
# Distinct values remembered per parser while reading one file.
_MEMO_SIZE = 10_000

_T = TypeVar("_T")

REQUIRED_FIELDS = ("name", "phone", "price", "due_date")
OPTIONAL_FIELDS = ("plan", "cycle", "notes")

FIELD_LABELS = {
    "name": "nome",
    "phone": "telefone",
    "plan": "plano",
    "price": "valor",
    "due_date": "vencimento",
    "cycle": "ciclo",
    "notes": "observações",
}

# Normalised header -> field. Earlier names win when a file has two columns for one field
# ("whatsapp" beats "telefone": the bot sends WhatsApp; "vencimento" beats a bare "data").
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "nome",
        "name",
        "cliente",
        "nome do cliente",
        "nome completo",
        "client",
        "customer",
        "full name",
    ),
    "phone": (
        "whatsapp",
        "whats app",
        "whats",
        "zap",
        "celular",
        "cel",
        "telefone",
        "telefone celular",
        "tel",
        "fone",
        "phone",
        "mobile",
        "phone number",
    ),
    "plan": ("plano", "plan", "pacote", "servico", "produto", "product", "service"),
    "price": (
        "valor",
        "preco",
        "mensalidade",
        "valor mensal",
        "valor do plano",
        "price",
        "amount",
        "value",
    ),
    "due_date": (
        "vencimento",
        "data de vencimento",
        "data do vencimento",
        "data vencimento",
        "dia de vencimento",
        "dia do vencimento",
        "proximo vencimento",
        "vence",
        "venc",
        "due",
        "due date",
        "data",
        "date",
    ),
    "cycle": (
        "ciclo",
        "periodicidade",
        "frequencia",
        "recorrencia",
        "cycle",
        "billing cycle",
        "period",
        "frequency",
    ),
    "notes": (
        "observacoes",
        "observacao",
        "obs",
        "anotacoes",
        "notas",
        "comentarios",
        "notes",
        "note",
        "comments",
    ),
}
_HEADER_RANK: dict[str, tuple[str, int]] = {
    name: (fld, rank) for fld, names in HEADER_SYNONYMS.items() for rank, name in enumerate(names)
}

EXPORT_HEADER = ("nome", "telefone", "plano", "valor", "vencimento", "ciclo", "observacoes")

_DELIMITERS = (";", "\t", ",")
_DELIMITER_NAMES = {";": _("ponto e vírgula"), "\t": _("tabulação"), ",": _("vírgula")}
# C0 controls except tab, LF and CR, plus DEL: invisible, and PostgreSQL refuses NUL in text.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_ESCAPED = frozenset("=+-@\t\r'")
_HEADER_PARENS = re.compile(r"\([^)]*\)")
_HEADER_NON_WORD = re.compile(r"[^a-z0-9$]+")


@frozen
class ClientDraft:
    """One valid row: everything a ``Client`` needs from the file, already parsed."""

    line: int
    name: str
    phone: str
    price: Decimal
    due_date: date
    plan: str = ""
    cycle: BillingCycle = field(factory=BillingCycle)
    notes: str = ""


@frozen
class RowError:
    """A row that was not imported: its spreadsheet line, the pt-BR reason, and its cells.

    ``raw`` keeps the row's cells cut to a readable size (a 10k-character cell is not echoed
    back to a phone screen).
    """

    line: int
    reason: str
    raw: tuple[str, ...] = ()

    def __str__(self) -> str:
        return _("linha {line}: {reason}").format(line=self.line, reason=self.reason)


@frozen
class ParsedCsv:
    """The verdict on a whole file. ``total`` counts non-blank data rows (drafts + errors)."""

    drafts: tuple[ClientDraft, ...]
    errors: tuple[RowError, ...]
    total: int
    columns: frozenset[str]
    ignored_columns: tuple[str, ...] = ()
    header_line: int = 1
    delimiter: str = ";"
    encoding: str = "utf-8"


def decode_csv(data: bytes) -> tuple[str, str]:
    """The file as text and the encoding it was read with; raises InvalidCsvError.

    UTF-8 is tried first because Windows-1252 decodes almost any bytes "successfully"; a
    real UTF-8 file read as 1252 would turn "João" into "JoÃ£o" without complaint.
    """
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidCsvError(
            _(
                "Esse arquivo é uma planilha do Excel (.xlsx/.xls), não um CSV. No Excel, use "
                '"Salvar como" e escolha "CSV UTF-8 (delimitado por vírgulas)".'
            )
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InvalidCsvError(
                _("Não consegui ler o arquivo (texto Unicode corrompido).")
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in 1252; Latin-1 reads them all.
        return data.decode("latin-1"), "latin-1"


def parse_csv(
    data: bytes, today: date, *, region: str = "BR", max_bytes: int = MAX_FILE_BYTES
) -> ParsedCsv:
    """Read a client list; every data row becomes a ``ClientDraft`` or a ``RowError``.

    Dates without a year are read relative to ``today`` (the seller's local date). Raises
    InvalidCsvError when the file as a whole is unusable: empty, too big, not text, or
    without the required columns.
    """
    if len(data) > max_bytes:
        raise InvalidCsvError(
            _(
                "O arquivo é grande demais ({size} MB). O limite é {limit} MB; divida em partes."
            ).format(size=len(data) // (1024 * 1024), limit=max_bytes // (1024 * 1024))
        )
    text, encoding = decode_csv(data)
    nuls = text.count("\x00")
    if nuls and nuls * 4 > len(text):
        raise InvalidCsvError(
            _("Esse arquivo não parece ser texto. Envie a planilha salva como CSV.")
        )
    text = text.translate(_CONTROL)
    if not text.strip():
        raise InvalidCsvError(_("O arquivo está vazio."))

    delimiter, header_index, header, mapping, ignored = _find_header(text)
    drafts: list[ClientDraft] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    parsers = _Parsers(
        phone=lambda raw: parse_phone(raw, region),
        money=_memoised(parse_money),
        date=_memoised(lambda raw: parse_date(raw, today)),
        cycle=_memoised(parse_cycle),
    )
    total = 0
    width = len(header)
    records = _records(text, delimiter)
    for index, row in enumerate(records):
        if index <= header_index or not _has_content(row):
            continue
        total += 1
        line = index + 1
        result = _parse_row(row, line, mapping, width, parsers)
        if isinstance(result, RowError):
            errors.append(result)
            continue
        first = first_line_of.setdefault(result.phone, line)
        if first != line:
            errors.append(
                RowError(
                    line,
                    _(
                        "Telefone repetido: o mesmo número já está na linha {first}; "
                        "esta linha foi ignorada."
                    ).format(first=first),
                    _raw(row),
                )
            )
            continue
        drafts.append(result)
    return ParsedCsv(
        drafts=tuple(drafts),
        errors=tuple(errors),
        total=total,
        columns=frozenset(mapping),
        ignored_columns=ignored,
        header_line=header_index + 1,
        delimiter=delimiter,
        encoding=encoding,
    )


def export_csv(clients: Iterable[Client]) -> bytes:
    """The clients as a CSV that Excel pt-BR opens directly and ``parse_csv`` reads back equal.

    UTF-8 with BOM (without it Excel assumes 1252 and mangles accents), ``;`` (Excel pt-BR
    uses the comma for decimals), CRLF line ends.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for client in clients:
        writer.writerow(
            _escape(cell)
            for cell in (
                client.name,
                format_phone(client.phone),
                client.plan,
                _format_price(client.price),
                format_date(client.due_date),
                client.cycle.label(),
                client.notes,
            )
        )
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _format_price(price: Decimal) -> str:
    """ "1234,50": decimal comma, no thousands dot (a spreadsheet reads it as a number)."""
    return f"{price:.2f}".replace(".", ",")


def _escape(cell: str) -> str:
    """Prefix an apostrophe to cells a spreadsheet would run as a formula (CSV injection).

    A leading apostrophe is escaped too, so that ``_unescape`` can always drop exactly one.
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _unescape(cell: str) -> str:
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in _ESCAPED else cell


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    """csv rows; a broken file (unclosed quote swallowing the rest) is an InvalidCsvError."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    index = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise InvalidCsvError(
                _(
                    "Não consegui ler o arquivo a partir da linha {line}: há um campo grande "
                    'demais ou aspas (") abertas e não fechadas.'
                ).format(line=index + 1)
            ) from None
        index += 1
        yield row


def _has_content(row: Sequence[str]) -> bool:
    return any(cell.strip() for cell in row)


def _normalise_header(name: str) -> str:
    """ "Observações:", "OBSERVACOES" and "Valor (R$)" -> "observacoes", "observacoes", "valor"."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _HEADER_PARENS.sub(" ", plain)
    return " ".join(_HEADER_NON_WORD.sub(" ", plain).split())


def _map_header(row: Sequence[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Field -> column index for the best-ranked synonym of each field, and unused headers."""
    best: dict[str, tuple[int, int]] = {}
    for column, cell in enumerate(row):
        known = _HEADER_RANK.get(_normalise_header(_unescape(cell.strip())))
        if known is None:
            continue
        fld, rank = known
        if fld not in best or rank < best[fld][0]:
            best[fld] = (rank, column)
    mapping = {fld: column for fld, (_rank, column) in best.items()}
    used = set(mapping.values())
    ignored = tuple(
        cell.strip()[:_RAW_CELL_CHARS]
        for column, cell in enumerate(row)
        if column not in used and cell.strip()
    )
    return mapping, ignored


def _find_header(
    text: str,
) -> tuple[str, int, list[str], dict[str, int], tuple[str, ...]]:
    """(delimiter, header record index, header cells, field -> column, ignored headers).

    Each separator is tried on the first rows; the one whose header row names every required
    column wins (most recognised columns if several do, ``;`` first on ties).
    """
    best: tuple[int, str, int, list[str], dict[str, int], tuple[str, ...]] | None = None
    for delimiter in _DELIMITERS:
        head = _head(text, delimiter)
        for index, row in enumerate(head):
            mapping, ignored = _map_header(row)
            complete = all(fld in mapping for fld in REQUIRED_FIELDS)
            score = len(mapping) + (100 if complete else 0)
            if best is None or score > best[0]:
                best = (score, delimiter, index, row, mapping, ignored)
            if complete:
                break
    if best is None or best[0] < 100:
        found = best[4] if best is not None else {}
        raise _missing_columns([fld for fld in REQUIRED_FIELDS if fld not in found])
    _score, delimiter, index, header, mapping, ignored = best
    return delimiter, index, header, mapping, ignored


def _head(text: str, delimiter: str) -> list[list[str]]:
    """The first rows, stopping early at a broken one (reported later, with its line)."""
    head: list[list[str]] = []
    with contextlib.suppress(InvalidCsvError):
        head.extend(islice(_records(text, delimiter), HEADER_SEARCH_ROWS))
    return head


def _missing_columns(missing: Sequence[str]) -> InvalidCsvError:
    """Name each missing required column with the header names that would be accepted."""
    parts = [
        _("{column} (aceito: {names})").format(
            column=FIELD_LABELS[fld], names=", ".join(HEADER_SYNONYMS[fld][:6])
        )
        for fld in missing
    ]
    if len(missing) > 1:
        message = _(
            "Faltam as colunas {columns}. A primeira linha da planilha precisa ter os nomes das "
            "colunas: nome, telefone, valor e vencimento são obrigatórias; plano, ciclo e "
            "observações são opcionais."
        )
    else:
        message = _(
            "Falta a coluna {columns}. A primeira linha da planilha precisa ter os nomes das "
            "colunas: nome, telefone, valor e vencimento são obrigatórias; plano, ciclo e "
            "observações são opcionais."
        )
    return InvalidCsvError(message.format(columns="; ".join(parts)))


def _raw(row: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        cell if len(cell) <= _RAW_CELL_CHARS else cell[:_RAW_CELL_CHARS] + "…"
        for cell in row[:_RAW_CELLS]
    )


def _quote(value: str) -> str:
    shown = value if len(value) <= 30 else value[:30] + "…"
    return f'"{shown}"'


def _why(exc: InvalidInputError) -> str:
    """The parser's reason; its example only when specific to this input (e.g. the fixed number)."""
    if "example" in vars(exc) and exc.example:
        return _("{reason} Exemplo: {example}").format(reason=exc.reason, example=exc.example)
    return exc.reason


@frozen
class _Parsers:
    """The value parsers one file is read with (region and today already bound)."""

    phone: Callable[[str], str]
    money: Callable[[str], Decimal]
    date: Callable[[str], date]
    cycle: Callable[[str], BillingCycle]


def _memoised(parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """``parse`` remembering its successes for one file.

    A sheet repeats the same few hundred due dates, prices and cycles thousands of times,
    and the date parser is the costliest step after phones. Failures are not kept (each
    raise gets a fresh exception) and the memory is bounded.
    """
    known: dict[str, _T] = {}

    def cached(raw: str) -> _T:
        hit = known.get(raw)
        if hit is None:
            hit = parse(raw)
            if len(known) < _MEMO_SIZE:
                known[raw] = hit
        return hit

    return cached


def _parse_row(
    row: Sequence[str],
    line: int,
    mapping: dict[str, int],
    width: int,
    parsers: _Parsers,
) -> ClientDraft | RowError:
    """Parse one data row, collecting every problem in it rather than stopping at the first."""
    problems: list[str] = []
    extra = [cell for cell in row[width:] if cell.strip()]
    if extra:
        problems.append(
            _(
                "a linha tem {count} colunas, mais que o cabeçalho: algum valor tem o "
                "separador dentro (por exemplo 35,90 num arquivo separado por vírgula). "
                "Coloque esse valor entre aspas ou use ponto e vírgula como separador."
            ).format(count=len(row))
        )

    def cell(fld: str) -> str:
        column = mapping.get(fld)
        if column is None or column >= len(row):
            return ""
        return _unescape(row[column].strip())

    name = " ".join(cell("name").split())
    if not name:
        problems.append(_("falta o nome."))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(
            _("o nome tem {count} letras; o máximo é {max}.").format(
                count=len(name), max=MAX_NAME_LENGTH
            )
        )

    phone = ""
    raw_phone = cell("phone")
    if not raw_phone:
        problems.append(_("falta o telefone."))
    else:
        try:
            phone = parsers.phone(raw_phone)
        except InvalidInputError as exc:
            problems.append(
                _("telefone {value}: {reason}").format(value=_quote(raw_phone), reason=_why(exc))
            )

    plan = " ".join(cell("plan").split())
    if len(plan) > MAX_PLAN_LENGTH:
        problems.append(
            _("o plano tem {count} letras; o máximo é {max}.").format(
                count=len(plan), max=MAX_PLAN_LENGTH
            )
        )

    price = Decimal(0)
    raw_price = cell("price")
    if not raw_price:
        problems.append(_("falta o valor."))
    else:
        try:
            price = parsers.money(raw_price)
        except InvalidInputError as exc:
            problems.append(
                _("valor {value}: {reason}").format(value=_quote(raw_price), reason=_why(exc))
            )

    due = date.min
    raw_due = cell("due_date")
    if not raw_due:
        problems.append(_("falta o vencimento."))
    else:
        try:
            due = parsers.date(raw_due)
        except InvalidInputError as exc:
            problems.append(
                _("vencimento {value}: {reason}").format(value=_quote(raw_due), reason=_why(exc))
            )

    cycle = BillingCycle()
    raw_cycle = cell("cycle")
    if len(raw_cycle) > _MAX_SHORT_CELL:
        problems.append(_("o ciclo {value} é comprido demais.").format(value=_quote(raw_cycle)))
    elif raw_cycle:
        try:
            cycle = parsers.cycle(raw_cycle)
        except InvalidInputError as exc:
            problems.append(_("ciclo: {reason}").format(reason=_why(exc)))

    notes = cell("notes").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        problems.append(
            _("as observações têm {count} letras; o máximo é {max}.").format(
                count=len(notes), max=MAX_NOTES_LENGTH
            )
        )

    if problems:
        return RowError(line, _capitalise("; ".join(problems)), _raw(row))
    return ClientDraft(
        line=line,
        name=name,
        phone=phone,
        price=price,
        due_date=due,
        plan=plan,
        cycle=cycle,
        notes=notes,
    )


def _capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
