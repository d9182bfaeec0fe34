/**
 * Errors of the sidecar. Each one carries the HTTP `status` and the machine-readable
 * `code` the API answers with, so the HTTP layer maps them without a lookup table.
 *
 *   SidecarError
 *   ├── BadRequestError        400 invalid_payload (and friends)
 *   ├── SessionNotFoundError   404 unknown_session
 *   ├── SessionNotOpenError    409 session_not_open
 *   ├── PayloadTooLargeError   413 payload_too_large
 *   ├── NotOnWhatsAppError     422 not_on_whatsapp
 *   ├── SendFailedError        502 send_failed
 *   ├── StateKeyError          the state was written with another SIDECAR_STATE_KEY
 *   ├── StateDecryptError      one stored record cannot be decrypted (wrong key / corrupt)
 *   └── ConfigError            the environment is incomplete or invalid
 */

export class SidecarError extends Error {
  constructor(message, { status = 500, code = 'internal_error', cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
}

export class BadRequestError extends SidecarError {
  constructor(reason, code = 'invalid_payload') {
    super(reason, { status: 400, code });
  }
}

export class SessionNotFoundError extends SidecarError {
  constructor(id) {
    super(`session ${id} does not exist: start it with POST /sessions/${id}`, {
      status: 404,
      code: 'unknown_session',
    });
  }
}

export class SessionNotOpenError extends SidecarError {
  constructor(id, state) {
    super(`session ${id} is ${state}, not open: link the phone first`, {
      status: 409,
      code: 'session_not_open',
    });
    this.state = state;
  }
}

export class PayloadTooLargeError extends SidecarError {
  constructor(limit) {
    super(`request body is larger than ${limit} bytes`, { status: 413, code: 'payload_too_large' });
  }
}

export class NotOnWhatsAppError extends SidecarError {
  constructor(phone) {
    super(`${phone} is not on WhatsApp`, { status: 422, code: 'not_on_whatsapp' });
  }
}

export class SendFailedError extends SidecarError {
  constructor(message, cause, what = 'the message') {
    super(`WhatsApp did not accept ${what}: ${message}`, {
      status: 502,
      code: 'send_failed',
      cause,
    });
  }
}

export class StateKeyError extends SidecarError {
  constructor(where) {
    super(
      `SIDECAR_STATE_KEY does not match the key the state in ${where} was written with ` +
        '(use the original key, or move that state away to start over)',
      { status: 500, code: 'state_key_mismatch' },
    );
  }
}

export class StateDecryptError extends SidecarError {
  constructor(where, cause) {
    super(`cannot decrypt ${where}: wrong SIDECAR_STATE_KEY or corrupted record`, {
      status: 500,
      code: 'state_unreadable',
      cause,
    });
  }
}

export class ConfigError extends SidecarError {
  constructor(problems) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(`invalid configuration:\n  - ${list.join('\n  - ')}`, { code: 'config_error' });
    this.problems = list;
  }
}
