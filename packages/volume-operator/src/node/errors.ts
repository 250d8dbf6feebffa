import { status } from '@grpc/grpc-js';

/** A failure with the gRPC code the CSI specification assigns to it; the message names volume and path. */
export class CsiError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.name = 'CsiError';
    this.code = code;
  }
}

export const invalidArgument = (message: string): CsiError => new CsiError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string): CsiError => new CsiError(status.NOT_FOUND, message);
export const alreadyExists = (message: string): CsiError => new CsiError(status.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string): CsiError => new CsiError(status.FAILED_PRECONDITION, message);
export const aborted = (message: string): CsiError => new CsiError(status.ABORTED, message);
export const internal = (message: string): CsiError => new CsiError(status.INTERNAL, message);

/** Any thrown value as a CsiError: unexpected failures are INTERNAL, with their message kept. */
export function toCsiError(err: unknown): CsiError {
  if (err instanceof CsiError) return err;
  return internal(err instanceof Error ? err.message : String(err));
}
