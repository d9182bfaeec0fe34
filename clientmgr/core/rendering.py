"""Message templates: the variables a seller may use, save-time validation and safe rendering.

A template is text a seller typed on a phone, so it is treated as data, never as code:

- Only ``{name}`` placeholders from :data:`VARIABLES` exist. Names are matched ignoring case
  and surrounding spaces, because phone keyboards capitalise the first word ("{Nome}").
- Braces are *only* for variables; there is no escape. ``str.format`` would read ``{{`` as a
  literal brace, but sellers coming from other tools type ``{{nome}}`` meaning the variable,
  and silently sending "Olá {nome}" to a client is worse than refusing the text at save
  time. WhatsApp messages have no use for literal braces.
- Format specs (``{valor:>10}``), conversions (``{nome!r}``), attribute or index access
  (``{nome.x}``, ``{nome[0]}``) and positional fields (``{0}``) are refused: nothing of
  ``str.format``'s machinery is reachable from user text.
- Every problem is found by :func:`validate_template` when the seller saves, with a pt-BR
  reason that says where; :func:`render` only ever sees text that passed, so a reminder
  never fails at send time because of its wording.

Values are substituted in a single pass, so a client named ``{pix}`` or ``<b>_*[x]`` comes
out verbatim; escaping for Telegram's HTML or Markdown is the bot's job, not ours.

We scan braces ourselves instead of using ``string.Formatter().parse``: it treats ``{{`` as
an escape (see above) and reports no positions, and we need both decisions and positions.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from attrs import evolve, frozen

from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle, advance_due_date
from clientmgr.core.dates import format_date
from clientmgr.core.i18n import _
from clientmgr.core.money import format_brl
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import InvalidTemplateError

__all__ = [
    "DEFAULT_TEMPLATES",
    "MAX_TEMPLATE_LENGTH",
    "VARIABLES",
    "RenderContext",
    "TemplateProblem",
    "find_problems",
    "missing_values",
    "preview",
    "render",
    "sample_client",
    "text_for",
    "validate_template",
]

#: Variable name → what it becomes, in pt-BR, for the bot's help screen.
VARIABLES: dict[str, str] = {
    "nome": _("nome do cliente (Maria Silva)"),
    "plano": _("nome do plano (Plano Mensal)"),
    "valor": _("valor a pagar (R$ 35,90)"),
    "vencimento": _("data de vencimento (10/12/2026)"),
    "dias": _("quantos dias faltam para o vencimento, ou há quantos dias venceu (3)"),
    "pix": _("sua chave PIX"),
    "pix_copia_e_cola": _("código PIX copia e cola com o valor já preenchido"),
    "empresa": _("nome do seu negócio"),
}

# Far above one Telegram message (4,096), so any text a seller can paste fits, and far below
# WhatsApp's 65,536, leaving room for the substituted values.
MAX_TEMPLATE_LENGTH = 20_000

_VALID_LIST = ", ".join("{" + name + "}" for name in VARIABLES)
_DOUBLE_BRACED = re.compile(r"\{\{([^{}]*)\}\}")
_BRACE = re.compile(r"[{}]")
_NESTED = re.compile(r"\{[^{}]*\{[^{}]*\}[^{}]*\}")
_SNIPPET_RADIUS = 12
# Words sellers reach for first (or bring from other tools), mapped to our variable.
_SYNONYMS = {
    "cliente": "nome",
    "nome_cliente": "nome",
    "name": "nome",
    "preco": "valor",
    "preço": "valor",
    "mensalidade": "valor",
    "data": "vencimento",
    "vence": "vencimento",
    "data_vencimento": "vencimento",
    "chave": "pix",
    "chave_pix": "pix",
    "copia_e_cola": "pix_copia_e_cola",
    "loja": "empresa",
    "negocio": "empresa",
    "negócio": "empresa",
    "servico": "plano",
    "serviço": "plano",
    "produto": "plano",
}


@frozen
class TemplateProblem:
    """One thing wrong with a template: where it starts (0-based index) and a pt-BR message."""

    position: int
    message: str


@frozen
class RenderContext:
    """Everything a template can mention, already decided; :meth:`values` formats it pt-BR."""

    name: str
    plan: str
    price: Decimal
    due_date: date
    today: date
    pix_key: str = ""
    pix_code: str = ""
    business_name: str = ""

    @classmethod
    def for_client(
        cls,
        client: Client,
        account: Account,
        today: date,
        pix_code: str | None = None,
    ) -> RenderContext:
        """The context for one message to ``client``; ``pix_code`` is a BR Code built by the caller.

        A client without a plan name reads as "plano mensal" (the cycle's label), so "seu
        {plano}" stays a sentence; the business name falls back to the seller's own name.
        """
        return cls(
            name=client.name,
            plan=client.plan.strip() or _("plano {cycle}").format(cycle=client.cycle.label()),
            price=client.price,
            due_date=client.due_date,
            today=today,
            pix_key=account.pix_key or "",
            pix_code=pix_code or "",
            business_name=(account.business_name or "").strip() or account.name,
        )

    @property
    def days_until_due(self) -> int:
        """Signed: positive before the due date, 0 on it, negative once overdue."""
        return (self.due_date - self.today).days

    @property
    def days(self) -> int:
        """What ``{dias}`` shows: always a plain count, never negative.

        Before the due date it is how many days are left ("vence em {dias} dias"); once
        overdue it is how many days have passed ("venceu há {dias} dias"). The template kind
        already says which side of the date the message is on, and "-3 dias" reads as a typo.
        """
        return abs(self.days_until_due)

    def values(self) -> dict[str, str]:
        """Each variable's text, formatted as Brazilians read it."""
        return {
            "nome": self.name,
            "plano": self.plan,
            "valor": format_brl(self.price),
            "vencimento": format_date(self.due_date),
            "dias": str(self.days),
            "pix": self.pix_key,
            "pix_copia_e_cola": self.pix_code,
            "empresa": self.business_name,
        }


def _where(text: str, position: int) -> str:
    """A short quote around ``position`` (plus the line number): sellers don't count characters."""
    start = max(0, position - _SNIPPET_RADIUS)
    end = min(len(text), position + _SNIPPET_RADIUS)
    snippet = text[start:end].replace("\n", " ")
    snippet = ("…" if start else "") + snippet + ("…" if end < len(text) else "")
    if "\n" in text:
        line = text.count("\n", 0, position) + 1
        return _("na linha {line}, perto de “{snippet}”").format(line=line, snippet=snippet)
    return _("perto de “{snippet}”").format(snippet=snippet)


def _suggestion(name: str) -> str:
    """' (você quis dizer {nome}?)' for a usual synonym or a typo close to a known variable."""
    key = name.replace(" ", "_").replace("-", "_")
    if key in _SYNONYMS:
        guess = _SYNONYMS[key]
    else:
        close = difflib.get_close_matches(key, list(VARIABLES), n=1, cutoff=0.6)
        if not close:
            return ""
        guess = close[0]
    return " " + _("(você quis dizer {{{name}}}?)").format(name=guess)


def _field_problem(text: str, start: int, inner: str) -> TemplateProblem | None:
    """Why ``{inner}`` at ``start`` is not a plain variable, or None when it is a known one."""
    where = _where(text, start)
    shown = "{" + (inner if len(inner) <= 30 else inner[:29] + "…") + "}"
    stripped = inner.strip()
    if not stripped:
        return TemplateProblem(
            start,
            _(
                "Chaves vazias “{shown}” {where}: escreva o nome de uma variável, como {{nome}}."
            ).format(shown=shown, where=where),
        )
    base = re.split(r"[:!.\[]", stripped, maxsplit=1)[0].strip().lower()
    if base in VARIABLES:
        hint = _("use só {{{name}}}").format(name=base)
    else:
        hint = _("use só o nome da variável, como {nome}")
    if ":" in stripped or "!" in stripped:
        return TemplateProblem(
            start,
            _("Formatação como “{shown}” não é permitida ({where}); {hint}.").format(
                shown=shown, where=where, hint=hint
            ),
        )
    if "." in stripped or "[" in stripped or "]" in stripped:
        return TemplateProblem(
            start,
            _("“{shown}” não é permitido ({where}); {hint}.").format(
                shown=shown, where=where, hint=hint
            ),
        )
    if stripped.isdigit():
        return TemplateProblem(
            start,
            _("“{shown}” não é uma variável ({where}); use nomes como {{nome}}.").format(
                shown=shown, where=where
            ),
        )
    if stripped.lower() in VARIABLES:
        return None
    return TemplateProblem(
        start,
        _("Variável desconhecida: {shown}{suggestion}.").format(
            shown=shown, suggestion=_suggestion(stripped.lower())
        ),
    )


def _scan(text: str) -> tuple[list[tuple[int, int, str]], list[TemplateProblem]]:
    """Split ``text`` into variable fields ``(start, end, name)`` and brace problems, in order.

    Walks the list of brace positions once, so a pasted wall of braces costs no more than
    a normal message.
    """
    fields: list[tuple[int, int, str]] = []
    problems: list[TemplateProblem] = []
    braces = [m.start() for m in _BRACE.finditer(text)]
    k = 0
    while k < len(braces):
        pos = braces[k]
        nxt = braces[k + 1] if k + 1 < len(braces) else -1
        if text[pos] == "}":
            problems.append(
                TemplateProblem(
                    pos,
                    _("Chave “}}” fechada sem ter sido aberta {where}.").format(
                        where=_where(text, pos)
                    ),
                )
            )
            k += 1
        elif nxt == pos + 1 and text[nxt] == "{":
            problems.extend(_double_brace_problems(text, pos))
            k += 4 if _DOUBLE_BRACED.match(text, pos) else 2
        elif nxt != -1 and text[nxt] == "}":
            inner = text[pos + 1 : nxt]
            problem = _field_problem(text, pos, inner)
            if problem is None:
                fields.append((pos, nxt + 1, inner.strip().lower()))
            else:
                problems.append(problem)
            k += 2
        elif nxt != -1 and _NESTED.match(text, pos):
            problems.append(
                TemplateProblem(
                    pos,
                    _(
                        "Uma variável dentro da outra {where}: "
                        "escreva cada variável separada, como {{nome}} {{plano}}."
                    ).format(where=_where(text, pos)),
                )
            )
            k += 4
        else:
            problems.append(
                TemplateProblem(
                    pos,
                    _("Chave “{{” aberta e não fechada {where}.").format(where=_where(text, pos)),
                )
            )
            k += 1
    return fields, problems


def _double_brace_problems(text: str, pos: int) -> list[TemplateProblem]:
    """``{{nome}}`` is what other tools use: point to ``{nome}``; a bare ``{{`` is just broken."""
    doubled = _DOUBLE_BRACED.match(text, pos)
    if doubled is None or not doubled.group(1).strip():
        return [
            TemplateProblem(
                pos,
                _(
                    "Chaves duplas “{{{{” {where}: as chaves servem só para "
                    "variáveis, como {{nome}}."
                ).format(where=_where(text, pos)),
            )
        ]
    inner = doubled.group(1)
    problems = [
        TemplateProblem(
            pos,
            _("Use uma chave só de cada lado: {{{name}}} em vez de {{{{{name}}}}} {where}.").format(
                name=inner.strip()[:30], where=_where(text, pos)
            ),
        )
    ]
    problem = _field_problem(text, pos + 1, inner)
    if problem is not None:
        problems.append(problem)
    return problems


def find_problems(text: str) -> list[TemplateProblem]:
    """Every problem in ``text``, in reading order (empty when the template is fine)."""
    if not text.strip():
        return [TemplateProblem(0, _("A mensagem está vazia."))]
    if len(text) > MAX_TEMPLATE_LENGTH:
        return [
            TemplateProblem(
                MAX_TEMPLATE_LENGTH,
                _("A mensagem é longa demais ({count} caracteres; o máximo é {max}).").format(
                    count=len(text), max=MAX_TEMPLATE_LENGTH
                ),
            )
        ]
    return _scan(text)[1]


def validate_template(text: str) -> None:
    """Refuse a template at save time, saying what is wrong, where, and which variables exist.

    Raises :class:`~clientmgr.errors.InvalidTemplateError` whose ``reason`` lists the
    problems (one per line, the first ten) followed by the valid variable names.
    """
    problems = find_problems(text)
    if not problems:
        return
    lines = [p.message for p in problems[:10]]
    if len(problems) > 10:
        lines.append(_("…e mais {count} problema(s).").format(count=len(problems) - 10))
    lines.append(_("Variáveis válidas: {names}.").format(names=_VALID_LIST))
    raise InvalidTemplateError("\n".join(lines))


def render(text: str, ctx: RenderContext) -> str:
    """The message for one client: each ``{variable}`` replaced once, nothing else touched.

    Validates first (raising :class:`~clientmgr.errors.InvalidTemplateError`), so a text
    that slipped past save-time validation fails loudly instead of sending raw braces.
    """
    validate_template(text)
    values = ctx.values()
    parts: list[str] = []
    last = 0
    for start, end, name in _scan(text)[0]:
        parts.append(text[last:start])
        parts.append(values[name])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def missing_values(text: str, ctx: RenderContext) -> list[str]:
    """Variables ``text`` uses that would come out empty (e.g. {pix} with no PIX key saved).

    The bot shows these next to a preview, so the seller fixes the account before a client
    gets "Chave PIX: " with nothing after it. ``text`` must already be valid.
    """
    values = ctx.values()
    used = dict.fromkeys(name for _start, _end, name in _scan(text)[0])
    return [name for name in used if not values[name].strip()]


DEFAULT_TEMPLATES: dict[TemplateKind, str] = {
    TemplateKind.BEFORE_DUE: (
        _(
            "Olá, {nome}! Tudo bem? 😊\n"
            "Passando para lembrar que o seu {plano} de *{valor}* vence em *{vencimento}*.\n"
            "Chave PIX: {pix}\n"
            "Qualquer dúvida, é só chamar!\n"
            "{empresa}"
        )
    ),
    TemplateKind.DUE_TODAY: (
        _(
            "Oi, {nome}! Hoje ({vencimento}) é o dia do pagamento do seu {plano}: *{valor}*.\n"
            "Chave PIX: {pix}\n"
            "Depois de pagar, manda o comprovante por aqui, por favor. 🙏\n"
            "{empresa}"
        )
    ),
    TemplateKind.OVERDUE: (
        _(
            "Oi, {nome}, tudo bem?\n"
            "O seu {plano} de *{valor}* venceu em {vencimento} e ainda não identificamos o "
            "pagamento.\n"
            "Chave PIX: {pix}\n"
            "Se já pagou, é só mandar o comprovante e desconsiderar esta mensagem. 😉\n"
            "{empresa}"
        )
    ),
    TemplateKind.RECEIPT: (
        _(
            "Pagamento recebido! ✅\n"
            "Oi, {nome}, recebemos *{valor}* do seu {plano}. Agradecemos a confiança! 🙏\n"
            "Próximo vencimento: {vencimento}.\n"
            "{empresa}"
        )
    ),
    TemplateKind.CUSTOM: _("Olá, {nome}! Tudo bem?\n\n{empresa}"),
}

_PREVIEW_PIX_KEY = _("(cadastre sua chave PIX)")
_PREVIEW_PIX_CODE = _("(aqui vai o código PIX copia e cola)")
# How far the sample client's due date sits from today, per kind, so each preview reads true.
_PREVIEW_DAYS_TO_DUE: dict[TemplateKind, int] = {
    TemplateKind.BEFORE_DUE: 3,
    TemplateKind.DUE_TODAY: 0,
    TemplateKind.OVERDUE: -3,
    TemplateKind.CUSTOM: 3,
}


def text_for(kind: TemplateKind, template: Template | None) -> str:
    """The seller's text for ``kind`` when they saved one, else the built-in default."""
    if template is None or not template.text.strip():
        return DEFAULT_TEMPLATES[kind]
    if template.kind != kind:
        raise ValueError(f"template is for {template.kind}, not {kind}")
    return template.text


def sample_client(today: date, kind: TemplateKind | None = None, account_id: int = 0) -> Client:
    """Maria Silva on the Plano Mensal at R$ 35,90, due on a date that fits ``kind``.

    Three days ahead for a reminder, today for ``due_today``, three days ago for
    ``overdue``, and one month on for a receipt (the due date after paying).
    """
    if kind is TemplateKind.RECEIPT:
        due = advance_due_date(today, BillingCycle.monthly())
    else:
        due = today + timedelta(days=_PREVIEW_DAYS_TO_DUE.get(kind or TemplateKind.CUSTOM, 3))
    created = datetime.combine(today, time(12, 0), tzinfo=UTC)
    return Client(
        account_id=account_id,
        name="Maria Silva",
        phone="+5511988887777",
        price=Decimal("35.90"),
        due_date=due,
        created_at=created,
        updated_at=created,
        plan=_("Plano Mensal"),
        cycle=BillingCycle.monthly(),
    )


def preview(
    text: str,
    account: Account,
    today: date,
    kind: TemplateKind | None = None,
    pix_code: str | None = None,
) -> str:
    """``text`` rendered for the sample client, as the seller's clients would read it.

    A missing PIX key or BR Code shows as a visible placeholder rather than nothing, so
    the preview tells the seller what the real message needs.
    """
    ctx = RenderContext.for_client(
        sample_client(today, kind, account.id or 0),
        account,
        today,
        pix_code=pix_code or _PREVIEW_PIX_CODE,
    )
    if not ctx.pix_key:
        ctx = evolve(ctx, pix_key=_PREVIEW_PIX_KEY)
    return render(text, ctx)
