"""Every error clientmgr raises on purpose, rooted in one class so callers can catch ours only.

The tree::

    ClientmgrError
    ├── InvalidInputError (ValueError)        something a person typed is not usable
    │   ├── InvalidPhoneError
    │   ├── InvalidMoneyError
    │   ├── InvalidDateError
    │   ├── InvalidCycleError
    │   ├── InvalidTemplateError
    │   ├── InvalidBRCodeError
    │   └── InvalidCsvError                   the file as a whole is unreadable
    ├── NotFoundError (LookupError)
    │   ├── AccountNotFoundError
    │   ├── ClientNotFoundError
    │   └── PaymentNotFoundError              Mercado Pago has no payment with that id
    ├── ConflictError
    │   ├── DuplicateAccountError
    │   ├── DuplicatePhoneError               carries the id of the client that has the phone
    │   └── MessageNotQueuedError             it left the queue before "sent by hand" was tapped
    ├── AccountExpiredError (PermissionError) the subscription lapsed: read, export and pay only
    ├── ClientUnreachableError (PermissionError) this client must not get a message now
    │   ├── ClientOptedOutError               the client asked for no reminders (SAIR)
    │   ├── ClientPausedError                 the seller paused the client
    │   └── ClientArchivedError               the seller archived the client
    ├── WhatsAppError                         the WhatsApp sidecar did not do what was asked
    │   ├── WhatsAppUnavailableError (ConnectionError) sidecar down or breaker open: try later
    │   ├── WhatsAppSessionNotOpenError       the seller's phone is not linked/connected now
    │   ├── NotOnWhatsAppError                nobody uses that number on WhatsApp (permanent)
    │   ├── WhatsAppSendError                 WhatsApp refused or timed out: retry, same key
    │   └── WhatsAppRequestError (ValueError) a malformed request (id, phone, text): a bug
    ├── PaymentGatewayError                   Mercado Pago refused a request
    │   └── PaymentGatewayUnavailableError (ConnectionError) unreachable or failing: try later
    ├── ConfigError                           an environment variable is missing or wrong
    └── SchemaOutdatedError (RuntimeError)    the database needs ``clientmgr migrate``

Input errors carry a short pt-BR ``reason`` and an ``example`` of a good answer, because the
bot shows both to the seller verbatim.
"""

from __future__ import annotations

from clientmgr.core.i18n import _

__all__ = [
    "AccountExpiredError",
    "AccountNotFoundError",
    "ClientArchivedError",
    "ClientNotFoundError",
    "ClientOptedOutError",
    "ClientPausedError",
    "ClientUnreachableError",
    "ClientmgrError",
    "ConfigError",
    "ConflictError",
    "DuplicateAccountError",
    "DuplicatePhoneError",
    "InvalidBRCodeError",
    "InvalidCsvError",
    "InvalidCycleError",
    "InvalidDateError",
    "InvalidInputError",
    "InvalidMoneyError",
    "InvalidPhoneError",
    "InvalidTemplateError",
    "MessageNotQueuedError",
    "NotFoundError",
    "NotOnWhatsAppError",
    "PaymentGatewayError",
    "PaymentGatewayUnavailableError",
    "PaymentNotFoundError",
    "SchemaOutdatedError",
    "WhatsAppError",
    "WhatsAppRequestError",
    "WhatsAppSendError",
    "WhatsAppSessionNotOpenError",
    "WhatsAppUnavailableError",
]


class ClientmgrError(Exception):
    """Root of every error clientmgr raises deliberately."""


class InvalidInputError(ClientmgrError, ValueError):
    """A value typed by a person cannot be used; ``reason`` says why, ``example`` what works."""

    example: str = ""

    def __init__(self, reason: str, example: str | None = None) -> None:
        self.reason = reason
        if example is not None:
            self.example = example
        super().__init__(reason)

    def __str__(self) -> str:
        if self.example:
            return _("{reason} Exemplo: {example}").format(reason=self.reason, example=self.example)
        return self.reason


class InvalidPhoneError(InvalidInputError):
    """Not a usable Brazilian (or international) phone number."""

    example = "(11) 98888-7777"


class InvalidMoneyError(InvalidInputError):
    """Not an amount in reais."""

    example = "35,90"


class InvalidDateError(InvalidInputError):
    """Not a date we can understand."""

    example = "10/12"


class InvalidCycleError(InvalidInputError):
    """Not a billing cycle (mensal, a cada N meses, semanal, anual)."""

    example = _("mensal")


class InvalidTemplateError(InvalidInputError):
    """A message template uses an unknown variable or has broken braces."""

    example = _("Olá {nome}, seu plano {plano} vence em {vencimento}.")


class InvalidBRCodeError(InvalidInputError):
    """A PIX BR Code (copia e cola) is malformed or its CRC does not match."""


class InvalidCsvError(InvalidInputError):
    """A CSV file cannot be read at all (no header, unknown encoding, missing columns)."""

    example = "nome;telefone;plano;valor;vencimento"


class NotFoundError(ClientmgrError, LookupError):
    """Something asked for does not exist (or belongs to another account)."""


class AccountNotFoundError(NotFoundError):
    """No account with that id or Telegram id."""


class ClientNotFoundError(NotFoundError):
    """No client with that id in this account."""


