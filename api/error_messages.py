"""The one catalogue of API error messages, in Spanish (Chile, the default) and English.

Every `ApiError` names a key of it; `api.errors` renders the message in the language
negotiated from the request's Accept-Language (`es` unless `en` is preferred).
Placeholders (`{branch}`) are filled from the error's params; both languages of a key
have the same ones (tests/unit/test_error_messages.py). A text never passes on
Temporal's or a library's own wording. Long because it holds every message twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

DEFAULT = "es"
LANGUAGES = ("es", "en")

ES: dict[str, str] = {
    # advisor flow and hours (issue 13)
    "ticket.ref_or_number": "Indique la referencia del turno o su número (por ejemplo C06)",
    "ticket.number_needs_branch": (
        "Indique la sucursal (?branch=) para buscar un turno por su número"
    ),
    "ticket.number_not_today": "No hay un turno {number} hoy en esta sucursal",
    "recall.already": "Este turno ya fue llamado nuevamente una vez; no se puede volver a llamar",
    "recall.in_service": "Termine la atención en curso antes de volver a llamar a otro turno",
    "recall.not_yours": (
        "Solo puede volver a llamar a su propio turno no presentado mientras atiende otro"
    ),
    "recall.not_recallable": "Este turno ya no se puede volver a llamar",
    "branch.closed": ("La sucursal {branch} está cerrada. Abre el {opening} (hora de {zone})."),
    "branch.closed_early": (
        "La sucursal {branch} está cerrada. Abre el {opening} (hora de {zone});"
        " entrega números desde las {tickets_from}."
    ),
    "transfer.same_queue": "El turno ya está en la fila {queue}; elija otra fila para derivarlo",
    "branch.closed_no_hours": "La sucursal {branch} está cerrada y no tiene un horario próximo",
    # generic, by HTTP status
    "http.400": "Solicitud incorrecta",
    "http.401": "No autenticado",
    "http.403": "Acceso denegado",
    "http.404": "Recurso no encontrado",
    "http.405": "Método no permitido",
    "http.413": "El cuerpo de la solicitud supera los {max_bytes} bytes",
    "http.429": "Demasiadas solicitudes; reintente en unos segundos",
    "http.500": "Error interno; quedó registrado",
    "http.503": "Servicio no disponible por ahora; reintente en unos segundos",
    "request.malformed_json": "El cuerpo JSON de la solicitud está mal formado",
    "request.body_not_json": "el cuerpo no es JSON válido",
    "validation.invalid": "Solicitud inválida: {summary}",
    "validation.required": "es obligatorio",
    "validation.value_refused": (
        "Solicitud inválida: un valor contiene caracteres de control o está fuera de rango"
    ),
    "db.unavailable": "Base de datos no disponible por ahora; reintente en unos segundos",
    "temporal.unavailable": "Servicio de procesos no disponible; reintente en unos segundos",
    "temporal.refused_start": "No se pudo iniciar la operación; reintente en unos segundos",
    "temporal.no_answer": "El servicio de procesos no respondió; reintente en unos segundos",
    "service.starting": "El servicio está iniciándose; reintente en unos segundos",
    "maintenance.on": "Ticketero está en mantenimiento: {reason}",
    "text.control_chars": "no debe contener caracteres de control",
    "text.printable_1_100": "debe tener de 1 a 100 caracteres imprimibles",
    "page.limit_max": "debe ser como máximo {max}",
    # authentication and scope
    "auth.not_authenticated": "No autenticado",
    "auth.invalid_token": "Token de acceso inválido o vencido; inicie sesión de nuevo",
    "auth.revoked": (
        "El token de acceso ya no es válido: el usuario está inactivo o cambió;"
        " inicie sesión de nuevo"
    ),
    "auth.requires_role": "Requiere el rol {roles}",
    "auth.bad_credentials": "Usuario o contraseña incorrectos",
    "auth.login_throttled": (
        "Demasiados intentos de inicio de sesión fallidos; reintente en {seconds} segundos"
    ),
    "auth.not_advisor": "Este usuario no está asociado a un ejecutivo",
    "scope.branch": "La sucursal {branch} está fuera de sus sucursales",
    "scope.ticket": "Este turno pertenece a una sucursal fuera de las suyas",
    "scope.advisor": "El ejecutivo {advisor} trabaja en una sucursal fuera de las suyas",
    "scope.register_branch": (
        "Solo operadores y supervisores de todas las sucursales registran sucursales"
    ),
    # branches, queues, kiosks
    "branch.not_found": "Sucursal no encontrada: {branch}",
    "branch.unknown": "Sucursal desconocida: {branch}; el personal registra las sucursales",
    "branch.exists": "Ya existe una sucursal llamada {branch}",
    "queue.not_found": "Cola no encontrada en la sucursal {branch}: {queue}",
    "kiosk.bad_token": "Token de tótem desconocido o revocado",
    "kiosk.other_branch": "Este tótem pertenece a la sucursal {branch}",
    "kiosk.not_found": "No existe el tótem {kiosk} en la sucursal {branch}",
    "hours.closes_before_opens": "debe ser posterior a opensAt",
    "hours.opens_after_closes": (
        "la hora de apertura debe ser anterior a la de cierre ({opens} - {closes})"
    ),
    # tickets
    "ticket.not_found": "No existe un turno con la referencia {reference}",
    "ticket.number_not_found": "No existe el turno {number} en la sucursal {branch}",
    "ticket.number_invalid": "Número de turno inválido (ej.: C06)",
    "ticket.active_exists": "Ya tiene un turno activo en esta sucursal con este RUT",
    "ticket.rate_limited": "Demasiados turnos solicitados; reintente en {seconds} s",
    "ticket.unavailable": "Servicio de turnos no disponible por ahora; reintente",
    "ticket.unavailable_idempotent": (
        "Servicio de turnos no disponible por ahora; reintente con la misma Idempotency-Key"
    ),
    "ticket.not_created": "No se pudo crear el turno; reintente",
    "ticket.status_now": "El turno está en estado {status}; esta acción no corresponde",
    "ticket.not_allowed": "Esta acción sobre el turno no le corresponde",
    "ticket.not_your_call": "Solo el ejecutivo que llamó este turno puede hacerlo",
    "ticket.moved_queue": "El turno pasó a otra cola después de reservarse",
    "ticket.recall_refused": (
        "No se puede volver a llamar este turno (estado {status}) ni con otro en atención"
    ),
    "ticket.recall_race": "Otro ejecutivo está volviendo a llamar este turno",
    "idempotency.bad_key": "debe tener de 1 a 128 caracteres imprimibles",
    "idempotency.mismatch": "Esta Idempotency-Key ya se usó con una solicitud distinta",
    "idempotency.no_ticket": (
        "Esta Idempotency-Key pertenece a una solicitud que no creó un turno; use otra"
    ),
    # advisors and users
    "advisor.not_found": "Ejecutivo no encontrado o inactivo",
    "advisor.not_found_id": "Ejecutivo no encontrado: {advisor}",
    "advisor.ticket_in_hand": "Termine primero el turno que está atendiendo",
    "advisor.serving": (
        "El ejecutivo tiene un turno en curso; debe terminarlo antes de desactivarlo"
    ),
    "advisor.email_taken": "Ya existe un ejecutivo con el correo {email}",
    "advisor.email_taken_plain": "Ya existe un ejecutivo con ese correo",
    "advisor.desk_taken": "El módulo {desk} ya está asignado a otro ejecutivo activo",
    "user.username_taken": "El nombre de usuario {username} ya existe",
    "user.password_required": "es obligatoria cuando se indica username",
    "user.username_required": "es obligatorio cuando se indica password",
    # live feeds
    "live.unavailable": "Eventos en vivo no disponibles por ahora",
    "live.too_many": "Demasiadas conexiones en vivo; reintente en unos segundos",
    "live.too_many_client": "Máximo {max} conexiones en vivo por cliente; cierre una antes",
    # Telegram webhook
    "telegram.not_configured": "El webhook de Telegram no está configurado",
    "telegram.bad_secret": "Falta el token secreto de Telegram o es incorrecto",
    "telegram.not_update": "No es una actualización de Telegram",
    "telegram.unavailable": "No se pueden encolar actualizaciones ahora; reintente",
    # operations
    "ops.conflict": "Ya hay una operación en curso ({running}); espere a que termine",
    "ops.run_not_found": "No existe la ejecución de operaciones {run}",
    "ops.schedule_not_found": "No existe la programación {schedule}",
}

EN: dict[str, str] = {
    # advisor flow and hours (issue 13)
    "ticket.ref_or_number": "Give the ticket's reference or its number (e.g. C06)",
    "ticket.number_needs_branch": "Name the branch (?branch=) to find a ticket by its number",
    "ticket.number_not_today": "No ticket {number} today at this branch",
    "recall.already": "This ticket was already called back once; it cannot be called again",
    "recall.in_service": "Finish the service in progress before calling another ticket back",
    "recall.not_yours": ("You can only call back your own no-show while another ticket is in hand"),
    "recall.not_recallable": "This ticket can no longer be called back",
    "branch.closed": "Branch {branch} is closed. It opens {opening} ({zone} time).",
    "branch.closed_early": (
        "Branch {branch} is closed. It opens {opening} ({zone} time);"
        " tickets are given from {tickets_from}."
    ),
    "transfer.same_queue": "The ticket is already in the {queue} queue; choose another queue",
    "branch.closed_no_hours": "Branch {branch} is closed and has no upcoming opening hours",
    "http.400": "Bad request",
    "http.401": "Not authenticated",
    "http.403": "Forbidden",
    "http.404": "Not found",
    "http.405": "Method not allowed",
    "http.413": "Request body larger than {max_bytes} bytes",
    "http.429": "Too many requests; retry in a few seconds",
    "http.500": "Internal error; it has been logged",
    "http.503": "Service unavailable for now; retry shortly",
    "request.malformed_json": "Malformed JSON request body",
    "request.body_not_json": "the body is not valid JSON",
    "validation.invalid": "Invalid request: {summary}",
    "validation.required": "is required",
    "validation.value_refused": (
        "Invalid request: a value contains control characters or is out of range"
    ),
    "db.unavailable": "Database temporarily unavailable; retry shortly",
    "temporal.unavailable": "Workflow service temporarily unavailable; retry shortly",
    "temporal.refused_start": "The operation could not be started; retry shortly",
    "temporal.no_answer": "The workflow service did not answer; retry shortly",
    "service.starting": "Service starting; retry shortly",
    "maintenance.on": "Ticketero is under maintenance: {reason}",
    "text.control_chars": "must not contain control characters",
    "text.printable_1_100": "must be 1 to 100 printable characters",
    "page.limit_max": "must be at most {max}",
    "auth.not_authenticated": "Not authenticated",
    "auth.invalid_token": "Invalid or expired access token; log in again",
    "auth.revoked": ("Access token no longer valid: the user is inactive or changed; log in again"),
    "auth.requires_role": "Requires role {roles}",
    "auth.bad_credentials": "Incorrect username or password",
    "auth.login_throttled": "Too many failed login attempts; retry in {seconds} seconds",
    "auth.not_advisor": "This user is not linked to an advisor",
    "scope.branch": "Branch {branch} is outside your branches",
    "scope.ticket": "This ticket belongs to a branch outside your branches",
    "scope.advisor": "Advisor {advisor} works at a branch outside your branches",
    "scope.register_branch": "Only operators and supervisors of every branch register branches",
    "branch.not_found": "Branch not found: {branch}",
    "branch.unknown": "Unknown branch {branch}; branches are registered by staff",
    "branch.exists": "A branch named {branch} already exists",
    "queue.not_found": "Queue not found at branch {branch}: {queue}",
    "kiosk.bad_token": "Unknown or revoked kiosk token",
    "kiosk.other_branch": "This kiosk belongs to branch {branch}",
    "kiosk.not_found": "No kiosk {kiosk} at branch {branch}",
    "hours.closes_before_opens": "must be after opensAt",
    "hours.opens_after_closes": (
        "the opening time must be before the closing time ({opens} - {closes})"
    ),
    "ticket.not_found": "No ticket with reference {reference}",
    "ticket.number_not_found": "No ticket {number} at branch {branch}",
    "ticket.number_invalid": "Invalid ticket number (e.g. C06)",
    "ticket.active_exists": "An active ticket already exists for this national id at this branch",
    "ticket.rate_limited": "Too many tickets requested; retry in {seconds} s",
    "ticket.unavailable": "Ticket service temporarily unavailable; retry",
    "ticket.unavailable_idempotent": (
        "Ticket service temporarily unavailable; retry with the same Idempotency-Key"
    ),
    "ticket.not_created": "The ticket could not be created; retry",
    "ticket.status_now": "The ticket is {status}; this action does not apply",
    "ticket.not_allowed": "This action on the ticket is not yours to take",
    "ticket.not_your_call": "Only the advisor who called this ticket can do that",
    "ticket.moved_queue": "The ticket moved to another queue after it was reserved",
    "ticket.recall_refused": (
        "This ticket cannot be called back (status {status}) nor while another is in hand"
    ),
    "ticket.recall_race": "Another advisor is recalling this ticket",
    "idempotency.bad_key": "must be 1 to 128 printable characters",
    "idempotency.mismatch": "This Idempotency-Key was already used with a different request",
    "idempotency.no_ticket": (
        "This Idempotency-Key belongs to a request that did not create a ticket; use a new key"
    ),
    "advisor.not_found": "Advisor not found or inactive",
    "advisor.not_found_id": "Advisor not found: {advisor}",
    "advisor.ticket_in_hand": "Finish the ticket in hand first",
    "advisor.serving": "The advisor is serving a ticket; finish it before deactivating",
    "advisor.email_taken": "An advisor with email {email} already exists",
    "advisor.email_taken_plain": "An advisor with that email already exists",
    "advisor.desk_taken": "Desk {desk} is already assigned to another active advisor",
    "user.username_taken": "The username {username} already exists",
    "user.password_required": "is required when username is given",
    "user.username_required": "is required when password is given",
    "live.unavailable": "Live events unavailable for now",
    "live.too_many": "Too many live connections; retry shortly",
    "live.too_many_client": "At most {max} live connections per client; close one first",
    "telegram.not_configured": "The Telegram webhook is not configured",
    "telegram.bad_secret": "Missing or wrong Telegram secret token",
    "telegram.not_update": "Not a Telegram update",
    "telegram.unavailable": "Updates cannot be queued right now; retry",
    "ops.conflict": "An operation is already running ({running}); wait for it to finish",
    "ops.run_not_found": "No operations run {run}",
    "ops.schedule_not_found": "No schedule {schedule}",
}

CATALOGUE: dict[str, dict[str, str]] = {"es": ES, "en": EN}


@dataclass(frozen=True)
class Localized:
    """A placeholder value written per language (a date in words): `render` picks the
    caller's, so no Spanish word lands in an English message."""

    es: str
    en: str

    def __str__(self) -> str:
        return self.es

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.es


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def negotiate(accept_language: str | None) -> str:
    """`en` or `es` from an Accept-Language header (q-values honoured); es by default."""
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


#: The ticket workflow's refusals (its own English wording) as catalogue keys.
_REFUSALS = {
    "only the advisor who called this ticket can do that": "ticket.not_your_call",
    "the ticket moved to another queue after it was reserved": "ticket.moved_queue",
}


def not_allowed_key(workflow_message: str) -> str:
    """The key of a "not allowed" refusal from the ticket workflow (a generic one else)."""
    return _REFUSALS.get(workflow_message, "ticket.not_allowed")


def is_key(text: str) -> bool:
    return text in ES


def render(key: str, language: str, params: Mapping[str, Any] | None = None) -> str:
    """The message of `key` in `language` (es when unknown), placeholders filled.
    A text that is no key is returned as is (a message not yet in the catalogue)."""
    texts = CATALOGUE.get(language, ES)
    template = texts.get(key) or ES.get(key)
    if template is None:
        return key
    lang = language if language in CATALOGUE else DEFAULT
    values = {
        name: value.pick(lang) if isinstance(value, Localized) else value
        for name, value in (params or {}).items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
