// One error base for Gatehouse's own code: an HTTP status, a stable machine code and whether the
// message may be shown. OAuth protocol errors stay oidc-provider's (spec-named); the error
// middleware renders ours as JSON on APIs and as a page on hosted pages.
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  constructor(status: number, code: string, message: string, expose = status < 500) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.expose = expose;
  }
}

export const badRequest = (message: string, code = 'invalid_request') => new AppError(400, code, message);
export const notFound = (message: string, code = 'not_found') => new AppError(404, code, message);
export const conflict = (message: string, code = 'conflict') => new AppError(409, code, message);
export const forbidden = (message: string, code = 'forbidden') => new AppError(403, code, message);
export const unavailable = (message: string) => new AppError(503, 'temporarily_unavailable', message);