class ConflictError(ClientmgrError):
    """The change collides with data that already exists."""


class DuplicateAccountError(ConflictError):
    """An account for that Telegram user already exists."""


class DuplicatePhoneError(ConflictError):
    """Another client of the same account already has this phone."""

    def __init__(self, phone: str, existing_client_id: int | None) -> None:
        self.phone = phone
        self.existing_client_id = existing_client_id
        super().__init__(_("Já existe um cliente com o telefone {phone}.").format(phone=phone))


class MessageNotQueuedError(ConflictError):
    """The seller marked a message as sent by hand, but it had left the queue meanwhile.

    ``going_out``: the dispatcher is sending it or sent it, so sending it by hand as well
    would reach the client twice; otherwise it was cancelled or failed, and the client's
    history says why.
    """

    def __init__(self, name: str, *, going_out: bool) -> None:
        self.going_out = going_out
        if going_out:
            text = _(
                "A mensagem para {name} já saiu (ou está saindo agora) pelo seu WhatsApp. "
                "Não envie pelo link, senão a pessoa recebe duas vezes."
            )
        else:
            text = _(
                "A mensagem para {name} não está mais na fila: foi cancelada ou não pôde "
                "ser enviada. Veja o motivo no histórico do cliente."
            )
        super().__init__(text.format(name=name))


class AccountExpiredError(ClientmgrError, PermissionError):
    """The seller's subscription lapsed: data is kept and readable, sending and adding are not."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Sua assinatura venceu. Você ainda vê e exporta seus dados; "
                "para cadastrar e enviar mensagens, renove em Assinatura."
            )
        )


class ConfigError(ClientmgrError):
    """A setting read from the environment is missing or invalid."""


class SchemaOutdatedError(ClientmgrError, RuntimeError):
    """The database schema is behind the code."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"The database is at revision {current or 'none'} but this code needs {head}. "
            "Run `clientmgr migrate` first."
        )


class ClientUnreachableError(ClientmgrError, PermissionError):
    """A message to this client is refused; the subclass says why, naming the client."""

    def __init__(self, message: str, client_id: int | None = None) -> None:
        self.client_id = client_id
        super().__init__(message)


class ClientOptedOutError(ClientUnreachableError):
    """The client asked for no reminders; only the client can undo that, not the seller's tap."""

    def __init__(self, name: str, client_id: int | None = None) -> None:
        super().__init__(
            _(
                "{name} pediu para não receber mensagens (respondeu SAIR). "
                "Nenhuma mensagem é enviada para quem pediu isso."
            ).format(name=name),
            client_id,
        )


class ClientPausedError(ClientUnreachableError):
    """The seller paused the client: nothing is sent until the client is resumed."""

    def __init__(self, name: str, client_id: int | None = None) -> None:
        super().__init__(
            _("{name} está pausado. Retome o cliente para voltar a enviar mensagens.").format(
                name=name
            ),
            client_id,
        )


class ClientArchivedError(ClientUnreachableError):
    """The seller archived the client: kept for history, never messaged."""

    def __init__(self, name: str, client_id: int | None = None) -> None:
        super().__init__(
            _("{name} está arquivado. Clientes arquivados não recebem mensagens.").format(
                name=name
            ),
            client_id,
        )


class PaymentNotFoundError(NotFoundError):
    """Mercado Pago has no payment with that id: a forged or mistyped notification."""


class WhatsAppError(ClientmgrError):
    """The WhatsApp side (the Baileys sidecar) did not do what was asked."""


class WhatsAppUnavailableError(WhatsAppError, ConnectionError):
    """The sidecar cannot be reached or the circuit breaker is open: transient, try later.

    The outbox waits on this instead of spending a send attempt.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("O WhatsApp está indisponível agora. Tente daqui a pouco."))


class WhatsAppSessionNotOpenError(WhatsAppError):
    """The seller's WhatsApp is not connected (never linked, showing a QR, dropped, logged out).

    ``state`` is the session's state name, or None when the sidecar has no such session.
    """

    def __init__(self, session_id: str, state: str | None = None) -> None:
        self.session_id = session_id
        self.state = state
        super().__init__(
            _("Seu WhatsApp não está conectado. Conecte em WhatsApp → Conectar e leia o QR code.")
        )


class NotOnWhatsAppError(WhatsAppError):
    """Nobody uses this number on WhatsApp: permanent, retrying cannot help."""

    def __init__(self, phone: str) -> None:
        self.phone = phone
        super().__init__(_("O número {phone} não tem WhatsApp.").format(phone=phone))


class WhatsAppSendError(WhatsAppError):
    """WhatsApp refused the message or timed out; retrying with the same key is safe."""


class WhatsAppRequestError(WhatsAppError, ValueError):
    """The request itself is malformed (session id, recipient, text, key): a bug, not bad luck."""


class PaymentGatewayError(ClientmgrError):
    """Mercado Pago refused a request (bad data, credentials): retrying the same will not help."""


class PaymentGatewayUnavailableError(PaymentGatewayError, ConnectionError):
    """Mercado Pago cannot be reached or answers with a server error: transient, try later."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or _("O Mercado Pago não respondeu agora. Tente de novo em alguns minutos.")
        )
